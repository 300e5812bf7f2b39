"""Calendar arithmetic and dates in messages, shared by the rule kinds and the checks."""

from __future__ import annotations

import functools
from calendar import monthrange
from datetime import date

from tracker.domain.wareki import ERAS, format_wareki


def fiscal_year_of(d: date) -> int:
    """The fiscal year (年度, April–March) containing ``d``, named by its starting year.

    2018-04-01 and 2019-03-31 are both in FY 2018 (平成30年度).
    """
    return d.year if d.month >= 4 else d.year - 1


def month_end(year: int, month: int) -> date:
    """The last day of a month: ``month_end(2020, 2)`` is 2020-02-29."""
    return date(year, month, monthrange(year, month)[1])


@functools.lru_cache(maxsize=4096)  # a disposal list names the same few dates per row
def date_text(d: date) -> str:
    """和暦 for messages; ISO for the (never expected) day before 明治."""
    return format_wareki(d) if d >= ERAS[0].first_day else d.isoformat()


def span_text(first: date, last: date) -> str:
    """An inclusive window for messages: one date, or ``first〜last``."""
    return date_text(first) if first == last else f"{date_text(first)}〜{date_text(last)}"
