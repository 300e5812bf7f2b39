"""Factories for pickup reservation tests (受取予約): an open day with the seed's weekend
pattern and bookings, through the services a records officer and a clerk use.

Like :mod:`tests.factories`, each step commits in a session of its own and takes its dates as
parameters (never the machine clock). Opening the day goes through
``tracker.services.pickup.open_day``, the service behind the 受取予約枠 page (the browser
journey opens its day on that page).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from flask import Flask
from sqlalchemy import select

from tests import factories
from tests.factories import NOW, TODAY
from tracker.clock import JST
from tracker.db import Database
from tracker.domain.pickup import seed_weekend_slots
from tracker.models import Location, PickupSlot
from tracker.services import pickup, reservations

#: The Saturday after :data:`tests.factories.TODAY` (a Friday).
SATURDAY = TODAY + timedelta(days=1)
PHONE = "090-1234-5678"


def open_day(
    target: Flask | Database, day: date = SATURDAY, *, actor: str = "officer"
) -> dict[str, int]:
    """Open ``day`` at the default location with the seed's weekend pattern; slot ids by their
    start (``"9:00"``)."""
    with factories.database_of(target).session_scope() as session:
        location = session.scalar(select(Location).where(Location.is_default.is_(True)))
        assert location is not None
        opened = pickup.open_day(
            session, actor=actor, day=day, location=location, slots=seed_weekend_slots(),
            note=None, now=NOW,
        )  # fmt: skip
        slots = session.scalars(select(PickupSlot).where(PickupSlot.day_id == opened.id)).all()
        return {f"{s.starts_at.hour}:{s.starts_at.minute:02d}": s.id for s in slots}


def fill(target: Flask | Database, slot_id: int, booked: int) -> None:
    """Set the slot's count directly (as if ``booked`` people had booked): for capacity tests."""
    with factories.database_of(target).session_scope() as session:
        slot = session.get(PickupSlot, slot_id)
        assert slot is not None
        slot.booked = booked


def book(
    target: Flask | Database,
    slot_id: int,
    item_ids: list[int],
    *,
    name: str = "山田 太郎",
    phone: str = PHONE,
    note: str | None = None,
    actor: str = "clerk1",
    now: datetime = NOW,
    today: date = TODAY,
) -> int:
    """A booking through the service; the reservation's id."""
    with factories.database_of(target).session_scope() as session:
        return reservations.book(
            session, actor=actor, slot_id=slot_id, name=name, phone=phone, item_ids=item_ids,
            note=note, now=now, today=today,
        ).id  # fmt: skip


def at(day: date, moment: time) -> datetime:
    """A JST wall-clock moment on ``day`` as UTC."""
    return datetime.combine(day, moment, tzinfo=JST).astimezone(UTC)
