"""Pickup days and their slots (受取予約日・予約枠, issue 15): opening a day from a pattern.

Slots are data kept by records officers. Opening a day writes the day, its slots and one
audit event; a day already open at that location is refused (its slots may hold bookings:
change them on the day's page instead).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import delete, exists, func, select
from sqlalchemy.orm import Session, selectinload

from tracker.domain.codes import AuditAction, ObjectType
from tracker.domain.errors import InputError
from tracker.domain.pickup import MAX_CAPACITY, MAX_SLOTS_PER_DAY, SlotSpec, check_slots, hm
from tracker.domain.records import check_free_text
from tracker.domain.wareki import format_wareki
from tracker.models import Location, PickupDay, PickupSlot, Reservation
from tracker.services import audit
from tracker.services.transitions import Conflict, serialise, transition


class PickupError(InputError):
    """A pickup day or slot change that cannot be made; the message is for the officer."""


def day_at(session: Session, day: date, location_id: int) -> PickupDay | None:
    return session.scalar(
        select(PickupDay).where(PickupDay.day == day, PickupDay.location_id == location_id)
    )


def open_day(
    session: Session,
    *,
    actor: str,
    day: date,
    location: Location,
    slots: Sequence[SlotSpec],
    note: str | None,
    now: datetime,
    copied_from: date | None = None,
) -> PickupDay:
    """Open ``day`` at ``location`` with ``slots`` (checked: no overlap, not empty).

    ``copied_from`` (copy-day, copy-week) is named in the audit event."""
    check_slots(slots)
    try:
        cleaned = check_free_text(note, "note", required=False, label="備考") or None
    except InputError as error:
        raise PickupError(str(error)) from None
    serialise(session, f"pickup-day:{location.id}:{day.isoformat()}")
    if day_at(session, day, location.id) is not None:
        raise PickupError(f"{format_wareki(day)}は{location.name}で既に受取予約日になっています")
    opened = PickupDay(
        day=day, location_id=location.id, note=cleaned, created_by=actor, created_at=now
    )
    session.add(opened)
    session.flush()
    for spec in slots:
        session.add(
            PickupSlot(
                day_id=opened.id,
                starts_at=spec.starts_at,
                ends_at=spec.ends_at,
                capacity=spec.capacity,
                booked=0,
            )
        )
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=AuditAction.PICKUP_DAY_OPEN,
        object_type=ObjectType.PICKUP_DAY.value,
        object_id=opened.id,
        details={
            "day": day.isoformat(),
            "location": location.code,
            "slots": [f"{hm(s.starts_at)}-{hm(s.ends_at)}:{s.capacity}" for s in slots],
            **({"copied_from": copied_from.isoformat()} if copied_from else {}),
        },
    )
    return opened


# --- changing a day's slots (issue 15: slots as data kept by records officers) ---------------
#
# Bookings move ``booked`` with ``UPDATE … SET booked = booked + 1 WHERE booked < capacity``.
# Every change here is conditional on ``booked`` in the same way, so a change racing a booking
# either sees the booking (and is refused) or happens first (and the booking sees it): the
# database's CHECK (booked <= capacity) is the last guard.


def _lock_day(session: Session, day: PickupDay) -> None:
    serialise(session, f"pickup-day:{day.location_id}:{day.day.isoformat()}")


def _span(slot: PickupSlot | SlotSpec) -> str:
    return f"{hm(slot.starts_at)}-{hm(slot.ends_at)}"


def _has_reservations(slot_id: Any) -> Any:
    return exists().where(Reservation.slot_id == slot_id)


def change_capacity(
    session: Session, *, actor: str, slot: PickupSlot, capacity: int, now: datetime
) -> PickupSlot:
    """Set a slot's capacity (定員); never below the places already booked (409 otherwise)."""
    if not 0 <= capacity <= MAX_CAPACITY:
        raise PickupError(f"定員は0〜{MAX_CAPACITY}人で指定してください")
    before = slot.capacity
    changed = transition(
        session,
        PickupSlot,
        slot.id,
        expected=PickupSlot.booked <= capacity,
        values={"capacity": capacity},
        conflict=lambda current: (
            f"{_span(current)} の枠には既に{current.booked}件の予約があります。"
            f"定員を{current.booked}人より少なくすることはできません"
        ),
    )
    audit.record(
        session,
        actor=actor,
        action=AuditAction.PICKUP_DAY_CHANGE,
        object_type=ObjectType.PICKUP_DAY.value,
        object_id=changed.day_id,
        details={
            "day": changed.day.day.isoformat(),
            "pickup_slot": _span(changed),
            "before": {"capacity": before},
            "after": {"capacity": capacity},
        },
    )
    del now  # the audit event carries the time
    return changed


