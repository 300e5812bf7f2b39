"""Pickup reservations (受取予約, issue 15): the booking form a clerk fills in on the phone, a
reservation's page with cancel and no-show, and the counter's 「本日の予約」.

Names and call-back numbers are personal data: every page showing them writes a view event
(PPC access log, SPEC §8) that names what was shown, never the values. Admins have no access.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from tracker.clock import now_utc, today_jst
from tracker.domain.codes import AuditAction, ItemStatus, ObjectType, ReservationStatus, Role
from tracker.domain.phone import format_phone
from tracker.domain.wareki import format_wareki
from tracker.extensions import db
from tracker.models import Handover, Item, PickupDay, PickupSlot, Reservation
from tracker.services import audit, protection, reservations
from tracker.services.transitions import Conflict
from tracker.web import purpose
from tracker.web.access import allow
from tracker.web.i18n import gettext as _
from tracker.web.params import InvalidParameter, date_arg, id_arg, id_args
from tracker.web.reservations.forms import BookForm, CancelForm, NoShowForm

bp = Blueprint("reservations", __name__)

C, R, A = Role.CLERK, Role.RECORDS_OFFICER, Role.AUDITOR


def _chosen_items() -> list[Item]:
    ids = id_args("item", limit=reservations.MAX_ITEMS)
    if not ids:
        raise InvalidParameter(description=_("予約する通知物を1件以上選んでください。"))
    found = list(
        db.session.scalars(
            select(Item)
            .where(Item.id.in_(ids))
            .options(selectinload(Item.envelope))
            .order_by(Item.envelope_id, Item.position)
        )
    )
    if not found:
        abort(404)
    return found


def _slot_id(form: BookForm) -> int | None:
    value = (form.slot.data or "").strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) < 10 else None


@bp.route("/reservations/new", methods=["GET", "POST"])
@allow(C, R)
def new() -> ResponseReturnValue:
    """Book on the phone: a day among the next open days, a slot with free places, who comes,
    the call-back number. The items come from the item or envelope page (``?item=…``)."""
    items = _chosen_items()
    gate = purpose.ask_on_show(items)
    if gate.response is not None:
        return gate.response
    today = today_jst()
    shown_days = _days_shown()
    days = reservations.open_days(db.session, today=today, limit=shown_days + 1)
    more = len(days) > shown_days
    days = days[:shown_days]
    form = BookForm()
    error = None
    status = 200
    day_id = id_arg("day_id")
    day: PickupDay | None
    if day_id is None:
        day = days[0] if days else None
    else:
        day = reservations.pickup_day(db.session, day_id)
        if day is None:
            abort(404)
        if day.day < today:
            error = _(
                "%(day)sは過ぎた日です。今日以降の予約日を選んでください。",
                day=format_wareki(day.day),
            )
            day = None
    if request.method == "GET":
        protected = protection.protected_item_ids(db.session, (i.id for i in items))
        if not protected:  # a protected person's own name is never put on a reservation
            form.name.data = items[0].name
    elif form.validate():
        slot_id = _slot_id(form)
        if slot_id is None:
            error = _("予約枠を選んでください。")
        else:
            try:
                with db.attempt():
                    booked = reservations.book(
                        db.session,
                        actor=current_user.username,
                        slot_id=slot_id,
                        name=form.name.data,
                        phone=form.phone.data,
                        item_ids=[i.id for i in items],
                        note=form.note.data,
                        now=now_utc(),
                        today=today,
                    )
            except reservations.ReservationError as refusal:
                error = str(refusal)
            else:
                flash(
                    _(
                        "予約しました。予約番号 %(number)s、%(day)s %(time)s です。"
                        "電話でお伝えください。",
                        number=booked.reservation_no,
                        day=format_wareki(booked.slot.day.day),
                        time=reservations.slot_label(booked.slot),
                    ),
                    "info",
                )
                return redirect(url_for("reservations.show", reservation_id=booked.id))
        status = 422
        if day is not None:  # counts may have moved
            day = reservations.pickup_day(db.session, day.id)
    for item in items:  # the page shows the items' names: logged like the item page
        audit.record_at_commit(
            db.session,
            actor=current_user.username,
            action=AuditAction.ITEM_VIEW,
            object_type=ObjectType.ITEM.value,
            object_id=item.id,
            details={
                "control_no": item.control_no,
                **purpose.detail(gate.purpose),
            },
        )
    return render_template(
        "reservations/new.html",
        items=items,
        not_in_custody=[i for i in items if i.status != ItemStatus.IN_CUSTODY.value],
        days=days,
        more_days=more,
        shown_days=shown_days,
        day=day,
        form=form,
        error=error,
        preselected=_preselected(day, _slot_id(form) if request.method == "POST" else None),
        already=_already_booked(items),
        item_ids=[i.id for i in items],
    ), status


#: Open days listed per step of 「さらに表示」.
DAYS_STEP = 10


def _days_shown() -> int:
    """How many upcoming open days to list (``?days=``, in steps of :data:`DAYS_STEP`)."""
    raw = request.args.get("days", "")
    wanted = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 4 else DAYS_STEP
    return min(max(wanted, DAYS_STEP), 20 * DAYS_STEP)


def _preselected(day: PickupDay | None, posted: int | None) -> int | None:
    """The slot ticked (and focused): the one posted, else the first with a free place."""
    if day is None:
        return None
    if posted is not None and any(s.id == posted for s in day.slots):
        return posted
    return next((s.id for s in day.slots if s.booked < s.capacity), None)


def _already_booked(items: list[Item]) -> dict[int, tuple[str, str]]:
    """Cards already in an open reservation: item id → (control number, reservation number)."""
    found = {}
    for item in items:
        other = reservations.open_reservation_of(db.session, item.id)
        if other is not None:
            found[item.id] = (item.control_no, other.reservation_no)
    return found


def _reservation_or_404(reservation_id: int) -> Reservation:
    found = reservations.get(db.session, reservation_id)
    if found is None:
        abort(404)
    return found


def _log_view(reservation: Reservation, view_purpose: str | None = None) -> None:
    audit.record_at_commit(
        db.session,
        actor=current_user.username,
        action=AuditAction.RESERVATION_VIEW,
        object_type=ObjectType.RESERVATION.value,
        object_id=reservation.id,
        details={
            "reservation_no": reservation.reservation_no,
            "control_nos": [ri.item.control_no for ri in reservation.items],
            **purpose.detail(view_purpose),
        },
    )


@bp.route("/reservations/<int:reservation_id>", methods=["GET", "POST"])
@allow(C, R, A)
def show(reservation_id: int) -> ResponseReturnValue:
    """One reservation with its person, number and items (logged), cancel and no-show.
    For a protected person's card (支援措置) the purpose is asked first, as on the item page
    (the purpose form posts back here)."""
    found = _reservation_or_404(reservation_id)
    gate = purpose.ask([ri.item for ri in found.items])
    if gate.response is not None:
        return gate.response
    if request.method == "POST":  # only the purpose form posts here
        abort(400)
    _log_view(found, gate.purpose)
    return _render_show(found, unmasked=True)


def _render_show(
    found: Reservation,
    *,
    error: str | None = None,
    cancel_form: CancelForm | None = None,
    unmasked: bool = False,
) -> tuple[str, int]:
    """``unmasked``: the purpose was asked (or not needed); otherwise (a refused cancel or
    no-show) a protected person's name and number stay hidden."""
    can_change = current_user.has_role(C, R) and found.status == ReservationStatus.BOOKED
    protected = protection.protected_item_ids(db.session, (ri.item_id for ri in found.items))
    return render_template(
        "reservations/show.html",
        reservation=found,
        phone=format_phone(found.phone) if found.phone else None,
        can_change=can_change,
        can_no_show=can_change and reservations.slot_ended(found.slot, now_utc()),
        cancel_form=cancel_form or CancelForm(formdata=None),
        no_show_form=NoShowForm(formdata=None),
        error=error,
        slot_label=reservations.slot_label(found.slot),
        protected=protected,
        masked=bool(protected) and not unmasked,
    ), (422 if error else 200)


