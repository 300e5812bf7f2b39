"""Shared by the backup, restore and crash tests (issue 17): extra PostgreSQL databases, row
counts, the consistency a drill checks, and clerks handing cards over while something else
happens."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from tests import factories
from tracker.clock import now_utc
from tracker.db import Database
from tracker.domain.codes import ReturnReason
from tracker.domain.identity import Evidence, RecipientKind
from tracker.models import AuditEvent, Envelope, Handover, HandoverItem, Item
from tracker.services import audit, handover

SELF_WITH_PASSPORT = Evidence(recipient_kind=RecipientKind.SELF, documents=("passport",))


@contextmanager
def extra_postgres_database(base_url: str, suffix: str) -> Iterator[str]:
    """An empty database next to the test one (``<test db>_<suffix>[_gwN]``), dropped after."""
    url = make_url(base_url)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    name = f"{url.database}_{suffix}" + (f"_{worker}" if worker else "")
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def counts(url: str) -> dict[str, int]:
    """Rows a half-finished import or handover would leave behind."""
    database = Database(url)
    try:
        with database.read_session() as session:
            return {
                "envelopes": session.scalar(select(func.count()).select_from(Envelope)) or 0,
                "items": session.scalar(select(func.count()).select_from(Item)) or 0,
                "handovers": session.scalar(select(func.count()).select_from(Handover)) or 0,
                "handover_items": session.scalar(select(func.count()).select_from(HandoverItem))
                or 0,
                "audit_events": session.scalar(select(func.count()).select_from(AuditEvent)) or 0,
            }
    finally:
        database.dispose()


def consistency_problems(url: str) -> list[str]:
    """Every handover has its items and its one ``handover.create`` event, every handed-over
    card its handover, and the chain verifies; what is wrong, or nothing."""
    database = Database(url)
    problems: list[str] = []
    try:
        with database.read_session() as session:
            handovers = set(session.scalars(select(Handover.id)))
            with_items = set(session.scalars(select(HandoverItem.handover_id).distinct()))
            events = session.scalars(
                select(AuditEvent.object_id).where(AuditEvent.action == "handover.create")
            ).all()
            handed = set(session.scalars(select(Item.id).where(Item.status == "handed_over")).all())
            linked = set(session.scalars(select(HandoverItem.item_id)))
            if handovers - with_items:
                problems.append(f"handovers without items: {sorted(handovers - with_items)}")
            if sorted(events) != sorted(str(h) for h in handovers):
                problems.append(f"handover events {sorted(events)} ≠ handovers {sorted(handovers)}")
            if handed != linked:
                problems.append(f"handed-over items {len(handed)} ≠ handover items {len(linked)}")
            result = audit.verify_chain(session)
            if not result.ok:
                problems.append(f"chain broken at {result.broken_seq}: {result.problem}")
    finally:
        database.dispose()
    return problems


def cards(database: Database, count: int, series: int = 4) -> list[int]:
    """``count`` single-item envelopes in custody; their item ids."""
    ids: list[int] = []
    for n in range(count):
        ids += factories.envelope(database, n, series=series, reason=ReturnReason.TENKYO_FUMEI)
    return ids


@dataclass
class Clerks:
    """Clerks handing cards over, one transaction each, on threads, until told to stop."""

    url: str
    items: list[int]
    clerks: int = 3
    #: Seconds between two handovers of one clerk: the work must outlast a quick backup.
    pause: float = 0.05
    done: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        database = Database(self.url)
        self._database = database
        for n in range(self.clerks):
            mine = self.items[n :: self.clerks]
            thread = threading.Thread(target=self._work, args=(database, n, mine), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _work(self, database: Database, n: int, mine: list[int]) -> None:
        for item in mine:
            if self.stop.is_set():
                return
            try:
                with database.session_scope() as session:
                    handover.hand_over(
                        session,
                        actor=f"clerk{n}",
                        item_ids=[item],
                        evidence=SELF_WITH_PASSPORT,
                        now=now_utc(),
                        today=factories.TODAY,
                    )
            except Exception as error:  # noqa: BLE001 — reported by the test
                with self._lock:
                    self.errors.append(f"{type(error).__name__}: {error}")
                return
            with self._lock:
                self.done.append(item)
            self.stop.wait(self.pause)

    def finish(self) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join(timeout=60)
        self._database.dispose()