def add_slot(
    session: Session, *, actor: str, day: PickupDay, spec: SlotSpec, now: datetime
) -> PickupSlot:
    """Add one slot to an open day; it may not overlap the day's other slots."""
    if not 0 <= spec.capacity <= MAX_CAPACITY:
        raise PickupError(f"定員は0〜{MAX_CAPACITY}人で指定してください")
    if spec.ends_at <= spec.starts_at:
        raise PickupError("終了時刻が開始時刻より前です")
    _lock_day(session, day)
    existing = session.scalars(select(PickupSlot).where(PickupSlot.day_id == day.id)).all()
    for other in existing:
        if spec.starts_at < other.ends_at and other.starts_at < spec.ends_at:
            raise PickupError(f"{_span(spec)} は既存の枠 {_span(other)} と重なっています")
    if len(existing) >= MAX_SLOTS_PER_DAY:
        raise PickupError(f"1日の予約枠は{MAX_SLOTS_PER_DAY}枠までです")
    slot = PickupSlot(
        day_id=day.id,
        starts_at=spec.starts_at,
        ends_at=spec.ends_at,
        capacity=spec.capacity,
        booked=0,
    )
    session.add(slot)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=AuditAction.PICKUP_DAY_CHANGE,
        object_type=ObjectType.PICKUP_DAY.value,
        object_id=day.id,
        details={
            "day": day.day.isoformat(),
            "pickup_slot": _span(spec),
            "added": {"capacity": spec.capacity},
        },
    )
    del now
    return slot


