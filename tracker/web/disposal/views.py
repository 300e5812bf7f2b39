"""The disposal list, batches and certificates (SPEC §3, §5). The blueprint's retention-rule,
hold and extension pages are in :mod:`tracker.web.disposal.retention`."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from datetime import date

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import func, select

from tracker.clock import now_utc, today_jst
from tracker.domain.codes import AuditAction, DestructionMethod, Role
from tracker.domain.errors import InputError
from tracker.domain.export import ENCODINGS, ExportEncodingError, encode_csv
from tracker.domain.wareki import parse_date
from tracker.extensions import db
from tracker.models import (
    DisposalBatch,
    DisposalBatchItem,
)
from tracker.services import audit, certificates, disposal, retention
from tracker.web.access import allow
from tracker.web.auth.views import password_reentered
from tracker.web.disposal.forms import (
    ApproveForm,
    CancelForm,
    CreateBatchForm,
    ExcludeForm,
    ExecuteForm,
)
from tracker.web.i18n import gettext as _
from tracker.web.params import date_arg, id_arg, is_id

bp = Blueprint("disposal", __name__)

R, A = Role.RECORDS_OFFICER, Role.AUDITOR


def _date_arg(name: str, default: date) -> date:
    """A date query argument; one that cannot be used is a 400 naming it (issue 10)."""
    return date_arg(name, _("基準日"), default) or default


def _posted_date(value: str | None) -> date | None:
    """A date typed into a form; a refusal is flashed (the page is shown again)."""
    if not (value or "").strip():
        return None
    try:
        return parse_date(value or "")
    except InputError as error:
        flash(str(error), "error")
        return None


# --- the disposal list ---------------------------------------------------------------------------


def _rule_choices() -> list[tuple[int, str]]:
    return [(stored.row_id, stored.rule.label) for stored in retention.load_rules(db.session)]


def _control_no_arg(name: str) -> str | None:
    """A page key (a control number) from the query string; anything longer is no key."""
    value = request.args.get(name, "").strip()
    return value if value and len(value) <= 24 else None


@bp.route("/disposal/eligible")
@allow(R, A)
def eligible() -> ResponseReturnValue:
    """The eligible list (SPEC §3), of all cohorts or one, 100 at a time by control number."""
    typed = request.args.get("as_of", "").strip()
    rule_id = id_arg("rule")
    choices = _rule_choices()
    context = {
        "typed": typed,
        "rule_id": rule_id,
        "rules": choices,
        "encodings": ENCODINGS,
        "can_edit": current_user.has_role(R),
    }
    try:
        as_of = parse_date(typed) if typed else today_jst()
    except InputError as error:
        # Only the error, beside the field: no list of another day under it (issue 12).
        return render_template("disposal/eligible.html", error=str(error), **context), 400
    if rule_id is not None and rule_id not in dict(choices):
        abort(404)
    page = disposal.eligible_page(
        db.session,
        as_of,
        rule_ids=[rule_id] if rule_id else None,
        after=_control_no_arg("after"),
        before=_control_no_arg("before"),
    )
    audit.record_at_commit(
        db.session,
        actor=current_user.username,
        action=AuditAction.DISPOSAL_LIST_VIEW,
        details={
            "as_of": as_of.isoformat(),
            "items": page.total,
            **({"rule": dict(choices)[rule_id]} if rule_id else {}),
        },
    )
    return render_template(
        "disposal/eligible.html",
        as_of=as_of,
        page=page,
        error=None,
        scope_label=dict(choices)[rule_id] if rule_id else _("すべての基準"),
        **context,
    )


@bp.route("/disposal/eligible.csv")
@allow(R, A)
def eligible_csv() -> ResponseReturnValue:
    """SPEC §6.5: UTF-8 with BOM by default, CP932 on request (unencodable characters are
    reported and nothing is sent), formulas neutralised."""
    as_of = _date_arg("as_of", today_jst())
    rule_id = id_arg("rule")
    rules = [stored.rule for stored in retention.load_rules(db.session)]
    if rule_id is not None:
        try:
            rules = [stored.rule for stored in disposal.scope_rules(db.session, [rule_id])]
        except disposal.DisposalError:
            abort(404)
    encoding = request.args.get("encoding", "utf-8-sig")
    if encoding not in ENCODINGS:
        abort(400)
    header = (
        "control_no",
        "tracking_no",
        "name",
        "birth_date",
        "return_date",
        "rule",
        "retain_until",
        "reason",
    )

    def rows() -> Iterator[list[str]]:
        for e in retention.iter_eligible(db.session, as_of, rules):
            yield [
                e.control_no,
                e.tracking_no,
                e.name,
                e.birth_date.isoformat(),
                e.returned_on.isoformat(),
                e.rule.label,
                e.retain_until.isoformat(),
                e.reason_text,
            ]

    if encoding == "cp932":
        try:
            for _chunk in encode_csv(header, rows(), "cp932"):
                pass
        except ExportEncodingError as error:
            flash(str(error), "error")
            return redirect(
                url_for("disposal.eligible", as_of=as_of.isoformat(), rule=rule_id or "")
            )
    audit.record_at_commit(
        db.session,
        actor=current_user.username,
        action=AuditAction.DISPOSAL_LIST_EXPORT,
        details={
            "as_of": as_of.isoformat(),
            "format": "csv",
            "encoding": encoding,
            **({"rules": [rule.label for rule in rules]} if rule_id else {}),
        },
    )
    return Response(
        stream_with_context(encode_csv(header, rows(), encoding)),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="disposal-list-{as_of.isoformat()}.csv"'
        },
    )


# --- batches -----------------------------------------------------------------------------------


@bp.route("/disposal/batches")
@allow(R, A)
def batches() -> ResponseReturnValue:
    rows = db.session.execute(
        select(DisposalBatch, func.count(DisposalBatchItem.item_id))
        .outerjoin(DisposalBatchItem, DisposalBatchItem.batch_id == DisposalBatch.id)
        .group_by(DisposalBatch.id)
        .order_by(DisposalBatch.id.desc())
    ).all()
    return render_template(
        "disposal/batches.html",
        rows=rows,
        today=today_jst(),
        can_edit=current_user.has_role(R),
        rules=_rule_choices(),
    )


@bp.route("/disposal/batches", methods=["POST"])
@allow(R)
def create_batch() -> ResponseReturnValue:
    """A batch as of a date, of every cohort or of one rule's (issue 12)."""
    form = CreateBatchForm()
    as_of = _posted_date(form.as_of.data)
    if as_of is None:
        flash(_("基準日を入力してください。"), "error")
        return redirect(url_for("disposal.batches"))
    rule = (form.rule.data or "").strip()
    if rule and not is_id(rule):
        abort(404)
    try:
        with db.attempt():
            batch = disposal.create_batch(
                db.session,
                actor=current_user.username,
                as_of=as_of,
                now=now_utc(),
                rule_ids=[int(rule)] if rule else None,
            )
    except disposal.DisposalError as error:
        flash(str(error), "error")
        return redirect(url_for("disposal.batches"))
    flash(
        _(
            "廃棄処理 %(no)s を作成しました。別の記録管理担当者の承認が必要です。",
            no=batch.certificate_no,
        ),
        "info",
    )
    return redirect(url_for("disposal.batch", batch_id=batch.id))


