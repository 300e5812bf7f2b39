"""``tracker db …``: Alembic's commands with the configuration the package builds itself."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from sqlalchemy import inspect, text

from tracker import schema
from tracker.cli import main
from tracker.db import Database
from tracker.schema import current_revision, head_revision


def invoke(database_url: str, *args: str, stdin: str | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(
        main, list(args), input=stdin, env={"TRACKER_DATABASE_URL": database_url}
    )


def revision_of(database_url: str) -> str | None:
    database = Database(database_url)
    try:
        return current_revision(database.engine)
    finally:
        database.dispose()


def columns_of(database_url: str) -> dict[str, set[str]]:
    """Each table's column and index names: what a migration adds or drops; on PostgreSQL
    also the tracker's functions and their settings (migrations 0016 and 0018 change only
    those)."""
    database = Database(database_url)
    try:
        inspector = inspect(database.engine)
        schema = {
            table: {column["name"] for column in inspector.get_columns(table)}
            | {f"index {index['name']}" for index in inspector.get_indexes(table)}
            for table in inspector.get_table_names()
        }
        if database.dialect == "postgresql":
            with database.engine.connect() as conn:
                schema["(functions)"] = {
                    f"{name} {config}"
                    for name, config in conn.execute(
                        text(
                            "SELECT proname, proconfig FROM pg_proc"
                            " WHERE proname LIKE 'audit%' OR proname LIKE 'tracker%'"
                        )
                    )
                }
        return schema
    finally:
        database.dispose()


def test_heads_names_the_newest_shipped_revision_without_a_database(tmp_path: Path) -> None:
    result = invoke(f"sqlite:///{tmp_path / 'never-created' / 'x.sqlite3'}", "db", "heads")
    assert result.exit_code == 0, result.output
    assert result.stdout.split() == [head_revision()]
    assert not (tmp_path / "never-created").exists()


def test_current_says_head_for_a_migrated_database(database_url: str) -> None:
    result = invoke(database_url, "db", "current")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"{head_revision()} (head)"


def test_current_on_an_empty_database_says_so(tmp_path: Path) -> None:
    result = invoke(f"sqlite:///{tmp_path / 'empty.sqlite3'}", "db", "current")
    assert result.exit_code == 0, result.output
    assert "未作成" in result.stdout and "init-db" in result.stdout


def test_upgrade_in_steps_then_to_head(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'steps.sqlite3'}"
    first = invoke(url, "db", "upgrade", "0003")
    assert first.exit_code == 0, first.output
    assert first.stdout.strip() == "なし → 0003"
    behind = invoke(url, "db", "current")
    assert behind.stdout.startswith("0003") and head_revision() in behind.stdout
    rest = invoke(url, "db", "upgrade")
    assert rest.exit_code == 0, rest.output
    assert revision_of(url) == head_revision()


def test_downgrade_one_step_and_back_on_both_databases(database_url: str) -> None:
    head = head_revision()
    assert head is not None
    newest = ScriptDirectory.from_config(schema.alembic_config()).get_revision(head)
    previous = str(newest.down_revision)
    at_head = columns_of(database_url)
    try:
        down = invoke(database_url, "db", "downgrade", "-1", "--yes")
        assert down.exit_code == 0, down.output
        assert down.stdout.strip() == f"{head} → {previous}"
        assert revision_of(database_url) == previous
        # the newest revision's tables or columns are gone, and come back with the upgrade
        one_down = columns_of(database_url)
        assert "items" in one_down
        if not (
            database_url.startswith("sqlite") and not getattr(newest.module, "CHANGES_SQLITE", True)
        ):
            assert one_down != at_head
    finally:
        up = invoke(database_url, "db", "upgrade")
    assert up.exit_code == 0, up.output
    assert up.stdout.strip() == f"{previous} → {head}"
    assert invoke(database_url, "db", "current").stdout.strip() == f"{head} (head)"
    assert columns_of(database_url) == at_head


def test_downgrade_asks_first_and_a_no_changes_nothing(database_url: str) -> None:
    refused = invoke(database_url, "db", "downgrade", "base", stdin="n\n")
    assert refused.exit_code == 1
    assert "失われます" in refused.stderr
    assert revision_of(database_url) == head_revision()


def test_an_unknown_revision_is_a_refusal_not_a_traceback(database_url: str) -> None:
    result = invoke(database_url, "db", "upgrade", "9999")
    assert result.exit_code == 1
    assert "9999" in result.stderr and "Traceback" not in result.output
    assert revision_of(database_url) == head_revision()
    assert invoke(database_url, "db", "downgrade").exit_code == 2  # REVISION is required


@pytest.fixture
def migrations_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """New revisions go into a copy of the migrations, never into the repository."""
    copy = tmp_path / "migrations"
    shutil.copytree(schema.MIGRATIONS_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(schema, "MIGRATIONS_DIR", copy)
    return copy


def test_revision_writes_the_next_numbered_file(migrations_copy: Path, database_url: str) -> None:
    shipped = Path(schema.__file__).parent / "migrations" / "versions"
    before = sorted(p.name for p in shipped.glob("*.py"))
    head = head_revision()
    assert head is not None
    expected = f"{int(head) + 1:04d}"
    result = invoke(database_url, "db", "revision", "-m", "add a note to holds")
    assert result.exit_code == 0, result.output
    written = migrations_copy / "versions" / f"{expected}_add_a_note_to_holds.py"
    assert written.exists(), result.output
    text = written.read_text()
    assert f"revision = '{expected}'" in text and f"down_revision = '{head}'" in text
    assert "add a note to holds" in text
    assert head_revision() == expected  # the copy now has a new head
    assert sorted(p.name for p in shipped.glob("*.py")) == before  # the repository untouched


def test_revision_autogenerate_finds_no_difference_at_head(
    migrations_copy: Path, database_url: str
) -> None:
    result = invoke(database_url, "db", "revision", "-m", "nothing", "--autogenerate")
    assert result.exit_code == 0, result.output
    (written,) = (migrations_copy / "versions").glob("*_nothing.py")
    upgrade_body = written.read_text().split("def upgrade()")[1].split("def downgrade()")[0]
    assert "op." not in upgrade_body  # the models and the migrated schema agree


def test_revision_autogenerate_refuses_a_database_behind_head(
    migrations_copy: Path, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'behind.sqlite3'}"
    assert invoke(url, "db", "upgrade", "0002").exit_code == 0
    result = invoke(url, "db", "revision", "-m", "too early", "--autogenerate")
    assert result.exit_code == 1
    assert "not up to date" in result.stderr
    assert not list((migrations_copy / "versions").glob("*_too_early.py"))
