"""Small factories for test data: envelopes with their items, users, disposal batches, imports.

Each writes through the service a person would use (``intake.log_envelope``,
``accounts.create_user``, ``disposal.create_batch``, ``importer.run_import``), so the rows
carry their audit events, and commits it in a session of its own. Every default can be
overridden by keyword; dates and times are passed in (:data:`NOW` by default), never read
from the machine's clock, so that tests pass at any hour (see ``TRACKER_TEST_CLOCK``).

They take the app (its database) or a :class:`~tracker.db.Database`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from argon2 import PasswordHasher
from flask import Flask
from sqlalchemy import select

from tests.helpers import PASSWORD, Account
from tracker.config import PasswordHashing
from tracker.db import Database
from tracker.domain.codes import ItemKind, ReturnReason, Role
from tracker.domain.records import EnvelopeFields, ItemFields
from tracker.models import Item, Location
from tracker.services import accounts, disposal, importer, intake

#: "Today" for data made by tests: a Friday in JST (its ISO week starts on Monday 2026-11-23).
TODAY = date(2026, 11, 27)
#: Noon on :data:`TODAY` in Japan.
NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)

#: A record returned on this day (平成30年度) is covered by the seed rule: eligible for
#: disposal from :data:`ELIGIBLE_FROM`.
RETURNED_H30 = date(2018, 4, 2)
ELIGIBLE_FROM = date(2020, 4, 1)

CHEAP_HASHER = accounts.make_hasher(**vars(PasswordHashing.cheap_for_tests()))


def database_of(target: Flask | Database) -> Database:
    if isinstance(target, Database):
        return target
    database: Database = target.extensions["tracker.db"]
    return database


def tracking_no(n: int, series: int = 1) -> str:
    """A domestic tracking number with a correct check digit (SPEC §6.3); ``series`` (1-9)
    keeps the numbers of different helpers apart."""
    first = f"{series * 10_000_000_000 + n:011d}"
    return first + str(int(first) % 7)


def item(
    name: str = "山田 太郎",
    kana: str = "ヤマダ タロウ",
    *,
    birth_date: date = date(1975, 1, 1),
    relationship: str | None = None,
    kind: ItemKind = ItemKind.NOTIFICATION_CARD,
) -> ItemFields:
    """One person's item as a form would hand it over (search keys without the spaces)."""
    return ItemFields(
        name, kana, name.replace(" ", ""), kana.replace(" ", ""), birth_date, relationship, kind
    )


def envelope(
    target: Flask | Database,
    n: int,
    *,
    series: int = 3,
    returned_on: date = RETURNED_H30,
    reason: ReturnReason = ReturnReason.OTHER,
    addressee: str = "山田 太郎",
    address: str = "熊本市中央区1-1",
    household_code: str | None = None,
    location: str | None = None,
    slot: str | None = None,
    items: Sequence[ItemFields] | None = None,
    actor: str = "t",
    now: datetime = NOW,
) -> list[int]:
    """Log envelope ``n`` (tracking number :func:`tracking_no` ``(n, series)``) at the
    location with code ``location`` (the default location when ``None``); the ids of its
    items, in order. One item, for ``addressee``, unless ``items`` are given."""
    fields = EnvelopeFields(
        tracking_no(n, series),
        returned_on,
        reason,
        addressee,
        address,
        household_code,
        "",
        slot,
    )
    with database_of(target).session_scope() as session:
        where = Location.is_default.is_(True) if location is None else Location.code == location
        location_id = session.scalar(select(Location.id).where(where))
        assert location_id is not None, location
        logged = intake.log_envelope(
            session,
            actor=actor,
            fields=fields,
            location_id=location_id,
            items=list(items) if items is not None else [item(addressee)],
            now=now,
        )
        return [each.id for each in logged.items]


def user(
    target: Flask | Database,
    role: Role,
    username: str | None = None,
    *,
    password: str = PASSWORD,
    display_name: str | None = None,
    hasher: PasswordHasher | None = None,
    actor: str = "cli:test",
) -> Account:
    """Create an account through the service (audited like any other); ``clerk1``,
    ``records-officer1``… unless named. Hashed with the app's hasher when given the app."""
    name = username or f"{role.value.replace('_', '-')}1"
    if hasher is None:
        hasher = (
            target.extensions["tracker.password_hasher"]
            if isinstance(target, Flask)
            else CHEAP_HASHER
        )
    with database_of(target).session_scope() as session:
        accounts.create_user(
            session,
            hasher,
            actor=actor,
            username=name,
            role=role,
            password=password,
            display_name=display_name,
        )
    return Account(name, password, role)


def batch(
    target: Flask | Database,
    items: int = 3,
    *,
    as_of: date = ELIGIBLE_FROM,
    actor: str = "officer1",
    approved_by: str | None = None,
    executed: disposal.Execution | None = None,
    now: datetime = NOW,
) -> int:
    """A disposal batch (its id) as of ``as_of``, over every eligible item, after logging
    ``items`` more: 髙橋 一郎0, 髙橋 一郎1… returned on consecutive days from 2018-04-02.
    Created by ``actor``; then approved by ``approved_by``, who also records ``executed``."""
    for n in range(items):
        envelope(target, n, returned_on=RETURNED_H30 + timedelta(days=n), addressee=f"髙橋 一郎{n}")
    with database_of(target).session_scope() as session:
        made = disposal.create_batch(session, actor=actor, as_of=as_of, now=now)
        if approved_by is not None:
            disposal.approve(session, actor=approved_by, batch=made, now=now)
        if executed is not None:
            assert approved_by is not None, "a batch is approved before it is executed"
            disposal.execute(
                session,
                actor=approved_by,
                batch=made,
                execution=executed,
                now=now,
                today=now.date(),
            )
        return made.id


# --- imports -------------------------------------------------------------------------------


def import_csv(
    target: Flask | Database,
    folder: Path,
    text: str,
    *,
    actor: str = "cli:test",
    today: date = TODAY,
    now: datetime = NOW,
) -> importer.ImportReport:
    """Import ``text`` through the service (as ``tracker import`` does) and insist it
    committed. ``today`` only bounds future return and birth dates."""
    path = folder / "stock.csv"
    path.write_text(text, encoding="utf-8")
    with database_of(target).session_scope() as session:
        report = importer.run_import(session, path, actor=actor, today=today, now=now)
        assert report.committed, [str(e) for e in report.errors]
    return report


def item_id(target: Flask | Database, name: str) -> int:
    """The id of the (one) item for ``name``."""
    with database_of(target).session_scope() as session:
        found = session.scalar(select(Item.id).where(Item.name == name))
        assert found is not None, name
        return found
