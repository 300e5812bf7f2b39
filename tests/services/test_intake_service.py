"""Intake service under concurrency, and SQLite's read sessions (no write lock)."""

from __future__ import annotations

import threading
from datetime import date

from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from tests import factories
from tracker.clock import now_utc
from tracker.db import Database
from tracker.domain.codes import ReturnReason
from tracker.domain.records import EnvelopeFields
from tracker.models import Envelope, Location
from tracker.services import intake

FIELDS = EnvelopeFields(
    tracking_no="123456789013",
    returned_on=date(2018, 4, 2),
    return_reason=ReturnReason.TENKYO_FUMEI,
    addressee="山田 太郎",
    address="熊本市中央区1-1",
    household_code=None,
    location="",
    slot="A-1",
)
ITEM = factories.item()  # 山田 太郎, ヤマダ タロウ, born 1975-01-01, a notification card


def test_two_clerks_logging_the_same_envelope_at_once_make_one(postgres_url: str) -> None:
    database = Database(postgres_url, pool_size=4)
    with database.session_scope() as session:
        location_id = session.scalar(select(Location.id).where(Location.is_default.is_(True)))
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def clerk(name: str) -> None:
        session = database.new_session()
        try:
            session.execute(text("SELECT 1"))
            barrier.wait(timeout=30)
            intake.log_envelope(
                session,
                actor=name,
                fields=FIELDS,
                location_id=location_id,
                items=[ITEM],
                now=now_utc(),
            )
            session.commit()
            outcomes.append("ok")
        except (intake.DuplicateEnvelope, IntegrityError):
            session.rollback()
            outcomes.append("duplicate")
        finally:
            session.close()

    threads = [threading.Thread(target=clerk, args=(f"clerk{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    with database.session_scope() as session:
        count = session.scalar(select(func.count()).select_from(Envelope))
    database.dispose()
    assert sorted(outcomes) == ["duplicate", "ok"]
    assert count == 1


def test_a_long_read_does_not_block_writers(database: Database) -> None:
    """SQLite: read sessions begin DEFERRED, so a scan never holds the write lock."""
    with database.read_session() as reading:
        reading.execute(text("SELECT COUNT(*) FROM audit_events")).scalar_one()  # txn open
        with database.session_scope() as writing:  # would wait 30 s if the read held the lock
            writing.execute(text("UPDATE locations SET sort_order = 7 WHERE code = 'KITA'"))
    with database.read_session() as reading:
        changed = reading.execute(text("SELECT sort_order FROM locations WHERE code = 'KITA'"))
        assert changed.scalar_one() == 7


def test_log_envelope_refuses_the_same_person_twice(database: Database) -> None:
    with database.session_scope() as session:
        location_id = session.scalar(select(Location.id).where(Location.is_default.is_(True)))
        try:
            intake.log_envelope(
                session,
                actor="x",
                fields=FIELDS,
                location_id=location_id,
                items=[ITEM, ITEM],
                now=now_utc(),
            )
        except intake.IntakeError as refusal:
            assert "同じ氏名・生年月日" in str(refusal)
        else:
            raise AssertionError("accepted the same person twice")
