"""Disposal eligibility of one item (SPEC §3) and the disposal calendar.

An item is disposal-eligible as of D iff it is in custody, has no active hold, some rule covers
its return date, and D > max(the rule's retain-until, the item's extension).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import NamedTuple

from tracker.domain.codes import ItemStatus
from tracker.domain.retention.dates import date_text
from tracker.domain.retention.kinds import Rule
from tracker.domain.retention.rules import rule_for


@dataclass(frozen=True)
class ItemFacts:
    """What eligibility needs to know about one item, read by the caller from the database."""

    #: An :class:`ItemStatus` value (``in_custody``, ``handed_over``, ``destroyed``).
    status: str
    #: Whether a hold (保留) is placed and not released.
    has_active_hold: bool
    #: The envelope's return date (返戻日).
    returned_on: date
    #: The latest retention extension (保管延長) of the item, if any.
    extension_until: date | None = None


@dataclass(frozen=True)
class Decision:
    """The outcome of :func:`eligibility`: eligible when there is no reason against it."""

    #: Every failed condition of SPEC §3, in Japanese, in the order of the SPEC.
    reasons: tuple[str, ...]
    #: The rule covering the return date, or ``None`` (a coverage gap).
    rule: Rule | None
    #: The effective last day of custody: the later of the rule's date and the extension;
    #: ``None`` without a rule.
    retain_until: date | None

    @property
    def eligible(self) -> bool:
        return not self.reasons


def _effective_retain_until(rule: Rule, facts: ItemFacts) -> date:
    by_rule = rule.retain_until_for(facts.returned_on)
    if facts.extension_until is not None and facts.extension_until > by_rule:
        return facts.extension_until
    return by_rule


def eligibility(facts: ItemFacts, rules: Iterable[Rule], as_of: date) -> Decision:
    """Whether the item may be destroyed as of ``as_of`` (SPEC §3), with every reason why not.

    Eligible iff the status is ``in_custody``, no hold is active, a rule covers the return
    date, and ``as_of`` is after the effective retain-until (the day after it, at the earliest).
    """
    reasons: list[str] = []
    if facts.status != ItemStatus.IN_CUSTODY:
        status = (
            ItemStatus(facts.status).label
            if facts.status in ItemStatus.__members__.values()
            else str(facts.status)
        )
        reasons.append(f"{status}のため保管中ではありません")
    if facts.has_active_hold:
        reasons.append("保留中です（保留を解除するまで廃棄できません）")
    rule = rule_for(facts.returned_on, rules)
    retain_until: date | None = None
    if rule is None:
        reasons.append(
            f"返戻日 {date_text(facts.returned_on)}（{facts.returned_on.isoformat()}）に該当する"
            "廃棄基準がありません（基準の空白）"
        )
    else:
        retain_until = _effective_retain_until(rule, facts)
        if as_of <= retain_until:
            extended = retain_until != rule.retain_until_for(facts.returned_on)
            reasons.append(
                ("保管延長により" if extended else "")
                + f"{date_text(retain_until)}まで保管（翌日から廃棄可）"
            )
    return Decision(reasons=tuple(reasons), rule=rule, retain_until=retain_until)


def in_coverage_gap(facts: ItemFacts, rules: Iterable[Rule]) -> bool:
    """An item in custody whose return date no rule covers: listed in the gap report (SPEC §3)."""
    return facts.status == ItemStatus.IN_CUSTODY and rule_for(facts.returned_on, rules) is None


def eligible_from(facts: ItemFacts, rules: Iterable[Rule]) -> date | None:
    """The first day the item is eligible (effective retain-until + 1 day), for the calendar.

    ``None`` when it will not become eligible as things stand: not in custody, held, or not
    covered by any rule.
    """
    if facts.status != ItemStatus.IN_CUSTODY or facts.has_active_hold:
        return None
    rule = rule_for(facts.returned_on, rules)
    if rule is None:
        return None
    return _effective_retain_until(rule, facts) + timedelta(days=1)


class CalendarMonth(NamedTuple):
    """One month of the disposal calendar: how many items become eligible in it."""

    year: int
    month: int
    #: Not ``count``, which would hide ``tuple.count``.
    total: int


def calendar(
    first_eligible_days: Iterable[date], today: date, months: int = 12
) -> list[CalendarMonth]:
    """Items becoming eligible per month, from today's month for ``months`` months.

    The first bucket (today's month) also counts items that became eligible before it: it
    reads "eligible by the end of this month", and the figures add up to everything eligible
    by the end of the last month shown. Days after that month are not counted.
    """
    if months < 1:
        raise ValueError(f"months must be at least 1: {months}")
    start = today.year * 12 + today.month - 1
    counts: Counter[int] = Counter()
    for day in first_eligible_days:
        index = max(day.year * 12 + day.month - 1 - start, 0)
        if index < months:
            counts[index] += 1
    result = []
    for index in range(months):
        year, month0 = divmod(start + index, 12)
        result.append(CalendarMonth(year, month0 + 1, counts[index]))
    return result
