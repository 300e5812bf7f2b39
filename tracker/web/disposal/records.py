"""The retention of the tracker's own records (issue 16 part 2): the periods per record class
and what ``tracker purge`` would touch as of a day, counts only. A page of the disposal
blueprint (:mod:`tracker.web.disposal.views`).

Records officers change the periods; auditors read them. Nothing on the page names a person,
so viewing it is not an audited read; a change is audited by the service. The purge itself
runs from the command line only (``tracker purge``).
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from tracker.clock import now_utc, today_jst
from tracker.domain.codes import RecordClass
from tracker.domain.errors import InputError
from tracker.domain.record_retention import PERIODS, PeriodError, kept_until
from tracker.domain.wareki import parse_date
from tracker.extensions import db
from tracker.services import purge, record_retention
from tracker.web.access import allow
from tracker.web.disposal.forms import RecordRetentionForm
from tracker.web.disposal.views import A, R, bp


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
