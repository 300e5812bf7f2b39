"""Pickup reservations (受取予約, issue 15): a clerk books a slot for a household on the phone.

    予約中 booked ──(交付)──→ 来庁済 attended   (any handover of one of its cards)
          ├──(取消)──→ 取消 cancelled          (frees the place)
          └──(不来庁)─→ 不来庁 no_show          (once the slot has ended; the place stays used)

- **Capacity, exactly**: a booking takes its place with one conditional
  ``UPDATE pickup_slots SET booked = booked + 1 WHERE id = :id AND booked < capacity`` whose
  row count is checked. PostgreSQL re-checks the condition after waiting for a concurrent
  booking to commit, SQLite serialises writers: of two clerks racing for the last place one
  gets it, the other a refusal 「この枠は満席です」, and nothing of theirs is written.
- **Items**: only cards 保管中, each in at most one open (予約中) reservation. The check and the
  insert run under a lock per item (:func:`~tracker.services.transitions.serialise`), taken in
  id order, so that two clerks booking the same card into two slots get one booking.
- **Personal data**: the name and the call-back number are personal data; the number is kept
  until the day after the slot and then erased by ``tracker purge``
  (:mod:`tracker.services.purge`). Audit details carry the reservation number, the slot, the
  items' control numbers and counts, never the name, the number or the note.
- Every status move is a conditional update (:func:`~tracker.services.transitions.transition`):
  a race (cancel against no-show, two handovers) gives one winner and a :class:`Conflict`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from tracker.clock import JST
from tracker.domain.codes import AuditAction, ItemStatus, ObjectType, ReservationStatus
from tracker.domain.errors import InputError
from tracker.domain.phone import normalise_phone
from tracker.domain.pickup import hm
from tracker.domain.records import check_free_text
from tracker.domain.wareki import format_wareki
from tracker.models import Handover, Item, PickupDay, PickupSlot, Reservation, ReservationItem
from tracker.services import audit, pickup
from tracker.services.numbering import next_id
from tracker.services.transitions import Conflict, person, serialise, transition, when

#: At most this many cards in one reservation (a household's envelope holds a few).
MAX_ITEMS = 20


class ReservationError(InputError):
    """A refused booking or change; the message says what and why, for the clerk."""


class SlotFull(ReservationError):
    """The slot had no place left when the booking tried to take one."""


def reservation_no(reservation_id: int) -> str:
    """予約番号: ``Y`` and nine digits of the id."""
    return f"Y{reservation_id:09d}"


def slot_end(slot: PickupSlot) -> datetime:
    """The moment the slot ends (its day, ``ends_at``, JST), aware."""
    return datetime.combine(slot.day.day, slot.ends_at, tzinfo=JST)


def slot_ended(slot: PickupSlot, now: datetime) -> bool:
    """Whether ``now`` is at or after the end of the slot: from then on 不来庁 can be recorded."""
    return now >= slot_end(slot)


def slot_label(slot: PickupSlot) -> str:
    """``9:00–9:30``, as read out on the phone."""
    return f"{hm(slot.starts_at)}–{hm(slot.ends_at)}"


def _slot_details(slot: PickupSlot) -> dict[str, object]:
    return {
        "day": slot.day.day.isoformat(),
        "slot_time": f"{hm(slot.starts_at)}-{hm(slot.ends_at)}",
    }


def _details(reservation: Reservation, **more: object) -> dict[str, object]:
    return {
        "reservation_no": reservation.reservation_no,
        **_slot_details(reservation.slot),
        "items": [ri.item.control_no for ri in reservation.items],
        **more,
    }


# --- reading --------------------------------------------------------------------------------


def get(session: Session, reservation_id: int) -> Reservation | None:
    return session.scalar(
        select(Reservation)
        .where(Reservation.id == reservation_id)
        .options(
            selectinload(Reservation.slot).selectinload(PickupSlot.day),
            selectinload(Reservation.items).selectinload(ReservationItem.item),
        )
        .execution_options(populate_existing=True)
    )


def open_days(session: Session, *, today: date, limit: int = 10) -> list[PickupDay]:
    """The next open pickup days from ``today`` on, with their slots."""
    return list(
        session.scalars(
            select(PickupDay)
            .where(PickupDay.day >= today)
            .options(selectinload(PickupDay.slots), selectinload(PickupDay.location))
            .order_by(PickupDay.day, PickupDay.location_id)
            .limit(limit)
        )
    )


def pickup_day(session: Session, day_id: int) -> PickupDay | None:
    """One pickup day by id (None once closed), with its slots and location, fresh."""
    return session.scalar(
        select(PickupDay)
        .where(PickupDay.id == day_id)
        .options(selectinload(PickupDay.slots), selectinload(PickupDay.location))
        .execution_options(populate_existing=True)
    )


def days_on(session: Session, day: date) -> list[PickupDay]:
    """The pickup days open on ``day`` (one per location), with their slots and location."""
    return list(pickup.days_between(session, day, day))


def of_slots(session: Session, slot_ids: Sequence[int]) -> list[Reservation]:
    """The reservations of these slots, by slot, then in booking order, with their items."""
    if not slot_ids:
        return []
    return list(
        session.scalars(
            select(Reservation)
            .where(Reservation.slot_id.in_(list(slot_ids)))
            .options(selectinload(Reservation.items).selectinload(ReservationItem.item))
            .order_by(Reservation.slot_id, Reservation.id)
        )
    )


def of_item(session: Session, item_id: int) -> list[Reservation]:
    """Every reservation naming the item, newest first."""
    return list(
        session.scalars(
            select(Reservation)
            .join(ReservationItem)
            .where(ReservationItem.item_id == item_id)
            .options(selectinload(Reservation.slot).selectinload(PickupSlot.day))
            .order_by(Reservation.id.desc())
        )
    )


def open_reservation_of(session: Session, item_id: int) -> Reservation | None:
    """The item's reservation that is still 予約中 (at most one)."""
    return session.scalar(
        select(Reservation)
        .join(ReservationItem)
        .where(
            ReservationItem.item_id == item_id,
            Reservation.status == ReservationStatus.BOOKED.value,
        )
    )