def remove_slot(session: Session, *, actor: str, slot: PickupSlot, now: datetime) -> None:
    """Remove a slot nobody has booked (nor ever booked: cancelled reservations keep their
    slot); the last slot of a day is not removed (close the day instead)."""
    day = slot.day
    _lock_day(session, day)
    span, capacity = _span(slot), slot.capacity
    count = session.scalar(
        select(func.count()).select_from(PickupSlot).where(PickupSlot.day_id == day.id)
    )
    if (count or 0) <= 1:
        raise PickupError("最後の枠は削除できません。受取予約日ごと取り消してください")
    removed: int = session.execute(  # type: ignore[attr-defined]  # a CursorResult
        delete(PickupSlot)
        .where(
            PickupSlot.id == slot.id,
            PickupSlot.booked == 0,
            ~_has_reservations(PickupSlot.id),
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if removed != 1:
        raise Conflict(f"{span} の枠には予約があるため削除できません")
    session.expunge(slot)
    audit.record(
        session,
        actor=actor,
        action=AuditAction.PICKUP_DAY_CHANGE,
        object_type=ObjectType.PICKUP_DAY.value,
        object_id=day.id,
        details={
            "day": day.day.isoformat(),
            "pickup_slot": span,
            "removed": {"capacity": capacity},
        },
    )
    del now


def close_day(session: Session, *, actor: str, day: PickupDay, now: datetime) -> None:
    """Remove an open day with its slots, only when none of them has a booking (ever)."""
    _lock_day(session, day)
    slot_ids = list(session.scalars(select(PickupSlot.id).where(PickupSlot.day_id == day.id)))
    removed: int = session.execute(  # type: ignore[attr-defined]
        delete(PickupSlot)
        .where(
            PickupSlot.day_id == day.id,
            PickupSlot.booked == 0,
            ~_has_reservations(PickupSlot.id),
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if removed != len(slot_ids):
        raise Conflict(f"{format_wareki(day.day)}の枠に予約があるため、受取予約日を取り消せません")
    details = {
        "day": day.day.isoformat(),
        "location": day.location.code,
        "pickup_slots": len(slot_ids),
    }
    day_id = day.id
    session.execute(
        delete(PickupDay).where(PickupDay.id == day_id).execution_options(synchronize_session=False)
    )
    session.expunge(day)
    audit.record(
        session,
        actor=actor,
        action=AuditAction.PICKUP_DAY_CLOSE,
        object_type=ObjectType.PICKUP_DAY.value,
        object_id=day_id,
        details=details,
    )
    del now


@dataclass(frozen=True)
class CopyResult:
    """What a copy did: the dates opened, and the dates skipped (already open there)."""

    opened: list[date]
    skipped: list[date]


def _specs(day: PickupDay) -> list[SlotSpec]:
    return [SlotSpec(s.starts_at, s.ends_at, s.capacity) for s in day.slots]


def _copy(
    session: Session,
    *,
    actor: str,
    pairs: Sequence[tuple[PickupDay, date]],
    today: date,
    now: datetime,
) -> CopyResult:
    opened: list[date] = []
    skipped: list[date] = []
    for source, target in pairs:
        if target < today:
            raise PickupError(
                f"{format_wareki(target)}は過去の日付です。今日以降を指定してください"
            )
        if target == source.day:
            raise PickupError("コピー先がコピー元と同じ日付です")
    for source, target in pairs:
        serialise(session, f"pickup-day:{source.location_id}:{target.isoformat()}")
        if day_at(session, target, source.location_id) is not None:
            skipped.append(target)
            continue
        open_day(
            session,
            actor=actor,
            day=target,
            location=source.location,
            slots=_specs(source),
            note=source.note,
            now=now,
            copied_from=source.day,
        )
        opened.append(target)
    return CopyResult(opened, skipped)


def copy_day(
    session: Session,
    *,
    actor: str,
    source: PickupDay,
    target: date,
    today: date,
    now: datetime,
) -> CopyResult:
    """Open ``target`` with ``source``'s slots at the same location (skipped if already open;
    never overwritten). Each opened day is audited as ``pickup.day_open`` naming its source."""
    return _copy(session, actor=actor, pairs=[(source, target)], today=today, now=now)


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def copy_week(
    session: Session,
    *,
    actor: str,
    location: Location,
    source_week: date,
    target_week: date,
    today: date,
    now: datetime,
) -> CopyResult:
    """Every open day of the ISO week holding ``source_week`` to the same weekday of the week
    holding ``target_week``, at ``location``; dates already open there are skipped."""
    source_monday, target_monday = monday_of(source_week), monday_of(target_week)
    if source_monday == target_monday:
        raise PickupError("コピー先の週がコピー元の週と同じです")
    days = session.scalars(
        select(PickupDay)
        .where(
            PickupDay.location_id == location.id,
            PickupDay.day >= source_monday,
            PickupDay.day < source_monday + timedelta(days=7),
        )
        .order_by(PickupDay.day)
        .options(selectinload(PickupDay.slots))
    ).all()
    if not days:
        raise PickupError(
            f"{format_wareki(source_monday)}からの週には{location.name}の受取予約日がありません"
        )
    shift = target_monday - source_monday
    return _copy(
        session, actor=actor, pairs=[(d, d.day + shift) for d in days], today=today, now=now
    )


# --- reading -------------------------------------------------------------------------------------


def days_between(
    session: Session, first: date, last: date, location_id: int | None = None
) -> Sequence[PickupDay]:
    """Open days from ``first`` to ``last`` (inclusive) with their slots and location."""
    query = (
        select(PickupDay)
        .where(PickupDay.day >= first, PickupDay.day <= last)
        .order_by(PickupDay.day, PickupDay.location_id)
        .options(selectinload(PickupDay.slots), selectinload(PickupDay.location))
    )
    if location_id is not None:
        query = query.where(PickupDay.location_id == location_id)
    return session.scalars(query).all()


@dataclass(frozen=True)
class SlotRow:
    """One slot with its counts (no names): for the dashboard and the days list."""

    day: date
    location: str
    starts_at: time
    ends_at: time
    booked: int
    capacity: int


def slots_between(session: Session, first: date, last: date) -> list[SlotRow]:
    """Every slot of the open days from ``first`` to ``last``, by day, location, time."""
    rows = session.execute(
        select(
            PickupDay.day,
            Location.name,
            PickupSlot.starts_at,
            PickupSlot.ends_at,
            PickupSlot.booked,
            PickupSlot.capacity,
        )
        .join(PickupDay, PickupDay.id == PickupSlot.day_id)
        .join(Location, Location.id == PickupDay.location_id)
        .where(PickupDay.day >= first, PickupDay.day <= last)
        .order_by(PickupDay.day, Location.sort_order, Location.id, PickupSlot.starts_at)
    )
    return [SlotRow(*row) for row in rows]


def default_location(session: Session) -> Location | None:
    return session.scalar(
        select(Location)
        .where(Location.active.is_(True))
        .order_by(Location.is_default.desc(), Location.sort_order, Location.id)
        .limit(1)
    )
