"""Reading the audit log (SPEC §8): filters, keyset pages, an item's history, exports.

Date filters are turned into a range of sequence numbers first (two index look-ups), so every
page is an index range scan on the primary key however long the log grows.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, and_, or_, select, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from tracker.clock import JST
from tracker.db import streamed
from tracker.domain.chain import canonical_json
from tracker.domain.codes import Outcome
from tracker.domain.control import envelope_control_no, item_control_no, parse_control_no
from tracker.models import (
    AuditEvent,
    DisposalBatchItem,
    HandoverItem,
    Item,
    Remailing,
    ReservationItem,
)
from tracker.services.protection import Protected, mask_addresses

PAGE_SIZE = 50
OUTCOMES = tuple(Outcome)


@dataclass(frozen=True)
class AuditFilter:
    since: date | None = None  # JST, inclusive
    until: date | None = None  # JST, inclusive
    actor: str = ""
    action: str = ""  # exact, or a prefix ending in "." (e.g. "handover.")
    subject: str = ""  # a control number (envelope or item)
    outcome: str = ""

    def active(self) -> bool:
        return any((self.since, self.until, self.actor, self.action, self.subject, self.outcome))


def _jst_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=JST)


def _seq_bounds(session: Session, f: AuditFilter) -> tuple[int | None, int | None]:
    """Events are appended in time order under the chain lock, so a time range is a seq range:
    the first event at or after the start and the last one before the end (index seeks)."""
    low = high = None
    if f.since is not None:
        low = session.scalar(
            select(AuditEvent.seq)
            .where(AuditEvent.occurred_at >= _jst_midnight(f.since))
            .order_by(AuditEvent.occurred_at, AuditEvent.seq)
            .limit(1)
        )
        if low is None:
            # Nothing that late: an empty range. (It was seq >= 2**62, which PostgreSQL
            # refuses for an INTEGER column: a 500 for any date after the last event.)
            return 1, 0
    if f.until is not None:
        high = session.scalar(
            select(AuditEvent.seq)
            .where(AuditEvent.occurred_at < _jst_midnight(f.until + timedelta(days=1)))
            .order_by(AuditEvent.occurred_at.desc(), AuditEvent.seq.desc())
            .limit(1)
        )
        high = high if high is not None else 0
    return low, high


def subject_condition(session: Session, subject: str) -> ColumnElement[bool] | None:
    """Events about an item or envelope: itself, its envelope, its handovers and batches."""
    parsed = parse_control_no(subject)
    if parsed is None:
        return None
    envelope_id, position = parsed
    items: list[int]
    if position is None:
        items = list(session.scalars(select(Item.id).where(Item.envelope_id == envelope_id)))
    else:
        # By the item's own control number: a re-mailed card that came back keeps it while
        # a new envelope holds it (issue 13).
        items = list(
            session.scalars(
                select(Item.id).where(
                    Item.control_no == item_control_no(envelope_control_no(envelope_id), position)
                )
            )
        )
    handovers = list(
        session.scalars(
            select(HandoverItem.handover_id).where(HandoverItem.item_id.in_(items)).distinct()
        )
    )
    batches = list(
        session.scalars(
            select(DisposalBatchItem.batch_id)
            .where(DisposalBatchItem.item_id.in_(items))
            .distinct()
        )
    )

    reservations = list(  # 受取予約 (issue 15): booked, viewed, closed
        session.scalars(
            select(ReservationItem.reservation_id)
            .where(ReservationItem.item_id.in_(items))
            .distinct()
        )
    )

    def about(kind: str, ids: list[int]) -> Select[int]:
        return select(AuditEvent.seq).where(
            AuditEvent.object_type == kind, AuditEvent.object_id.in_([str(i) for i in ids])
        )

    # seq IN (a UNION): each part is an index range on (object_type, object_id, seq); an OR
    # would let the planner walk the whole log backwards looking for the few matches.
    return AuditEvent.seq.in_(
        union_all(
            about("envelope", [envelope_id]),
            about("item", items),
            about("handover", handovers),
            about("disposal_batch", batches),
            about("reservation", reservations),
        )
    )


def statement(session: Session, f: AuditFilter) -> Select[AuditEvent]:
    query = select(AuditEvent)
    low, high = _seq_bounds(session, f)
    if low is not None:
        query = query.where(AuditEvent.seq >= low)
    if high is not None:
        query = query.where(AuditEvent.seq <= high)
    if f.actor:
        query = query.where(AuditEvent.actor == f.actor)
    if f.action:
        if f.action.endswith("."):
            query = query.where(AuditEvent.action.startswith(f.action, autoescape=True))
        else:
            query = query.where(AuditEvent.action == f.action)
    if f.outcome in OUTCOMES:
        query = query.where(AuditEvent.outcome == f.outcome)
    if f.subject:
        condition = subject_condition(session, f.subject)
        query = query.where(condition if condition is not None else AuditEvent.seq < 0)
    return query


@dataclass(frozen=True)
class Page:
    events: list[AuditEvent]
    next_before: int | None  # keyset: pass as ``before`` for the next (older) page


def page(
    session: Session, f: AuditFilter, before: int | None = None, size: int = PAGE_SIZE
) -> Page:
    query = statement(session, f)
    if before is not None:
        query = query.where(AuditEvent.seq < before)
    rows = list(session.scalars(query.order_by(AuditEvent.seq.desc()).limit(size + 1)))
    more = len(rows) > size
    rows = rows[:size]
    return Page(rows, rows[-1].seq if more and rows else None)


def iter_events(session: Session, f: AuditFilter, batch_size: int = 2000) -> Iterator[AuditEvent]:
    """All matching events, oldest first, streamed (for exports)."""
    result = streamed(session, statement(session, f).order_by(AuditEvent.seq), batch_size)
    try:
        yield from result.scalars()
    finally:
        result.close()


def history(session: Session, item: Item) -> list[AuditEvent]:
    """An item's whole timeline, from intake to handover or destruction (issue #6)."""
    condition = subject_condition(session, item.control_no)
    # Every envelope that held it: the first return and, for a re-mailed card, the later ones.
    held_in = {item.envelope_id} | set(
        session.scalars(select(Remailing.from_envelope_id).where(Remailing.item_id == item.id))
    )
    envelope_condition = and_(
        AuditEvent.object_type == "envelope",
        AuditEvent.object_id.in_([str(e) for e in sorted(held_in)]),
    )
    where = or_(condition, envelope_condition) if condition is not None else envelope_condition
    return list(session.scalars(select(AuditEvent).where(where).order_by(AuditEvent.seq)))


EXPORT_HEADER = (
    "seq",
    "occurred_at_jst",
    "actor",
    "action",
    "object_type",
    "object_id",
    "outcome",
    "details",
    "prev_hash",
    "hash",
)


def export_row(event: AuditEvent, protected: Protected | None = None) -> list[Any]:
    """One CSV row. For an event about a protected person's envelope or item the addresses in
    its details are masked (issue 14), so such a row no longer reproduces its hash: the chain
    is verified with ``tracker audit-verify``, never from an export."""
    details = event.details
    if protected is not None and protected.covers(event.object_type, event.object_id):
        details = canonical_json(mask_addresses(json.loads(event.details or "{}")))
    return [
        event.seq,
        event.occurred_at.astimezone(JST).isoformat(timespec="seconds"),
        event.actor,
        event.action,
        event.object_type or "",
        event.object_id or "",
        event.outcome,
        details,
        event.prev_hash,
        event.hash,
    ]