# --- booking --------------------------------------------------------------------------------


def _check_fields(
    name: str | None, phone: str | None, note: str | None
) -> tuple[str, str, str | None]:
    try:
        cleaned_name = check_free_text(name, "person", required=True, label="来庁者の氏名")
        digits = normalise_phone(phone, label="折り返しの電話番号")
        cleaned_note = check_free_text(note, "note", required=False, label="備考") or None
    except InputError as error:
        raise ReservationError(str(error)) from None
    return cleaned_name, digits, cleaned_note


def _items(session: Session, item_ids: Sequence[int]) -> list[Item]:
    wanted = sorted(set(item_ids))
    if not wanted:
        raise ReservationError("予約する通知物を1件以上選んでください")
    if len(wanted) > MAX_ITEMS:
        raise ReservationError(f"1件の予約に含められる通知物は{MAX_ITEMS}件までです")
    for item_id in wanted:  # in id order: two bookings never wait on each other in a circle
        serialise(session, f"reservation-item:{item_id}")
    found = list(
        session.scalars(
            select(Item)
            .where(Item.id.in_(wanted))
            .order_by(Item.id)
            .execution_options(populate_existing=True)
        )
    )
    if len(found) != len(wanted):
        raise ReservationError("選んだ通知物が見つかりません。画面を開き直してください")
    for item in found:
        if item.status != ItemStatus.IN_CUSTODY.value:
            raise ReservationError(
                f"{item.control_no} は「{ItemStatus(item.status).label}」のため予約できません"
                "（予約できるのは保管中の通知物だけです）"
            )
        other = open_reservation_of(session, item.id)
        if other is not None:
            raise ReservationError(
                f"{item.control_no} は既に予約 {other.reservation_no}"
                f"（{format_wareki(other.slot.day.day)} {slot_label(other.slot)}）に入っています"
            )
    return found


