"""Intake at the counter, envelope pages, edits, moves, locations, labels and the scan box."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlalchemy.sql.elements import ColumnElement

from tracker.clock import now_utc, today_jst
from tracker.domain.codes import AuditAction, ItemStatus, RemailStatus, Role
from tracker.domain.errors import InputError
from tracker.domain.records import (
    FIRST_MAILING,
    check_event_date,
    check_free_text,
    check_return_date,
)
from tracker.domain.tracking import normalize_tracking_no
from tracker.domain.wareki import format_wareki
from tracker.extensions import db
from tracker.models import Envelope, Item, Location
from tracker.pdf.labels import A_ONE_12
from tracker.services import audit, intake, lookup, protection, register
from tracker.web import purpose
from tracker.web.access import allow
from tracker.web.counter.forms import ScanForm
from tracker.web.custody.forms import (
    EnvelopeEditForm,
    IntakeForm,
    ItemEditForm,
    MoveForm,
    NoticeSentForm,
)
from tracker.web.i18n import gettext as _
from tracker.web.params import InvalidParameter, id_arg, id_args

bp = Blueprint("custody", __name__)

C, R, A = Role.CLERK, Role.RECORDS_OFFICER, Role.AUDITOR


def _location_choices() -> list[tuple[int, str]]:
    rows = db.session.scalars(
        select(Location).where(Location.active.is_(True)).order_by(Location.sort_order)
    )
    return [(loc.id, loc.name) for loc in rows]


def _default_location_id() -> int | None:
    return db.session.scalar(select(Location.id).where(Location.is_default.is_(True)))


def _envelope_or_404(envelope_id: int) -> Envelope:
    envelope = db.session.scalar(
        select(Envelope)
        .where(Envelope.id == envelope_id)
        .options(selectinload(Envelope.items), selectinload(Envelope.location))
    )
    if envelope is None:
        abort(404)
    return envelope


@bp.route("/envelopes/new", methods=["GET", "POST"])
@allow(C, R)
def new_envelope() -> ResponseReturnValue:
    """One screen for one envelope and its cards; keyboard-first for a barcode scanner."""
    form = IntakeForm()
    form.location.choices = _location_choices()
    today = today_jst()
    if request.method == "GET":
        # The last envelope's return date: a day's returns are logged together (issue 12).
        form.return_date.data = format_wareki(_last_return_date(today) or today)
        form.location.data = id_arg("location") or _default_location_id()
        form.slot.data = request.args.get("slot", "")
    duplicate: Envelope | None = None
    returning = _remailed_card(form.tracking_no.data) if request.method == "POST" else None
    if returning is not None:  # a re-mailed card came back: its own short form (issue 13)
        return redirect(returning)
    if request.method == "POST" and form.validate():
        if "add_item" in request.form:
            form.items.append_entry()
            return render_template(  # focus goes to the new row's name, for the keyboard
                "custody/intake.html", form=form, duplicate=None, focus_row=len(form.items)
            )
        if "remove_item" in request.form and len(form.items) > 1:
            index = request.form.get("remove_item", type=int)
            if index is not None and 0 <= index < len(form.items):
                form.items.entries.pop(index)
            return render_template("custody/intake.html", form=form, duplicate=None, focus_row=None)
        values = form.checked_values(today)
        closed = _closed_remailing(values[0].tracking_no) if values is not None else None
        if closed is not None:  # issue 13: a re-mailing's number is not a new envelope
            form.tracking_no.errors = [*form.tracking_no.errors, closed[0]]
            duplicate = closed[1]  # the return envelope that holds the card, linked
            values = None
        if values is not None and not form.tracking_confirmed(values[0].tracking_no):
            values = None  # shown again with the warning and the box to tick; nothing saved
        elif values is None and form.tracking_warning is not None:
            digits = normalize_tracking_no(form.tracking_no.data or "")
            form.tracking_confirmed(digits)  # offer the box beside the other errors
        if values is not None:
            envelope_fields, item_fields = values
            try:
                with db.attempt():
                    envelope = intake.log_envelope(
                        db.session,
                        actor=current_user.username,
                        fields=envelope_fields,
                        location_id=form.location.data,
                        items=item_fields,
                        now=now_utc(),
                    )
            except intake.DuplicateEnvelope as refusal:
                duplicate = refusal.envelope
                form.tracking_no.errors = [*form.tracking_no.errors, str(refusal)]
            except IntegrityError:  # a colleague registered the same number a moment ago
                duplicate = intake.find_by_tracking_no(db.session, envelope_fields.tracking_no)
                form.tracking_no.errors = [
                    *form.tracking_no.errors,
                    _("このお問い合わせ番号は登録済みです"),
                ]
            except intake.IntakeError as refusal:
                form.items.errors = [str(refusal)]
            else:
                flash(
                    _(
                        "登録しました: 管理番号 %(control)s（%(count)d件）",
                        control=envelope.control_no,
                        count=len(item_fields),
                    ),
                    "info",
                )
                return redirect(
                    url_for(
                        "custody.new_envelope",
                        location=envelope.location_id,
                        slot=envelope.slot or "",
                        last=envelope.id,
                        returned=envelope.returned_on.isoformat(),
                    )
                )
    last = id_arg("last")
    return render_template(
        "custody/intake.html",
        form=form,
        duplicate=duplicate,
        focus_row=None,
        last=db.session.get(Envelope, last) if last else None,
    )


def _remailed_card(typed: str | None) -> str | None:
    """The return form's address when ``typed`` is the tracking number of a re-mailed card
    out in the post (再送付中), else None."""
    from tracker.services import remailing
    from tracker.web.remail.views import receive_url

    try:
        digits = normalize_tracking_no(typed or "")
    except InputError:
        return None
    record = remailing.find_mailed(db.session, digits)
    if record is None:
        return None
    flash(_("再送付した通知物の番号です。再送付分の返戻として受け付けます。"), "info")
    return receive_url(record)


def _closed_remailing(digits: str) -> tuple[str, Envelope | None] | None:
    """Why ``digits`` cannot be a new envelope: the number of a re-mailing that is over, with
    the envelope that now holds the card when it came back; None when the number is free.

    Only a mailed re-mailing has a number: a request, and so a cancelled one, never had one
    and never blocks a number; one still out in the post (mailed) is received, not refused.
    """
    from tracker.services import remailing

    record = remailing.find_by_tracking_no(db.session, digits)
    if record is None:
        return None
    if record.status == RemailStatus.RETURNED.value and record.return_envelope is not None:
        held: str = _(
            "このお問い合わせ番号は再送付した通知物 %(control)s の番号で、"
            "既に再返戻として受け付け、返戻郵便 %(envelope)s で保管しています",
            control=record.item.control_no,
            envelope=record.return_envelope.control_no,
        )
        return held, record.return_envelope
    if record.status == RemailStatus.DELIVERED.value:
        message: str = _(
            "このお問い合わせ番号は再送付した通知物 %(control)s の番号で、"
            "再送付済として完了しています。記録管理担当に相談してください",
            control=record.item.control_no,
        )
        return message, None
    return None


def _last_return_date(today: date) -> date | None:
    """The return date carried over from the envelope just registered (``?returned=``);
    None when absent or not a date intake would accept (a hand-edited URL)."""
    try:
        return check_return_date(request.args.get("returned"), today)
    except InputError:
        return None


@bp.route("/envelopes/<int:envelope_id>")
@allow(C, R, A)
def envelope(envelope_id: int) -> ResponseReturnValue:
    """The envelope and its items: personal data, so every opening is logged (SPEC §8)."""
    record = _envelope_or_404(envelope_id)
    intake.record_view(db.session, actor=current_user.username, envelope=record)
    move_form = MoveForm()
    move_form.location.choices = _location_choices()
    move_form.location.data = record.location_id
    move_form.slot.data = record.slot or ""
    can_change = current_user.has_role(C, R)
    from tracker.services import remailing
    from tracker.web.contacts.views import envelope_section

    protected_items = protection.protected_item_ids(db.session, (i.id for i in record.items))
    return render_template(
        "custody/envelope.html",
        envelope=record,
        remailings=remailing.from_envelope(db.session, record.id),
        remail_return=remailing.returned_in(db.session, record.id),
        move_form=move_form,
        can_change=can_change,
        can_hand_over=can_change,  # the same roles hand over (counter.hand_over)
        register_results=register.results_for(db.session, (i.id for i in record.items)),
        protected=bool(protection.protected_envelope_ids(db.session, [record.id])),
        protected_items=protected_items,
        **envelope_section(record, protected_items),
    )


@bp.route("/envelopes/<int:envelope_id>/edit", methods=["GET", "POST"])
@allow(C, R)
def edit_envelope(envelope_id: int) -> ResponseReturnValue:
    record = _envelope_or_404(envelope_id)
    if record.pseudonymised_at is not None:  # issue 16: its placeholders are history
        flash(_("保存期間経過により個人情報を消去した返戻郵便は修正できません"), "error")
        return redirect(url_for("custody.envelope", envelope_id=record.id))
    form = EnvelopeEditForm()
    # 支援措置: the address and addressee are never put into the form; an empty field (or the
    # mask text sent back) keeps the stored value, a typed one replaces it
    masked = bool(protection.protected_envelope_ids(db.session, [record.id]))
    if masked:
        form.addressee.label.text = _("新しい宛名（世帯主）（変更するときだけ入力）")
        form.address.label.text = _("新しい住所（変更するときだけ入力）")
    if request.method == "GET":
        form.tracking_no.data = record.tracking_no
        form.return_date.data = format_wareki(record.returned_on)
        form.return_reason.data = record.return_reason
        if not masked:
            form.addressee.data = record.addressee
            form.address.data = record.address
        form.household_code.data = record.household_code or ""
    elif form.validate():
        typed = {"addressee": form.addressee.data, "address": form.address.data}
        if masked:
            _keep_masked(form.addressee, record.addressee)
            _keep_masked(form.address, record.address)
        fields = form.checked_values(today_jst(), record.slot)
        if fields is not None and fields.tracking_no == record.tracking_no:
            form.tracking_warning = None  # unchanged: confirmed (or imported) before
        if fields is not None and not form.tracking_confirmed(fields.tracking_no):
            fields = None  # shown again with the warning and the box to tick; nothing saved
        if fields is not None:
            try:
                with db.attempt():
                    changed = intake.edit_envelope(
                        db.session, actor=current_user.username, envelope=record, fields=fields
                    )
            except intake.DuplicateEnvelope as refusal:
                form.tracking_no.errors = [*form.tracking_no.errors, str(refusal)]
            else:
                flash(_("修正しました。") if changed else _("変更はありません。"), "info")
                return redirect(url_for("custody.envelope", envelope_id=record.id))
        if masked:  # shown again: what was typed, never the stored address
            form.addressee.data = _typed_or_empty(typed["addressee"])
            form.address.data = _typed_or_empty(typed["address"])
    return render_template("custody/envelope_edit.html", form=form, envelope=record, masked=masked)


def _keep_masked(field: Any, stored: str) -> None:
    """A masked field left empty (or sent back as the mask text) keeps the stored value."""
    if _typed_or_empty(field.data) == "":
        field.data = stored


def _typed_or_empty(value: str | None) -> str:
    text = (value or "").strip()
    return "" if text == protection.MASKED else text


@bp.route("/items/<int:item_id>/edit", methods=["GET", "POST"])
@allow(C, R)
def edit_item(item_id: int) -> ResponseReturnValue:
    item = db.session.get(Item, item_id)
    if item is None:
        abort(404)
    gate = purpose.ask_on_show([item])
    if gate.response is not None:
        return gate.response
    form = ItemEditForm()
    if request.method == "GET":
        # issue 16: a purged item's values are re-entered from the card; its placeholders
        # are never put into the form (nor sent back)
        if item.pseudonymised_at is None:
            form.name.data = item.name
            form.name_kana.data = item.name_kana
            form.birth_date.data = format_wareki(item.birth_date)
            form.relationship.data = item.relationship_to_head or ""
            form.alias.data = item.alias or ""
        form.item_kind.data = item.kind
        for name in ("first_notice_on", "renotice_on", "card_expires_on"):
            value = getattr(item, name)
            getattr(form, name).data = format_wareki(value) if value else ""
    elif form.validate():
        fields = form.checked_values(today_jst(), item.envelope.returned_on)
        if fields is not None:
            try:
                with db.attempt():
                    changed = intake.edit_item(
                        db.session, actor=current_user.username, item=item, fields=fields
                    )
            except intake.IntakeError as refusal:
                flash(str(refusal), "error")
            else:
                flash(_("修正しました。") if changed else _("変更はありません。"), "info")
                return redirect(url_for("custody.envelope", envelope_id=item.envelope_id))
    if gate.purpose is not None:  # a protected person's data: the opening is logged
        audit.record_at_commit(
            db.session,
            actor=current_user.username,
            action=AuditAction.ITEM_VIEW,
            object_type="item",
            object_id=item.id,
            details={"control_no": item.control_no, **purpose.detail(gate.purpose)},
        )
    return render_template("custody/item_edit.html", form=form, item=item)


@bp.route("/items/<int:item_id>/notice-sent", methods=["POST"])
@allow(R)
def set_notice_sent(item_id: int) -> ResponseReturnValue:
    """Record the day a notice (お知らせ) was sent to the person (issue 14): a retention rule may
    count from it, so only a records officer sets it, and the change is audited."""
    item = db.session.get(Item, item_id)
    if item is None:
        abort(404)
    form = NoticeSentForm()
    if form.validate():
        try:
            sent_on = check_event_date(
                form.notice_sent_on.data, "お知らせ送付日", today_jst(), earliest=FIRST_MAILING
            )
        except InputError as refusal:
            flash(str(refusal), "error")
        else:
            with db.attempt():
                changed = intake.set_notice_sent_on(
                    db.session, actor=current_user.username, item=item, notice_sent_on=sent_on
                )
            flash(
                _("お知らせ送付日を記録しました。") if changed else _("変更はありません。"), "info"
            )
    return redirect(url_for("counter.item", item_id=item.id))


@bp.route("/envelopes/<int:envelope_id>/move", methods=["POST"])
@allow(C, R)
def move_envelope(envelope_id: int) -> ResponseReturnValue:
    record = _envelope_or_404(envelope_id)
    form = MoveForm()
    form.location.choices = _location_choices()
    if not form.validate():
        abort(400)
    try:
        slot = check_free_text(form.slot.data, "slot", required=False, label="保管位置")
    except InputError as error:
        flash(str(error), "error")
        return redirect(url_for("custody.envelope", envelope_id=record.id))
    try:
        with db.attempt():
            move = intake.move_envelope(
                db.session,
                actor=current_user.username,
                envelope=record,
                location_id=form.location.data,
                slot=slot,
            )
    except intake.IntakeError as refusal:
        flash(str(refusal), "error")
    else:
        flash(_("保管位置を変更しました。") if move else _("変更はありません。"), "info")
    return redirect(url_for("custody.envelope", envelope_id=record.id))


@bp.route("/locations")
@allow(C, R, A)
def locations() -> ResponseReturnValue:
    in_custody = (
        select(Envelope.location_id, func.count(Item.id).label("item_count"))
        .join(Item, Item.envelope_id == Envelope.id)
        .where(Item.status == ItemStatus.IN_CUSTODY.value)
        .group_by(Envelope.location_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Location, func.coalesce(in_custody.c.item_count, 0))
        .outerjoin(in_custody, in_custody.c.location_id == Location.id)
        .order_by(Location.sort_order)
    ).all()
    return render_template("custody/locations.html", rows=rows, stock=_stock_schedule())


def _stock_schedule() -> dict[int, object]:
    """Last and next stock check (棚卸) of each location, by location id (issue 13)."""
    from tracker.services import settings, stock_checks

    interval = settings.load(db.session).stock_check_interval_months
    rows = stock_checks.schedule(db.session, today=today_jst(), interval_months=interval)
    return {row.location.id: row for row in rows}


PAGE_SIZE = 100
#: Labels in one PDF at most (50 sheets of 12): a selection or range beyond it is refused.
LABELS_MAX = 600


def _held_envelopes(location_id: int) -> Select[Envelope, int]:
    """Envelopes at a location holding at least one item in custody, with that count."""
    return (
        select(Envelope, func.count(Item.id).label("items"))
        .join(Item, Item.envelope_id == Envelope.id)
        .where(Envelope.location_id == location_id, Item.status == ItemStatus.IN_CUSTODY.value)
        .group_by(Envelope.id)
    )


def _held_count(location_id: int, *conditions: ColumnElement[bool]) -> int:
    held = (
        select(Envelope.id)
        .join(Item, Item.envelope_id == Envelope.id)
        .where(
            Envelope.location_id == location_id,
            Item.status == ItemStatus.IN_CUSTODY.value,
            *conditions,
        )
        .distinct()
        .subquery()
    )
    return int(db.session.scalar(select(func.count()).select_from(held)) or 0)


def _key_arg(name: str) -> str | None:
    """A control number used as a page key or range end; anything longer is no key."""
    value = request.args.get(name, "").strip()
    return value if value and len(value) <= 20 else None


@bp.route("/locations/<int:location_id>")
@allow(C, R, A)
def location(location_id: int) -> ResponseReturnValue:
    """What is held at one location, by control number, 100 envelopes a page (keyset pages:
    前へ / 次へ and the page count); no names. Labels for a selection or a range."""
    place = db.session.get(Location, location_id)
    if place is None:
        abort(404)
    after, before = _key_arg("after"), _key_arg("before")
    held = _held_envelopes(place.id).limit(PAGE_SIZE)
    if before:
        rows = list(
            db.session.execute(
                held.where(Envelope.control_no < before).order_by(Envelope.control_no.desc())
            ).all()
        )
        rows.reverse()
    else:
        if after:
            held = held.where(Envelope.control_no > after)
        rows = list(db.session.execute(held.order_by(Envelope.control_no)).all())
    total = _held_count(place.id)
    position = _held_count(place.id, Envelope.control_no < rows[0][0].control_no) if rows else 0
    return render_template(
        "custody/location.html",
        place=place,
        rows=rows,
        total=total,
        position=position,
        page_number=position // PAGE_SIZE + 1,
        pages=max(1, -(-total // PAGE_SIZE)),
        previous_before=rows[0][0].control_no if rows and position > 0 else None,
        next_after=rows[-1][0].control_no if rows and position + len(rows) < total else None,
        start_positions=range(1, A_ONE_12.per_page + 1),
        labels_max=LABELS_MAX,
    )


def _start_position() -> int:
    """Where on a partly used sheet the first label goes: 1 … 12 (default 1)."""
    value = request.args.get("start", "").strip()
    if not value:
        return 1
    if not (value.isascii() and value.isdigit() and 1 <= int(value) <= A_ONE_12.per_page):
        raise InvalidParameter(
            description=_(
                "開始位置（start）: 1〜%(n)dの番号で指定してください。", n=A_ONE_12.per_page
            )
        )
    return int(value)


def _range_envelopes(location_id: int) -> list[Envelope]:
    """The envelopes of a location's list from one control number to another (inclusive;
    either end may be open), as the location page lists them."""
    first, last = _key_arg("from"), _key_arg("to")
    conditions = []
    if first:
        conditions.append(Envelope.control_no >= first)
    if last:
        conditions.append(Envelope.control_no <= last)
    count = _held_count(location_id, *conditions)
    if count == 0:
        raise InvalidParameter(description=_("指定した範囲に保管中の封筒はありません。"))
    if count > LABELS_MAX:
        raise InvalidParameter(
            description=_(
                "指定した範囲の封筒は%(n)s件です。一度に印刷できるのは%(max)d件までです。"
                "範囲を分けて印刷してください。",
                n=f"{count:,}",
                max=LABELS_MAX,
            )
        )
    return list(
        db.session.scalars(
            _held_envelopes(location_id)
            .where(*conditions)
            .options(selectinload(Envelope.location))
            .order_by(Envelope.control_no)
        )
    )


@bp.route("/labels.pdf")
@allow(C, R)
def labels() -> ResponseReturnValue:
    """A sheet of envelope labels (barcode of the control number, date, location, slot; no
    names): the envelopes ticked (``id``), or a location's from one control number to another
    (``location``, ``from``, ``to``); ``start`` (1–12) skips the used cells of a sheet."""
    from tracker.pdf.labels import EnvelopeLabel, render_envelope_labels

    start = _start_position()
    ids = id_args("id", limit=LABELS_MAX + 1)
    location_id = id_arg("location")
    if len(ids) > LABELS_MAX:
        raise InvalidParameter(
            description=_("一度に印刷できるのは%(max)d件までです。", max=LABELS_MAX)
        )
    if ids:
        envelopes = list(
            db.session.scalars(
                select(Envelope)
                .where(Envelope.id.in_(ids))
                .options(selectinload(Envelope.location))
                .order_by(Envelope.control_no)
            ).all()
        )
    elif location_id is not None:
        if db.session.get(Location, location_id) is None:
            abort(404)
        envelopes = _range_envelopes(location_id)
    else:
        raise InvalidParameter(description=_("ラベルを印刷する封筒を選んでください。"))
    if not envelopes:
        abort(404)
    pdf = render_envelope_labels(
        [EnvelopeLabel(e.control_no, e.returned_on, e.slot, e.location.name) for e in envelopes],
        skip=start - 1,
    )
    intake.record_label_print(db.session, actor=current_user.username, envelopes=envelopes)
    name = envelopes[0].control_no if len(envelopes) == 1 else "labels"
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}.pdf"'},
    )


@bp.route("/search", methods=["GET", "POST"])
@allow(C, R, A)
def search() -> ResponseReturnValue:
    """The scan box: a label barcode or a tracking number opens the envelope at once, an
    item's control number (``E000000490-2``) the item. It posts (issue 16): whatever was
    typed, a name too, stays out of the URL; a GET just goes home."""
    form = ScanForm()
    query = (form.q.data or "").strip() if request.method == "POST" else ""
    if not query:
        return redirect(url_for("main.index"))
    if not form.validate():
        problem = next(iter(form.q.errors), None) or _("もう一度操作してください")
        return render_template("custody/search_none.html", problem=problem, scan_focus=True), 422
    hit = lookup.find_scanned(db.session, query)
    if hit is not None and hit.item_id is not None:
        return redirect(url_for("counter.item", item_id=hit.item_id), 303)
    if hit is not None:
        return redirect(url_for("custody.envelope", envelope_id=hit.envelope_id), 303)
    returning = _remailed_card(query) if current_user.has_role(C, R) else None
    if returning is not None:
        return redirect(returning, 303)
    return render_template("custody/search_none.html", query=query), 404
