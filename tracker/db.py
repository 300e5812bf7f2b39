"""Database engine and sessions, for SQLite (embedded default) and PostgreSQL (production).

One :class:`Database` per app. Web requests get one session each (``db.session``), committed
explicitly by the view and rolled back at the end of the request whatever happened, so nothing
half-written survives an error. CLI commands use :meth:`Database.session_scope`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import g, has_app_context
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

#: SQLite page cache per connection (SQLite's default is 2 MiB); the bulk import raises it.
SQLITE_CACHE_KIB = 8 * 1024

#: Execution option marking a read-only unit of work (long scans, health checks, exports).
READ_ONLY = "tracker_read_only"


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
        kwargs.setdefault("connect_args", {}).setdefault("timeout", 30)
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    # The audit chain's append lock relies on each statement seeing the latest commit.
    kwargs.setdefault("isolation_level", "READ COMMITTED")
    return create_engine(url, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    """Foreign keys on, WAL, and ``BEGIN IMMEDIATE`` for every transaction.

    SQLite serialises writers. A deferred transaction that reads and then writes fails with
    "database is locked" (no retry is possible) when another writer committed in between, and
    almost every request here writes (an audit event for each view of personal data, SPEC §8).
    Taking the write lock at BEGIN makes writers queue on ``busy_timeout`` instead; readers in
    WAL mode are never blocked. This is also what serialises audit-chain appends on SQLite.
    Read-only work (:meth:`Database.read_session`) begins DEFERRED, so a long scan never
    holds the write lock; work must therefore not hold a transaction open while it computes
    something slow (password hashing is done outside any transaction, for example).
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        read_only = conn.get_execution_options().get(READ_ONLY, False)
        conn.exec_driver_sql("BEGIN DEFERRED" if read_only else "BEGIN IMMEDIATE")


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

    def new_session(self) -> Session:
        return self._sessionmaker()

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
            g.db_session = self.new_session()
        session: Session = g.db_session
        return session

    def remove_session(self, exc: BaseException | None = None) -> None:
        """End of request: discard anything the view did not commit, then close."""
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            session.rollback()
            session.close()

    @contextmanager
    def session_scope(self) -> Iterator[Session]:
        """A session committed on success and rolled back on any exception (CLI boundary)."""
        session = self.new_session()
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
