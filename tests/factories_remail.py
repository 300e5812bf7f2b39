"""Factories for re-mailing (再送付) tests: a card re-mailed through the service a clerk uses.

Like :mod:`tests.factories`, each step commits in a session of its own and takes its dates
as parameters (never the machine clock).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import Flask

from tests import factories
from tests.factories import NOW, TODAY
from tracker.db import Database
from tracker.domain.codes import RemailAddressKind
from tracker.models import Item, Remailing
from tracker.services import remailing

#: Tracking numbers of re-mailings: series 7 keeps them apart from the envelopes' (series 3).
REMAIL_SERIES = 7
FIELDS = remailing.RequestFields(
    "本人", "書面による請求", RemailAddressKind.RESIDENCE, "熊本市東区2-2 サンプル荘101"
)


def remail_no(n: int) -> str:
    return factories.tracking_no(n, REMAIL_SERIES)


def requested(
    target: Flask | Database, item_id: int, *, actor: str = "clerk1", now: datetime = NOW
) -> int:
    """A re-mailing request for the item (recorded at ``now``); its id."""
    with factories.database_of(target).session_scope() as session:
        item = session.get(Item, item_id)
        assert item is not None
        return remailing.request(session, actor=actor, item=item, fields=FIELDS, now=now).id


def mailed(
    target: Flask | Database,
    item_id: int,
    n: int = 1,
    *,
    mailed_on: date = TODAY,
    actor: str = "clerk1",
) -> int:
    """Request and mail the item with tracking number :func:`remail_no` ``(n)``; its id."""
    remailing_id = requested(target, item_id, actor=actor, now=min(NOW, now_on(mailed_on)))
    with factories.database_of(target).session_scope() as session:
        record = session.get(Remailing, remailing_id)
        assert record is not None
        remailing.mail(
            session,
            actor=actor,
            remailing=record,
            tracking_no=remail_no(n),
            mailed_on=mailed_on,
            now=NOW,
            today=max(TODAY, mailed_on),
        )
    return remailing_id


def mailed_days_ago(target: Flask | Database, item_id: int, n: int, days: int) -> int:
    return mailed(target, item_id, n, mailed_on=TODAY - timedelta(days=days))


def now_on(day: date) -> datetime:
    return NOW + (day - TODAY)
