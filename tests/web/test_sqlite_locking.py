"""SQLite: readers never queue behind a writer, and the file is private (issue 10).

SQLite has one write lock. A long write (an import's inserts) must not stall pages that only
read, and an import must hold the lock only for its inserts, not while it validates. These
tests hold or probe the lock from a second connection, the way a second process would.
"""

from __future__ import annotations

import sqlite3
import stat
import threading
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy.engine import make_url

from tracker.clock import now_utc
from tracker.db import Database
from tracker.domain.codes import Role
from tracker.services import importer

HEADER = "お問い合わせ番号,返戻日,還付事由,宛名,住所,氏名,フリガナ,生年月日"


def sqlite_path(app: Flask) -> Path:
    database: Database = app.extensions["tracker.db"]
    if database.dialect != "sqlite":
        pytest.skip("SQLite only: PostgreSQL has row locks and no single write lock")
    return Path(str(make_url(database.url).database))


def write_lock_is_free(path: Path) -> bool:
    """Can another process take the write lock right now (without waiting)?"""
    probe = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:  # database is locked
        return False
    finally:
        probe.close()


def test_a_page_that_only_reads_is_served_while_another_process_writes(
    app: Flask, logged_in
) -> None:
    path = sqlite_path(app)
    client = logged_in(Role.CLERK)
    assert client.get("/locations").status_code == 200
    writer = sqlite3.connect(path, timeout=0, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # e.g. an import's inserts, for as long as they take
    try:
        answers: list[int] = []
        reader = threading.Thread(
            target=lambda: answers.append(client.get("/locations").status_code)
        )
        reader.start()
        reader.join(timeout=10)  # it would otherwise wait for busy_timeout (30 s), then fail
        assert answers == [200]
        assert not write_lock_is_free(path)  # the writer still held the lock all along
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_an_import_validates_and_stages_without_the_write_lock(app: Flask, tmp_path: Path) -> None:
    path = sqlite_path(app)
    rows = [
        f"{n:011d}{n % 7},H30.4.2,転居先不明,山田 太郎,熊本市中央区{n},山田 太郎,ヤマダ タロウ,S45.1.2"
        for n in range(10_000_000_000, 10_000_000_000 + 2 * importer.BATCH_SIZE + 7)
    ]
    csv_file = tmp_path / "returns.csv"
    csv_file.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    free_while_staging: list[bool] = []
    database: Database = app.extensions["tracker.db"]
    session = database.new_session(read_first=True)
    try:
        report = importer.run_import(
            session,
            csv_file,
            actor="cli:test",
            today=date(2026, 11, 27),
            now=now_utc(),
            progress=lambda _staged: free_while_staging.append(write_lock_is_free(path)),
        )
        assert report.committed, [str(e) for e in report.errors]
        assert not write_lock_is_free(path)  # the inserts hold it until the commit
        session.commit()
    finally:
        session.close()
    assert free_while_staging == [True, True, True]
    assert report.items == len(rows)


def test_the_database_file_and_its_wal_are_private(tmp_path: Path) -> None:
    path = tmp_path / "new" / "tracker.sqlite3"
    database = Database(f"sqlite:///{path}")
    try:
        with database.session_scope() as session:
            session.connection().exec_driver_sql("CREATE TABLE t (x)")
            session.connection().exec_driver_sql("INSERT INTO t VALUES (1)")
        files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
        for file in files:
            assert file.exists(), file
            assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
    finally:
        database.dispose()


def test_a_refused_import_leaves_no_staged_rows_on_the_pooled_connection(
    app: Flask, tmp_path: Path
) -> None:
    """The staging table holds names and birth dates; after a refusal it must be gone, even
    though promoting the import to a writer committed it on that connection."""
    sqlite_path(app)
    good = f"{10_000_000_001:011d}{10_000_000_001 % 7},H30.4.2,転居先不明,山田 太郎,熊本市,山田 太郎,ヤマダ タロウ,S45.1.2"
    clash = good.replace("熊本市", "別の住所", 1)  # same envelope, another address: refused
    csv_file = tmp_path / "clash.csv"
    csv_file.write_text("\n".join([HEADER, good, clash]) + "\n", encoding="utf-8")
    database: Database = app.extensions["tracker.db"]
    session = database.new_session(read_first=True)
    try:
        report = importer.run_import(
            session, csv_file, actor="cli:test", today=date(2026, 11, 27), now=now_utc()
        )
        assert not report.ok
        session.rollback()
    finally:
        session.close()
    with database.engine.connect() as conn:  # the same pooled connection (one is idle)
        left = conn.exec_driver_sql(
            "SELECT name FROM sqlite_temp_master WHERE type = 'table'"
        ).all()
    assert left == []
