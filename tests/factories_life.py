"""Test data for the item lifecycle and the last day at the counter (issue 13, parts 1 and 6).

Like :mod:`tests.factories`: dates and times are passed in, every change goes through a
service and commits in a session of its own.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tests.factories import NOW
from tracker.db import Database
from tracker.domain.codes import ItemStatus
from tracker.models import DisposalBatch, DisposalBatchItem, Item
from tracker.services import disposal


def put_in_status(session: Session, item_id: int, status: ItemStatus, at: datetime) -> None:
    """Set an item's status directly, as the test's starting point (not a transition)."""
    session.execute(
        update(Item)
        .where(Item.id == item_id)
        .values(status=status.value, status_changed_at=at)
        .execution_options(synchronize_session=False)
    )


def row_of(session: Session, item_id: int) -> dict[str, Any]:
    """Every column of an item as the database holds it now."""
    item = session.scalar(
        select(Item).where(Item.id == item_id).execution_options(populate_existing=True)
    )
    assert item is not None
    return {column.key: getattr(item, column.key) for column in Item.__table__.columns}


def exclude(
    database: Database,
    batch_id: int,
    control_no: str,
    *,
    actor: str = "officer3",
    reason: str = "本人から本日来庁の連絡あり",
    now: datetime = NOW,
) -> None:
    with database.session_scope() as session:
        batch = session.get(DisposalBatch, batch_id)
        assert batch is not None
        disposal.exclude_item(
            session, actor=actor, batch=batch, control_no=control_no, reason=reason, now=now
        )


def control_nos(database: Database, batch_id: int) -> list[str]:
    with database.session_scope() as session:
        return list(
            session.scalars(
                select(DisposalBatchItem.control_no)
                .where(DisposalBatchItem.batch_id == batch_id)
                .order_by(DisposalBatchItem.control_no)
            )
        )
