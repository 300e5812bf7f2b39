"""Append to and verify the audit chain (SPEC §8).

Appends happen inside the caller's transaction, so an event exists if and only if the change
it records was committed. Appends are serialised so concurrent writers can never fork the
chain: PostgreSQL takes a transaction-scoped advisory lock; SQLite already holds its single
writer lock from ``BEGIN IMMEDIATE`` (see ``tracker.db``).
"""

from __future__ import annotations

import getpass
import json
import multiprocessing
import os
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from functools import partial
from typing import Any

from sqlalchemy import String, case, func, select, text, type_coerce
from sqlalchemy import event as orm_event
from sqlalchemy.orm import Session

from tracker.clock import now_utc
from tracker.db import Database, begin_writing, streamed
from tracker.domain import digests
from tracker.domain.chain import (
    GENESIS_HASH,
    ROW_COLUMNS,
    ChainEvent,
    Checkpoint,
    Segment,
    Verification,
    canonical_json,
    join_segments,
    verify_rows,
    verify_segment,
)
from tracker.domain.codes import AuditAction, Outcome
from tracker.models import AuditEvent

#: Arbitrary constant naming the advisory lock that guards appends on PostgreSQL.
AUDIT_APPEND_LOCK_KEY = 0x7472_6163_6B65_72  # "tracker"


class PersonalDetails(ValueError):
    """Audit details that would put a personal value into the chain (issue 16)."""


#: The installation's digest key (``Config.digest_key()``), installed by the app factory and
#: by the command line before any service runs; tests install their own.
_digest_key: bytes | None = None


def use_digest_key(key: bytes) -> None:
    """Install the key every keyed digest of this process is made with."""
    global _digest_key
    if len(key) < 16:
        raise ValueError("the audit digest key must be at least 16 bytes")
    _digest_key = key


def digest_key() -> bytes:
    if _digest_key is None:
        raise RuntimeError("no audit digest key installed (tracker.services.audit.use_digest_key)")
    return _digest_key


def digest(value: Any) -> str:
    """The keyed digest (hex) of a personal value, as audit details hold it."""
    return digests.keyed_digest(digest_key(), value)


def digest_matches(stored: str, candidate: Any) -> bool:
    """Whether ``candidate`` is the value behind ``stored`` (computed here, key never leaves)."""
    return digests.matches(digest_key(), stored, candidate)


def cli_actor() -> str:
    """Actor name for a command run without ``--actor`` (SPEC §7)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"cli:{user}"


def record(
    session: Session,
    *,
    actor: str,
    action: AuditAction,
    object_type: str | None = None,
    object_id: str | int | None = None,
    outcome: str = "ok",
    details: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain and flush it. Never commits.

    ``details`` must not hold more personal data than the event needs, and never secrets.
    A key naming a personal field (:data:`tracker.domain.digests.PERSONAL_KEYS`, at any depth)
    must hold a keyed digest (:func:`digest`), or :class:`PersonalDetails` is raised: the
    chain can never be erased, so a name written into it could never be forgotten.
    """
    if outcome not in Outcome.__members__.values():
        raise ValueError(f"unknown audit outcome {outcome!r}")
    personal = digests.personal_keys_in(details or {}, action=str(action), outcome=outcome)
    if personal:
        raise PersonalDetails(
            f"audit details of {action} hold personal values under {', '.join(personal)}: "
            "write a digest (tracker.services.audit.digest) instead"
        )
    details_json = canonical_json(dict(details or {}))
    _lock_chain(session)
    head = session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    seq, prev_hash = (head.seq + 1, head.hash) if head else (1, GENESIS_HASH)
    chain_event = ChainEvent(
        seq=seq,
        occurred_at=now_utc(),
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        outcome=outcome,
        details=details_json,
        prev_hash=prev_hash,
    )
    event = AuditEvent(
        seq=chain_event.seq,
        occurred_at=chain_event.occurred_at,
        actor=chain_event.actor,
        action=chain_event.action,
        object_type=chain_event.object_type,
        object_id=chain_event.object_id,
        outcome=chain_event.outcome,
        details=chain_event.details,
        prev_hash=chain_event.prev_hash,
        hash=chain_event.compute_hash(),
    )
    session.add(event)
    session.flush()
    return event


