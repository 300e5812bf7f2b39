"""``tracker backup DEST`` / ``tracker restore SRC`` (SPEC §7) and the restore drill (issue 17):
back up while clerks hand cards over, restore into an empty database, verify."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from tests.conftest import POSTGRES_URL
from tests.factories_backup import (
    Clerks,
    cards,
    consistency_problems,
    counts,
    extra_postgres_database,
)
from tracker import backup
from tracker.cli import main
from tracker.db import Database
from tracker.models import AuditEvent, Handover
from tracker.services import audit


def invoke(url: str, tmp_path: Path, *args: str) -> Result:
    return CliRunner().invoke(
        main,
        list(args),
        env={
            "TRACKER_DATABASE_URL": url,
            "TRACKER_AUDIT_KEY_FILE": str(tmp_path / "audit_digest_key"),
            "USER": "operator",
        },
    )


@pytest.fixture
def empty_target(database_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of the same engine: a SQLite file not made yet, or a new database."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored' / 'tracker.sqlite3'}"
        return
    with extra_postgres_database(POSTGRES_URL, "restore") as url:
        yield url


def test_backup_refuses_a_folder_that_is_not_empty(database_url: str, tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "notes.txt").write_text("keep me")
    result = invoke(database_url, tmp_path, "backup", str(dest))
    assert result.exit_code == 1
    assert "空でないフォルダ" in result.output
    assert sorted(p.name for p in dest.iterdir()) == ["notes.txt"]


def test_restore_drill_backup_during_handovers(
    database: Database, database_url: str, empty_target: str, tmp_path: Path
) -> None:
    """Clerks keep handing cards over before, during and after the backup; the restored copy
    holds exactly what the manifest counted, each handover whole, the chain intact."""
    clerks = Clerks(database_url, cards(database, 120))
    clerks.start()
    try:
        _wait_for(lambda: len(clerks.done) >= 5)
        result = invoke(database_url, tmp_path, "backup", str(tmp_path / "bk"))
        assert result.exit_code == 0, result.output
        during = len(clerks.done)
        _wait_for(lambda: len(clerks.done) >= during + 5 or bool(clerks.errors))
    finally:
        clerks.finish()
    assert clerks.errors == []
    manifest = json.loads((tmp_path / "bk" / "manifest.json").read_text())
    # the backup fell in the middle of the handovers, and counted its own snapshot
    assert 0 < manifest["counts"]["handovers"] < counts(database_url)["handovers"]
    assert sorted(p.name for p in (tmp_path / "bk").iterdir()) == [
        "manifest.json",
        manifest["dump"]["file"],
    ]

    result = invoke(empty_target, tmp_path, "restore", str(tmp_path / "bk"))
    assert result.exit_code == 0, result.output
    assert "監査ログのトリガー 有効" in result.output
    assert consistency_problems(empty_target) == []
    restored = counts(empty_target)
    assert restored["handovers"] == manifest["counts"]["handovers"]
    assert restored["audit_events"] == manifest["audit_head"]["seq"] + 1  # + system.restore
    _assert_audit_log_is_append_only(empty_target)
    if empty_target.startswith("postgresql"):  # planned from statistics at once (issue 18)
        engine = create_engine(empty_target)
        try:
            with engine.connect() as conn:
                planned = conn.exec_driver_sql(
                    "SELECT reltuples FROM pg_class WHERE relname = 'items' AND relkind = 'r'"
                ).scalar_one()
        finally:
            engine.dispose()
        assert planned == restored["items"]

    # the live chain holds the backup's event: counts and head, nothing personal
    with database.read_session() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "system.backup"))
        assert event is not None
        details = audit.details_of(event)
        assert details["row_counts"] == manifest["counts"]
        assert details["backup_head_seq"] == manifest["audit_head"]["seq"]
        assert event.seq > manifest["audit_head"]["seq"]  # outside the dump's snapshot
        assert audit.verify_chain(session).ok


def _wait_for(condition, timeout: float = 30) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def _assert_audit_log_is_append_only(url: str) -> None:
    """The restored database has its triggers (and, on PostgreSQL, their functions)."""
    engine = create_engine(url)
    try:
        for statement in (
            "UPDATE audit_events SET actor = 'x'",
            "DELETE FROM audit_events",
            *(["TRUNCATE audit_events"] if engine.dialect.name == "postgresql" else []),
        ):
            with engine.connect() as conn, pytest.raises(DBAPIError, match="append-only"):
                conn.exec_driver_sql(statement)
    finally:
        engine.dispose()


def test_restore_refuses_a_database_that_holds_tracker_tables(
    database_url: str, tmp_path: Path
) -> None:
    assert invoke(database_url, tmp_path, "backup", str(tmp_path / "bk")).exit_code == 0
    before = counts(database_url)
    result = invoke(database_url, tmp_path, "restore", str(tmp_path / "bk"))
    assert result.exit_code == 1
    assert "既に tracker のテーブルがあります" in result.output
    assert counts(database_url) == before


def test_restore_checks_the_dump_digest_before_anything(
    database_url: str, empty_target: str, tmp_path: Path
) -> None:
    assert invoke(database_url, tmp_path, "backup", str(tmp_path / "bk")).exit_code == 0
    manifest = json.loads((tmp_path / "bk" / "manifest.json").read_text())
    dump = tmp_path / "bk" / manifest["dump"]["file"]
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dump.write_bytes(bytes(data))
    result = invoke(empty_target, tmp_path, "restore", str(tmp_path / "bk"))
    assert result.exit_code == 1
    assert "SHA-256 が manifest.json と一致しません" in result.output
    _assert_still_empty(empty_target)


def _assert_still_empty(url: str) -> None:
    if url.startswith("sqlite"):
        path = make_url(url).database
        assert path is not None and not Path(path).exists()
        return
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            tables = conn.execute(
                text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
            ).scalar()
            assert tables == 0
    finally:
        engine.dispose()


def test_restore_names_the_first_count_that_differs(
    database_url: str, empty_target: str, tmp_path: Path
) -> None:
    assert invoke(database_url, tmp_path, "backup", str(tmp_path / "bk")).exit_code == 0
    path = tmp_path / "bk" / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["counts"]["locations"] += 1
    path.write_text(json.dumps(manifest))
    result = invoke(empty_target, tmp_path, "restore", str(tmp_path / "bk"))
    assert result.exit_code == 1
    assert "テーブル locations の行数が違います: 5（manifest: 6）" in result.output


def test_restore_refuses_a_folder_without_a_manifest(
    database: Database,
    database_url: str,
    empty_target: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An interrupted backup never looks complete: its files keep temporary names and there
    is no manifest.json, which restore requires."""

    def power_cut(_path: Path) -> str:
        raise OSError("simulated crash while hashing")

    monkeypatch.setattr(backup, "sha256_file", power_cut)
    result = invoke(database_url, tmp_path, "backup", str(tmp_path / "bk"))
    assert result.exit_code != 0
    names = sorted(p.name for p in (tmp_path / "bk").iterdir())
    assert names and all(name.endswith(".partial") for name in names), names
    monkeypatch.undo()
    result = invoke(empty_target, tmp_path, "restore", str(tmp_path / "bk"))
    assert result.exit_code == 1
    assert "manifest.json: ありません" in result.output
    with database.read_session() as session:
        backups = session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "system.backup")
        )
        assert backups == 0  # only a complete backup is audited
        assert session.scalar(select(func.count()).select_from(Handover)) == 0


