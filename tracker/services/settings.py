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
from tracker.domain.errors import InputError
from tracker.domain.records import check_free_text
from tracker.models import Setting
from tracker.services import audit

#: Monday=0 … Sunday=6 → (opens, closes), JST; a day missing from the map is closed.
OpeningHours = dict[int, tuple[time, time]]

DEFAULT_MUNICIPALITY = "熊本市"
DEFAULT_OFFICE = "中央区役所1階 熊本市マイナンバーセンター"
DEFAULT_RECEIPT_ADDRESSEE = "熊本市長"
#: The office's contact printed on notices (問い合わせ先, issue 15): an example, to be set.
DEFAULT_CONTACT = "熊本市 中央区役所 区民課 マイナンバーセンター 電話 096-328-2288"
DEFAULT_OPENING_HOURS: OpeningHours = {day: (time(8, 30), time(17, 15)) for day in range(5)}
#: A re-mailed card not returned within this many days is closed as delivered (issue 13).
DEFAULT_REMAIL_CLOSE_DAYS = 30
#: Every location is checked (棚卸) at least this often, in months (issue 13).
DEFAULT_STOCK_CHECK_INTERVAL_MONTHS = 6
#: Bounds for the two numbers above.
REMAIL_CLOSE_DAYS_RANGE = range(1, 366)
STOCK_CHECK_INTERVAL_MONTHS_RANGE = range(1, 61)


@dataclass(frozen=True)
class OfficeSettings:
    """What the office prints on paper and how long its counter is open."""

    municipality: str = DEFAULT_MUNICIPALITY
    office: str = DEFAULT_OFFICE
    #: The addressee of a receipt (受領書の宛先), e.g. 熊本市長.
    receipt_addressee: str = DEFAULT_RECEIPT_ADDRESSEE
    opening_hours: OpeningHours = field(default_factory=lambda: dict(DEFAULT_OPENING_HOURS))
    #: Days after mailing without a return before a re-mailed card counts as delivered.
    remail_close_days: int = DEFAULT_REMAIL_CLOSE_DAYS
    #: Months between stock checks of a location; a location past it is overdue.
    stock_check_interval_months: int = DEFAULT_STOCK_CHECK_INTERVAL_MONTHS
    #: 問い合わせ先 on notices: section, address, phone number (issue 15).
    notice_contact: str = DEFAULT_CONTACT


class SettingsError(InputError):
    """A setting that cannot be stored; ``field`` names it (``municipality``, ``hours-0`` …)."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


#: field → (label in messages, the length limit of :func:`check_free_text` it uses)
_TEXT_FIELDS = {
    "municipality": ("自治体名", "label"),
    "office": ("事務所名", "place"),
    "receipt_addressee": ("受領書の宛先", "person"),
    "notice_contact": ("問い合わせ先", "place"),
}
WEEKDAYS = ("月曜日", "火曜日", "水曜日", "木曜日", "金曜日", "土曜日", "日曜日")


def checked(settings: OfficeSettings) -> OfficeSettings:
    """The settings with their text cleaned, or :class:`SettingsError` naming the first
    problem: empty or over-long text, control characters, a day that closes before it opens."""
    cleaned: dict[str, str] = {}
    for name, (label, limit_name) in _TEXT_FIELDS.items():
        try:
            cleaned[name] = check_free_text(
                getattr(settings, name), limit_name, required=True, label=label
            )
        except InputError as error:
            raise SettingsError(str(error), name) from None
    for day, (opens, closes) in settings.opening_hours.items():
        if day not in range(7):
            raise SettingsError(f"曜日の番号が正しくありません（{day}）", "opening_hours")
        if not opens < closes:
            raise SettingsError(
                f"{WEEKDAYS[day]}の窓口時間: 終了（{closes:%H:%M}）は"
                f"開始（{opens:%H:%M}）より後にしてください",
                f"hours-{day}",
            )
    if settings.remail_close_days not in REMAIL_CLOSE_DAYS_RANGE:
        raise SettingsError(
            "再送付の完了までの日数は1〜365日で指定してください", "remail_close_days"
        )
    if settings.stock_check_interval_months not in STOCK_CHECK_INTERVAL_MONTHS_RANGE:
        raise SettingsError(
            "棚卸の間隔は1〜60か月で指定してください", "stock_check_interval_months"
        )
    return OfficeSettings(
        opening_hours=dict(settings.opening_hours),
        remail_close_days=settings.remail_close_days,
        stock_check_interval_months=settings.stock_check_interval_months,
        **cleaned,
    )


def hours_in_words(settings: OfficeSettings) -> str:
    """The counter hours in words for letters: 「月曜日〜金曜日 8:30〜17:15」; runs of days
    with the same hours are joined (「・」 between runs)."""
    runs: list[tuple[int, int, tuple[time, time]]] = []
    for day in range(7):
        hours = settings.opening_hours.get(day)
        if hours is None:
            continue
        if runs and runs[-1][1] == day - 1 and runs[-1][2] == hours:
            runs[-1] = (runs[-1][0], day, hours)
        else:
            runs.append((day, day, hours))
    if not runs:
        return "（受付時間の設定がありません）"

    def clock(t: time) -> str:
        return f"{t.hour}:{t.minute:02d}"

    parts = []
    for first, last, (opens, closes) in runs:
        days = WEEKDAYS[first] if first == last else f"{WEEKDAYS[first]}〜{WEEKDAYS[last]}"
        parts.append(f"{days} {clock(opens)}〜{clock(closes)}")
    return "・".join(parts) + "（祝日・年末年始を除く）"


def is_open(settings: OfficeSettings, moment: datetime) -> bool:
    """Whether the counter is open at ``moment`` (a JST wall-clock time)."""
    hours = settings.opening_hours.get(moment.weekday())
    return hours is not None and hours[0] <= moment.time() <= hours[1]


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
        "remail_close_days": settings.remail_close_days,
        "stock_check_interval_months": settings.stock_check_interval_months,
        "notice_contact": settings.notice_contact,
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
        remail_close_days=stored.get("remail_close_days", defaults.remail_close_days),
        stock_check_interval_months=stored.get(
            "stock_check_interval_months", defaults.stock_check_interval_months
        ),
        notice_contact=stored.get("notice_contact", defaults.notice_contact),
    )


def save(session: Session, new: OfficeSettings, *, actor: str, now: datetime) -> list[str]:
    """Store what changed and audit it with before/after; returns the changed keys.

    Refuses what :func:`checked` refuses (:class:`SettingsError`), before writing anything.
    Settings hold no personal data, so the before/after values go into the event as they are.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    new = checked(new)
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
