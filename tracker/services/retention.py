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
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Select, and_, exists, false, func, not_, or_, select, true, union
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from tracker.db import streamed
from tracker.domain.codes import AuditAction, ItemStatus, RuleAnchor, RuleKind
from tracker.domain.retention import (
    ANCHORS,
    CAP_ANCHORS,
    Applied,
    ItemFacts,
    LaterOfRule,
    PeriodFromRule,
    Rule,
    check_no_overlap,
    deciding_rule,
    event_rules,
    ordinary_rules,
    rule_for,
    rule_from_fields,
    waiting_for,
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
        item_kinds=row.item_kinds,
        sub_rules=row.sub_rules,
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
    "item_kinds",
    "sub_rules",
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
        "item_kinds": rule_row.item_kinds,
        "sub_rules": rule_row.sub_rules,
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
    if rule.is_event_rule or not rule.counts_from_return:
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

#: For each anchor that is a date kept on the item (issue 14; ``AnchorSpec.item_date``): its
#: column. A rule on it is ordinary for its window and kinds; items without the date wait.
ITEM_DATE_COLUMNS: dict[RuleAnchor, Any] = {
    RuleAnchor.NOTICE_SENT_ON: Item.notice_sent_on,
    RuleAnchor.FIRST_NOTICE_ON: Item.first_notice_on,
    RuleAnchor.RENOTICE_ON: Item.renotice_on,
}
assert set(ITEM_DATE_COLUMNS) == {a for a, spec in ANCHORS.items() if spec.item_date}
#: The column of each ``later_of`` cap date (:data:`CAP_ANCHORS`).
CAP_COLUMNS: dict[str, Any] = {"card_expires_on": Item.card_expires_on}
assert set(CAP_COLUMNS) == set(CAP_ANCHORS)


def _of_kind(rule: Rule, rules: Sequence[Rule]) -> ColumnElement[bool]:
    """SQL: the rule decides for items of this kind: one of its kinds; for a rule listing no
    kinds, every kind that no overlapping ordinary rule names on that return date (the
    domain's :func:`rule_for`)."""
    if rule.item_kinds:
        return Item.kind.in_([k.value for k in rule.item_kinds])
    named = [
        and_(
            Envelope.returned_on.between(other.returned_from, other.returned_to),
            Item.kind.in_([k.value for k in other.item_kinds]),
        )
        for other in ordinary_rules(rules)
        if other.item_kinds
        and other.returned_from <= rule.returned_to
        and rule.returned_from <= other.returned_to
    ]
    return not_(or_(*named)) if named else true()


def _item_date_anchors(rule: Rule) -> list[RuleAnchor]:
    """The item-date anchors an ordinary rule needs (its own, or its sub-rules')."""
    parts = rule.sub_rules if isinstance(rule, LaterOfRule) else (rule,)
    return [
        part.anchor
        for part in parts
        if isinstance(part, PeriodFromRule) and part.anchor in ITEM_DATE_COLUMNS
    ]


def _covered(rule: Rule, rules: Sequence[Rule]) -> ColumnElement[bool]:
    """SQL: the ordinary rule decides the item's date (window, kind, and every item date it
    counts from present); an item in the window of its kind without a date waits."""
    return and_(
        Envelope.returned_on.between(rule.returned_from, rule.returned_to),
        _of_kind(rule, rules),
        *[ITEM_DATE_COLUMNS[a].is_not(None) for a in _item_date_anchors(rule)],
    )


#: Which item dates an in-custody group lacks, in the order of :data:`ITEM_DATE_COLUMNS`.
Missing = tuple[bool, ...]


def covered_in_python(
    rule: Rule, rules: Sequence[Rule], returned_on: date, kind: str, missing: Missing
) -> bool:
    """:func:`_covered` evaluated in Python for items of one return date and kind that lack
    the item dates flagged in `missing`: the same conditions, term by term, so that counts
    grouped by those columns can be folded without a second scan of the items."""
    if not rule.returned_from <= returned_on <= rule.returned_to:
        return False
    if rule.item_kinds:
        of_kind = kind in {k.value for k in rule.item_kinds}
    else:
        of_kind = not any(
            other.returned_from <= returned_on <= other.returned_to
            and kind in {k.value for k in other.item_kinds}
            for other in ordinary_rules(rules)
            if other.item_kinds
            and other.returned_from <= rule.returned_to
            and rule.returned_from <= other.returned_to
        )
    lacking = {a for a, gone in zip(ITEM_DATE_COLUMNS, missing, strict=True) if gone}
    return of_kind and not any(a in lacking for a in _item_date_anchors(rule))


def _part_due(part: Rule, as_of: date) -> ColumnElement[bool]:
    """SQL: one rule (or sub-rule) has a retain-until before ``as_of`` (window not checked)."""
    if part.counts_from_return:
        last = cutoff(part, as_of)
        return Envelope.returned_on <= last if last is not None else false()
    assert isinstance(part, PeriodFromRule) and part.anchor in ITEM_DATE_COLUMNS
    last = event_cutoff(part, as_of)
    return ITEM_DATE_COLUMNS[part.anchor] <= last if last is not None else false()


def _due(rule: Rule, as_of: date, rules: Sequence[Rule]) -> ColumnElement[bool]:
    """SQL: the ordinary rule applies and its retain-until is before ``as_of``. Each part is a
    prefix of its date (retain-until never decreases), so ``later_of`` is every sub-rule's
    prefix — or, with a cap, the cap date before ``as_of``."""
    if isinstance(rule, LaterOfRule):
        due: ColumnElement[bool] = and_(*[_part_due(sub, as_of) for sub in rule.sub_rules])
        if rule.cap_anchor is not None:
            due = or_(due, CAP_COLUMNS[rule.cap_anchor] < as_of)
    else:
        due = _part_due(rule, as_of)
    return and_(_covered(rule, rules), due)


def _applies(rule: PeriodFromRule) -> ColumnElement[bool]:
    """SQL: the event rule applies to the item (window, anchor date, outcome), whatever D."""
    return and_(
        Envelope.returned_on.between(rule.returned_from, rule.returned_to),
        _kinds_listed(rule),
        ANCHOR_COLUMNS[rule.anchor](rule, date.max),
    )


def _kinds_listed(rule: Rule) -> ColumnElement[bool]:
    """SQL: the item is of a kind the event rule lists (every kind when none is listed)."""
    if not rule.item_kinds:
        return true()
    return Item.kind.in_([k.value for k in rule.item_kinds])


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
        windows.append(_due(rule, as_of, rules))
    for event_rule in event_rules(rules):
        last = event_cutoff(event_rule, as_of)
        if last is not None:
            windows.append(
                and_(
                    Envelope.returned_on.between(event_rule.returned_from, event_rule.returned_to),
                    _kinds_listed(event_rule),
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
            Item.kind.label("item_kind"),
            Item.notice_sent_on,
            Item.first_notice_on,
            Item.renotice_on,
            Item.card_expires_on,
        )
        .join(Envelope, Envelope.id == Item.envelope_id)
        .outerjoin(latest_extension, latest_extension.c.item_id == Item.id)
        .outerjoin(RegisterResult, RegisterResult.item_id == Item.id)
        .where(eligible_condition(rules, as_of))
    )


def to_eligible(
    row: Any, rules: Sequence[Rule], decided: dict[tuple[Any, ...], Applied] | None = None
) -> EligibleItem:
    """One row of :func:`eligible_select` with the rule that made it eligible earliest, its
    effective retain-until date and the reason.

    ``decided`` remembers the rule decided for each combination of the facts a rule reads
    (the return date, kind, register result and item dates), which a long list repeats
    thousands of times (issue 18); the rules must stay the same while it is used."""
    (
        item_id,
        control_no,
        tracking_no,
        name,
        birth_date,
        returned_on,
        extension_until,
        register_outcome,
        register_event_on,
        item_kind,
        notice_sent_on,
        first_notice_on,
        renotice_on,
        card_expires_on,
    ) = row
    key = (
        returned_on,
        register_outcome,
        register_event_on,
        item_kind,
        notice_sent_on,
        first_notice_on,
        renotice_on,
        card_expires_on,
    )
    applied = decided.get(key) if decided is not None else None
    if applied is None:
        facts = ItemFacts(
            status=ItemStatus.IN_CUSTODY.value,
            has_active_hold=False,
            returned_on=returned_on,
            register_outcome=register_outcome,
            register_event_on=register_event_on,
            item_kind=item_kind,
            notice_sent_on=notice_sent_on,
            first_notice_on=first_notice_on,
            renotice_on=renotice_on,
            card_expires_on=card_expires_on,
        )
        applied = deciding_rule(facts, rules)
        assert applied is not None  # the row is eligible, so some rule applies
        if decided is not None:
            if len(decided) >= _DECIDED_LIMIT:
                decided.clear()
            decided[key] = applied
    until = applied.retain_until
    if extension_until is not None and extension_until > until:
        until = extension_until
    return EligibleItem(
        item_id,
        control_no,
        tracking_no,
        name,
        birth_date,
        returned_on,
        applied.rule,
        until,
        applied.reason,
    )


#: How many fact combinations :func:`iter_eligible` remembers before it starts over.
_DECIDED_LIMIT = 100_000


def iter_eligible(
    session: Session, as_of: date, rules: Sequence[Rule] | None = None, batch_size: int = 2000
) -> Iterator[EligibleItem]:
    """Every item eligible for disposal on ``as_of``, streamed in control-number order.

    ``rules`` limits the list to those rules' cohorts; an item under an ordinary and an event
    rule is listed once, under the rule that made it eligible earliest."""
    rules = list(rules) if rules is not None else [s.rule for s in load_rules(session)]
    result = streamed(session, eligible_select(rules, as_of).order_by(Item.control_no), batch_size)
    decided: dict[tuple[Any, ...], Applied] = {}
    try:
        for row in result:
            yield to_eligible(row, rules, decided)
    finally:
        result.close()


def _gap_condition(rules: Sequence[Rule]) -> ColumnElement[bool]:
    """SQL: an item in custody that no rule decides a date for (SPEC §3's gap), including
    items whose rule waits for an item date they lack (issue 14)."""
    covered = [_covered(r, rules) for r in ordinary_rules(rules)] + [
        _applies(r) for r in event_rules(rules)
    ]
    return and_(
        Item.status == ItemStatus.IN_CUSTODY.value,
        not_(or_(*covered)) if covered else true(),
    )


def coverage_gaps(session: Session, rules: Sequence[Rule] | None = None, limit: int = 500):  # type: ignore[no-untyped-def]
    """In-custody items no rule decides a date for: never eligible, so shown to officers.

    Returns ``(count, (first, last) return date, up to `limit` rows)``. An event rule closes
    the gap only for the items it applies to (with its register outcome and 異動日); an item
    whose ordinary rule waits for a date it lacks (再通知日 …) is in the gap
    (:func:`gaps_by_kind` says which date).
    """
    rules = list(rules) if rules is not None else [s.rule for s in load_rules(session)]
    gap = _gap_condition(rules)
    count, first, last = session.execute(
        select(func.count(), func.min(Envelope.returned_on), func.max(Envelope.returned_on))
        .select_from(Item)
        .join(Envelope, Envelope.id == Item.envelope_id)
        .where(gap)
    ).one()
    rows: list[Any] = []
    if limit and count:
        rows = list(
            session.execute(
                select(
                    Item.id,
                    Item.control_no,
                    Envelope.id.label("envelope_id"),
                    Envelope.returned_on,
                    Item.kind,
                )
                .join(Envelope, Envelope.id == Item.envelope_id)
                .where(gap)
                .order_by(Envelope.returned_on, Item.control_no)
                .limit(limit)
            ).all()
        )
    return int(count or 0), (first, last), rows


def coverage_gap_count(
    session: Session, rules: Sequence[Rule], custody: Mapping[tuple[date, str, Missing], int]
) -> int:
    """The count of :func:`coverage_gaps`, folded from `custody`: the items in custody per
    return date, kind and missing item dates (:data:`Missing`), as one scan gives them.

    Items no ordinary rule covers are counted per group in Python
    (:func:`covered_in_python`); those an event rule applies to are then taken off with a
    query that starts from the register results (only they can have an event date)."""
    ordinary, events = ordinary_rules(rules), event_rules(rules)
    uncovered = sum(
        count
        for (returned_on, kind, missing), count in custody.items()
        if not any(covered_in_python(r, rules, returned_on, kind, missing) for r in ordinary)
    )
    if uncovered and events:
        covered = [_covered(r, rules) for r in ordinary]
        uncovered -= (
            session.scalar(
                select(func.count())
                .select_from(Item)
                .join(Envelope, Envelope.id == Item.envelope_id)
                .where(
                    Item.id.in_(select(RegisterResult.item_id)),
                    Item.status == ItemStatus.IN_CUSTODY.value,
                    not_(or_(*covered)) if covered else true(),
                    or_(*[_applies(r) for r in events]),
                )
            )
            or 0
        )
    return uncovered


@dataclass(frozen=True)
class GapGroup:
    """Items in the coverage gap of one item kind, and what they wait for."""

    item_kind: str
    #: The item dates they lack under their rule (``再通知日``); empty: no rule covers them.
    waiting_for: tuple[str, ...]
    total: int


def gaps_by_kind(session: Session, rules: Sequence[Rule] | None = None) -> list[GapGroup]:
    """The coverage gap per item kind (issue 14), split by the dates the items wait for: one
    aggregate over the gap, by kind, return date and which item dates are missing."""
    rules = list(rules) if rules is not None else [s.rule for s in load_rules(session)]
    flags = [ITEM_DATE_COLUMNS[a].is_(None) for a in ITEM_DATE_COLUMNS]
    rows = session.execute(
        select(Item.kind, Envelope.returned_on, *flags, func.count())
        .select_from(Item)
        .join(Envelope, Envelope.id == Item.envelope_id)
        .where(_gap_condition(rules))
        .group_by(Item.kind, Envelope.returned_on, *flags)
    ).all()
    counts: Counter[tuple[str, tuple[str, ...]]] = Counter()
    placeholder = date(2000, 1, 1)  # only whether a date is there matters here
    for kind, returned_on, *rest in rows:
        missing, total = rest[:-1], rest[-1]
        dates: list[date | None] = [None if gone else placeholder for gone in missing]
        facts = ItemFacts(
            ItemStatus.IN_CUSTODY.value,
            False,
            returned_on,
            item_kind=kind,
            notice_sent_on=dates[0],
            first_notice_on=dates[1],
            renotice_on=dates[2],
        )
        waiting = waiting_for(facts, rules)
        counts[(kind, tuple(waiting[1]) if waiting else ())] += int(total)
    return [GapGroup(kind, waits, n) for (kind, waits), n in sorted(counts.items())]


def custody_by_return_date_and_kind(session: Session) -> list[tuple[tuple[date, str], int]]:
    """In-custody items per (return date, item kind), counted per envelope first."""
    per_envelope = (
        select(Item.envelope_id, Item.kind, func.count().label("n"))
        .where(Item.status == ItemStatus.IN_CUSTODY.value)
        .group_by(Item.envelope_id, Item.kind)
        .subquery()
    )
    rows = session.execute(
        select(Envelope.returned_on, per_envelope.c.kind, func.sum(per_envelope.c.n))
        .join(per_envelope, per_envelope.c.envelope_id == Envelope.id)
        .group_by(Envelope.returned_on, per_envelope.c.kind)
    )
    return [((returned_on, kind), int(count)) for returned_on, kind, count in rows]


def calendar(
    session: Session,
    today: date,
    months: int = 12,
    rules: Sequence[Rule] | None = None,
    per_date: Mapping[tuple[date, str], int] | None = None,
) -> list[tuple[date, int]]:
    """Per month from this one: how many items in custody become eligible in it.

    Items already eligible count in the first month; held items are left out, extended ones
    counted at their extended date. Per-date counts come from one aggregate; the few held or
    extended items, and those an event rule applies to, are corrected for separately, then
    mapped through the rules in Python. `per_date` is what
    :func:`custody_by_return_date_and_kind` returns, when the caller has it already.
    """
    rules = list(rules) if rules is not None else [s.rule for s in load_rules(session)]
    first_month = today.replace(day=1)
    counted: Counter[tuple[date, str]] = Counter(
        dict(per_date) if per_date is not None else dict(custody_by_return_date_and_kind(session))
    )
    events = event_rules(rules)
    by_item_date = [
        r for r in ordinary_rules(rules) if not r.counts_from_return and _may_hold_items(r, counted)
    ]
    # The few items the condition below can pick, found from the small tables and an index
    # range, so that the million items in custody are not each tested against it.
    candidates: list[Select[Any]] = [
        select(RetentionExtension.item_id),
        select(Hold.item_id).where(Hold.released_at.is_(None)),
    ]
    if events:
        candidates.append(select(RegisterResult.item_id))
    if by_item_date:
        candidates.append(
            select(Item.id)
            .join(Envelope, Envelope.id == Item.envelope_id)
            .where(
                or_(
                    *[
                        and_(
                            Envelope.returned_on.between(r.returned_from, r.returned_to),
                            _of_kind(r, rules),
                        )
                        for r in by_item_date
                    ]
                )
            )
        )
    special = session.execute(
        select(
            Item.id,
            Envelope.returned_on,
            func.max(RetentionExtension.retain_until),
            _active_hold().label("held"),
            RegisterResult.outcome,
            RegisterResult.event_on,
            Item.kind,
            Item.notice_sent_on,
            Item.first_notice_on,
            Item.renotice_on,
            Item.card_expires_on,
        )
        .select_from(Item)
        .join(Envelope, Envelope.id == Item.envelope_id)
        .outerjoin(RetentionExtension, RetentionExtension.item_id == Item.id)
        .outerjoin(RegisterResult, RegisterResult.item_id == Item.id)
        .where(
            Item.id.in_(union(*candidates)),
            Item.status == ItemStatus.IN_CUSTODY.value,
            or_(
                RetentionExtension.id.is_not(None),
                _active_hold(),
                *[_applies(r) for r in events],
                *[
                    and_(
                        Envelope.returned_on.between(r.returned_from, r.returned_to),
                        _of_kind(r, rules),
                    )
                    for r in by_item_date
                ],
            ),
        )
        .group_by(
            Item.id,
            Envelope.returned_on,
            RegisterResult.outcome,
            RegisterResult.event_on,
            Item.kind,
            Item.notice_sent_on,
            Item.first_notice_on,
            Item.renotice_on,
            Item.card_expires_on,
        )
    ).all()
    counts: Counter[date] = Counter()
    ordinary = ordinary_rules(rules)
    for _item, returned_on, until, held, outcome, event_on, kind, *dates in special:
        counted[(returned_on, kind)] -= 1  # counted below instead, or not at all when held
        facts = ItemFacts(
            ItemStatus.IN_CUSTODY.value,
            False,
            returned_on,
            register_outcome=outcome,
            register_event_on=event_on,
            item_kind=kind,
            notice_sent_on=dates[0],
            first_notice_on=dates[1],
            renotice_on=dates[2],
            card_expires_on=dates[3],
        )
        applied = deciding_rule(facts, rules)
        if applied is not None and not held:
            effective = max(applied.retain_until, until or returned_on)
            counts[_month(effective + timedelta(days=1), first_month)] += 1
    for (returned_on, kind), count in counted.items():
        rule = rule_for(returned_on, ordinary, kind)
        if rule is not None and count and rule.counts_from_return:
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


def _may_hold_items(rule: Rule, in_custody: Mapping[tuple[date, str], int]) -> bool:
    """Whether any item in custody may fall under ``rule``, by the counts per return date and
    kind: a rule for kinds of which nothing is in custody in its window is left out of the
    calendar's per-item query (at a million items, looking for the cards of 「未受領のマイナン
    バーカード」 among them cost 3 s when there were none; issue 18)."""
    if not rule.item_kinds:
        return True
    kinds = {kind.value for kind in rule.item_kinds}
    return any(
        count > 0 and kind in kinds and rule.returned_from <= returned_on <= rule.returned_to
        for (returned_on, kind), count in in_custody.items()
    )


def _month(day: date, first_month: date) -> date:
    return max(day.replace(day=1), first_month)
