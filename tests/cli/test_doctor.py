"""``tracker doctor`` (issue 17): all well → exit 0; each problem listed → exit 1."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tracker.cli import main
from tracker.db import Database
from tracker.domain.codes import AuditAction
from tracker.schema import head_revision
from tracker.services import audit


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    folder = tmp_path / "instance"
    folder.mkdir(mode=0o700)
    key = folder / "audit_digest_key"
    key.write_text("ab" * 32)
    key.chmod(0o600)
    return folder


def doctor(database_url: str, instance: Path, **env: str) -> Result:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        Path(str(url.database)).chmod(0o600)
    return CliRunner().invoke(
        main,
        ["doctor"],
        env={
            "TRACKER_DATABASE_URL": database_url,
            "TRACKER_INSTANCE_PATH": str(instance),
            "TRACKER_AUDIT_KEY_FILE": str(instance / "audit_digest_key"),
            **env,
        },
    )


def test_a_healthy_installation(database_url: str, instance: Path) -> None:
    database = Database(database_url)
    try:
        with database.session_scope() as session:
            audit.record(session, actor="cli:test", action=AuditAction.AUTH_LOGIN)
        with database.read_session() as session:
            head = audit.head_hash(session)
    finally:
        database.dispose()
    result = doctor(database_url, instance)
    assert result.exit_code == 0, result.output
    out = result.output
    kind = make_url(database_url).get_backend_name()
    assert f"データベース: {kind}" in out
    if kind == "sqlite":
        for line in ("journal_mode = wal  OK", "synchronous = full  OK", "foreign_keys = 1  OK"):
            assert line in out
        assert "busy_timeout = 30000  OK" in out
    else:
        for name in ("fsync", "synchronous_commit", "full_page_writes"):
            assert f"{name} = on  OK" in out
    assert f"マイグレーション: 現在 {head_revision()}、最新 {head_revision()}  OK" in out
    assert "IPAexGothic  /" in out and "IPAexMincho  /" in out
    assert f"インスタンスフォルダ: {instance}  0700  OK" in out
    assert "監査鍵ファイル:" in out and "0600  OK" in out
    assert f"hash {head}" in out and "監査ログの先頭: seq " in out
    assert "問題はありません" in out


def test_a_readable_key_file_and_a_writable_folder_are_problems(
    database_url: str, instance: Path
) -> None:
    (instance / "audit_digest_key").chmod(0o644)
    instance.chmod(0o777)
    try:
        result = doctor(database_url, instance)
    finally:
        instance.chmod(0o700)
    assert result.exit_code == 1, result.output
    assert "問題が 2 件あります" in result.output
    assert "を他のユーザーが読めます（0644）。chmod 600" in result.output
    assert "を他のユーザーが書き換えられます（0777）" in result.output


def test_a_missing_key_file_is_a_problem_and_doctor_does_not_make_one(
    database_url: str, instance: Path
) -> None:
    key = instance / "audit_digest_key"
    key.unlink()
    result = doctor(database_url, instance)
    assert result.exit_code == 1
    assert "監査鍵ファイル" in result.output and "がありません" in result.output
    assert not key.exists()


def test_a_database_behind_the_code_is_a_problem(database_url: str, instance: Path) -> None:
    database = Database(database_url)
    try:
        with database.session_scope() as session:
            session.execute(text("UPDATE alembic_version SET version_num = '0012'"))
        result = doctor(database_url, instance)
    finally:  # the tables are emptied between tests, the revision is not
        with database.session_scope() as session:
            session.execute(
                text("UPDATE alembic_version SET version_num = :v"), {"v": head_revision()}
            )
        database.dispose()
    assert result.exit_code == 1
    assert "マイグレーション: 現在 0012" in result.output
    assert "tracker init-db を実行してください" in result.output


def test_postgresql_with_synchronous_commit_off_is_a_problem(
    postgres_url: str, instance: Path
) -> None:
    # Off for this connection only (never for the server other databases share).
    url = make_url(postgres_url).update_query_dict({"options": "-c synchronous_commit=off"})
    result = doctor(url.render_as_string(hide_password=False), instance)
    assert result.exit_code == 1
    assert "synchronous_commit = off  問題" in result.output
    assert "synchronous_commit が off です（on にしてください" in result.output


def test_the_url_is_shown_without_its_password(instance: Path, tmp_path: Path) -> None:
    url = "postgresql+psycopg://tracker:s3cret-pass@127.0.0.1:1/nowhere"
    result = doctor(url, instance)
    assert result.exit_code == 1
    assert "s3cret-pass" not in result.output
    assert "postgresql+psycopg://tracker@127.0.0.1:1/nowhere" in result.output
    assert "データベースに接続できません" in result.output


def test_an_unreachable_database_does_not_stop_the_other_checks(instance: Path) -> None:
    result = doctor("postgresql+psycopg://tracker@127.0.0.1:1/nowhere", instance)
    assert "PDF用フォント:" in result.output and "監査鍵ファイル:" in result.output
    assert os.path.exists(instance / "audit_digest_key")
