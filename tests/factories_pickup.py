"""Pickup days for tests (issue 15): open a day with the seed's pattern, simulate bookings."""

from __future__ import annotations

from datetime import date, time

from flask import Flask
from sqlalchemy import select, update

from tests.factories import NOW, database_of
from tracker.db import Database
from tracker.domain.pickup import SlotSpec, seed_weekend_slots
from tracker.models import Location, PickupDay, PickupSlot
from tracker.services import pickup

SATURDAY = date(2026, 11, 28)  # the day after tests.factories.TODAY (a Friday)
SEED_CSV = (
    "date,start,end,slot_minutes,capacity,breaks\n"
    "{day},9:00,11:30,30,15,\n"
    "{day},11:30,12:00,30,10,\n"
    "{day},13:00,15:30,30,15,\n"
    "{day},15:30,16:00,30,10,\n"
)


Target = Flask | Database


def default_location_id(target: Target) -> int:
    with database_of(target).session_scope() as session:
        found = session.scalar(select(Location.id).where(Location.is_default.is_(True)))
        assert found is not None
        return found


def open_day(target: Target, day: date = SATURDAY, slots: list[SlotSpec] | None = None) -> int:
    """Open ``day`` at the default location (the seed's pattern unless ``slots``)."""
    with database_of(target).session_scope() as session:
        location = session.scalar(select(Location).where(Location.is_default.is_(True)))
        assert location is not None
        opened = pickup.open_day(
            session, actor="officer", day=day, location=location,
            slots=slots or seed_weekend_slots(), note=None, now=NOW,
        )  # fmt: skip
        return opened.id


def slot_id(target: Target, day_id: int, start: time) -> int:
    with database_of(target).session_scope() as session:
        found = session.scalar(
            select(PickupSlot.id).where(PickupSlot.day_id == day_id, PickupSlot.starts_at == start)
        )
        assert found is not None
        return found


def set_booked(target: Target, slot: int, booked: int) -> None:
    """Simulate bookings (the booking helper's service moves ``booked`` the same way)."""
    with database_of(target).session_scope() as session:
        session.execute(update(PickupSlot).where(PickupSlot.id == slot).values(booked=booked))


def day_count(target: Target) -> int:
    with database_of(target).session_scope() as session:
        return len(session.scalars(select(PickupDay.id)).all())
