"""Data for the 支援措置 tests (issue 14): a household envelope with a flagged member."""

from __future__ import annotations

from datetime import date

from flask import Flask

from tests import factories
from tests.factories import NOW, TODAY, database_of
from tracker.db import Database
from tracker.services import protection

#: The review date used by the tests (one year after :data:`tests.factories.TODAY`).
REVIEW_ON = date(2027, 11, 27)
ADDRESS = "熊本市中央区手取本町9-9-9"
ADDRESSEE = "佐藤 一郎"


def household(target: Flask | Database, n: int = 1) -> list[int]:
    """Envelope ``n`` (series 7) to 佐藤一郎's household with two members; their item ids."""
    return factories.envelope(
        target,
        n,
        series=7,
        addressee=ADDRESSEE,
        address=ADDRESS,
        household_code="0077777",
        items=[
            factories.item("佐藤 一郎", "サトウ イチロウ", birth_date=date(1970, 2, 3)),
            factories.item("佐藤 花子", "サトウ ハナコ", birth_date=date(1980, 4, 5)),
        ],
    )


def protect(
    target: Flask | Database,
    item_id: int,
    *,
    whole_envelope: bool = True,
    reason: str = "DV支援措置申出（相談番号あり）",
    actor: str = "officer",
) -> list[int]:
    """Flag the item (and by default its envelope's other items); the flag ids."""
    with database_of(target).session_scope() as session:
        flags = protection.place(
            session,
            actor=actor,
            item_id=item_id,
            reason=reason,
            review_on=REVIEW_ON,
            whole_envelope=whole_envelope,
            now=NOW,
            today=TODAY,
        )
        return [flag.id for flag in flags]