def _batch_or_404(batch_id: int) -> DisposalBatch:
    return disposal.load(db.session, batch_id) or abort(404)


def _render_batch(
    record: DisposalBatch,
    draft: ExecuteForm | None = None,
    status: int = 200,
    exclude_form: ExcludeForm | None = None,
) -> ResponseReturnValue:
    summary = disposal.summary(db.session, record)
    if exclude_form is None:
        exclude_form = ExcludeForm(formdata=None, control_no=_control_no_arg("exclude") or "")
    page = render_template(
        "disposal/batch.html",
        batch=record,
        outcomes=summary.outcomes,
        cohorts=summary.cohorts,
        skipped=summary.skipped,
        sample=summary.sample,
        excluded=summary.excluded,
        exclude_form=exclude_form,
        methods=list(DestructionMethod),
        today=today_jst(),
        can_edit=current_user.has_role(R),
        draft=draft,
    )
    return page, status


@bp.route("/disposal/batches/<int:batch_id>")
@allow(R, A)
def batch(batch_id: int) -> ResponseReturnValue:
    return _render_batch(_batch_or_404(batch_id))


@bp.route("/disposal/batches/<int:batch_id>/approve", methods=["POST"])
@allow(R)
def approve(batch_id: int) -> ResponseReturnValue:
    """Four eyes: a different officer, who types their password again."""
    record = _batch_or_404(batch_id)
    if record.created_by == current_user.username:
        abort(403)
    # Counts like a login: failures, lockout, audit; wrong and locked get one message. The
    # batch's row is locked before the re-entry's audit event takes the chain's lock, in the
    # order every transition keeps (a cancel racing this approval could deadlock otherwise).
    if not password_reentered(
        ApproveForm().password.data or "", first=lambda s: disposal.lock(s, batch_id)
    ):
        audit.record(
            db.session,
            actor=current_user.username,
            action=AuditAction.DISPOSAL_APPROVE,
            object_type="disposal_batch",
            object_id=record.id,
            outcome="refused",
            details={"reason": "password"},
        )
        flash(_("パスワードが正しくありません。承認していません。"), "error")
        return redirect(url_for("disposal.batch", batch_id=batch_id))
    try:
        with db.attempt():
            disposal.approve(
                db.session,
                actor=current_user.username,
                batch=record,
                now=now_utc(),
                today=today_jst(),
            )
    except disposal.NotAllowed:
        abort(403)
    except disposal.DisposalError as error:
        flash(str(error), "error")
    else:
        flash(_("承認しました。承認済みの通知物は交付できなくなります。"), "info")
    return redirect(url_for("disposal.batch", batch_id=batch_id))


