"""Every (status, action) pair of the lifecycle table against the database (issue 13 "must
show"), on SQLite and PostgreSQL: allowed moves land and write nothing else; illegal ones are
refused with the table's reason and change nothing. The status column refuses unknown values.
"""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from tests import factories
from tests.factories import NOW
from tests.factories_life import put_in_status, row_of
from tracker.db import Database
from tracker.domain import lifecycle
from tracker.domain.codes import ItemAction, ItemStatus
from tracker.models import AuditEvent, Item
from tracker.services.transitions import Conflict, move_item, move_items

BEFORE = NOW - timedelta(days=30)
MOVED = NOW + timedelta(minutes=5)


def test_every_state_and_action_pair(database: Database) -> None:
    item_id, neighbour = factories.envelope(
        database,
        1,
        items=[factories.item("山田 太郎"), factories.item("山田 花子", "ヤマダ ハナコ")],
    )
    walked = []
    for status, action in itertools.product(ItemStatus, ItemAction):
        with database.session_scope() as session:
            put_in_status(session, item_id, status, BEFORE)
        with database.session_scope() as session:
            before = row_of(session, item_id)
            other = row_of(session, neighbour)
            events = session.scalar(select(func.count()).select_from(AuditEvent))
            expected = lifecycle.target(status, action)
            if expected is None:
                with pytest.raises(Conflict) as refused:
                    move_item(session, item_id, action, now=MOVED)
                assert str(refused.value) == lifecycle.reason(status, action), (status, action)
                assert row_of(session, item_id) == before, (status, action)
            else:
                moved = move_item(session, item_id, action, now=MOVED)
                assert moved.status == expected.value
                after = row_of(session, item_id)
                assert after.pop("status") == expected.value
                assert after.pop("status_changed_at") == MOVED
                assert after == {
                    k: v for k, v in before.items() if k not in ("status", "status_changed_at")
                }, (status, action)
            # Nothing else: the other card of the envelope and the audit log are untouched.
            assert row_of(session, neighbour) == other
            assert session.scalar(select(func.count()).select_from(AuditEvent)) == events
        walked.append((status, action, expected))
    assert len(walked) == len(ItemStatus) * len(ItemAction)
    assert sum(1 for *_, to in walked if to is not None) == len(lifecycle.TRANSITIONS)


def test_a_set_move_counts_only_items_in_the_source_status(database: Database) -> None:
    """move_items: a household's cards move together or the row count tells the caller."""
    ids = factories.envelope(
        database,
        2,
        items=[
            factories.item("佐藤 一郎", "サトウ イチロウ"),
            factories.item("佐藤 二郎", "サトウ ジロウ"),
        ],
    )
    with database.session_scope() as session:
        put_in_status(session, ids[1], ItemStatus.LOST, BEFORE)
    with database.session_scope() as session:
        assert move_items(session, ids, ItemAction.HAND_OVER, now=MOVED) == 1
        session.rollback()
    with database.session_scope() as session:
        assert [row_of(session, i)["status"] for i in ids] == ["in_custody", "lost"]


def test_the_database_refuses_an_unknown_status(database: Database) -> None:
    (item_id,) = factories.envelope(database, 3)
    session = database.new_session()
    try:
        with pytest.raises(IntegrityError):
            session.execute(
                text("UPDATE items SET status = 'misplaced' WHERE id = :id"), {"id": item_id}
            )
            session.flush()
        session.rollback()
        assert session.get(Item, item_id).status == "in_custody"  # type: ignore[union-attr]
    finally:
        session.close()