@bp.route("/reservations/<int:reservation_id>/cancel", methods=["POST"])
@allow(C, R)
def cancel(reservation_id: int) -> ResponseReturnValue:
    found = _reservation_or_404(reservation_id)
    form = CancelForm()
    if not form.validate():
        abort(400)
    try:
        with db.attempt():
            reservations.cancel(
                db.session,
                actor=current_user.username,
                reservation=found,
                reason=form.reason.data,
                now=now_utc(),
            )
    except reservations.ReservationError as refusal:
        _log_view(found)
        return _render_show(found, error=str(refusal), cancel_form=form)
    flash(_("予約 %(number)s を取り消しました。枠が1人分空きました。", number=found.reservation_no))
    return redirect(url_for("reservations.show", reservation_id=found.id))


@bp.route("/reservations/<int:reservation_id>/no-show", methods=["POST"])
@allow(C, R)
def no_show(reservation_id: int) -> ResponseReturnValue:
    found = _reservation_or_404(reservation_id)
    form = NoShowForm()
    if not form.validate():
        abort(400)
    try:
        with db.attempt():
            reservations.no_show(
                db.session,
                actor=current_user.username,
                reservation=found,
                now=now_utc(),
            )
    except reservations.ReservationError as refusal:
        _log_view(found)
        return _render_show(found, error=str(refusal))
    flash(_("予約 %(number)s を不来庁にしました。", number=found.reservation_no))
    back = request.args.get("back") == "today"
    if back:
        return redirect(url_for("reservations.today", day=found.slot.day.day.isoformat()))
    return redirect(url_for("reservations.show", reservation_id=found.id))


