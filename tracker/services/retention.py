"""Retention rules as data, and the set queries built on them (SPEC §3, a contract).

The pure engine (:mod:`tracker.domain.retention`) decides for one item. Lists of a million
items are answered in SQL instead, using one fact about every rule kind: an item's retain-until
date never decreases as its return date increases. So for a rule and an as-of date D, the
eligible return dates are a prefix of the rule's window, ``[returned_from, cutoff]``, where
``cutoff`` is the last return date whose retain-until is before D (found by bisection in
Python). A consistency test compares this query with the pure engine item by item.

Event rules (``period_from`` on ``register_event_on``) are the same idea on the event date:
for an as-of date D the eligible 異動日 are those up to the last one whose period has ended
before D (:func:`event_cutoff`), joined through the item's register result
(:data:`ANCHOR_COLUMNS`). Such a rule applies only to items with a matching result and may
overlap the ordinary rule of the return date; the rule giving the earliest date decides
(:func:`tracker.domain.retention.deciding_rule`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Select, and_, exists, false, func, not_, or_, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from tracker.domain.codes import AuditAction, ItemStatus, RuleAnchor, RuleKind
from tracker.domain.retention import (
    ANCHORS,
    ItemFacts,
    PeriodFromRule,
    Rule,
    check_no_overlap,
    deciding_rule,
    event_rules,
    ordinary_rules,
    rule_from_fields,
)
from tracker.models import Envelope, Hold, Item, RetentionExtension, RetentionRule
from tracker.models.lifecycle import RegisterResult
from tracker.services import audit
from tracker.services.transitions import serialise


@dataclass(frozen=True)
class StoredRule:
    row_id: int
    rule: Rule


def load_rules(session: Session) -> list[StoredRule]:
    rows = session.scalars(select(RetentionRule).order_by(RetentionRule.returned_from)).all()
    return [StoredRule(row.id, to_rule(row)) for row in rows]


def to_rule(row: RetentionRule) -> Rule:
    return rule_from_fields(
        RuleKind(row.kind),
        label=row.label,
        returned_from=row.returned_from,
        returned_to=row.returned_to,
        retain_until=row.retain_until,
        years=row.years,
        months=row.months,
        anchor=row.anchor,
        period_count=row.period_count,
        period_unit=row.period_unit,
        register_outcomes=row.register_outcomes,
    )


#: The parameter columns of ``retention_rules`` besides the window (what :func:`save_rule`
#: writes from a rule's :meth:`Rule.as_fields`).
PARAMETER_COLUMNS = (
    "retain_until",
    "years",
    "months",
    "anchor",
    "period_count",
    "period_unit",
    "register_outcomes",
)


def _rule_fields(rule_row: RetentionRule) -> dict[str, Any]:
    return {
        "label": rule_row.label,
        "kind": rule_row.kind,
        "returned_from": rule_row.returned_from.isoformat(),
        "returned_to": rule_row.returned_to.isoformat(),
        "retain_until": rule_row.retain_until.isoformat() if rule_row.retain_until else None,
        "years": rule_row.years,
        "months": rule_row.months,
        "anchor": rule_row.anchor,
        "period_count": rule_row.period_count,
        "period_unit": rule_row.period_unit,
        "register_outcomes": rule_row.register_outcomes,
    }


def save_rule(
    session: Session,
    *,
    actor: str,
    rule: Rule,
    kind: RuleKind,
    parameters: dict[str, Any],
    existing: RetentionRule | None = None,
    checked: bool = False,
) -> RetentionRule:
    """Create or change a rule; windows of different rules must not overlap (SPEC §3).

    ``checked``: the caller has already checked the whole new set of rules, under the lock
    (``tracker rules import``, which changes several at once)."""
    serialise(session, "retention_rules")  # two officers saving overlapping rules at once
    if existing is not None:
        session.refresh(existing)  # as it is now, after anyone who held the lock before us
    if not checked:
        others = [
            stored.rule
            for stored in load_rules(session)
            if existing is None or stored.row_id != existing.id
        ]
        check_no_overlap([*others, rule])
    before = _rule_fields(existing) if existing is not None else None
    row = existing or RetentionRule(created_by=actor)
    row.label = rule.label
    row.kind = kind.value
    row.returned_from = rule.returned_from
    row.returned_to = rule.returned_to
    fields = rule.as_fields()
    for column in PARAMETER_COLUMNS:
        setattr(row, column, fields[column])
    if existing is None:
        session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=AuditAction.RULE_CREATE if existing is None else AuditAction.RULE_CHANGE,
        object_type="retention_rule",
        object_id=row.id,
        details={"before": before, "after": _rule_fields(row)},
    )
    return row


def cutoff(rule: Rule, as_of: date) -> date | None:
    """The last return date in the rule's window whose item is past retain-until on ``as_of``.

    ``None`` when no return date in the window is yet eligible. Bisection over days, valid
    because retain-until never decreases with the return date (true for every rule kind).
    Event rules have no cutoff on the return date: see :func:`event_cutoff`.
    """
    if rule.is_event_rule:
        return None
    low, high = rule.returned_from, rule.returned_to
    if not rule.retain_until_for(low) < as_of:
        return None
    if rule.retain_until_for(high) < as_of:
        return high
    while (high - low).days > 1:  # invariant: low eligible, high not
        middle = low + timedelta(days=(high - low).days // 2)
        if rule.retain_until_for(middle) < as_of:
            low = middle
        else:
            high = middle
    return low


#: The earliest anchor date :func:`event_cutoff` looks at (no register event is older).
EARLIEST_EVENT = date(1868, 1, 25)


def event_cutoff(rule: PeriodFromRule, as_of: date) -> date | None:
    """The last anchor (event) date whose period has ended before ``as_of``: items with an
    event on or before it are past retain-until. ``None`` when no such date exists. Bisection,
    valid because a period's end never decreases with its start (民法 143)."""
    low, high = EARLIEST_EVENT, as_of  # the end of a period from as_of is never before as_of
    if not rule.end_of_period(low) < as_of:
        return None
    while (high - low).days > 1:  # invariant: low's period ended before as_of, high's not
        middle = low + timedelta(days=(high - low).days // 2)
        if rule.end_of_period(middle) < as_of:
            low = middle
        else:
            high = middle
    return low


def _register_event(rule: PeriodFromRule, last: date) -> ColumnElement[bool]:
    # An alias: the selects that use this also join the item's RegisterResult for its columns.
    result = aliased(RegisterResult)
    conditions: list[ColumnElement[bool]] = [
        result.item_id == Item.id,
        result.event_on.is_not(None),
        result.event_on <= last,
    ]
    if rule.register_outcomes:
        conditions.append(result.outcome.in_([o.value for o in rule.register_outcomes]))
    return exists().where(*conditions)


#: For each anchor that is a per-item event: SQL for "the item's anchor date is at most
#: ``last``, and the rule applies to it". Issue 14 adds its anchors here (and in ANCHORS).
ANCHOR_COLUMNS = {RuleAnchor.REGISTER_EVENT_ON: _register_event}
assert set(ANCHOR_COLUMNS) == {a for a, spec in ANCHORS.items() if spec.per_item_event}


def _applies(rule: PeriodFromRule) -> ColumnElement[bool]:
    """SQL: the event rule applies to the item (window, anchor date, outcome), whatever D."""
    return and_(
        Envelope.returned_on.between(rule.returned_from, rule.returned_to),
        ANCHOR_COLUMNS[rule.anchor](rule, date.max),
    )


def _active_hold() -> ColumnElement[bool]:
    return exists().where(Hold.item_id == Item.id, Hold.released_at.is_(None))


def _extended_to(as_of: date) -> ColumnElement[bool]:
    return exists().where(
        RetentionExtension.item_id == Item.id, RetentionExtension.retain_until >= as_of
    )


def eligible_condition(rules: Sequence[Rule], as_of: date) -> ColumnElement[bool]:
    """SQL for SPEC §3's four conditions; ``Envelope`` must be joined to ``Item``."""
    windows: list[ColumnElement[bool]] = []
    for rule in ordinary_rules(rules):
        last = cutoff(rule, as_of)
        if last is not None:
            windows.append(Envelope.returned_on.between(rule.returned_from, last))
    for event_rule in event_rules(rules):
        last = event_cutoff(event_rule, as_of)
        if last is not None:
            windows.append(
                and_(
                    Envelope.returned_on.between(event_rule.returned_from, event_rule.returned_to),
                    ANCHOR_COLUMNS[event_rule.anchor](event_rule, last),
                )
            )
    return and_(
        Item.status == ItemStatus.IN_CUSTODY.value,
        or_(*windows) if windows else false(),
        not_(_active_hold()),
        not_(_extended_to(as_of)),
    )


@dataclass(frozen=True)
class EligibleItem:
    item_id: int
    control_no: str
    tracking_no: str
    name: str
    birth_date: date
    returned_on: date
    rule: Rule
    retain_until: date
    #: Why an event rule made it eligible (``死亡（異動日 令和8年11月1日）``); ``None`` for an
    #: ordinary rule.
    reason: str | None = None

    @property
    def reason_text(self) -> str:
        """The eligibility reason for lists: the event, or the rule's retain-until date."""
        from tracker.domain.retention.dates import date_text

        return self.reason or f"保管期限 {date_text(self.retain_until)} 経過"


def eligible_select(rules: Sequence[Rule], as_of: date) -> Select[Any]:
    """The eligible items' rows (SPEC §3), unordered: id, control number, tracking number, name,
    birth date, return date, the latest extension (``until``) and the register result
    (``register_outcome``, ``register_event_on``). Turn rows into
    :class:`EligibleItem` with :func:`to_eligible`."""
    latest_extension = (
        select(RetentionExtension.item_id, func.max(RetentionExtension.retain_until).label("until"))
        .group_by(RetentionExtension.item_id)
        .subquery()
    )
    return (
        select(
            Item.id,
            Item.control_no,
            Envelope.tracking_no,
            Item.name,
            Item.birth_date,
            Envelope.returned_on,
            latest_extension.c.until,
            RegisterResult.outcome.label("register_outcome"),
            RegisterResult.event_on.label("register_event_on"),
        )
        .join(Envelope, Envelope.id == Item.envelope_id)
        .outerjoin(latest_extension, latest_extension.c.item_id == Item.id)
        .outerjoin(RegisterResult, RegisterResult.item_id == Item.id)
        .where(eligible_condition(rules, as_of))
    )


def to_eligible(row: Any, rules: Sequence[Rule]) -> EligibleItem:
    """One row of :func:`eligible_select` with the rule that made it eligible earliest, its
    effective retain-until date and the reason."""
    facts = ItemFacts(
        status=ItemStatus.IN_CUSTODY.value,
        has_active_hold=False,
        returned_on=row.returned_on,
        register_outcome=row.register_outcome,
        register_event_on=row.register_event_on,
    )
    applied = deciding_rule(facts, rules)
    assert applied is not None  # the row is eligible, so some rule applies
    until = applied.retain_until
    if row.until is not None and row.until > until:
        until = row.until
    return EligibleItem(
        row.id,
        row.control_no,
        row.tracking_no,
        row.name,
        row.birth_date,
        row.returned_on,
        applied.rule,
        until,
        applied.reason,
    )


def iter_eligible(
    session: Session, as_of: date, rules: Sequence[Rule] | None = None, batch_size: int = 2000
) -> Iterator[EligibleItem]:
    """Every item eligible for disposal on ``as_of``, streamed in control-number order.

    ``rules`` limits the list to those rules' cohorts; an item under an ordinary and an event
    rule is listed once, under the rule that made it eligible earliest."""
    rules = list(rules) if rules is not None else [s.rule for s in load_rules(session)]
    statement = (
        eligible_select(rules, as_of)
        .order_by(Item.control_no)
        .execution_options(yield_per=batch_size)
    )
    result = session.execute(statement)
    try:
        for row in result:
            yield to_eligible(row, rules)
    finally:
        result.close()


def custody_by_return_date(session: Session) -> list[tuple[date, int]]:
    """In-custody items per return date: items counted per envelope first (one pass over
    ``items``), then folded into the envelopes' return dates. The basis of the gap count and
    the calendar, which then only need the few held or extended items separately."""
    per_envelope = (
        select(Item.envelope_id, func.count().label("n"))
        .where(Item.status == ItemStatus.IN_CUSTODY.value)
        .group_by(Item.envelope_id)
        .subquery()
    )
    rows = session.execute(
        select(Envelope.returned_on, func.sum(per_envelope.c.n))
        .join(per_envelope, per_envelope.c.envelope_id == Envelope.id)
        .group_by(Envelope.returned_on)
    )
    return [(returned_on, int(count)) for returned_on, count in rows]


def coverage_gaps(session: Session, rules: Sequence[Rule] | None = None, limit: int = 500):  # type: ignore[no-untyped-def]
    """In-custody items whose return date no rule covers: never eligible, so shown to officers.

    Returns ``(count, (first, last) return date, up to `limit` rows)``. An event rule closes
    the gap only for the items it applies to (with its register outcome and 異動日).
    """
    rules = list(rules) if rules is not None else [s.rule for s in load_rules(session)]
    closed = event_closed_by_return_date(session, rules)
    uncovered = [
        (returned_on, count - closed.get(returned_on, 0))
        for returned_on, count in custody_by_return_date(session)
        if not any(rule.covers(returned_on) for rule in ordinary_rules(rules))
        and count > closed.get(returned_on, 0)
    ]
    count = sum(n for _day, n in uncovered)
    span = (
        (min(d for d, _n in uncovered), max(d for d, _n in uncovered))
        if uncovered
        else (None, None)
    )
    rows: list[Any] = []
    if limit and uncovered:
        covered = [
            Envelope.returned_on.between(r.returned_from, r.returned_to)
            for r in ordinary_rules(rules)
        ] + [_applies(r) for r in event_rules(rules)]
        rows = list(
            session.execute(
                select(
                    Item.id, Item.control_no, Envelope.id.label("envelope_id"), Envelope.returned_on
                )
                .join(Envelope, Envelope.id == Item.envelope_id)
                .where(
                    Item.status == ItemStatus.IN_CUSTODY.value,
                    not_(or_(*covered)) if covered else Item.id.is_not(None),
                )
                .order_by(Envelope.returned_on, Item.control_no)
                .limit(limit)
            ).all()
        )
    return count, span, rows


def event_closed_by_return_date(session: Session, rules: Sequence[Rule]) -> Counter[date]:
    """In-custody items per return date that no ordinary rule covers but an event rule applies
    to: not in the coverage gap (one aggregate over the few items with a register result)."""
    ordinary = ordinary_rules(rules)
    events = event_rules(rules)
    if not events:
        return Counter()
    uncovered = [
        not_(Envelope.returned_on.between(r.returned_from, r.returned_to)) for r in ordinary
    ]
    rows = session.execute(
        select(Envelope.returned_on, func.count())
        .select_from(Item)
        .join(Envelope, Envelope.id == Item.envelope_id)
        .where(
            Item.status == ItemStatus.IN_CUSTODY.value,
            *uncovered,
            or_(*[_applies(r) for r in events]),
        )
        .group_by(Envelope.returned_on)
    )
    return Counter({returned_on: int(count) for returned_on, count in rows})


def calendar(
    session: Session, today: date, months: int = 12, rules: Sequence[Rule] | None = None
) -> list[tuple[date, int]]:
    """Per month from this one: how many items in custody become eligible in it.

    Items already eligible count in the first month; held items are left out, extended ones
    counted at their extended date. Per-date counts come from one aggregate; the few held or
    extended items, and those an event rule applies to, are corrected for separately, then
    mapped through the rules in Python.
    """
    rules = list(rules) if rules is not None else [s.rule for s in load_rules(session)]
    first_month = today.replace(day=1)
    per_date: Counter[date] = Counter(dict(custody_by_return_date(session)))
    events = event_rules(rules)
    special = session.execute(
        select(
            Item.id,
            Envelope.returned_on,
            func.max(RetentionExtension.retain_until),
            _active_hold().label("held"),
            RegisterResult.outcome,
            RegisterResult.event_on,
        )
        .select_from(Item)
        .join(Envelope, Envelope.id == Item.envelope_id)
        .outerjoin(RetentionExtension, RetentionExtension.item_id == Item.id)
        .outerjoin(RegisterResult, RegisterResult.item_id == Item.id)
        .where(
            Item.status == ItemStatus.IN_CUSTODY.value,
            or_(
                RetentionExtension.id.is_not(None),
                _active_hold(),
                *[_applies(r) for r in events],
            ),
        )
        .group_by(Item.id, Envelope.returned_on, RegisterResult.outcome, RegisterResult.event_on)
    ).all()
    counts: Counter[date] = Counter()
    ordinary = ordinary_rules(rules)
    for _item, returned_on, until, held, outcome, event_on in special:
        per_date[returned_on] -= 1  # counted below instead, or not at all when held
        facts = ItemFacts(
            ItemStatus.IN_CUSTODY.value,
            False,
            returned_on,
            register_outcome=outcome,
            register_event_on=event_on,
        )
        applied = deciding_rule(facts, rules)
        if applied is not None and not held:
            effective = max(applied.retain_until, until or returned_on)
            counts[_month(effective + timedelta(days=1), first_month)] += 1
    for returned_on, count in per_date.items():
        rule = next((r for r in ordinary if r.covers(returned_on)), None)
        if rule is not None and count:
            eligible_month = _month(
                rule.retain_until_for(returned_on) + timedelta(days=1), first_month
            )
            counts[eligible_month] += count
    result = []
    month = first_month
    for _ in range(months):
        result.append((month, counts.get(month, 0)))
        month = (month + timedelta(days=32)).replace(day=1)
    return result


def _month(day: date, first_month: date) -> date:
    return max(day.replace(day=1), first_month)
