"""Test data for resident-register results (住基照合): a household of three, and a result
recorded through the service as the item page records it."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask

from tests import factories
from tests.factories import NOW, TODAY, database_of
from tracker.db import Database
from tracker.domain.codes import ItemKind, RegisterOutcome
from tracker.domain.kana import search_key
from tracker.domain.records import ItemFields
from tracker.domain.register import RegisterEntry
from tracker.models import Item
from tracker.services import register

#: The household :func:`household` logs: (name, kana, birth date).
MEMBERS = (
    ("髙橋 一郎", "タカハシ イチロウ", date(1960, 5, 1)),
    ("髙橋 花子", "タカハシ ハナコ", date(1962, 8, 15)),
    ("髙橋 次郎", "タカハシ ジロウ", date(1990, 1, 20)),
)


KIND = ItemKind.NOTIFICATION_CARD


def household(target: Flask | Database, n: int = 1, *, series: int = 5) -> list[int]:
    """Envelope ``n`` with the three :data:`MEMBERS`; their item ids, in order."""
    return factories.envelope(
        target,
        n,
        series=series,
        addressee="髙橋 一郎",
        address="熊本市中央区手取本町1-1",
        household_code="0012345",
        # Search keys as intake makes them (SPEC §6.2: 髙 folds to 高), not factories.item's.
        items=[
            ItemFields(name, kana, search_key(name), search_key(kana), born, None, KIND)
            for name, kana, born in MEMBERS
        ],
    )


def control_no(target: Flask | Database, item_id: int) -> str:
    with database_of(target).session_scope() as session:
        item = session.get(Item, item_id)
        assert item is not None
        return item.control_no


def result(
    target: Flask | Database,
    item_id: int,
    outcome: RegisterOutcome = RegisterOutcome.RESIDENT,
    *,
    event_on: date | None = None,
    note: str | None = None,
    checked_on: date = TODAY,
    actor: str = "records-officer1",
    now: datetime = NOW,
) -> register.Change:
    with database_of(target).session_scope() as session:
        item = session.get(Item, item_id)
        assert item is not None
        return register.record(
            session,
            item=item,
            entry=RegisterEntry(outcome, event_on, note),
            checked_on=checked_on,
            actor=actor,
            now=now,
        )