# --- 本日の予約 -------------------------------------------------------------------------------


@dataclass
class SlotRow:
    """One slot of the day with its reservations and counts."""

    slot: PickupSlot
    label: str
    rows: list[Reservation] = field(default_factory=list)

    def count(self, status: ReservationStatus) -> int:
        return sum(1 for r in self.rows if r.status == status)


@bp.route("/reservations/today")
@allow(C, R, A)
def today() -> ResponseReturnValue:
    """「本日の予約」: the day's slots in order with their people and items (logged)."""
    day: date = date_arg("day", _("日付")) or today_jst()
    days = reservations.days_on(db.session, day)
    slots = [slot for opened in days for slot in opened.slots]
    listed = reservations.of_slots(db.session, [s.id for s in slots])
    rows = {s.id: SlotRow(s, reservations.slot_label(s)) for s in slots}
    for reservation in listed:
        rows[reservation.slot_id].rows.append(reservation)
    audit.record_at_commit(
        db.session,
        actor=current_user.username,
        action=AuditAction.RESERVATION_VIEW,
        details={
            "day": day.isoformat(),
            "count": len(listed),
            "control_nos": [ri.item.control_no for r in listed for ri in r.items][:500],
        },
    )
    protected = protection.protected_item_ids(
        db.session, (ri.item_id for r in listed for ri in r.items)
    )
    now = now_utc()
    return render_template(
        "reservations/today.html",
        day=day,
        days=days,
        slot_rows=[rows[s.id] for s in slots],
        statuses=ReservationStatus,
        can_change=current_user.has_role(C, R),
        no_show_form=NoShowForm(formdata=None),
        format_phone=format_phone,
        is_today=day == today_jst(),
        ended={s.id for s in slots if reservations.slot_ended(s, now)},
        total=len(listed),
        protected=protected,
        masked={r.id for r in listed if any(ri.item_id in protected for ri in r.items)},
        several_locations=len(days) > 1,
    )


def attend_after_handover(
    reservation_id: int, done: Handover, item_ids: Sequence[int]
) -> str | None:
    """Called by the handover (``counter.hand_over``) inside its transaction: mark the
    reservation attended. Returns a message when it was not open any more, or is not for
    any of the cards handed over (the handover stands: the person is at the counter with
    their ID)."""
    found = reservations.get(db.session, reservation_id)
    if found is None or not {ri.item_id for ri in found.items} & set(item_ids):
        return str(_("予約が見つからないため、予約には記録していません（交付は記録しました）。"))
    try:
        reservations.attend(
            db.session,
            actor=current_user.username,
            reservation_id=reservation_id,
            handover=done,
            now=now_utc(),
        )
    except Conflict:
        db.session.refresh(found)
        return str(
            _(
                "予約 %(number)s は「%(status)s」のため、来庁済にしていません"
                "（交付は記録しました）。",
                number=found.reservation_no,
                status=ReservationStatus(found.status).label,
            )
        )
    return None
