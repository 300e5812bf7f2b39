"""Retention rules, holds and extensions, the disposal list, batches and certificates."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Any

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
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from tracker.clock import now_utc, today_jst
from tracker.domain.codes import DestructionMethod, Role, RuleKind
from tracker.domain.errors import InputError
from tracker.domain.export import ENCODINGS, ExportEncodingError, encode_csv
from tracker.domain.records import check_free_text
from tracker.domain.retention import Rule, RuleError, rule_from_fields
from tracker.domain.wareki import parse_date
from tracker.extensions import db
from tracker.models import (
    DisposalBatch,
    DisposalBatchItem,
    Hold,
    Item,
    RetentionRule,
)
from tracker.services import audit, disposal, holds, retention
from tracker.web.access import allow
from tracker.web.auth.views import password_reentered
from tracker.web.disposal.forms import (
    ApproveForm,
    CancelForm,
    CreateBatchForm,
    ExecuteForm,
    ExtensionForm,
    ReasonForm,
    RuleForm,
)
from tracker.web.params import date_arg, is_id

bp = Blueprint("disposal", __name__)

R, A = Role.RECORDS_OFFICER, Role.AUDITOR
KIND_LABELS = {
    RuleKind.FIXED: "期間指定（保管期限日を指定）",
    RuleKind.FISCAL_YEAR: "年度（返戻年度の翌年度末からk年後の3月31日）",
    RuleKind.MONTHS_AFTER: "月数（返戻月のmか月後の月末）",
}


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


# --- rules -------------------------------------------------------------------------------------


@bp.route("/retention")
@allow(R, A)
def rules() -> ResponseReturnValue:
    stored = retention.load_rules(db.session)
    gap_count, gap_span, _gap_rows = retention.coverage_gaps(
        db.session, [s.rule for s in stored], limit=0
    )
    return render_template(
        "disposal/rules.html",
        stored=stored,
        kinds=KIND_LABELS,
        gap_count=gap_count,
        gap_span=gap_span,
        calendar=retention.calendar(db.session, today_jst(), rules=[s.rule for s in stored]),
        can_edit=current_user.has_role(R),
    )


def _rule_from_form(form: RuleForm) -> tuple[RuleKind, Rule, dict[str, Any]]:
    try:
        kind = RuleKind(form.kind.data or "")
    except ValueError:
        raise RuleError("廃棄基準の種類を選んでください") from None
    returned_from = parse_date(form.returned_from.data or "")
    returned_to = parse_date(form.returned_to.data or "")
    parameters: dict[str, Any] = {}
    if kind is RuleKind.FIXED:
        parameters["retain_until"] = parse_date(form.retain_until.data or "")
    elif kind is RuleKind.FISCAL_YEAR:
        parameters["years"] = int(form.years.data or "x")
    else:
        parameters["months"] = int(form.months.data or "x")
    rule = rule_from_fields(
        kind,
        label=check_free_text(form.label.data, "label", required=True, label="名称"),
        returned_from=returned_from,
        returned_to=returned_to,
        **parameters,
    )
    return kind, rule, parameters


@bp.route("/retention/rules", methods=["POST"])
@allow(R)
def save_rule() -> ResponseReturnValue:
    """Create a rule, or change one (``rule_id`` in the form); audited with before/after."""
    form = RuleForm()
    existing = None
    rule_id = (form.rule_id.data or "").strip()
    if rule_id:
        if not is_id(rule_id):
            abort(404)  # no row can have that id (issue 10: never reaches the database)
        existing = db.session.get(RetentionRule, int(rule_id)) or abort(404)
    try:
        with db.attempt():
            kind, rule, parameters = _rule_from_form(form)
            retention.save_rule(
                db.session,
                actor=current_user.username,
                rule=rule,
                kind=kind,
                parameters=parameters,
                existing=existing,
            )
    except (RuleError, InputError, ValueError) as error:
        message = (
            str(error)
            if not isinstance(error, ValueError) or isinstance(error, (RuleError, InputError))
            else _("年数・月数は整数で入力してください")
        )
        flash(message, "error")
        return redirect(url_for("disposal.rules"))
    flash(_("廃棄基準を保存しました。"), "info")
    return redirect(url_for("disposal.rules"))


@bp.route("/retention/gaps")
@allow(R, A)
def gaps() -> ResponseReturnValue:
    count, span, rows = retention.coverage_gaps(db.session)
    return render_template("disposal/gaps.html", count=count, span=span, rows=rows)


# --- holds and extensions ------------------------------------------------------------------------


@bp.route("/items/<int:item_id>/holds", methods=["POST"])
@allow(R)
def place_hold(item_id: int) -> ResponseReturnValue:
    item = db.session.get(Item, item_id) or abort(404)
    form = ReasonForm()
    try:
        with db.attempt():
            holds.place(
                db.session,
                actor=current_user.username,
                item=item,
                reason=form.reason.data,
                now=now_utc(),
            )
    except holds.HoldError as error:
        flash(str(error), "error")
    else:
        flash(_("保留にしました。"), "info")
    return redirect(url_for("counter.item", item_id=item_id))


@bp.route("/holds/<int:hold_id>/release", methods=["POST"])
@allow(R)
def release_hold(hold_id: int) -> ResponseReturnValue:
    hold = db.session.get(Hold, hold_id) or abort(404)
    form = ReasonForm()
    try:
        with db.attempt():
            holds.release(
                db.session,
                actor=current_user.username,
                hold=hold,
                reason=form.reason.data,
                now=now_utc(),
            )
    except holds.HoldError as error:
        flash(str(error), "error")
    else:
        flash(_("保留を解除しました。"), "info")
    return redirect(url_for("counter.item", item_id=hold.item_id))


@bp.route("/items/<int:item_id>/extensions", methods=["POST"])
@allow(R)
def extend(item_id: int) -> ResponseReturnValue:
    item = db.session.get(Item, item_id) or abort(404)
    form = ExtensionForm()
    try:
        with db.attempt():
            holds.extend(
                db.session,
                actor=current_user.username,
                item=item,
                retain_until=parse_date(form.retain_until.data or ""),
                reason=form.reason.data,
                now=now_utc(),
            )
    except (holds.HoldError, InputError) as error:
        flash(str(error), "error")
    else:
        flash(_("保管期限を延長しました。"), "info")
    return redirect(url_for("counter.item", item_id=item_id))


# --- the disposal list ---------------------------------------------------------------------------

LIST_PAGE = 500


@bp.route("/disposal/eligible")
@allow(R, A)
def eligible() -> ResponseReturnValue:
    as_of = _date_arg("as_of", today_jst())
    shown: list[retention.EligibleItem] = []
    total = 0
    for entry in retention.iter_eligible(db.session, as_of):
        total += 1
        if len(shown) < LIST_PAGE:
            shown.append(entry)
    audit.record(
        db.session,
        actor=current_user.username,
        action="disposal.list_view",
        details={"as_of": as_of.isoformat(), "items": total},
    )
    return render_template(
        "disposal/eligible.html",
        as_of=as_of,
        rows=shown,
        total=total,
        limit=LIST_PAGE,
        encodings=ENCODINGS,
    )


@bp.route("/disposal/eligible.csv")
@allow(R, A)
def eligible_csv() -> ResponseReturnValue:
    """SPEC §6.5: UTF-8 with BOM by default, CP932 on request (unencodable characters are
    reported and nothing is sent), formulas neutralised."""
    as_of = _date_arg("as_of", today_jst())
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
    )

    def rows() -> Iterator[list[str]]:
        for e in retention.iter_eligible(db.session, as_of):
            yield [
                e.control_no,
                e.tracking_no,
                e.name,
                e.birth_date.isoformat(),
                e.returned_on.isoformat(),
                e.rule.label,
                e.retain_until.isoformat(),
            ]

    if encoding == "cp932":
        try:
            for _chunk in encode_csv(header, rows(), "cp932"):
                pass
        except ExportEncodingError as error:
            flash(str(error), "error")
            return redirect(url_for("disposal.eligible", as_of=as_of.isoformat()))
    audit.record(
        db.session,
        actor=current_user.username,
        action="disposal.list_export",
        details={"as_of": as_of.isoformat(), "format": "csv", "encoding": encoding},
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
    )


@bp.route("/disposal/batches", methods=["POST"])
@allow(R)
def create_batch() -> ResponseReturnValue:
    as_of = _posted_date(CreateBatchForm().as_of.data)
    if as_of is None:
        flash(_("基準日を入力してください。"), "error")
        return redirect(url_for("disposal.batches"))
    try:
        with db.attempt():
            batch = disposal.create_batch(
                db.session, actor=current_user.username, as_of=as_of, now=now_utc()
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


@bp.route("/disposal/batches/<int:batch_id>")
@allow(R, A)
def batch(batch_id: int) -> ResponseReturnValue:
    record = _batch_or_404(batch_id)
    summary = disposal.summary(db.session, record)
    return render_template(
        "disposal/batch.html",
        batch=record,
        outcomes=summary.outcomes,
        cohorts=summary.cohorts,
        skipped=summary.skipped,
        sample=summary.sample,
        methods=list(DestructionMethod),
        today=today_jst(),
        can_edit=current_user.has_role(R),
    )


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
            action="disposal.approve",
            object_type="disposal_batch",
            object_id=record.id,
            outcome="refused",
            details={"reason": "password"},
        )
        flash(_("パスワードが正しくありません。承認していません。"), "error")
        return redirect(url_for("disposal.batch", batch_id=batch_id))
    try:
        with db.attempt():
            disposal.approve(db.session, actor=current_user.username, batch=record, now=now_utc())
    except disposal.NotAllowed:
        abort(403)
    except disposal.DisposalError as error:
        flash(str(error), "error")
    else:
        flash(_("承認しました。承認済みの通知物は交付できなくなります。"), "info")
    return redirect(url_for("disposal.batch", batch_id=batch_id))


@bp.route("/disposal/batches/<int:batch_id>/execute", methods=["POST"])
@allow(R)
def execute(batch_id: int) -> ResponseReturnValue:
    record = _batch_or_404(batch_id)
    form = ExecuteForm()
    try:
        with db.attempt():
            execution = disposal.Execution(
                destroyed_on=parse_date(form.destroyed_on.data or ""),
                method=form.method.data or "",
                place=form.place.data or "",
                executor=form.executor.data or "",
                witness=form.witness.data or "",
                contractor_name=form.contractor_name.data or None,
                contractor_certificate_no=form.contractor_certificate_no.data or None,
            )
            disposal.execute(
                db.session,
                actor=current_user.username,
                batch=record,
                execution=execution,
                now=now_utc(),
                today=today_jst(),
            )
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
    audit.record(
        db.session,
        actor=current_user.username,
        action="certificate.print",
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
            found = disposal.find_by_certificate_sha256(db.session, digest)
        audit.record(
            db.session,
            actor=current_user.username,
            action="certificate.verify",
            details={"sha256": digest[:64], "match": found.certificate_no if found else None},
        )
    return render_template(
        "disposal/verify.html",
        digest=digest,
        found=found,
        checked=checked,
        valid=bool(HEX64.fullmatch(digest)) if digest else True,
    )
