"""Database engine and sessions, for SQLite (embedded default) and PostgreSQL (production).

One :class:`Database` per app. Web requests get one session each (``db.session``): one unit of
work, committed once when the view has returned (:meth:`Database.commit_request`, called by the
app) and rolled back on any exception, so nothing half-written survives an error and no view
can forget to commit. A part that may be refused runs in :meth:`Database.attempt`. CLI commands
use :meth:`Database.session_scope`, which commits once at the end of the command.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import g, has_app_context, has_request_context, request
from sqlalchemy import Connection, Engine, Executable, Result, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

log = logging.getLogger(__name__)

#: SQLite page cache per connection (SQLite's default is 2 MiB); the bulk import raises it.
SQLITE_CACHE_KIB = 8 * 1024

#: How long a SQLite connection waits for another writer's lock before giving up (≥ 5 s).
SQLITE_BUSY_TIMEOUT_MS = 30_000

#: Execution option marking a read-only unit of work (long scans, health checks, exports).
READ_ONLY = "tracker_read_only"
#: Execution option marking work that reads first and may write later (GET requests, the
#: session check, imports): on SQLite it takes the write lock only when it writes.
READ_FIRST = "tracker_read_first"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine with the per-dialect settings the tracker relies on.

    ``hide_parameters``: SQL errors end up in the server log, and their bound values would be
    names, birth dates and password hashes (logs never hold personal data or secrets).
    """
    kwargs.setdefault("hide_parameters", True)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            kwargs.setdefault("poolclass", StaticPool)
        else:
            _create_private(Path(parsed.database))
        kwargs.setdefault("connect_args", {}).setdefault("timeout", 30)
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    # The audit chain's append lock relies on each statement seeing the latest commit.
    kwargs.setdefault("isolation_level", "READ COMMITTED")
    return create_engine(url, **kwargs)


