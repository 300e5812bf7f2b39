"""The shared parts of issue 15: recording a contact and opening a pickup day, on SQLite and
PostgreSQL, with their audit events."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests import factories
from tests.factories import NOW
from tracker.db import Database
from tracker.domain.codes import AuditAction, ContactKind
from tracker.domain.mynumber import INDIVIDUAL_NUMBER_MESSAGE
from tracker.domain.pickup import seed_weekend_slots
from tracker.models import AuditEvent, Item, Location, PickupSlot
from tracker.services import contacts, pickup

VALID_NUMBER = "123456789018"  # passes the My Number check digit


def test_a_household_contact_shows_on_every_item_of_the_envelope(database: Database) -> None:
    first, second = factories.envelope(
        database, 1, items=[factories.item("山田 太郎"), factories.item("山田 花子")]
    )
    with database.session_scope() as session:
        item = session.get(Item, first)
        assert item is not None
        contacts.record(
            session, actor="clerk", envelope=item.envelope, item=None, kind=ContactKind.PHONE,
            occurred_at=NOW - timedelta(hours=1), note="電話あり、来庁予定", now=NOW,
        )  # fmt: skip
        contacts.record(
            session, actor="clerk", envelope=item.envelope, item=item, kind=ContactKind.VISIT,
            occurred_at=NOW, note=None, now=NOW,
        )  # fmt: skip
    with database.session_scope() as session:
        one, two = session.get(Item, first), session.get(Item, second)
        assert one is not None and two is not None
        assert [c.kind for c in contacts.of_item(session, one)] == ["visit", "phone"]
        assert [c.note for c in contacts.of_item(session, two)] == ["電話あり、来庁予定"]
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == AuditAction.CONTACT_RECORD.value)
        ).all()
        assert [(e.object_type, json.loads(e.details)["kind"]) for e in events] == [
            ("envelope", "phone"),
            ("item", "visit"),
        ]
        assert all("電話あり" not in str(e.details) for e in events)


def test_a_note_holding_an_individual_number_is_refused_and_nothing_is_written(
    database: Database,
) -> None:
    (item_id,) = factories.envelope(database, 2)
    with (
        pytest.raises(contacts.ContactError, match=INDIVIDUAL_NUMBER_MESSAGE),
        database.session_scope() as session,
    ):
        item = session.get(Item, item_id)
        assert item is not None
        contacts.record(
            session, actor="clerk", envelope=item.envelope, item=item, kind=ContactKind.PHONE,
            occurred_at=NOW, note=f"番号 {VALID_NUMBER}", now=NOW,
        )  # fmt: skip
    with database.session_scope() as session:
        item = session.get(Item, item_id)
        assert item is not None and contacts.of_item(session, item) == []


def test_opening_a_day_twice_at_one_location_is_refused(database: Database) -> None:
    saturday = date(2026, 12, 5)
    with database.session_scope() as session:
        location = session.scalar(select(Location).where(Location.is_default.is_(True)))
        assert location is not None
        opened = pickup.open_day(
            session, actor="officer", day=saturday, location=location,
            slots=seed_weekend_slots(), note=None, now=NOW,
        )  # fmt: skip
        assert len(opened.slots) == 12
    with (
        pytest.raises(pickup.PickupError, match="既に受取予約日"),
        database.session_scope() as session,
    ):
        location = session.scalar(select(Location).where(Location.is_default.is_(True)))
        assert location is not None
        pickup.open_day(
            session, actor="officer", day=saturday, location=location,
            slots=seed_weekend_slots(), note=None, now=NOW,
        )  # fmt: skip
    with database.session_scope() as session:
        slots = session.scalars(select(PickupSlot)).all()
        assert sum(s.capacity for s in slots) == 170 and {s.booked for s in slots} == {0}