#: Key in ``Session.info``: events to append when the session commits (:func:`record_at_commit`).
_AT_COMMIT = "tracker_audit_at_commit"


def record_at_commit(
    session: Session,
    *,
    actor: str,
    action: AuditAction,
    object_type: str | None = None,
    object_id: str | int | None = None,
    outcome: str = "ok",
    details: Mapping[str, Any] | None = None,
) -> None:
    """Append one event as :func:`record` does, but when ``session`` commits (issue 18).

    For events that record a reading (a page of personal data, a search): the event still
    exists if and only if the unit of work commits, and a web page is only sent after its
    commit, but the chain's lock (the advisory lock; SQLite's write lock) is held for the
    append and the commit only, not while the page is read and rendered. The details are
    checked now. Inside a savepoint the event is appended at once (a savepoint rolled back
    must take its events with it).
    """
    append = partial(
        record,
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        outcome=outcome,
        details=dict(details or {}),
    )
    if session.in_nested_transaction():
        append(session)
        return
    if outcome not in Outcome.__members__.values():
        raise ValueError(f"unknown audit outcome {outcome!r}")
    personal = digests.personal_keys_in(details or {}, action=str(action), outcome=outcome)
    if personal:
        raise PersonalDetails(
            f"audit details of {action} hold personal values under {', '.join(personal)}: "
            "write a digest (tracker.services.audit.digest) instead"
        )
    session.info.setdefault(_AT_COMMIT, []).append(append)


@orm_event.listens_for(Session, "before_commit")
def _append_at_commit(session: Session) -> None:
    for append in session.info.pop(_AT_COMMIT, None) or ():
        append(session)