@bp.route("/disposal/batches/<int:batch_id>/exclude", methods=["POST"])
@allow(R)
def exclude(batch_id: int) -> ResponseReturnValue:
    """The last day at the counter (issue 13): take one item out of the batch, with a reason,
    so that it can be handed over; execution will not destroy it. A colleague who took it
    out first gets the 409 page."""
    record = _batch_or_404(batch_id)
    form = ExcludeForm()
    try:
        with db.attempt():
            entry = disposal.exclude_item(
                db.session,
                actor=current_user.username,
                batch=record,
                control_no=form.control_no.data or "",
                reason=form.reason.data,
                now=now_utc(),
            )
    except disposal.DisposalError as error:
        flash(str(error), "error")
        return _render_batch(record, status=400, exclude_form=form)
    flash(
        _(
            "%(item)s を廃棄処理 %(no)s から除外しました。この通知物は交付できます。",
            item=entry.control_no,
            no=record.certificate_no,
        ),
        "info",
    )
    return redirect(url_for("disposal.batch", batch_id=batch_id))


def _execution(form: ExecuteForm) -> disposal.Execution:
    """The destruction as typed; an unreadable date raises InputError."""
    return disposal.Execution(
        destroyed_on=parse_date(form.destroyed_on.data or ""),
        method=form.method.data or "",
        place=form.place.data or "",
        executor=form.executor.data or "",
        witness=form.witness.data or "",
        contractor_name=form.contractor_name.data or None,
        contractor_certificate_no=form.contractor_certificate_no.data or None,
    )


def _render_confirmation(
    record: DisposalBatch, form: ExecuteForm, error: str | None = None, status: int = 200
) -> ResponseReturnValue:
    page = render_template(
        "disposal/confirm.html",
        batch=record,
        form=form,
        preview=disposal.preview(db.session, record),
        destroyed_on=parse_date(form.destroyed_on.data or ""),
        error=error,
    )
    return page, status


@bp.route("/disposal/batches/<int:batch_id>/confirm", methods=["POST"])
@allow(R)
def confirm_execution(batch_id: int) -> ResponseReturnValue:
    """Before anything is recorded: what execution would destroy and skip, per cohort, and
    the number of cards to type again (issue 12). Changes nothing."""
    record = _batch_or_404(batch_id)
    if record.status != "approved":
        flash(disposal.not_executable(db.session, record), "error")
        return redirect(url_for("disposal.batch", batch_id=batch_id))
    form = ExecuteForm()
    try:
        problems = _execution(form).problems(record, today_jst())
    except InputError as error:
        problems = [str(error)]
    if problems:
        for problem in problems:
            flash(problem, "error")
        return _render_batch(record, draft=form, status=400)
    return _render_confirmation(record, form)


