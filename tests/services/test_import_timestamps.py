"""An imported envelope's intake time is stored like every other timestamp (UTC), on both
databases, without sqlite3's datetime adapter (deprecated since Python 3.12, an error here)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import select, text

from tracker.db import Database
from tracker.models import Envelope
from tracker.services import importer

HEADER = "tracking_no,return_date,return_reason,addressee,address,name,name_kana,birth_date\n"
ROW = "123456789016,2019-01-01,OTHER,山田太郎,熊本市中央区,山田太郎,ヤマダタロウ,1980-01-01\n"


def test_imported_intake_time_reads_back_as_the_moment_given(
    database: Database, tmp_path: Path
) -> None:
    path = tmp_path / "one.csv"
    path.write_text(HEADER + ROW, encoding="utf-8")
    moment = datetime(2026, 11, 30, 23, 7, 5, 123456, tzinfo=UTC)
    session = database.new_session(read_first=True)
    try:
        report = importer.run_import(
            session, path, actor="officer1", today=date(2026, 12, 1), now=moment
        )
        assert report.committed, report.errors
        session.commit()
    finally:
        session.close()
    with database.session_scope() as session:
        envelope = session.scalar(select(Envelope))
        assert envelope is not None and envelope.intake_at == moment
        if database.dialect == "sqlite":  # the same text form the ORM writes: naive UTC
            raw = session.execute(text("SELECT intake_at FROM envelopes")).scalar_one()
            assert raw == "2026-11-30 23:07:05.123456"
