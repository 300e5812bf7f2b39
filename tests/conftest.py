"""Fixtures: every database test runs on SQLite and, when ``TRACKER_TEST_POSTGRES_URL`` is set,
on PostgreSQL too (SPEC §9). Without that variable the PostgreSQL runs are skipped with a
printed reason, never silently."""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time
from pathlib import Path

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, Engine, create_engine, pool, text
from sqlalchemy.engine import make_url

from tests import factories
from tests.helpers import PASSWORD, Account, login
from tracker import create_app
from tracker.config import Config, PasswordHashing
from tracker.db import Database
from tracker.domain.codes import Role
from tracker.schema import upgrade
from tracker.services import audit
from tracker.services.seed import seed_defaults

POSTGRES_URL = os.environ.get("TRACKER_TEST_POSTGRES_URL", "")
POSTGRES_SKIP_REASON = (
    "PostgreSQL run skipped: TRACKER_TEST_POSTGRES_URL is not set "
    "(set it to a PostgreSQL database URL to run them; .ci/run always does)"
)
CHEAP_HASHING = PasswordHashing.cheap_for_tests()
#: ``sqlite``: this run leaves out the PostgreSQL half (scripts/test's second, clock-pinned
#: pass: the pinned clock moves this process's clock only, never the database server's, so
#: running the PostgreSQL half again at another hour tests nothing the first pass did not).
ONLY_SQLITE = os.environ.get("TRACKER_TEST_DATABASES", "") == "sqlite"
ONLY_SQLITE_REASON = (
    "TRACKER_TEST_DATABASES=sqlite: the PostgreSQL half is left out of this run"
    " (scripts/test runs it in its first pass)"
)


#: ``HH:MM``: run the suite with the clock at that UTC time of day (issue 10). Tests must pass
#: at any hour: scripts/test runs them at 23:30 UTC (already tomorrow in Japan) and at 14:59
#: UTC (the last minute on which the UTC and Japanese dates agree).
TEST_CLOCK = os.environ.get("TRACKER_TEST_CLOCK", "")


def pinned_moment(spec: str, today: datetime | None = None) -> datetime:
    """Today's UTC date at the ``HH:MM`` UTC time of day ``spec``."""
    hour, _, minute = spec.partition(":")
    day = (today or datetime.now(UTC)).date()
    return datetime.combine(day, time(int(hour), int(minute or 0)), tzinfo=UTC)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "stock(header, rows, actor='officer'): the import file the `stocked` fixture loads",
    )


def pytest_report_header(config: pytest.Config) -> list[str]:
    clock = (
        f"clock: pinned to {pinned_moment(TEST_CLOCK):%Y-%m-%d %H:%M} UTC, ticking"
        f" (TRACKER_TEST_CLOCK={TEST_CLOCK}), TZ={os.environ.get('TZ', '(unset)')}"
        if TEST_CLOCK
        else "clock: the machine's (set TRACKER_TEST_CLOCK=HH:MM to pin the UTC time of day)"
    )
    if ONLY_SQLITE:
        return [f"databases: SQLite only. {ONLY_SQLITE_REASON}", clock]
    if POSTGRES_URL:
        return [f"databases: SQLite and PostgreSQL ({_redact(POSTGRES_URL)})", clock]
    return [f"databases: SQLite only. {POSTGRES_SKIP_REASON}", clock]


#: The audit digest key of every test (issue 16): tests never read or write a key file.
TEST_DIGEST_KEY = bytes.fromhex("7465737420646967657374206b6579206e6f7420666f722070726f64756374")


@pytest.fixture(autouse=True)
def digest_key() -> bytes:
    """Install the test digest key before each test (an app or command may replace it)."""
    audit.use_digest_key(TEST_DIGEST_KEY)
    return TEST_DIGEST_KEY


