"""Pickup days and their slots (受取予約日・予約枠, issue 15): opening a day from a pattern.

Slots are data kept by records officers. Opening a day writes the day, its slots and one
audit event; a day already open at that location is refused (its slots may hold bookings:
change them on the day's page instead).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.domain.codes import AuditAction, ObjectType
from tracker.domain.errors import InputError
from tracker.domain.pickup import SlotSpec, check_slots, hm
from tracker.domain.records import check_free_text
from tracker.domain.wareki import format_wareki
from tracker.models import Location, PickupDay, PickupSlot
from tracker.services import audit
from tracker.services.transitions import serialise


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
) -> PickupDay:
    """Open ``day`` at ``location`` with ``slots`` (checked: no overlap, not empty)."""
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
        },
    )
    return opened
