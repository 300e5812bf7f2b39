"""The only place that reads the clock. "Today" is the date in Asia/Tokyo (SPEC §3)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

JST = ZoneInfo("Asia/Tokyo")


def now_utc() -> datetime:
    return datetime.now(UTC)


def today_jst(moment: datetime | None = None) -> date:
    """The calendar date in Japan, never the server's UTC date."""
    return (moment or now_utc()).astimezone(JST).date()


def to_jst(moment: datetime) -> datetime:
    return moment.astimezone(JST)