def _typed_count(value: str | None) -> int | None:
    """The number typed on the confirmation page: full-width digits and commas allowed."""
    text = unicodedata.normalize("NFKC", value or "").replace(",", "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else None


@bp.route("/disposal/batches/<int:batch_id>/execute", methods=["POST"])
@allow(R)
def execute(batch_id: int) -> ResponseReturnValue:
    """Record the destruction, once the officer has re-typed the number of cards."""
    record = _batch_or_404(batch_id)
    form = ExecuteForm()
    typed = _typed_count(form.confirm_count.data)
    try:
        with db.attempt():
            disposal.execute(
                db.session,
                actor=current_user.username,
                batch=record,
                execution=_execution(form),
                now=now_utc(),
                today=today_jst(),
                confirm=True,
                confirmed_count=typed,
            )
    except disposal.CountMismatch as mismatch:
        audit.record(
            db.session,
            actor=current_user.username,
            action=AuditAction.DISPOSAL_EXECUTE,
            object_type="disposal_batch",
            object_id=record.id,
            outcome="refused",
            details={"reason": "count_mismatch", "typed": typed, "expected": mismatch.expected},
        )
        db.session.refresh(record)
        return _render_confirmation(record, form, error=str(mismatch), status=400)
    except (disposal.DisposalError, InputError) as error:
        flash(str(error), "error")
        return redirect(url_for("disposal.batch", batch_id=batch_id))
    flash(_("廃棄を記録し、廃棄証明書を発行しました。"), "info")
    return redirect(url_for("disposal.batch", batch_id=batch_id))


@bp.route("/disposal/batches/<int:batch_id>/cancel", methods=["POST"])
@allow(R)
def cancel(batch_id: int) -> ResponseReturnValue:
    record = _batch_or_404(batch_id)
    form = CancelForm()
    try:
        with db.attempt():
            disposal.cancel(
                db.session,
                actor=current_user.username,
                batch=record,
                reason=form.reason.data or "",
                now=now_utc(),
                seen=form.seen.data or None,
            )
    except disposal.DisposalError as error:
        flash(str(error), "error")
    else:
        flash(_("廃棄処理を取り消しました。"), "info")
    return redirect(url_for("disposal.batch", batch_id=batch_id))


@bp.route("/disposal/batches/<int:batch_id>/certificate.pdf")
@allow(R, A)
def certificate(batch_id: int) -> ResponseReturnValue:
    record = _batch_or_404(batch_id)
    try:
        pdf = disposal.certificate_pdf(db.session, record)
    except disposal.DisposalError:
        abort(404)
    audit.record_at_commit(
        db.session,
        actor=current_user.username,
        action=AuditAction.CERTIFICATE_PRINT,
        object_type="disposal_batch",
        object_id=record.id,
        details={"certificate_no": record.certificate_no},
    )
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{record.certificate_no}.pdf"'},
    )


HEX64 = re.compile(r"[0-9a-fA-F]{64}")


@bp.route("/disposal/verify")
@allow(R, A)
def verify() -> ResponseReturnValue:
    """Match a certificate by SHA-256 (computed in the browser, or pasted): GET only, so
    auditors can use it without any right to change data."""
    digest = request.args.get("sha256", "").strip()
    found = None
    checked = False
    if digest:
        checked = True
        if HEX64.fullmatch(digest):
            found = certificates.find_by_certificate_sha256(db.session, digest)
        audit.record_at_commit(
            db.session,
            actor=current_user.username,
            action=AuditAction.CERTIFICATE_VERIFY,
            details={"sha256": digest[:64], "match": found.certificate_no if found else None},
        )
    return render_template(
        "disposal/verify.html",
        digest=digest,
        found=found,
        checked=checked,
        valid=bool(HEX64.fullmatch(digest)) if digest else True,
    )


# The retention rule, hold and extension pages, on the same blueprint.
from tracker.web.disposal import records as _record_pages  # noqa: E402, F401
from tracker.web.disposal import retention as _retention_pages  # noqa: E402, F401
