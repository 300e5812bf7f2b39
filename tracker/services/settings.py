"""Office settings kept as data (issue 12): read by the PDFs and the handover review.

A key without a row has its default, so a new database needs no seeding and an upgraded one
behaves as before: 熊本市, its My Number Center, 熊本市長 and weekdays 8:30–17:15.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.domain.chain import canonical_json
from tracker.domain.codes import AuditAction
from tracker.models import Setting
from tracker.services import audit

#: Monday=0 … Sunday=6 → (opens, closes), JST; a day missing from the map is closed.
OpeningHours = dict[int, tuple[time, time]]

DEFAULT_MUNICIPALITY = "熊本市"
DEFAULT_OFFICE = "中央区役所1階 熊本市マイナンバーセンター"
DEFAULT_RECEIPT_ADDRESSEE = "熊本市長"
DEFAULT_OPENING_HOURS: OpeningHours = {day: (time(8, 30), time(17, 15)) for day in range(5)}


@dataclass(frozen=True)
class OfficeSettings:
    """What the office prints on paper and how long its counter is open."""

    municipality: str = DEFAULT_MUNICIPALITY
    office: str = DEFAULT_OFFICE
    #: The addressee of a receipt (受領書の宛先), e.g. 熊本市長.
    receipt_addressee: str = DEFAULT_RECEIPT_ADDRESSEE
    opening_hours: OpeningHours = field(default_factory=lambda: dict(DEFAULT_OPENING_HOURS))


def _hours_to_json(hours: OpeningHours) -> dict[str, list[str]]:
    return {
        str(day): [opens.strftime("%H:%M"), closes.strftime("%H:%M")]
        for day, (opens, closes) in sorted(hours.items())
    }


def _hours_from_json(value: dict[str, list[str]]) -> OpeningHours:
    return {
        int(day): (time.fromisoformat(opens), time.fromisoformat(closes))
        for day, (opens, closes) in value.items()
    }


def _as_json(settings: OfficeSettings) -> dict[str, Any]:
    return {
        "municipality": settings.municipality,
        "office": settings.office,
        "receipt_addressee": settings.receipt_addressee,
        "opening_hours": _hours_to_json(settings.opening_hours),
    }


def load(session: Session) -> OfficeSettings:
    """The settings in force: stored values over defaults."""
    stored = {row.key: json.loads(row.value) for row in session.scalars(select(Setting))}
    defaults = OfficeSettings()
    return OfficeSettings(
        municipality=stored.get("municipality", defaults.municipality),
        office=stored.get("office", defaults.office),
        receipt_addressee=stored.get("receipt_addressee", defaults.receipt_addressee),
        opening_hours=(
            _hours_from_json(stored["opening_hours"])
            if "opening_hours" in stored
            else defaults.opening_hours
        ),
    )


def save(session: Session, new: OfficeSettings, *, actor: str, now: datetime) -> list[str]:
    """Store what changed and audit it with before/after; returns the changed keys.

    Settings hold no personal data, so the before/after values go into the event as they are.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    old_values = _as_json(load(session))
    new_values = _as_json(new)
    changed = [key for key in new_values if new_values[key] != old_values[key]]
    for key in changed:
        row = session.get(Setting, key)
        value = canonical_json(new_values[key])
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
            action=AuditAction.SETTINGS_CHANGE,
            object_type="settings",
            details={
                "changed": changed,
                "before": {key: old_values[key] for key in changed},
                "after": {key: new_values[key] for key in changed},
            },
        )
    session.flush()
    return changed
