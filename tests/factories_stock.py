"""Data for stock-check (棚卸) and loss (紛失) tests: envelopes on shelves, checks run."""

from __future__ import annotations

from datetime import datetime

from flask import Flask
from sqlalchemy import select

from tests import factories
from tests.factories import NOW
from tracker.db import Database
from tracker.models import Envelope, Item, Location
from tracker.models.lifecycle import StockCheck
from tracker.services import stock_checks

#: Tracking-number series of this area's envelopes (factories.tracking_no).
SERIES = 6


def shelf(
    target: Flask | Database, first: int, count: int, *, location: str = "CHUO", slot: str = "A-01"
) -> list[str]:
    """Log ``count`` envelopes (one card each) at ``location``/``slot``: their control numbers."""
    controls = []
    for n in range(first, first + count):
        (item_id,) = factories.envelope(
            target, n, series=SERIES, location=location, slot=slot, addressee=f"棚卸 太郎{n}"
        )
        with factories.database_of(target).session_scope() as session:
            item = session.get(Item, item_id)
            assert item is not None
            controls.append(item.envelope.control_no)
    return controls


def location_id(target: Flask | Database, code: str) -> int:
    with factories.database_of(target).session_scope() as session:
        found = session.scalar(select(Location.id).where(Location.code == code))
        assert found is not None
        return found


def start(
    target: Flask | Database,
    code: str = "CHUO",
    *,
    actor: str = "clerk1",
    slot_from: str | None = None,
    slot_to: str | None = None,
    now: datetime = NOW,
) -> int:
    place = location_id(target, code)
    with factories.database_of(target).session_scope() as session:
        check = stock_checks.start(
            session, actor=actor, location_id=place, slot_from=slot_from, slot_to=slot_to, now=now
        )
        return check.id


def scan(
    target: Flask | Database, check_id: int, code: str, *, actor: str = "clerk1"
) -> stock_checks.ScanResult:
    with factories.database_of(target).session_scope() as session:
        check = session.get(StockCheck, check_id)
        assert check is not None
        return stock_checks.scan(session, actor=actor, check=check, code=code, now=NOW)


def item_of(target: Flask | Database, control_no: str) -> int:
    with factories.database_of(target).session_scope() as session:
        found = session.scalar(
            select(Item.id).join(Envelope).where(Envelope.control_no == control_no)
        )
        assert found is not None
        return found
