"""The retention periods of the tracker's own records, kept as data (issue 16 part 2).

Stored in the ``settings`` table like the office settings (one row per class, key
``record_retention.<class>``, the number as JSON); a class without a row has its default
(:data:`tracker.domain.record_retention.PERIODS`), so a new or upgraded database needs no
seeding. Records officers change them; each change is audited with the numbers before and
after — periods, never personal values. What a purge as of a day would touch is
:func:`tracker.services.purge.preview`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.domain.chain import canonical_json
from tracker.domain.codes import AuditAction, ObjectType, RecordClass
from tracker.domain.record_retention import PERIODS, checked_period
from tracker.models import Setting
from tracker.services import audit

KEY_PREFIX = "record_retention."

#: A class → its period (years or days, see PERIODS).
Periods = dict[RecordClass, int]


def defaults() -> Periods:
    return {record_class: period.default for record_class, period in PERIODS.items()}


def load(session: Session) -> Periods:
    """The periods in force: stored values over defaults."""
    periods = defaults()
    rows = session.scalars(select(Setting).where(Setting.key.startswith(KEY_PREFIX)))
    for row in rows:
        name = row.key.removeprefix(KEY_PREFIX)
        if name in RecordClass.__members__.values():
            periods[RecordClass(name)] = int(json.loads(row.value))
    return periods


def save(
    session: Session, new: Mapping[RecordClass, object], *, actor: str, now: datetime
) -> list[RecordClass]:
    """Store the periods that changed and audit them; returns the changed classes.

    Every value is checked first (:class:`~tracker.domain.record_retention.PeriodError`
    names the first wrong one), so a refused form changes nothing.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    checked = {
        record_class: checked_period(record_class, new[record_class]) for record_class in new
    }
    old = load(session)
    changed = [c for c in RecordClass if c in checked and checked[c] != old[c]]
    for record_class in changed:
        key = KEY_PREFIX + record_class.value
        row = session.get(Setting, key)
        value = canonical_json(checked[record_class])
        if row is None:
            session.add(
                Setting(key=key, value=value, updated_at=now.astimezone(UTC), updated_by=actor)
            )
        else:
            row.value, row.updated_at, row.updated_by = value, now.astimezone(UTC), actor
    if changed:
        audit.record(
            session,
            actor=actor,
            action=AuditAction.RECORD_RETENTION_CHANGE,
            object_type=ObjectType.SETTINGS,
            details={
                "changed": [c.value for c in changed],
                "before": {c.value: old[c] for c in changed},
                "after": {c.value: checked[c] for c in changed},
                "units": {c.value: PERIODS[c].unit for c in changed},
            },
        )
    session.flush()
    return changed
