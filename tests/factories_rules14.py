"""Factories for issue 14's retention rules: items of a given kind with event dates.

Intake of ``mynumber_card`` items is another helper's area, so an item is logged as a
notification card and its kind and dates are then set directly on the row.
"""

from __future__ import annotations

from datetime import date

from flask import Flask

from tests import factories
from tests.factories import database_of
from tracker.db import Database
from tracker.domain.codes import ItemKind
from tracker.models import Item


def item_with_dates(
    target: Flask | Database,
    n: int,
    *,
    returned_on: date,
    kind: ItemKind | str = ItemKind.NOTIFICATION_CARD,
    addressee: str | None = None,
    notice_sent_on: date | None = None,
    first_notice_on: date | None = None,
    renotice_on: date | None = None,
    card_expires_on: date | None = None,
    series: int = 7,
) -> int:
    """Log envelope ``n`` with one item, then give the item its kind and event dates."""
    item_id = factories.envelope(
        target, n, series=series, returned_on=returned_on, addressee=addressee or f"対象 {n}"
    )[0]
    with database_of(target).session_scope() as session:
        row = session.get(Item, item_id)
        assert row is not None
        row.kind = ItemKind(kind).value
        row.notice_sent_on = notice_sent_on
        row.first_notice_on = first_notice_on
        row.renotice_on = renotice_on
        row.card_expires_on = card_expires_on
    return item_id
