"""The retention of the tracker's own records (issue 16 part 2): the periods per record class
and what ``tracker purge`` would touch as of a day, counts only. A page of the disposal
blueprint (:mod:`tracker.web.disposal.views`).

Records officers change the periods; auditors read them. Nothing on the page names a person,
so viewing it is not an audited read; a change is audited by the service. The purge runs from
the command line (``tracker purge``) or, started here by a records officer after a confirm
page with its counts (the dry run), as a background job (issue 17) whose page shows each step
and, at the end, the command's report.
"""

from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from tracker.clock import now_utc, today_jst
from tracker.domain.codes import JobKind, RecordClass
from tracker.domain.errors import InputError
from tracker.domain.record_retention import PERIODS, PeriodError, kept_until
from tracker.domain.wareki import format_wareki_with_iso, parse_date
from tracker.extensions import db
from tracker.services import purge, record_retention
from tracker.services.transitions import person
from tracker.web.access import allow
from tracker.web.disposal.forms import PurgeForm, RecordRetentionForm
from tracker.web.disposal.views import A, R, bp
from tracker.web.i18n import gettext as _
from tracker.web.jobs.views import queue_job_alone


def _page(form: RecordRetentionForm, status: int = 200) -> ResponseReturnValue:
    today = today_jst()
    as_of, as_of_error = today, None
    text = request.args.get("as_of", "").strip()
    if text:
        try:
            as_of = parse_date(text[:40])
        except InputError as error:
            as_of_error = _("基準日: %(e)s", e=str(error))
    periods = record_retention.load(db.session)
    rows = {row.name: row for row in purge.preview(db.session, as_of)}
    return (
        render_template(
            "disposal/record_retention.html",
            form=form,
            periods=periods,
            units=PERIODS,
            classes=list(RecordClass),
            rows=rows,
            as_of=as_of,
            as_of_text=text,
            as_of_error=as_of_error,
            today=today,
            # e.g. "an item handed over today keeps its values until …"
            examples={c: kept_until(c, periods[c], today) for c in RecordClass},
            can_edit=current_user.has_role(R),
        ),
        status,
    )


@bp.route("/records-retention", endpoint="record_retention")
@allow(R, A)
def record_retention_page() -> ResponseReturnValue:
    form = RecordRetentionForm()
    periods = record_retention.load(db.session)
    for record_class in RecordClass:
        getattr(form, record_class.value).data = str(periods[record_class])
    return _page(form)


@bp.route("/records-retention", methods=["POST"], endpoint="save_record_retention")
@allow(R)
def save_record_retention() -> ResponseReturnValue:
    form = RecordRetentionForm()
    if not form.validate_on_submit():
        return _page(form, 400)
    new = {c: getattr(form, c.value).data or "" for c in RecordClass}
    try:
        with db.attempt():
            changed = record_retention.save(
                db.session, new, actor=current_user.username, now=now_utc()
            )
    except PeriodError as refusal:
        field = getattr(form, refusal.field)
        field.errors = [*field.errors, str(refusal)]
        return _page(form, 400)
    if changed:
        flash(_("記録の保存期間を保存しました。"), "info")
    else:
        flash(_("変更はありませんでした。"), "info")
    return redirect(url_for("disposal.record_retention"))


def _purge_day(text: str) -> tuple[date, str | None]:
    """The purge's as-of day from the form or the query (default today); a refusal saying
    what is wrong (unreadable, or in the future: that would erase early)."""
    today = today_jst()
    text = text.strip()[:40]
    if not text:
        return today, None
    try:
        day = parse_date(text)
    except InputError as error:
        return today, _("基準日: %(e)s", e=str(error))
    if day > today:
        return today, _(
            "基準日 %(d)s は未来の日付です。今日（%(t)s）以前の日付を指定してください。",
            d=format_wareki_with_iso(day),
            t=format_wareki_with_iso(today),
        )
    return day, None


@bp.route("/records-retention/purge", endpoint="confirm_purge")
@allow(R)
def confirm_purge() -> ResponseReturnValue:
    """The confirm step: what the purge as of the day would change (the dry run's counts)."""
    as_of, problem = _purge_day(request.args.get("as_of", ""))
    if problem is not None:
        flash(problem, "error")
        return redirect(url_for("disposal.record_retention"))
    form = PurgeForm(formdata=None, as_of=as_of.isoformat())
    rows = purge.preview(db.session, as_of)
    return render_template(
        "disposal/purge_confirm.html",
        form=form,
        rows=rows,
        as_of=as_of,
        total=sum(row.count for row in rows),
    )


@bp.route("/records-retention/purge", methods=["POST"], endpoint="start_purge")
@allow(R)
def start_purge() -> ResponseReturnValue:
    """Queue the purge as of the confirmed day; its job page shows it step by step."""
    form = PurgeForm()
    if not form.validate_on_submit():
        abort(400)
    as_of, problem = _purge_day(form.as_of.data or "")
    if problem is not None:
        flash(problem, "error")
        return redirect(url_for("disposal.record_retention"))
    job_id, busy = queue_job_alone(JobKind.PURGE, {"as_of": as_of.isoformat()})
    if busy is None:
        return redirect(url_for("jobs.show", job_id=job_id))
    flash(
        _(
            "消去処理（処理番号 %(id)s、%(who)s さんが開始）が待機中または実行中のため、"
            "開始しませんでした。終わってから、もう一度件数を確かめて開始してください。",
            id=job_id,
            who=person(db.session, busy),
        ),
        "error",
    )
    if busy != current_user.username:  # another officer's job page is theirs only
        return redirect(url_for("disposal.record_retention"))
    return redirect(url_for("jobs.show", job_id=job_id))
