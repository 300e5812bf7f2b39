"""Re-mailing (再送付): the item page's section and its forms, the return at intake, the list
of re-mailings with the closing button, and the 差出票 (PDF, CSV) for the post office."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select

from tracker.clock import now_utc, today_jst
from tracker.domain.codes import (
    AuditAction,
    RemailAddressKind,
    RemailStatus,
    ReturnReason,
    Role,
)
from tracker.domain.errors import InputError
from tracker.domain.export import ENCODINGS, ExportEncodingError, encode_csv
from tracker.domain.records import check_free_text, check_return_date
from tracker.domain.tracking import format_tracking_no, normalize_tracking_no
from tracker.domain.wareki import format_wareki, parse_date
from tracker.extensions import db
from tracker.models import Item, Location, Remailing
from tracker.services import audit, people, protection, remailing, settings
from tracker.web import purpose
from tracker.web.access import allow
from tracker.web.i18n import gettext as _
from tracker.web.i18n import lazy_gettext as _l
from tracker.web.params import InvalidParameter, date_arg
from tracker.web.remail.forms import CancelForm, CloseDueForm, MailForm, RequestForm, ReturnForm

bp = Blueprint("remail", __name__)

C, R, A = Role.CLERK, Role.RECORDS_OFFICER, Role.AUDITOR

#: Suggestions for the reason field (free text: offices word it their own way).
REASONS = (_l("書面による請求"), _l("居所の届出"), _l("転居先の判明"), _l("本人からの電話"))


def _item_or_404(item_id: int) -> Item:
    item = db.session.get(Item, item_id)
    if item is None:
        abort(404)
    return item


def _remailing_or_404(remailing_id: int) -> Remailing:
    record = db.session.get(Remailing, remailing_id)
    if record is None:
        abort(404)
    return record


def item_section(item: Item) -> dict[str, Any]:
    """What the item page's 再送付 section shows: the history, and the forms the user may use.

    Called by the item page (``counter.item``), which has already logged the view."""
    records = remailing.of_item(db.session, item.id)
    pending = next(
        (r for r in records if r.status in (RemailStatus.REQUESTED, RemailStatus.MAILED)), None
    )
    can_change = current_user.has_role(C, R)
    blocked = remailing.refusal(db.session, item) if pending is None else None
    mail_form = MailForm(formdata=None)
    mail_form.mailed_on.data = format_wareki(today_jst())
    return {
        "remailings": records,
        "remail_pending": pending,
        "remail_blocked": blocked,
        "remail_can_change": can_change,
        "remail_request_form": RequestForm(formdata=None),
        "remail_mail_form": mail_form,
        "remail_cancel_form": CancelForm(formdata=None),
        "remail_reasons": REASONS,
    }


# --- request, mail, cancel -------------------------------------------------------------------


@bp.route("/items/<int:item_id>/remail", methods=["GET", "POST"])
@allow(C, R)
def request_remail(item_id: int) -> ResponseReturnValue:
    """Record a request to mail the card again (the item page holds the same form)."""
    item = _item_or_404(item_id)
    gate = purpose.ask_on_show([item])
    if gate.response is not None:
        return gate.response
    form = RequestForm()
    error = remailing.refusal(db.session, item)
    if request.method == "POST" and form.validate() and error is None:
        try:
            fields = remailing.check_request(
                form.requested_by_whom.data,
                form.reason.data,
                form.address_kind.data,
                form.address.data,
            )
            with db.attempt():
                remailing.request(
                    db.session, actor=current_user.username, item=item, fields=fields, now=now_utc()
                )
        except remailing.RemailError as refusal:
            error = str(refusal)
        else:
            flash(
                _("再送付の依頼を記録しました。郵送したら番号と郵送日を記録してください。"), "info"
            )
            return redirect(url_for("counter.item", item_id=item.id, _anchor="remail"))
    _record_view(item, gate.purpose)
    return render_template(
        "remail/request.html", item=item, form=form, error=error, reasons=REASONS
    ), (422 if request.method == "POST" else 200)


def _record_view(item: Item, why: str | None = None) -> None:
    """The standalone form pages show the person's name: logged like the item page."""
    audit.record_at_commit(
        db.session,
        actor=current_user.username,
        action=AuditAction.ITEM_VIEW,
        object_type="item",
        object_id=item.id,
        details={
            "control_no": item.control_no,
            **purpose.detail(why),
        },
    )