def _create_private(path: Path) -> None:
    """Create the SQLite file readable by its owner only (0600): it holds names and birth
    dates. SQLite gives the ``-wal`` and ``-shm`` files the database file's permissions."""
    if path.exists() or str(path).startswith("file:"):
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with suppress(FileExistsError):  # another process created it a moment ago
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _configure_sqlite(engine: Engine) -> None:
    """Foreign keys on, WAL, and a write lock taken only by work that writes.

    SQLite serialises writers. A deferred transaction that reads and then writes fails with
    "database is locked" (no retry is possible) when another writer committed in between.
    So work that changes state begins ``BEGIN IMMEDIATE``: writers queue on ``busy_timeout``
    instead, which is also what serialises audit-chain appends on SQLite. Work that mostly
    reads (every GET request, the login check, an import's validation and staging) begins
    ``BEGIN DEFERRED`` and never blocks or waits for a writer in WAL mode; before its first
    write it is *promoted* (:func:`begin_writing`): the read transaction ends and a write
    transaction begins, so it reads the newest data before writing. Audit appends promote
    explicitly (they read the chain head first); any other ORM or Core INSERT, UPDATE or
    DELETE promotes on its way to the database.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL, not NORMAL: in WAL mode NORMAL may lose the last commits on a power cut (the
        # WAL is not synced at each commit), and a handover the counter confirmed must stay
        # recorded (issue 17). The cost is one fsync per commit.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        options = conn.get_execution_options()
        deferred = options.get(READ_ONLY, False) or options.get(READ_FIRST, False)
        conn.exec_driver_sql("BEGIN DEFERRED" if deferred else "BEGIN IMMEDIATE")
        conn.info[_READING] = options.get(READ_FIRST, False)

    @event.listens_for(engine, "checkin")
    def _forget_temporary_tables(dbapi_connection: Any, _record: Any) -> None:
        """A pooled connection keeps its TEMP tables, and an import's staging table holds
        names and birth dates: none may outlive the work that made it (a refused import
        whose staging was committed by a promotion, for one)."""
        if dbapi_connection is None:
            return
        names = [
            row[0]
            for row in dbapi_connection.execute(
                "SELECT name FROM sqlite_temp_master WHERE type = 'table'"
            )
        ]
        for name in names:
            dbapi_connection.execute(f'DROP TABLE IF EXISTS temp."{name}"')

    @event.listens_for(engine, "before_cursor_execute")
    def _before_write(
        conn: Any, _cursor: Any, _statement: Any, _params: Any, context: Any, _many: bool
    ) -> None:
        if conn.info.get(_READING) and context is not None and context.is_crud:
            _promote(conn)


#: Key in a SQLite connection's ``info``: a read-first transaction not yet promoted to writing.
_READING = "tracker_reading"


def _promote(conn: Connection) -> None:
    if conn.in_nested_transaction():  # COMMIT would release the savepoint with everything
        raise RuntimeError("a read-first transaction must begin writing before a savepoint")
    conn.info[_READING] = False
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    dbapi.execute("COMMIT")  # only reads so far: nothing to lose
    dbapi.execute("BEGIN IMMEDIATE")


def streamed(session: Session, statement: Executable, batch_size: int) -> Result[Any]:
    """Execute ``statement`` for reading every row, ``batch_size`` rows at a time (a
    server-side cursor on PostgreSQL, SQLite's own stepping).

    PostgreSQL plans a cursor for its first tenth of rows (``cursor_tuple_fraction``), as if
    a screen were to show them: the disposal list of 166,556 of a million items then took
    6.2 s against 3.5 s planned for them all (issue 18). Every caller reads to the end, so the
    transaction plans for every row.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL cursor_tuple_fraction = 1"))
    return session.execute(statement, execution_options={"yield_per": batch_size})


def begin_writing(session: Session) -> None:
    """Make sure the session's transaction may write (see :func:`_configure_sqlite`).

    SQLite: a read-first transaction becomes a write transaction, waiting for the write lock;
    reads after this see every commit made before it. PostgreSQL: nothing to do.
    """
    conn = session.connection()
    if conn.dialect.name == "sqlite" and conn.info.get(_READING):
        _promote(conn)


@dataclass(frozen=True)
class DurabilitySetting:
    """One setting that decides whether a commit survives a crash or a power cut."""

    name: str
    value: str
    expected: str
    ok: bool


#: PostgreSQL settings that must be on: with any of them off, a crash can lose committed
#: transactions (synchronous_commit) or corrupt the database (fsync, full_page_writes).
POSTGRES_DURABILITY = ("fsync", "synchronous_commit", "full_page_writes")


def durability_settings(engine: Engine) -> list[DurabilitySetting]:
    """What a new connection of ``engine`` has (issue 17): SQLite's pragmas (WAL,
    ``synchronous=FULL``, foreign keys, busy timeout), PostgreSQL's crash-safety settings."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            raw = conn.connection.dbapi_connection
            assert raw is not None

            def pragma(name: str) -> str:
                return str(raw.execute(f"PRAGMA {name}").fetchone()[0])

            journal = pragma("journal_mode").lower()
            synchronous = pragma("synchronous")
            foreign_keys = pragma("foreign_keys")
            busy = pragma("busy_timeout")
            memory = journal == "memory" and engine.url.database in (None, "", ":memory:")
            return [
                DurabilitySetting("journal_mode", journal, "wal", journal == "wal" or memory),
                DurabilitySetting(
                    "synchronous",
                    _SQLITE_SYNCHRONOUS.get(synchronous, synchronous),
                    "full",
                    synchronous in ("2", "3"),
                ),
                DurabilitySetting("foreign_keys", foreign_keys, "1", foreign_keys == "1"),
                DurabilitySetting(
                    "busy_timeout", busy, "5000 以上", busy.isdigit() and int(busy) >= 5000
                ),
            ]
        if engine.dialect.name != "postgresql":
            return []
        rows: dict[str, str] = dict(
            conn.execute(
                text("SELECT name, setting FROM pg_settings WHERE name = ANY(:names)"),
                {"names": list(POSTGRES_DURABILITY)},
            ).all()
        )
        conn.rollback()
        return [
            DurabilitySetting(name, str(rows.get(name, "?")), "on", rows.get(name) == "on")
            for name in POSTGRES_DURABILITY
        ]


#: ``PRAGMA synchronous`` answers with a number.
_SQLITE_SYNCHRONOUS = {"0": "off", "1": "normal", "2": "full", "3": "extra"}


def warn_if_not_durable(engine: Engine) -> list[DurabilitySetting]:
    """Log a WARNING for each setting that puts committed work at risk (app and command
    start); never stops the start-up, and a database that does not answer is left to the
    commands and pages that need it. Only PostgreSQL is asked: SQLite's settings are set on
    every connection by this module (and checked by ``tracker doctor``), and asking would
    create the file of a database that a command is about to refuse."""
    if engine.dialect.name != "postgresql":
        return []
    try:
        settings = durability_settings(engine)
    except Exception:  # the check must not be what breaks a start
        log.debug("durability check skipped: the database did not answer", exc_info=True)
        return []
    bad = [s for s in settings if not s.ok]
    for setting in bad:
        log.warning(
            "DATABASE NOT CRASH-SAFE: %s is %s (should be %s); committed work can be lost"
            " on a crash or power cut. See docs/deployment.md (Serving and logs).",
            setting.name,
            setting.value,
            setting.expected,
        )
    return bad


class Database:
    """Owns the engine and hands out sessions."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.dialect = self.engine.dialect.name
        self._sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        self._read_sessionmaker = sessionmaker(
            self.engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False
        )
        self._read_first_sessionmaker = sessionmaker(
            self.engine.execution_options(**{READ_FIRST: True}), expire_on_commit=False
        )

    def new_session(self, *, read_first: bool = False) -> Session:
        """A session for a unit of work. ``read_first``: on SQLite, take the write lock only
        at the first write (:func:`begin_writing`), not at BEGIN."""
        return (self._read_first_sessionmaker if read_first else self._sessionmaker)()

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """A session for reading only: on SQLite it never takes the write lock."""
        session = self._read_sessionmaker()
        try:
            yield session
        finally:
            session.rollback()
            session.close()

    @property
    def session(self) -> Session:
        """The current request's (or app context's) session, created on first use."""
        if not has_app_context():
            raise RuntimeError("db.session needs an app context; use session_scope() instead")
        if "db_session" not in g:
            # GET and HEAD requests read, and at most append an audit event (a view of
            # personal data): they must not queue behind a long write, such as an import.
            read_first = has_request_context() and request.method in ("GET", "HEAD")
            g.db_session = self.new_session(read_first=read_first)
        session: Session = g.db_session
        return session

    def commit_request(self) -> None:
        """The request's one commit, after its view returned (the unit-of-work boundary)."""
        session: Session | None = g.get("db_session")
        if session is not None:
            session.commit()

    @contextmanager
    def attempt(self) -> Iterator[Session]:
        """A part of the request that may be refused: on an exception, what it wrote is undone
        (a SAVEPOINT) and the exception goes on; the rest of the request, such as the audit
        event of the refusal, still commits at the boundary."""
        with self.session.begin_nested():
            yield self.session

    def remove_session(self, exc: BaseException | None = None) -> None:
        """End of request: discard anything the view did not commit, then close."""
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            session.rollback()
            session.close()

    @contextmanager
    def session_scope(self, *, read_first: bool = False) -> Iterator[Session]:
        """A unit of work of its own: committed on success, rolled back on any exception (the
        CLI's boundary, and the session check's)."""
        session = self.new_session(read_first=read_first)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
