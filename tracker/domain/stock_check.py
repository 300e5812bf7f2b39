"""Stock checks (棚卸, issue 13): which slots a check covers and when a location is due again.

Decided:

- A slot range is inclusive and compared in plain text order (Unicode code points, the order
  Python sorts strings in), never in a database collation, so that the same envelope is in or
  out of a range on SQLite and PostgreSQL alike. ``H30-04-B001``–``H30-04-B099`` covers
  ``H30-04-B017``. An envelope with no slot is inside only a check of the whole location.
- A location's next check is due ``interval`` calendar months after the day its last
  *whole-location* check was signed off (the day clamped to the month's end: 8/31 + 6 months
  is 2/28 or 2/29). A check of a slot range proves only part of the shelf, so it does not move
  the date. A location never checked is due now. It is overdue from the day it is due.

Pure: no Flask, no database, no clock.
"""

from __future__ import annotations

import calendar
from datetime import date


def in_range(slot: str | None, slot_from: str | None, slot_to: str | None) -> bool:
    """Whether ``slot`` lies in the inclusive range; an empty range is the whole location."""
    if not slot_from and not slot_to:
        return True
    if not slot:
        return False
    if slot_from and slot < slot_from:
        return False
    return not (slot_to and slot > slot_to)


def add_months(day: date, months: int) -> date:
    """``day`` moved ``months`` calendar months on, clamped to the month's end."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def next_check_due(last_signed_off: date | None, interval_months: int, today: date) -> date:
    """The day a location's next stock check is due (today when it was never checked)."""
    if last_signed_off is None:
        return today
    return add_months(last_signed_off, interval_months)


def is_overdue(due: date, today: date) -> bool:
    return due <= today
