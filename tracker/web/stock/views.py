"""Stock checks (棚卸): the list, the start form, the scan screen, close / sign-off / cancel, the
record PDF; missing and lost cards with 「見つかった」 and 「紛失として確定」, the loss report PDF.

Clerks and records officers run checks; only a records officer signs one off (someone other
than who closed it), confirms a loss or records a lost card found; auditors read everything and
change nothing. No page here shows a name: envelopes and cards are listed by control and
tracking number.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from tracker.clock import now_utc, today_jst
from tracker.domain.codes import ItemStatus, Role, StockCheckOutcome, StockCheckStatus
from tracker.extensions import db
from tracker.models import Envelope, Item, Location
from tracker.models.lifecycle import LossReport, StockCheck, StockCheckEntry
from tracker.services import settings, stock_checks
from tracker.web.access import allow
from tracker.web.i18n import gettext as _
from tracker.web.params import id_arg
from tracker.web.stock.forms import (
    CancelForm,
    ConfirmForm,
    FoundForm,
    LostForm,
    ScanForm,
    SlotForm,
    StartForm,
)

bp = Blueprint("stock", __name__)

C, R, A = Role.CLERK, Role.RECORDS_OFFICER, Role.AUDITOR


def _locations() -> list[tuple[int, str]]:
    rows = db.session.scalars(
        select(Location).where(Location.active.is_(True)).order_by(Location.sort_order)
    )
    return [(row.id, row.name) for row in rows]


def _check_or_404(check_id: int) -> StockCheck:
    check = db.session.scalar(
        select(StockCheck)
        .where(StockCheck.id == check_id)
        .options(selectinload(StockCheck.location))
    )
    if check is None:
        abort(404)
    return check


def _to_check(check: StockCheck) -> ResponseReturnValue:
    return redirect(url_for("stock.check", check_id=check.id))


def _schedule() -> list[stock_checks.LocationSchedule]:
    interval = settings.load(db.session).stock_check_interval_months
    return stock_checks.schedule(db.session, today=today_jst(), interval_months=interval)


@bp.route("/stock-checks")
@allow(C, R, A)
def checks() -> ResponseReturnValue:
    rows = list(
        db.session.scalars(
            select(StockCheck)
            .options(selectinload(StockCheck.location))
            .order_by(StockCheck.id.desc())
            .limit(200)
        )
    )
    return render_template(
        "stock/checks.html",
        rows=rows,
        schedule=_schedule(),
        can_start=current_user.has_role(C, R),
        slot_range=stock_checks.slot_range_text,
    )


@bp.route("/stock-checks/new", methods=["GET", "POST"])
@allow(C, R)
def start() -> ResponseReturnValue:
    form = StartForm()
    form.location.choices = _locations()
    chosen = id_arg("location")
    if request.method == "GET" and chosen is not None:
        form.location.data = chosen
    if request.method == "POST" and form.validate():
        try:
            with db.attempt():
                check = stock_checks.start(
                    db.session,
                    actor=current_user.username,
                    location_id=form.location.data,
                    slot_from=form.slot_from.data,
                    slot_to=form.slot_to.data,
                    now=now_utc(),
                )
        except stock_checks.StockCheckError as refusal:
            form.location.errors = [*form.location.errors, str(refusal)]
        else:
            flash(
                _("棚卸 %(no)s を開始しました。ラベルを読み取ってください。", no=check.check_no),
                "info",
            )
            return _to_check(check)
    return render_template("stock/start.html", form=form)


@bp.route("/stock-checks/<int:check_id>")
@allow(C, R, A)
def check(check_id: int) -> ResponseReturnValue:
    """The scan screen while the check is open; its result afterwards."""
    record = _check_or_404(check_id)
    entries = list(
        db.session.scalars(
            select(StockCheckEntry)
            .where(StockCheckEntry.check_id == record.id)
            .options(selectinload(StockCheckEntry.envelope))
            .order_by(StockCheckEntry.id)
        )
    )
    remaining = sorted(
        (e for e in entries if e.expected and e.outcome is None),
        key=lambda e: (e.ledger_slot or "", e.envelope.control_no if e.envelope else ""),
    )
    exceptions = stock_checks.exceptions(db.session, record)
    can_change = current_user.has_role(C, R)
    status = StockCheckStatus(record.status)
    return render_template(
        "stock/check.html",
        check=record,
        counts=stock_checks.counts(db.session, record),
        remaining=remaining,
        exceptions=exceptions,
        scan_form=ScanForm(),
        slot_form=SlotForm(),
        confirm_form=ConfirmForm(),
        cancel_form=CancelForm(),
        can_scan=can_change and status is StockCheckStatus.OPEN,
        can_sign_off=current_user.has_role(R) and status is StockCheckStatus.CLOSED,
        is_closer=record.closed_by == current_user.username,
        slot_range=stock_checks.slot_range_text(record),
        places={loc_id: name for loc_id, name in _locations()},
        Outcome=StockCheckOutcome,
    )


@bp.route("/stock-checks/<int:check_id>/scan", methods=["POST"])
@allow(C, R)
def scan(check_id: int) -> ResponseReturnValue:
    record = _check_or_404(check_id)
    form = ScanForm()
    if not form.validate():
        abort(400)
    try:
        with db.attempt():
            result = stock_checks.scan(
                db.session,
                actor=current_user.username,
                check=record,
                code=form.code.data,
                now=now_utc(),
            )
    except stock_checks.StockCheckError as refusal:
        flash(str(refusal), "error")
    else:
        outcome = str(result.outcome.label)
        if result.already:
            flash(_("読取済み: %(code)s（%(outcome)s）", code=result.code, outcome=outcome), "info")
        elif result.outcome is StockCheckOutcome.FOUND:
            flash(_("%(code)s: %(outcome)s", code=result.code, outcome=outcome), "info")
        else:
            flash(_("%(code)s: %(outcome)s", code=result.code, outcome=outcome), "error")
    return _to_check(record)


@bp.route("/stock-checks/<int:check_id>/entries/<int:entry_id>/move", methods=["POST"])
@allow(C, R)
def record_move(check_id: int, entry_id: int) -> ResponseReturnValue:
    record = _check_or_404(check_id)
    entry = db.session.get(StockCheckEntry, entry_id)
    if entry is None or entry.check_id != record.id:
        abort(404)
    form = SlotForm()
    if not form.validate():
        abort(400)
    try:
        with db.attempt():
            stock_checks.record_move(
                db.session,
                actor=current_user.username,
                entry=entry,
                slot=form.slot.data,
                now=now_utc(),
            )
    except stock_checks.StockCheckError as refusal:
        flash(str(refusal), "error")
    else:
        control = entry.envelope.control_no if entry.envelope else ""
        flash(
            _(
                "%(code)s の保管場所を %(place)s に変更しました。",
                code=control,
                place=record.location.name,
            ),
            "info",
        )
    return _to_check(record)


@bp.route("/stock-checks/<int:check_id>/close", methods=["POST"])
@allow(C, R)
def close(check_id: int) -> ResponseReturnValue:
    record = _check_or_404(check_id)
    if not ConfirmForm().validate():
        abort(400)
    counts = stock_checks.close(
        db.session, actor=current_user.username, check=record, now=now_utc()
    )
    flash(
        _(
            "棚卸を締めました。所在不明 %(missing)d件（所在調査中として保留しました）。"
            "別の記録管理担当の確認を受けてください。",
            missing=counts.missing,
        ),
        "info",
    )
    return _to_check(record)


@bp.route("/stock-checks/<int:check_id>/sign-off", methods=["POST"])
@allow(R)
def sign_off(check_id: int) -> ResponseReturnValue:
    record = _check_or_404(check_id)
    if not ConfirmForm().validate():
        abort(400)
    try:
        with db.attempt():
            stock_checks.sign_off(
                db.session, actor=current_user.username, check=record, now=now_utc()
            )
    except stock_checks.StockCheckError as refusal:
        flash(str(refusal), "error")
    else:
        flash(_("棚卸 %(no)s を確認しました。", no=record.check_no), "info")
    return _to_check(record)


@bp.route("/stock-checks/<int:check_id>/cancel", methods=["POST"])
@allow(C, R)
def cancel(check_id: int) -> ResponseReturnValue:
    record = _check_or_404(check_id)
    form = CancelForm()
    if not form.validate():
        abort(400)
    try:
        with db.attempt():
            stock_checks.cancel(
                db.session,
                actor=current_user.username,
                check=record,
                reason=form.reason.data,
                now=now_utc(),
            )
    except stock_checks.StockCheckError as refusal:
        flash(str(refusal), "error")
    else:
        flash(_("棚卸 %(no)s を取り消しました。", no=record.check_no), "info")
    return _to_check(record)


@bp.route("/stock-checks/<int:check_id>/record.pdf")
@allow(C, R, A)
def record_pdf(check_id: int) -> ResponseReturnValue:
    from tracker.pdf.stock_check import render_stock_check

    record = _check_or_404(check_id)
    pdf = render_stock_check(stock_checks.record_document(db.session, record, now=now_utc()))
    stock_checks.record_print(db.session, actor=current_user.username, check=record)
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{record.check_no}.pdf"'},
    )


# --- missing and lost cards ----------------------------------------------------------------


def _item_or_404(item_id: int) -> Item:
    item = db.session.scalar(
        select(Item)
        .where(Item.id == item_id)
        .options(selectinload(Item.envelope).selectinload(Envelope.location))
    )
    if item is None:
        abort(404)
    return item


@bp.route("/missing-items")
@allow(C, R, A)
def missing() -> ResponseReturnValue:
    found_form = FoundForm()
    found_form.location.choices = [(0, _("（変更しない）")), *_locations()]
    return render_template(
        "stock/missing.html",
        rows=stock_checks.missing_items(db.session),
        found_form=found_form,
        lost_form=LostForm(),
        can_find=current_user.has_role(C, R),
        can_confirm=current_user.has_role(R),
        ItemStatus=ItemStatus,
    )


@bp.route("/items/<int:item_id>/found", methods=["POST"])
@allow(C, R)
def found(item_id: int) -> ResponseReturnValue:
    """A card under investigation (所在調査中) is back; a lost one is refused here."""
    return _found(item_id, stock_checks.found)


@bp.route("/items/<int:item_id>/found-lost", methods=["POST"])
@allow(R)
def found_lost(item_id: int) -> ResponseReturnValue:
    """A lost card (紛失) is back: reverses a confirmed loss, so records officers only."""
    return _found(item_id, stock_checks.found_lost)


def _found(item_id: int, record: Callable[..., None]) -> ResponseReturnValue:
    item = _item_or_404(item_id)
    form = FoundForm()
    form.location.choices = [(0, ""), *_locations()]
    if not form.validate():
        abort(400)
    try:
        with db.attempt():
            record(
                db.session,
                actor=current_user.username,
                item=item,
                note=form.note.data,
                location_id=form.location.data or None,
                slot=form.slot.data,
                now=now_utc(),
            )
    except stock_checks.StockCheckError as refusal:
        flash(str(refusal), "error")
    else:
        flash(_("%(code)s を発見として記録しました。", code=item.control_no), "info")
    return redirect(url_for("stock.missing"))


@bp.route("/items/<int:item_id>/confirm-lost", methods=["POST"])
@allow(R)
def confirm_lost(item_id: int) -> ResponseReturnValue:
    item = _item_or_404(item_id)
    form = LostForm()
    if not form.validate():
        abort(400)
    try:
        with db.attempt():
            report = stock_checks.confirm_lost(
                db.session,
                actor=current_user.username,
                item=item,
                circumstances=form.circumstances.data,
                now=now_utc(),
            )
    except stock_checks.StockCheckError as refusal:
        flash(str(refusal), "error")
    else:
        flash(
            _(
                "%(code)s を紛失として確定しました（紛失報告書 %(no)s）。",
                code=item.control_no,
                no=report.report_no,
            ),
            "info",
        )
    return redirect(url_for("stock.missing"))


@bp.route("/loss-reports/<int:report_id>.pdf")
@allow(R, A)
def loss_report_pdf(report_id: int) -> ResponseReturnValue:
    from tracker.pdf.stock_check import render_loss_report

    report = db.session.get(LossReport, report_id)
    if report is None:
        abort(404)
    pdf = render_loss_report(stock_checks.loss_document(db.session, report, now=now_utc()))
    stock_checks.record_loss_report_print(db.session, actor=current_user.username, report=report)
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{report.report_no}.pdf"'},
    )