def book(
    session: Session,
    *,
    actor: str,
    slot_id: int,
    name: str | None,
    phone: str | None,
    item_ids: Sequence[int],
    note: str | None,
    now: datetime,
    today: date,
) -> Reservation:
    """Book a place in the slot for the items, or raise :class:`ReservationError`
    (:class:`SlotFull` when no place is left) with nothing written."""
    cleaned_name, digits, cleaned_note = _check_fields(name, phone, note)
    slot = session.scalar(
        select(PickupSlot).where(PickupSlot.id == slot_id).options(selectinload(PickupSlot.day))
    )
    if slot is None:
        raise ReservationError("予約枠が見つかりません。日付を選び直してください")
    if slot.day.day < today:
        raise ReservationError(
            f"{format_wareki(slot.day.day)}は過ぎた日です。今日以降の枠を選んでください"
        )
    items = _items(session, item_ids)
    # The place: one conditional update, its row count checked (exact under concurrency).
    taken: int = session.execute(  # type: ignore[attr-defined]  # a CursorResult
        update(PickupSlot)
        .where(PickupSlot.id == slot.id, PickupSlot.booked < PickupSlot.capacity)
        .values(booked=PickupSlot.booked + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if taken != 1:
        raise SlotFull(
            f"この枠は満席です（定員{slot.capacity}人）: {format_wareki(slot.day.day)} "
            f"{slot_label(slot)}。ほかの枠を選んでください"
        )
    new_id = next_id(session, Reservation)
    reservation = Reservation(
        id=new_id,
        reservation_no=reservation_no(new_id),
        slot_id=slot.id,
        name=cleaned_name,
        phone=digits,
        status=ReservationStatus.BOOKED.value,
        note=cleaned_note,
        created_by=actor,
        created_at=now,
    )
    session.add(reservation)
    session.flush()
    for item in items:
        session.add(ReservationItem(reservation_id=reservation.id, item_id=item.id))
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=AuditAction.RESERVATION_CREATE,
        object_type=ObjectType.RESERVATION.value,
        object_id=reservation.id,
        details={
            "reservation_no": reservation.reservation_no,
            **_slot_details(slot),
            "items": [item.control_no for item in items],
            "count": len(items),
        },
    )
    session.refresh(slot)
    return reservation


# --- closing: cancel, no-show, attend -------------------------------------------------------


def _closed_conflict(current: Reservation) -> str:
    return (
        f"予約 {current.reservation_no} は既に「{ReservationStatus(current.status).label}」です"
        f"（{person_or_unknown(current)}、{when(current.closed_at)}）"
    )


def person_or_unknown(current: Reservation) -> str:
    from sqlalchemy.orm import object_session

    session = object_session(current)
    return person(session, current.closed_by) if session is not None else "不明"


def cancel(
    session: Session, *, actor: str, reservation: Reservation, reason: str | None, now: datetime
) -> Reservation:
    """Cancel a booked reservation and free its place (in the same transaction)."""
    try:
        why = check_free_text(reason, "reason", required=True, label="取消の理由")
    except InputError as error:
        raise ReservationError(str(error)) from None
    transition(
        session,
        Reservation,
        reservation.id,
        expected=Reservation.status == ReservationStatus.BOOKED.value,
        values={
            "status": ReservationStatus.CANCELLED.value,
            "closed_by": actor,
            "closed_at": now,
            "cancel_reason": why,
        },
        conflict=_closed_conflict,
    )
    freed: int = session.execute(  # type: ignore[attr-defined]  # a CursorResult
        update(PickupSlot)
        .where(PickupSlot.id == reservation.slot_id, PickupSlot.booked > 0)
        .values(booked=PickupSlot.booked - 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if freed != 1:  # the check constraint forbids this; say so instead of a silent drift
        raise Conflict("予約枠の予約数が合いません。管理者に連絡してください")
    current = get(session, reservation.id)
    assert current is not None
    audit.record(
        session,
        actor=actor,
        action=AuditAction.RESERVATION_CANCEL,
        object_type=ObjectType.RESERVATION.value,
        object_id=current.id,
        details=_details(current),
    )
    return current


def no_show(
    session: Session, *, actor: str, reservation: Reservation, now: datetime
) -> Reservation:
    """Record that nobody came, once the slot has ended; the place stays counted."""
    slot = reservation.slot
    # a reservation already closed answers as a conflict (who did what), whatever the time
    if reservation.status == ReservationStatus.BOOKED.value and not slot_ended(slot, now):
        raise ReservationError(
            f"予約枠（{format_wareki(slot.day.day)} {slot_label(slot)}）が終わるまでは"
            "不来庁にできません。来られなくなったときは取消にしてください"
        )
    transition(
        session,
        Reservation,
        reservation.id,
        expected=Reservation.status == ReservationStatus.BOOKED.value,
        values={
            "status": ReservationStatus.NO_SHOW.value,
            "closed_by": actor,
            "closed_at": now,
        },
        conflict=_closed_conflict,
    )
    current = get(session, reservation.id)
    assert current is not None
    audit.record(
        session,
        actor=actor,
        action=AuditAction.RESERVATION_NO_SHOW,
        object_type=ObjectType.RESERVATION.value,
        object_id=current.id,
        details=_details(current),
    )
    return current


def attend(
    session: Session, *, actor: str, reservation_id: int, handover: Handover, now: datetime
) -> Reservation:
    """The person came and the cards were handed over (``handover``): booked → attended.
    :class:`Conflict` if the reservation is not 予約中 any more (nothing written)."""
    transition(
        session,
        Reservation,
        reservation_id,
        expected=Reservation.status == ReservationStatus.BOOKED.value,
        values={
            "status": ReservationStatus.ATTENDED.value,
            "closed_by": actor,
            "closed_at": now,
            "handover_id": handover.id,
        },
        conflict=_closed_conflict,
    )
    current = get(session, reservation_id)
    assert current is not None
    audit.record(
        session,
        actor=actor,
        action=AuditAction.RESERVATION_ATTEND,
        object_type=ObjectType.RESERVATION.value,
        object_id=current.id,
        details=_details(current, receipt_no=handover.receipt_no),
    )
    return current


def attend_for_items(
    session: Session,
    *,
    actor: str,
    item_ids: Sequence[int],
    handover: Handover,
    now: datetime,
) -> list[Reservation]:
    """Called inside the handover's transaction: every reservation still 予約中 that holds
    any of the cards handed over becomes 来庁済 (the person came, by whichever page the
    clerk reached the handover). A reservation closed meanwhile by a colleague (a race) is
    left as it is. Returns the reservations marked."""
    if not item_ids:
        return []
    open_ids = list(
        session.scalars(
            select(Reservation.id)
            .join(ReservationItem)
            .where(
                ReservationItem.item_id.in_(list(item_ids)),
                Reservation.status == ReservationStatus.BOOKED.value,
            )
            .distinct()
            .order_by(Reservation.id)
        )
    )
    marked = []
    for reservation_id in open_ids:
        try:
            marked.append(
                attend(
                    session,
                    actor=actor,
                    reservation_id=reservation_id,
                    handover=handover,
                    now=now,
                )
            )
        except Conflict:
            continue
    return marked
