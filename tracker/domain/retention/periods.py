"""Periods counted by 民法 140–143, and the dates a ``period_from`` rule counts from (SPEC §3).

* 民法 140: the first day is not counted — the period starts the day after the anchor date.
* A period of N days ends on anchor + N (N = 0 is allowed: the anchor date itself).
* 民法 143: a period of months or years ends on the day before the day corresponding to the
  first counted day, N months later; or, when that month has no such day, on its last day.
  Returned 4/1 + 3 months → 7/1; 2022-01-31 + 3 months → 2022-04-30; 2022-02-28 + 3 months →
  2022-05-31; 2021-11-29 + 3 months → 2022-02-28.
* 民法 142 (a period ending on a holiday runs on to the next working day) does **not** apply:
  the end may be a day the office is closed.

Anchors are data (:data:`ANCHORS`): what each is called in Japanese and which fact of an item
(:class:`tracker.domain.retention.ItemFacts` field) holds the date. ``returned_on`` is the
envelope's return date, which every item has; ``register_event_on`` is the 異動日 of the item's
resident-register result, which only some items have, so a rule anchored on it applies only to
those (and may be limited to some register outcomes). ``notice_sent_on``, ``first_notice_on`` and
``renotice_on`` (issue 14) are dates on the item: a rule on them is ordinary (it covers its window
for its item kinds) but an item without the date waits (not eligible, in the gap report).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from tracker.domain.codes import PeriodUnit, RuleAnchor
from tracker.domain.retention.dates import month_end


def period_end(anchor: date, count: int, unit: PeriodUnit | str) -> date:
    """The last day of a period of ``count`` ``unit`` counted from ``anchor`` (民法 140, 143).

    Raises ``ValueError``/``OverflowError`` when the end lies beyond the calendar (year 9999).
    """
    unit = PeriodUnit(unit)
    if count < 0:
        raise ValueError(f"a period must not be negative: {count}")
    if unit is PeriodUnit.DAYS:
        return anchor + timedelta(days=count)
    months = count if unit is PeriodUnit.MONTHS else count * 12
    start = anchor + timedelta(days=1)  # 民法 140: the first day is not counted
    year, month0 = divmod(start.year * 12 + start.month - 1 + months, 12)
    last = month_end(year, month0 + 1)
    if start.day > last.day:  # 民法 143 ただし書: no corresponding day → the month's last day
        return last
    return date(year, month0 + 1, start.day) - timedelta(days=1)


def period_text(count: int, unit: PeriodUnit | str) -> str:
    """``0日``, ``3か月``, ``1年``."""
    return f"{count}" + {"days": "日", "months": "か月", "years": "年"}[PeriodUnit(unit).value]


@dataclass(frozen=True)
class AnchorSpec:
    """What a rule anchor is: its Japanese name and where an item's date for it comes from."""

    #: ``返戻日``, ``異動日``: printed in rule texts and reasons.
    label: str
    #: The :class:`ItemFacts` field holding the item's date for this anchor.
    fact: str
    #: Whether the date is an event only some items have (then the rule is an *event rule*:
    #: it applies only to items that have the date, and may overlap ordinary rules).
    per_item_event: bool
    #: Whether a rule on this anchor may be limited to resident-register outcomes.
    register_outcomes: bool = False
    #: Whether the date is kept on the item and may be missing (issue 14: お知らせ, 交付通知書,
    #: 再通知). The rule stays an ordinary rule for its window and item kinds, but an item
    #: without the date is not eligible under it: the coverage-gap report lists it as waiting
    #: for that date.
    item_date: bool = False


#: Every anchor a ``period_from`` rule may count from (SPEC §3). Adding one is adding a row
#: here (and the item fact it reads, and its SQL column in tracker.services.retention).
ANCHORS: Mapping[RuleAnchor, AnchorSpec] = {
    RuleAnchor.RETURNED_ON: AnchorSpec("返戻日", "returned_on", per_item_event=False),
    RuleAnchor.REGISTER_EVENT_ON: AnchorSpec(
        "異動日", "register_event_on", per_item_event=True, register_outcomes=True
    ),
    RuleAnchor.NOTICE_SENT_ON: AnchorSpec(
        "お知らせ送付日", "notice_sent_on", per_item_event=False, item_date=True
    ),
    RuleAnchor.FIRST_NOTICE_ON: AnchorSpec(
        "交付通知書送付日", "first_notice_on", per_item_event=False, item_date=True
    ),
    RuleAnchor.RENOTICE_ON: AnchorSpec(
        "再通知日", "renotice_on", per_item_event=False, item_date=True
    ),
}

#: Dates that may cap a ``later_of`` rule ("…, or the card's expiry, whichever is first"):
#: code → (Japanese name, :class:`ItemFacts` field). The item is kept until the earlier of the
#: later-of date and this date; an item without the date is simply not capped.
CAP_ANCHORS: Mapping[str, tuple[str, str]] = {
    "card_expires_on": ("カードの有効期限", "card_expires_on"),
}
