"""``tracker purge``'s first step (issue 15): call-back numbers of past reservations are
erased the day after the day after their slot; the bookings and the slots' counts stay."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from tests import factories
from tests.factories import NOW, TODAY
from tests.factories_reservations import book, open_day
from tracker.db import Database
from tracker.domain.codes import AuditAction
from tracker.models import AuditEvent, PickupSlot, Reservation
from tracker.services import purge, reservations

#: The counts of issue 16's steps (retention of the tracker's own records), none due here.
RECORDS = {
    "items": 0,
    "envelopes": 0,
    "item_records": 0,
    "item_revisions": 0,
    "handovers": 0,
    "reservations": 0,
    "contacts": 0,
}
#: The same, as on the counts line.
RECORDS_LINE = " ".join(f"{name}={n}" for name, n in RECORDS.items())


def booked_on(database: Database, days_ago: int, n: int) -> int:
    """A reservation (made the day before) in the 9:00 slot of TODAY − ``days_ago``."""
    day = TODAY - timedelta(days=days_ago)
    (item_id,) = factories.envelope(database, n)
    slots = open_day(database, day)
    return book(database, slots["9:00"], [item_id], today=day - timedelta(days=1))


def phones(database: Database) -> dict[int, str | None]:
    with database.session_scope() as session:
        return {r.id: r.phone for r in session.scalars(select(Reservation))}


def slot_counts(database: Database) -> list[int]:
    with database.session_scope() as session:
        return sorted(s.booked for s in session.scalars(select(PickupSlot)) if s.booked)


def purge_events(database: Database) -> list[dict[str, object]]:
    with database.session_scope() as session:
        return [
            json.loads(e.details)
            for e in session.scalars(
                select(AuditEvent).where(AuditEvent.action == AuditAction.PURGE_RUN.value)
            )
        ]


def setup(database: Database) -> dict[str, int]:
    ids = {
        "three_days_ago": booked_on(database, 3, 1),
        "day_before_yesterday": booked_on(database, 2, 2),
        "yesterday": booked_on(database, 1, 3),
        "today": booked_on(database, 0, 4),
    }
    with database.session_scope() as session:  # a no-show keeps its place and loses its number
        found = reservations.get(session, ids["three_days_ago"])
        assert found is not None
        reservations.no_show(session, actor="c", reservation=found, now=NOW)
    return ids


def test_numbers_are_erased_from_the_day_after_the_day_after_the_slot(database: Database) -> None:
    ids = setup(database)
    before = slot_counts(database)
    with database.session_scope() as session:
        dry = purge.run(session, actor="cli:t", as_of=TODAY, now=NOW, dry_run=True)
    assert dry.line() == f"as_of={TODAY.isoformat()} reservation_phones=2 {RECORDS_LINE} dry_run"
    assert None not in phones(database).values()
    assert purge_events(database) == []

    with database.session_scope() as session:
        done = purge.run(session, actor="cli:t", as_of=TODAY, now=NOW)
    assert done.counts == {"reservation_phones": 2, **RECORDS}
    kept = phones(database)
    assert kept[ids["three_days_ago"]] is None
    assert kept[ids["day_before_yesterday"]] is None
    assert kept[ids["yesterday"]] == "09012345678"  # the boundary: kept until the day after
    assert kept[ids["today"]] == "09012345678"
    assert slot_counts(database) == before == [1, 1, 1, 1]
    with database.session_scope() as session:
        erased = session.get(Reservation, ids["three_days_ago"])
        assert erased is not None
        assert erased.status == "no_show" and erased.name == "山田 太郎"
        assert erased.phone_erased_at is not None
    assert purge_events(database) == [
        {"as_of": TODAY.isoformat(), "reservation_phones": 2, **RECORDS}
    ]

    with database.session_scope() as session:  # nothing left to erase
        assert purge.run(session, actor="cli:t", as_of=TODAY, now=NOW).counts == {
            "reservation_phones": 0,
            **RECORDS,
        }
