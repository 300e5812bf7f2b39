"""Erasing personal data past its keeping time (``tracker purge``, SPEC §7), as a list of steps.

Each :class:`Step` counts what it would erase as of a day and erases it; :func:`run` runs them
all in one transaction and writes one ``PURGE_RUN`` audit event with the counts (a dry run
counts and writes nothing). Issue 15 brings the first step; issue 16 (pseudonymising closed
records past their retention) adds its steps to :data:`STEPS` — nothing else has to change.

Steps:
- ``reservation_phones``: a reservation's call-back number is kept until the day after its
  slot (a clerk may need to call back about a missed visit), then erased: ``phone`` becomes
  empty and ``phone_erased_at`` says when. The reservation, its status and the slot's counts
  stay. As of D, the numbers of slots on days before D − 1 go.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, select, update
from sqlalchemy.orm import Session

from tracker.domain.codes import AuditAction
from tracker.models import PickupDay, PickupSlot, Reservation
from tracker.services import audit

#: Days a call-back number is kept after the slot's day.
PHONE_KEPT_DAYS = 1


@dataclass(frozen=True)
class Step:
    """One kind of data to erase: ``count(session, as_of)`` and ``erase(session, as_of, now)``
    (returns the rows changed). ``name`` is the key of its count on the counts line."""

    name: str
    count: Callable[[Session, date], int]
    erase: Callable[[Session, date, datetime], int]


def _phones_due(as_of: date) -> ColumnElement[bool]:
    cutoff = as_of - timedelta(days=PHONE_KEPT_DAYS)
    past_slots = (select(PickupSlot.id).join(PickupDay, PickupSlot.day_id == PickupDay.id)).where(
        PickupDay.day < cutoff
    )
    return and_(Reservation.phone.is_not(None), Reservation.slot_id.in_(past_slots))


def _count_phones(session: Session, as_of: date) -> int:
    return int(session.scalar(select(func.count(Reservation.id)).where(_phones_due(as_of))) or 0)


def _erase_phones(session: Session, as_of: date, now: datetime) -> int:
    erased: int = session.execute(  # type: ignore[attr-defined]  # a CursorResult
        update(Reservation)
        .where(_phones_due(as_of))
        .values(phone=None, phone_erased_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    return erased


STEPS: tuple[Step, ...] = (Step("reservation_phones", _count_phones, _erase_phones),)


@dataclass(frozen=True)
class Summary:
    as_of: date
    counts: dict[str, int]
    dry_run: bool

    def line(self) -> str:
        """The counts line the command prints: ``as_of=… reservation_phones=N [dry_run]``."""
        counts = " ".join(f"{name}={n}" for name, n in self.counts.items())
        return f"as_of={self.as_of.isoformat()} {counts}{' dry_run' if self.dry_run else ''}"


def run(
    session: Session,
    *,
    actor: str,
    as_of: date,
    now: datetime,
    dry_run: bool = False,
    steps: tuple[Step, ...] = STEPS,
) -> Summary:
    """Run every step as of ``as_of``; flushes, never commits. A dry run only counts."""
    if dry_run:
        return Summary(as_of, {s.name: s.count(session, as_of) for s in steps}, True)
    counts = {s.name: s.erase(session, as_of, now) for s in steps}
    audit.record(
        session,
        actor=actor,
        action=AuditAction.PURGE_RUN,
        details={"as_of": as_of.isoformat(), **counts},
    )
    return Summary(as_of, counts, False)