@bp.route("/remailings/<int:remailing_id>/mail", methods=["GET", "POST"])
@allow(C, R)
def mail(remailing_id: int) -> ResponseReturnValue:
    """The card went out: the new tracking number (checked like intake's) and the day."""
    record = _remailing_or_404(remailing_id)
    form = MailForm()
    error = None
    if request.method == "GET":
        form.mailed_on.data = format_wareki(today_jst())
    elif form.validate():
        today = today_jst()
        mailed_on = _date_field(form.mailed_on, _("郵送日"))
        number = None
        try:
            number = remailing.check_new_tracking_no(db.session, form.tracking_no.data)
        except remailing.RemailError as refusal:
            form.tracking_no.errors = [*form.tracking_no.errors, str(refusal)]
        if number is not None:
            form.tracking_warning = number.warning
        if number is not None and mailed_on is not None and form.tracking_confirmed(number.digits):
            try:
                with db.attempt():
                    remailing.mail(
                        db.session,
                        actor=current_user.username,
                        remailing=record,
                        tracking_no=number.digits,
                        mailed_on=mailed_on,
                        now=now_utc(),
                        today=today,
                    )
            except remailing.RemailError as refusal:
                error = str(refusal)
            else:
                flash(
                    _(
                        "再送付を記録しました（お問い合わせ番号 %(number)s）。"
                        "通知物は再送付中です。",
                        number=number.display,
                    ),
                    "info",
                )
                return redirect(url_for("counter.item", item_id=record.item_id, _anchor="remail"))
    _record_view(record.item)
    return render_template(
        "remail/mail.html",
        remailing=record,
        item=record.item,
        form=form,
        error=error,
        protected=bool(protection.protected_item_ids(db.session, [record.item_id])),
    ), (422 if request.method == "POST" else 200)


def _date_field(field: Any, label: str) -> date | None:
    text = (field.data or "").strip()
    if not text:
        field.errors = [*field.errors, _("%(label)sを入力してください", label=label)]
        return None
    try:
        return parse_date(text)
    except InputError as error:
        field.errors = [*field.errors, str(error)]
        return None


@bp.route("/remailings/<int:remailing_id>/cancel", methods=["POST"])
@allow(C, R)
def cancel(remailing_id: int) -> ResponseReturnValue:
    record = _remailing_or_404(remailing_id)
    form = CancelForm()
    if not form.validate():
        abort(400)
    try:
        with db.attempt():
            remailing.cancel(
                db.session,
                actor=current_user.username,
                remailing=record,
                reason=form.reason.data,
                now=now_utc(),
            )
    except remailing.RemailError as refusal:
        flash(str(refusal), "error")
    else:
        flash(_("再送付の依頼を取り消しました。"), "info")
    return redirect(url_for("counter.item", item_id=record.item_id, _anchor="remail"))


# --- the return --------------------------------------------------------------------------------


def _location_choices() -> list[tuple[int, str]]:
    rows = db.session.scalars(
        select(Location).where(Location.active.is_(True)).order_by(Location.sort_order)
    )
    return [(loc.id, loc.name) for loc in rows]


def receive_url(record: Remailing) -> str:
    return url_for("remail.receive", remailing_id=record.id)


@bp.route("/remailings/lookup")
@allow(C, R)
def lookup() -> ResponseReturnValue:
    """For the intake screen's tracking-number field: is this a re-mailed card coming back?
    Answers only where to go (no personal data)."""
    try:
        digits = normalize_tracking_no(request.args.get("tracking_no", ""))
    except InputError:
        return {"remailed": False}
    record = remailing.find_mailed(db.session, digits)
    if record is None:
        return {"remailed": False}
    return {"remailed": True, "url": receive_url(record)}


@bp.route("/remailings/<int:remailing_id>/return", methods=["GET", "POST"])
@allow(C, R)
def receive(remailing_id: int) -> ResponseReturnValue:
    """A re-mailed card came back (its tracking number was scanned at intake): a short form,
    and the card is in custody again in a new envelope."""
    record = _remailing_or_404(remailing_id)
    item = record.item
    form = ReturnForm()
    form.location.choices = _location_choices()
    error = None
    if record.status != RemailStatus.MAILED:
        error = _(
            "この再送付は「%(status)s」です。返戻として受け付けられるのは再送付中のものだけです。",
            status=RemailStatus(record.status).label,
        )
    if request.method == "GET":
        form.return_date.data = format_wareki(today_jst())
        form.location.data = record.from_envelope.location_id
        form.slot.data = record.from_envelope.slot or ""
    elif form.validate() and error is None:
        returned_on = None
        try:
            returned_on = check_return_date(form.return_date.data, today_jst())
        except InputError as problem:
            form.return_date.errors = [*form.return_date.errors, str(problem)]
        slot = None
        try:
            slot = check_free_text(form.slot.data, "slot", required=False, label="保管位置")
        except InputError as problem:
            form.slot.errors = [*form.slot.errors, str(problem)]
        if returned_on is not None and not form.slot.errors:
            try:
                with db.attempt():
                    envelope = remailing.record_return(
                        db.session,
                        actor=current_user.username,
                        remailing=record,
                        returned_on=returned_on,
                        return_reason=ReturnReason(form.return_reason.data),
                        location_id=form.location.data,
                        slot=slot,
                        now=now_utc(),
                    )
            except (remailing.RemailError, InputError) as refusal:
                error = str(refusal)
            else:
                flash(
                    _(
                        "再送付分の返戻を受け付けました: 管理番号 %(control)s（通知物 %(item)s）。"
                        "保管中に戻りました。",
                        control=envelope.control_no,
                        item=item.control_no,
                    ),
                    "info",
                )
                return redirect(url_for("counter.item", item_id=item.id, _anchor="remail"))
    _record_view(item)
    return render_template(
        "remail/receive.html",
        remailing=record,
        item=item,
        form=form,
        error=error,
        tracking=format_tracking_no(record.tracking_no or ""),
    ), (422 if request.method == "POST" else 200)