def test_pg_dump_gets_the_password_in_a_passfile_never_on_its_command_line(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = make_url(postgres_url).set(password="s3cret:pass").render_as_string(hide_password=False)
    seen: dict[str, object] = {}
    real_run = subprocess.run

    def spy(args, **kwargs):  # type: ignore[no-untyped-def]
        if "--version" in args:
            return real_run(args, **kwargs)
        seen["args"] = list(args)
        seen["passfile"] = Path(kwargs["env"]["PGPASSFILE"]).read_text()
        seen["mode"] = Path(kwargs["env"]["PGPASSFILE"]).stat().st_mode & 0o777
        seen["path"] = kwargs["env"]["PGPASSFILE"]
        return subprocess.CompletedProcess(args, 1, "", "stopped by the test")

    monkeypatch.setattr(subprocess, "run", spy)
    result = invoke(url, tmp_path, "backup", str(tmp_path / "bk"))
    assert result.exit_code == 1
    assert "pg_dump が失敗しました: stopped by the test" in result.output
    assert not any("s3cret" in str(arg) for arg in seen["args"])  # type: ignore[attr-defined]
    assert seen["passfile"] == "*:*:*:*:s3cret\\:pass\n"
    assert seen["mode"] == 0o600
    assert not Path(str(seen["path"])).exists()  # removed afterwards
    assert not (tmp_path / "bk" / "manifest.json").exists()


def test_an_older_pg_dump_than_the_server_is_refused_by_name(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        backup, "pg_client", lambda name: backup.PgClient(f"/usr/bin/{name}", "9.6.24", 9)
    )
    result = invoke(postgres_url, tmp_path, "backup", str(tmp_path / "bk"))
    assert result.exit_code == 1
    assert "pg_dump 9.6.24 はサーバー" in result.output
    assert "postgresql-client-" in result.output
