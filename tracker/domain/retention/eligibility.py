"""Disposal eligibility of one item (SPEC §3) and the disposal calendar.

An item is disposal-eligible as of D iff it is in custody, has no active hold, some rule covers
its return date, and D > max(the rule's retain-until, the item's extension).

Event rules (``period_from`` anchored on ``register_event_on``) apply only to items with a
matching resident-register result and may overlap the ordinary rule of the return date: of the
rules that apply, the one giving the **earliest** retain-until decides (:func:`deciding_rule`;
on a tie the ordinary rule, whose reason is simply the return date).
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
from tracker.domain.retention.rules import event_rules, rule_for


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
    #: The item's resident-register result (a :class:`RegisterOutcome` value), if any.
    register_outcome: str | None = None
    #: Its 異動日 (the ``register_event_on`` anchor), if the result has one.
    register_event_on: date | None = None
    #: The item's kind (an :class:`ItemKind` value); ``None``: only rules for every kind apply.
    item_kind: str | None = None
    #: Event dates on the item (issue 14 anchors), and the card's expiry (a ``later_of`` cap).
    notice_sent_on: date | None = None
    first_notice_on: date | None = None
    renotice_on: date | None = None
    card_expires_on: date | None = None


@dataclass(frozen=True)
class Applied:
    """The rule that decides an item's retain-until date, and why it applies."""

    rule: Rule
    #: The retain-until date by that rule (before any extension).
    retain_until: date
    #: The eligibility reason of an event rule (``死亡（異動日 令和8年11月1日）``); ``None`` for
    #: an ordinary rule (its reason is the return date).
    reason: str | None


def deciding_rule(facts: ItemFacts, rules: Iterable[Rule]) -> Applied | None:
    """Of the rules that apply to the item, the one with the earliest retain-until date.

    The ordinary rule covering the return date (at most one) and every event rule whose
    window covers it and whose anchor date the item has (and outcome, when listed). ``None``
    when none applies (a coverage gap). On equal dates the ordinary rule wins.
    """
    rules = list(rules)
    best: Applied | None = None
    ordinary = rule_for(facts.returned_on, rules, facts.item_kind)
    until_by_ordinary = ordinary.retain_until_of(facts) if ordinary is not None else None
    if ordinary is not None and until_by_ordinary is not None:
        best = Applied(ordinary, until_by_ordinary, None)
    for rule in sorted(event_rules(rules), key=lambda r: r.label):
        until = rule.retain_until_of(facts)
        if until is not None and (best is None or until < best.retain_until):
            best = Applied(rule, until, rule.reason_for(facts))
    return best


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
    #: Why the rule applies, for an event rule (``死亡（異動日 令和8年11月1日）``).
    reason: str | None = None

    @property
    def eligible(self) -> bool:
        return not self.reasons


def _effective_retain_until(applied: Applied, facts: ItemFacts) -> date:
    by_rule = applied.retain_until
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
    rules = list(rules)
    applied = deciding_rule(facts, rules)
    retain_until: date | None = None
    waiting = waiting_for(facts, rules)
    if applied is None and waiting:
        reasons.append(
            f"{'・'.join(waiting[1])}が未登録のため保管期限が決まりません"
            f"（廃棄基準「{waiting[0].label}」）"
        )
    elif applied is None:
        reasons.append(
            f"返戻日 {date_text(facts.returned_on)}（{facts.returned_on.isoformat()}）に該当する"
            "廃棄基準がありません（基準の空白）"
        )
    else:
        retain_until = _effective_retain_until(applied, facts)
        if as_of <= retain_until:
            extended = retain_until != applied.retain_until
            why = f"{applied.reason}により" if applied.reason and not extended else ""
            reasons.append(
                ("保管延長により" if extended else why)
                + f"{date_text(retain_until)}まで保管（翌日から廃棄可）"
            )
    return Decision(
        reasons=tuple(reasons),
        rule=applied.rule if applied else (waiting[0] if waiting else None),
        retain_until=retain_until,
        reason=applied.reason if applied else None,
    )


def waiting_for(facts: ItemFacts, rules: Iterable[Rule]) -> tuple[Rule, list[str]] | None:
    """The ordinary rule covering the item that waits for item dates it lacks (issue 14: an
    unclaimed card without its 再通知日), with the Japanese names of those dates; ``None``
    when no covering rule waits."""
    rule = rule_for(facts.returned_on, rules, facts.item_kind)
    if rule is None:
        return None
    missing = rule.missing_dates(facts)
    return (rule, missing) if missing else None


def in_coverage_gap(facts: ItemFacts, rules: Iterable[Rule]) -> bool:
    """An item in custody whose return date no rule covers: listed in the gap report (SPEC §3).

    An event rule closes the gap only for the items it applies to (with its outcome and date).
    An item whose rule waits for a date it lacks (:func:`waiting_for`) is in the gap too.
    """
    return facts.status == ItemStatus.IN_CUSTODY and deciding_rule(facts, rules) is None


def eligible_from(facts: ItemFacts, rules: Iterable[Rule]) -> date | None:
    """The first day the item is eligible (effective retain-until + 1 day), for the calendar.

    ``None`` when it will not become eligible as things stand: not in custody, held, or not
    covered by any rule.
    """
    if facts.status != ItemStatus.IN_CUSTODY or facts.has_active_hold:
        return None
    applied = deciding_rule(facts, rules)
    if applied is None:
        return None
    return _effective_retain_until(applied, facts) + timedelta(days=1)


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