@orm_event.listens_for(Session, "after_soft_rollback")
def _forget_at_rollback(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None:  # the whole unit of work, not a savepoint
        session.info.pop(_AT_COMMIT, None)


def _lock_chain(session: Session) -> None:
    """Serialise appends: PostgreSQL's advisory lock; SQLite's write lock, taken now if this
    transaction has only read so far (the head must be read under the lock)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_APPEND_LOCK_KEY})
    else:
        begin_writing(session)


def head_hash(session: Session) -> str:
    """Hash of the newest event (printed on disposal certificates)."""
    value = session.scalar(select(AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1))
    return value or GENESIS_HASH


def verify_chain(
    session: Session, batch_size: int = 5000, checkpoint: Checkpoint | None = None
) -> Verification:
    """Recompute the whole chain, streaming plain rows in ``seq`` order (bounded memory).

    No ORM objects: the columns are read as tuples, ``batch_size`` at a time (a server-side
    cursor on PostgreSQL; SQLite's cursor steps through the table as rows are fetched), and
    each event is canonicalised once (:func:`tracker.domain.chain.verify_rows`). The time is
    read as the text the chain hashes, formatted by PostgreSQL or from SQLite's stored text.
    """
    with _stored_rows(session, batch_size) as rows:
        return verify_rows(rows, checkpoint)


@contextmanager
def _stored_rows(
    session: Session, batch_size: int, low: int | None = None, high: int | None = None
) -> Iterator[Iterable[Any]]:
    """The events as :data:`ROW_COLUMNS` tuples in ``seq`` order, ``low <= seq < high``."""
    table = AuditEvent.__table__
    dialect = session.get_bind().dialect
    columns: list[Any] = [table.c[name] for name in ROW_COLUMNS]
    stored = table.c.occurred_at
    if dialect.name == "postgresql":
        columns[1] = func.to_char(func.timezone("UTC", stored), _PG_STAMP)
    else:  # SQLAlchemy's stored text rewritten; NULL when stored in another form
        text_form = type_coerce(stored, String)
        columns[1] = case(
            (
                text_form.op("GLOB")(_SQLITE_STAMP),
                func.substr(text_form, 1, 10) + "T" + func.substr(text_form, 12) + "Z",
            ),
            else_=None,
        )
    statement = select(*columns).order_by(table.c.seq)
    if low is not None:
        statement = statement.where(table.c.seq >= low)
    if high is not None:
        statement = statement.where(table.c.seq < high)
    result = streamed(session, statement, batch_size)
    rows: Iterable[Any] = result
    if dialect.name != "postgresql":
        rows = _read_other_stamps(session, rows)
    try:
        yield rows
    finally:
        result.close()  # verification may stop at the first break, mid-stream


#: Below this many events one process verifies the chain: starting others costs more.
PARALLEL_MIN_EVENTS = 50_000


def verify_chain_in_processes(
    url: str, processes: int | None = None, checkpoint: Checkpoint | None = None
) -> Verification:
    """:func:`verify_chain` with the ``seq`` range cut among ``processes`` processes (default:
    the CPUs, at most 8; one below :data:`PARALLEL_MIN_EVENTS` events), each reading and
    hashing its own part over its own connection, then joined in order
    (:func:`tracker.domain.chain.join_segments`: the same event and message as one walk).

    An event's hash covers its own content and its stored ``prev_hash`` only, so the parts are
    independent; the joins check the links between them. Events appended while it runs are
    past the range it read, as they would be past one walk's snapshot.
    """
    database = Database(url)
    try:
        with database.read_session() as session:
            newest = session.scalar(select(func.max(AuditEvent.seq))) or 0
            if processes is None:
                cpus = len(os.sched_getaffinity(0))
                processes = min(cpus, 8) if newest >= PARALLEL_MIN_EVENTS else 1
            if processes <= 1 or newest < 2:
                return verify_chain(session, checkpoint=checkpoint)
    finally:
        database.dispose()
    step = -(-newest // processes)  # ceiling division
    bounds: list[tuple[int, int | None]] = [(low, low + step) for low in range(1, newest + 1, step)]
    bounds[-1] = (bounds[-1][0], None)  # the last part reads to the end
    # fork: the workers need nothing from this process but these arguments, and start at
    # once (a spawned interpreter would import the app again).
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=len(bounds), mp_context=context) as pool:
        segments = list(
            pool.map(_verify_part, [(url, low, high, checkpoint) for low, high in bounds])
        )
    return join_segments(segments, checkpoint)


def _verify_part(task: tuple[str, int, int | None, Checkpoint | None]) -> Segment:
    """One worker: the events ``low <= seq < high`` over a connection of its own."""
    url, low, high, checkpoint = task
    database = Database(url)  # never a connection inherited from the parent
    try:
        with database.read_session() as session, _stored_rows(session, 5000, low, high) as rows:
            return verify_segment(rows, checkpoint)
    finally:
        database.dispose()


#: ``format_timestamp`` done by PostgreSQL: UTC, microseconds, ``Z``.
_PG_STAMP = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'

#: How SQLAlchemy stores a UTC wall time in SQLite (``2026-12-01 13:50:00.123456``).
_SQLITE_STAMP = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]"  # noqa: E501


def _read_other_stamps(session: Session, rows: Iterable[Any]) -> Iterator[Any]:
    """SQLite rows whose time was stored in another form: read through the model's column
    type, as the ORM would (a time that does not parse counts as altered)."""
    table = AuditEvent.__table__
    for row in rows:
        if row[1] is not None:
            yield row
            continue
        try:
            stamp = session.scalar(select(table.c.occurred_at).where(table.c.seq == row[0]))
        except (ValueError, TypeError, AttributeError):
            stamp = None
        yield (row[0], stamp, *row[2:])


def details_of(event: AuditEvent) -> dict[str, Any]:
    """The event's details as a dict (for display)."""
    value: dict[str, Any] = json.loads(event.details)
    return value