# --- the list, closing, the 差出票 ---------------------------------------------------------


def _status_arg() -> RemailStatus | None:
    value = request.args.get("status", "").strip()
    if not value:
        return None
    try:
        return RemailStatus(value)
    except ValueError:
        raise InvalidParameter(
            description=_("状態（status）: 「%(value)s」は選べません。", value=value[:20])
        ) from None


@bp.route("/remailings")
@allow(C, R, A)
def index() -> ResponseReturnValue:
    """Re-mailings by status and mailing date (names shown: the list is logged as a view)."""
    f = remailing.ListFilter(
        status=_status_arg(),
        mailed_from=date_arg("from", _("郵送日（から）")),
        mailed_to=date_arg("to", _("郵送日（まで）")),
    )
    rows = remailing.listing(db.session, f)
    today = today_jst()
    days = settings.load(db.session).remail_close_days
    due = remailing.due_count(db.session, as_of=today, days=days)
    # Names on screen: logged like a search (PPC access log, SPEC §8).
    audit.record_at_commit(
        db.session,
        actor=current_user.username,
        action=AuditAction.ITEM_SEARCH,
        details={"query_kind": "remailings", "results": len(rows)},
    )
    close_form = CloseDueForm(formdata=None)
    close_form.expected.data = str(due)
    return render_template(
        "remail/index.html",
        rows=rows,
        f=f,
        statuses=list(RemailStatus),
        due=due,
        days=days,
        today=today,
        close_form=close_form,
        can_close=current_user.has_role(R),
        limit=remailing.LIST_LIMIT,
    )


@bp.route("/remailings/close", methods=["POST"])
@allow(R)
def close_due() -> ResponseReturnValue:
    """«期限を過ぎた再送付を完了にする»: the page showed how many first."""
    form = CloseDueForm()
    if not form.validate():
        abort(400)
    days = settings.load(db.session).remail_close_days
    summary = remailing.close_due(
        db.session, actor=current_user.username, as_of=today_jst(), days=days, now=now_utc()
    )
    flash(_("期限を過ぎた再送付 %(n)d件を完了（再送付済）にしました。", n=summary.closed), "info")
    return redirect(url_for("remail.index"))


def _mailed_on_arg() -> date:
    day = date_arg("mailed_on", _("郵送日"))
    if day is None:
        raise InvalidParameter(description=_("郵送日（mailed_on）を指定してください。"))
    return day


def _mailing_rows(day: date) -> list[remailing.MailingRow]:
    return remailing.mailing_rows(db.session, day)


@bp.route("/remailings/list.pdf")
@allow(C, R, A)
def list_pdf() -> ResponseReturnValue:
    """再送付 差出票 for one mailing date (audited as an export)."""
    from tracker.pdf.remail_list import MailingLine, MailingList, render_mailing_list

    day = _mailed_on_arg()
    rows = _mailing_rows(day)
    office = settings.load(db.session)
    pdf = render_mailing_list(
        MailingList(
            municipality=office.municipality,
            office=office.office,
            mailed_on=day,
            lines=[
                MailingLine(r.number, r.tracking_no, r.addressee, str(r.address_kind.label))
                for r in rows
            ],
            printed_by=people.name_of(db.session, current_user.username),
        )
    )
    remailing.record_list_export(
        db.session, actor=current_user.username, mailed_on=day, rows=rows, file_format="pdf"
    )
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="remail-{day.isoformat()}.pdf"'},
    )


#: CSV columns of the 差出票 (SPEC §6.5 rules: BOM, CP932 on request, formula-safe).
CSV_HEADER = ("no", "tracking_no", "addressee", "service", "address_kind", "control_no")


@bp.route("/remailings/list.csv")
@allow(C, R, A)
def list_csv() -> ResponseReturnValue:
    day = _mailed_on_arg()
    encoding = request.args.get("encoding", "utf-8-sig")
    if encoding not in ENCODINGS:
        raise InvalidParameter(description=_("文字コード（encoding）を選んでください。"))
    rows = _mailing_rows(day)
    records = [
        [
            r.number,
            format_tracking_no(r.tracking_no),
            r.addressee,
            "簡易書留",
            RemailAddressKind(r.address_kind).label,
            r.control_no,
        ]
        for r in rows
    ]
    try:
        body = b"".join(
            encode_csv(CSV_HEADER, [[str(c) for c in row] for row in records], encoding)
        )
    except ExportEncodingError as error:
        raise InvalidParameter(description=str(error)) from None
    remailing.record_list_export(
        db.session, actor=current_user.username, mailed_on=day, rows=rows, file_format="csv"
    )
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="remail-{day.isoformat()}.csv"'},
    )
