"""Recording resident-register results: an upsert that says new / changed / unchanged, with
its audit event; concurrent recorders of one item on PostgreSQL; the 実態調査依頼 list."""

from __future__ import annotations

import json
import threading
from datetime import date, timedelta

from sqlalchemy import select

from tests import factories_register
from tests.factories import NOW, TODAY
from tracker.db import Database
from tracker.domain.codes import ItemStatus, RegisterOutcome
from tracker.domain.register import RegisterEntry
from tracker.models import AuditEvent, Item, RegisterResult
from tracker.services import audit, register


def stored(database: Database, item_id: int) -> RegisterResult:
    with database.session_scope() as session:
        result = session.get(RegisterResult, item_id)
        assert result is not None
        session.expunge(result)
        return result


def test_new_then_unchanged_then_changed(database: Database) -> None:
    (item_id,) = factories_register.household(database)[:1]
    resident = factories_register.result(database, item_id, checked_on=TODAY - timedelta(days=3))
    assert resident is register.Change.NEW
    first = stored(database, item_id)
    again = factories_register.result(database, item_id, actor="other", now=NOW + timedelta(1))
    assert again is register.Change.UNCHANGED
    # the same finding is not rewritten: who and when stay those of the first check
    second = stored(database, item_id)
    assert (second.checked_on, second.checked_by, second.recorded_at) == (
        first.checked_on,
        first.checked_by,
        first.recorded_at,
    )
    died = factories_register.result(
        database, item_id, RegisterOutcome.DECEASED, event_on=date(2026, 10, 1), actor="other"
    )
    assert died is register.Change.CHANGED
    third = stored(database, item_id)
    assert (third.outcome, third.event_on, third.checked_by) == (
        "deceased",
        date(2026, 10, 1),
        "other",
    )
    with database.session_scope() as session:
        details = [
            json.loads(e.details)
            for e in session.scalars(
                select(AuditEvent).where(AuditEvent.action == "register.record")
            )
        ]
    assert [d["register_change"] for d in details] == ["new", "unchanged", "changed"]
    assert all(
        "birth" not in json.dumps(d) and "髙橋" not in json.dumps(d, ensure_ascii=False)
        for d in details
    )


def test_the_investigation_list_holds_resident_items_in_custody_only(database: Database) -> None:
    ids = factories_register.household(database)
    other = factories_register.household(database, 2)
    factories_register.result(database, ids[0])
    factories_register.result(database, ids[1], RegisterOutcome.MOVED_WITHIN, event_on=TODAY)
    factories_register.result(database, other[0])
    with database.session_scope() as session:
        item = session.get(Item, other[0])
        assert item is not None
        item.status = ItemStatus.HANDED_OVER.value  # no longer in custody
    with database.session_scope() as session:
        rows = register.investigation_list(session)
    assert [row.item_id for row in rows] == [ids[0]]
    assert rows[0].household_code == "0012345" and rows[0].birth_date == date(1960, 5, 1)


def race(database: Database, item_id: int, officers: int) -> list[str]:
    """``officers`` threads record a different 転出 date for one item at the same moment."""
    barrier = threading.Barrier(officers)
    outcomes: list[str] = []

    def record(n: int) -> None:
        entry = RegisterEntry(RegisterOutcome.MOVED_OUT, date(2026, 1, n + 1), None)
        barrier.wait()
        with database.session_scope() as session:
            item = session.get(Item, item_id)
            assert item is not None
            change = register.record(
                session, item=item, entry=entry, checked_on=TODAY, actor=f"officer{n}", now=NOW
            )
        outcomes.append(change.value)

    threads = [threading.Thread(target=record, args=(n,)) for n in range(officers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_two_officers_recording_one_item_at_once_on_postgresql(postgres_url: str) -> None:
    """Without the lock both would insert the first result and one would fail on the key."""
    database = Database(postgres_url, pool_size=10, max_overflow=0)
    try:
        for run in range(5):
            item_id = factories_register.household(database, run + 1)[0]
            outcomes = race(database, item_id, 6)
            assert sorted(outcomes) == ["changed"] * 5 + ["new"], outcomes
        with database.session_scope() as session:
            assert audit.verify_chain(session).ok
    finally:
        database.dispose()