@pytest.fixture(scope="session", autouse=True)
def pinned_clock() -> Iterator[None]:
    """Move every reader of the clock (``tracker.clock`` and anything else in this process)
    to the time named by ``TRACKER_TEST_CLOCK``; time keeps running from there."""
    if not TEST_CLOCK:
        yield
        return
    with time_machine.travel(pinned_moment(TEST_CLOCK), tick=True):
        yield


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With ``TRACKER_TEST_DATABASES=sqlite``, deselect the tests that would run on PostgreSQL
    (the ``[postgresql]`` half and the PostgreSQL-only race tests); the summary counts them."""
    if not ONLY_SQLITE:
        return
    kept: list[pytest.Item] = []
    left_out: list[pytest.Item] = []
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_postgres = (
            callspec is not None and callspec.params.get("database_url") == "postgresql"
        ) or "postgres_url" in getattr(item, "fixturenames", ())
        (left_out if on_postgres else kept).append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept
        config.stash[_LEFT_OUT] = len(left_out)


_LEFT_OUT = pytest.StashKey[int]()


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:  # type: ignore[no-untyped-def]
    """Say once, at the end, how many PostgreSQL runs were skipped and why (never silently)."""
    if left_out := config.stash.get(_LEFT_OUT, 0):
        terminalreporter.write_line(f"{left_out} deselected: {ONLY_SQLITE_REASON}", yellow=True)
    skipped = [
        report
        for report in terminalreporter.stats.get("skipped", [])
        if POSTGRES_SKIP_REASON in str(report.longrepr)
    ]
    if skipped:
        terminalreporter.write_line(f"{len(skipped)} skipped: {POSTGRES_SKIP_REASON}", yellow=True)


def _redact(url: str) -> str:
    return re.sub(r"//([^:/@]+):[^@]+@", r"//\1:***@", url)


# --- databases -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, seeded SQLite file, copied for each test (migrating each time is slow)."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    database = Database(f"sqlite:///{path}")
    upgrade(database.engine)
    with database.session_scope() as session:
        seed_defaults(session, actor="cli:test")
    database.dispose()
    return path


def _worker_database(base_url: str, worker: str) -> str:
    """A database of its own for one pytest-xdist worker (``<base>_gw0``), made empty; the
    base database named by ``TRACKER_TEST_POSTGRES_URL`` is only used to reach the server."""
    url = make_url(base_url)
    name = f"{url.database}_{worker}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def _drop_worker_database(base_url: str, worker_url: str) -> None:
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        name = make_url(worker_url).database
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def postgres_ready() -> Iterator[str]:
    """Migrate the PostgreSQL test database once per run, from an empty schema. Under
    pytest-xdist (``scripts/test`` runs the suite on several workers) each worker gets a
    database of its own, dropped again at its end."""
    if not POSTGRES_URL:
        pytest.skip(POSTGRES_SKIP_REASON)
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    url = _worker_database(POSTGRES_URL, worker) if worker else POSTGRES_URL
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    database = Database(url)
    upgrade(database.engine)
    database.dispose()
    yield url
    if snapshot := _SEEDED.pop(url, None):
        snapshot.dispose()
    if worker:
        _drop_worker_database(POSTGRES_URL, url)


def reset_postgres(url: str) -> None:
    """Bring the PostgreSQL test database back to freshly migrated and seeded.

    The first reset of a run empties every table (``TRUNCATE``) and seeds; it then keeps a copy
    of what the seed wrote (``COPY … TO STDOUT`` of each table, and each sequence's value).
    Later resets delete every row and copy the seed back in one transaction: 30 ms instead of
    the 350 ms of truncating 34 tables and seeding through the ORM, on each of ~1,500 tests.
    That is what the SQLite half does too (a copy of a template file seeded once). If a
    restore fails (a test changed the schema and did not put it back), the slow way runs again.
    ``session_replication_role`` bypasses the audit triggers, as only a superuser can (the
    app's own role must not be one)."""
    snapshot = _SEEDED.get(url)
    if snapshot is not None:
        try:
            snapshot.restore(url)
            return
        except Exception:  # fall back to the slow, sure way, and say so
            logging.getLogger(__name__).warning(
                "seed snapshot not restored; reseeding", exc_info=True
            )
            snapshot.dispose()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text(f"TRUNCATE {', '.join(_tables(conn))} RESTART IDENTITY CASCADE"))
    engine.dispose()
    database = Database(url)
    with database.session_scope() as session:
        seed_defaults(session, actor="cli:test")
    database.dispose()
    _SEEDED[url] = _SeedSnapshot.take(url)


def _tables(conn: Connection) -> list[str]:
    query = (
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        " AND tablename <> 'alembic_version' ORDER BY tablename"
    )
    return list(conn.execute(text(query)).scalars())


@dataclass(frozen=True)
class _SeedSnapshot:
    """The rows the seed wrote (COPY text per table) and every sequence's position."""

    tables: tuple[str, ...]
    rows: dict[str, bytes]
    sequences: dict[str, int | None]
    engine: Engine | None = None

    @classmethod
    def take(cls, url: str) -> _SeedSnapshot:
        engine = create_engine(url)
        with engine.connect() as conn:
            tables = tuple(_tables(conn))
            raw = conn.connection.driver_connection
            rows: dict[str, bytes] = {}
            with raw.cursor() as cursor:  # type: ignore[union-attr]
                for table in tables:
                    with cursor.copy(f'COPY "{table}" TO STDOUT') as copy:
                        data = b"".join(bytes(chunk) for chunk in copy)
                    if data:
                        rows[table] = data
            query = "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'"
            sequences = {name: value for name, value in conn.execute(text(query))}
        engine.dispose()
        return cls(tables, rows, sequences)

    def restore(self, url: str) -> None:
        if self.engine is None:
            object.__setattr__(
                self, "engine", create_engine(url, poolclass=pool.SingletonThreadPool)
            )
        assert self.engine is not None
        with self.engine.begin() as conn:
            raw = conn.connection.driver_connection
            with raw.cursor() as cursor:  # type: ignore[union-attr]
                cursor.execute(self._script(conn))
                for table, data in self.rows.items():
                    with cursor.copy(f'COPY "{table}" FROM STDIN') as copy:
                        copy.write(data)

    def _script(self, conn: Connection) -> str:
        if tuple(_tables(conn)) != self.tables:
            raise RuntimeError("the tables changed since the seed snapshot")
        statements = ["SET LOCAL session_replication_role = replica"]
        statements += [f'DELETE FROM "{table}"' for table in self.tables]
        statements += [
            f'ALTER SEQUENCE "{name}" RESTART'
            if value is None
            else f"SELECT setval('\"{name}\"', {int(value)}, true)"
            for name, value in self.sequences.items()
        ]
        return "; ".join(statements)

    def dispose(self) -> None:
        if self.engine is not None:
            self.engine.dispose()


_SEEDED: dict[str, _SeedSnapshot] = {}


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, migrated and seeded database: a SQLite file, or the emptied PostgreSQL one."""
    if request.param == "sqlite":
        path = tmp_path / "tracker.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_ready")
    reset_postgres(url)
    return url


@pytest.fixture
def postgres_url(request: pytest.FixtureRequest) -> str:
    """Only PostgreSQL: for races that SQLite's single writer would hide."""
    url: str = request.getfixturevalue("postgres_ready")
    reset_postgres(url)
    return url


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = Database(database_url)
    yield db
    db.dispose()


# --- the app -------------------------------------------------------------------------------


def make_config(database_url: str, **changes: object) -> Config:
    config = Config(
        database_url=database_url,
        secret_key="test-secret-key-not-for-production",
        password_hashing=CHEAP_HASHING,
        audit_key=TEST_DIGEST_KEY,
        testing=True,
        # Background jobs run inside the request that queues them (tests/jobs start a real
        # worker where that matters); uploads wait in the system's temporary folder.
        jobs_url="immediate",
        jobs_folder=Path(tempfile.gettempdir()) / "tracker-test-jobs",
    )
    return config.with_changes(**changes) if changes else config


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    application = create_app(make_config(database_url))
    yield application
    application.extensions["tracker.db"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def make_user(app: Flask):  # type: ignore[no-untyped-def]
    """Create an account directly through the service (audited like any other)."""

    def make(role: Role, username: str | None = None, password: str = PASSWORD) -> Account:
        return factories.user(app, role, username, password=password)

    return make


@pytest.fixture
def stocked(app: Flask, tmp_path: Path, request: pytest.FixtureRequest) -> Flask:
    """The app with a stock of returned items, imported (on :data:`tests.factories.TODAY`)
    from the CSV lines that a module or a test names with a marker:
    ``pytestmark = pytest.mark.stock(HEADER, ROWS, actor="clerk1")``."""
    marker = request.node.get_closest_marker("stock")
    assert marker is not None, "mark the module or test with pytest.mark.stock(HEADER, ROWS)"
    header, rows = marker.args
    actor = marker.kwargs.get("actor", "officer")
    factories.import_csv(app, tmp_path, "\n".join([header, *rows]) + "\n", actor=actor)
    return app


@pytest.fixture
def logged_in(client: FlaskClient, make_user):  # type: ignore[no-untyped-def]
    """``logged_in(Role.CLERK)`` → a client logged in as a new user of that role."""

    def as_role(role: Role) -> FlaskClient:
        account = make_user(role)
        response = login(client, account)
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return as_role
