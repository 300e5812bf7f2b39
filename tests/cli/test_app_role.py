"""``tracker init-db --app-role NAME`` (issue 17): the role the app connects as can work but
can never change or remove an audit event, whatever the triggers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError

from tests.factories import NOW, TODAY
from tests.factories_backup import SELF_WITH_PASSPORT, cards
from tests.factories_jobs import returns_csv
from tracker.cli import main
from tracker.db import Database
from tracker.models import AuditEvent, Envelope, HandoverItem, Item
from tracker.services import audit, handover, importer

PASSWORD = "app role password 1"


def invoke(url: str, tmp_path: Path, *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(
        main,
        list(args),
        input=stdin,
        env={
            "TRACKER_DATABASE_URL": url,
            "TRACKER_AUDIT_KEY_FILE": str(tmp_path / "audit_digest_key"),
            "USER": "operator",
        },
    )


@pytest.fixture
def role_name(postgres_url: str) -> Iterator[str]:
    """A role of this test's own (roles belong to the whole server), dropped afterwards."""
    name = f"{make_url(postgres_url).database}_app".lower()
    if worker := os.environ.get("PYTEST_XDIST_WORKER"):
        name += f"_{worker}"
    engine = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    yield name
    with engine.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": name})
        if exists.first():
            conn.execute(text(f"DROP OWNED BY {name}"))
            conn.execute(text(f"DROP ROLE {name}"))
    engine.dispose()


def test_the_app_role_works_but_cannot_change_the_audit_log(
    postgres_url: str, role_name: str, tmp_path: Path
) -> None:
    result = invoke(
        postgres_url, tmp_path, "init-db", "--app-role", role_name, "--app-password-stdin",
        stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"アプリ用ロール {role_name} を作成しました" in result.output
    owner = Database(postgres_url)
    [item] = cards(owner, 1)
    app_url = (
        make_url(postgres_url)
        .set(username=role_name, password=PASSWORD)
        .render_as_string(hide_password=False)
    )
    app = Database(app_url)
    try:
        with app.session_scope() as session:  # the app works: a handover and its event
            assert session.scalar(text("SELECT current_user")) == role_name
            handover.hand_over(
                session,
                actor="clerk",
                item_ids=[item],
                evidence=SELF_WITH_PASSPORT,
                now=NOW,
                today=TODAY,
            )
        with app.read_session() as session:
            assert session.scalar(select(func.count()).select_from(HandoverItem)) == 1
            assert audit.verify_chain(session).ok
        for statement in (
            "UPDATE audit_events SET actor = 'x'",
            "DELETE FROM audit_events",
            "TRUNCATE audit_events",
            "DROP TRIGGER audit_events_no_update_delete ON audit_events",
            "UPDATE alembic_version SET version_num = 'x'",
        ):
            with app.engine.connect() as conn, pytest.raises(ProgrammingError) as refused:
                conn.exec_driver_sql(statement)
            message = str(refused.value.orig)
            assert "permission denied" in message or "must be owner" in message, message
        with app.engine.connect() as conn:
            flags = conn.execute(
                text(
                    "SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = :n"
                ),
                {"n": role_name},
            ).one()
            assert tuple(flags) == (False, False, False)
    finally:
        app.dispose()

    again = invoke(postgres_url, tmp_path, "init-db", "--app-role", role_name)
    assert again.exit_code == 0, again.output
    assert f"アプリ用ロール {role_name} を更新しました" in again.output
    with owner.read_session() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "system.app_role")
        ).all()
        assert [audit.details_of(e)["created"] for e in events] == [True, False]
        assert all("password" not in e.details.replace("password_set", "") for e in events)
    owner.dispose()


def _app_database(postgres_url: str, role_name: str) -> Database:
    return Database(
        make_url(postgres_url)
        .set(username=role_name, password=PASSWORD)
        .render_as_string(hide_password=False)
    )


def test_a_large_import_by_the_app_role_leaves_the_planner_fresh_statistics(
    postgres_url: str, role_name: str, tmp_path: Path
) -> None:
    """Issue 18: planned from an empty table's statistics, the search page read every match of
    a kana prefix. The import analyzes what it grew by a large share, though the app role owns
    no table; a small import leaves the statistics as they are."""
    result = invoke(
        postgres_url, tmp_path, "init-db", "--app-role", role_name, "--app-password-stdin",
        stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    app = _app_database(postgres_url, role_name)

    def run(rows: int, seed: int) -> None:
        with app.session_scope() as session:
            settled = importer.import_file(
                session,
                returns_csv(tmp_path / f"returns-{seed}.csv", rows, seed=seed),
                actor="officer",
                today=TODAY,
                now=NOW,
            )
            assert settled.ok, settled

    def planner_rows() -> dict[str, float]:
        with app.read_session() as session:
            return dict(
                session.execute(  # type: ignore[arg-type]
                    text(
                        "SELECT relname, reltuples FROM pg_class"
                        " WHERE relname IN ('items', 'envelopes') AND relkind = 'r'"
                    )
                ).all()
            )

    try:
        stale = planner_rows()  # an empty table's, or an earlier test's
        run(1_500, seed=5)
        with app.read_session() as session:
            stored = {
                "items": session.scalar(select(func.count()).select_from(Item)),
                "envelopes": session.scalar(select(func.count()).select_from(Envelope)),
            }
        assert planner_rows() == stored != stale
        run(30, seed=6)  # 2% more: not worth a sample of the whole table
        assert planner_rows() == stored
    finally:
        app.dispose()


def test_app_role_is_refused_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    result = invoke(url, tmp_path, "init-db", "--app-role", "tracker_app")
    assert result.exit_code == 1
    assert "PostgreSQL だけで使えます" in result.output
    assert not (tmp_path / "x.sqlite3").exists() or Path(tmp_path / "x.sqlite3").stat().st_size == 0


def test_app_role_name_must_be_a_plain_identifier(postgres_url: str, tmp_path: Path) -> None:
    result = invoke(postgres_url, tmp_path, "init-db", "--app-role", 'x"; DROP TABLE items; --')
    assert result.exit_code == 1
    assert "ロール名" in result.output
