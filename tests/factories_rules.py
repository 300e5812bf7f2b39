"""Factories for reason-based disposal (issue 13 part 3): retention rules saved through the
service (audited like a form's), and resident-register results inserted directly (the register
entry service belongs to another area; these rows are what it leaves behind)."""

from __future__ import annotations

from datetime import date

from flask import Flask

from tests.factories import TODAY, database_of
from tracker.db import Database
from tracker.domain.codes import RegisterOutcome, RegisterSource, RuleKind
from tracker.domain.retention import Rule, rule_from_fields
from tracker.models.lifecycle import RegisterResult
from tracker.services import retention

#: A window of return dates that covers every envelope these tests log in 2026.
WINDOW = (date(2026, 4, 1), date(2027, 3, 31))


def period_rule(
    label: str,
    count: int,
    *,
    unit: str = "days",
    anchor: str = "register_event_on",
    outcomes: str | None = None,
    returned_from: date = WINDOW[0],
    returned_to: date = WINDOW[1],
) -> Rule:
    return rule_from_fields(
        RuleKind.PERIOD_FROM,
        label,
        returned_from,
        returned_to,
        anchor=anchor,
        period_count=count,
        period_unit=unit,
        register_outcomes=outcomes,
    )


def save(target: Flask | Database, rule: Rule, actor: str = "officer1") -> int:
    """Save ``rule`` as a records officer would (overlaps refused); its row id."""
    with database_of(target).session_scope() as session:
        row = retention.save_rule(
            session,
            actor=actor,
            rule=rule,
            kind=rule.kind,
            parameters={
                k: v
                for k, v in rule.as_fields().items()
                if k not in {"label", "kind", "returned_from", "returned_to"}
            },
        )
        return row.id


def ordinary_rule(target: Flask | Database) -> int:
    """令和8年度返戻分: fiscal_year k=1, so items returned in FY2026 are kept to 2028-03-31."""
    return save(
        target,
        rule_from_fields(RuleKind.FISCAL_YEAR, "令和8年度返戻分", *WINDOW, years=1),
    )


def register_result(
    target: Flask | Database,
    item_id: int,
    outcome: RegisterOutcome | str,
    event_on: date | None,
    *,
    checked_on: date = TODAY,
    checked_by: str = "officer1",
) -> None:
    """The item's current register result (one row per item; replaced when present)."""
    with database_of(target).session_scope() as session:
        row = session.get(RegisterResult, item_id)
        if row is None:
            row = RegisterResult(item_id=item_id)
            session.add(row)
        row.outcome = RegisterOutcome(outcome).value
        row.event_on = event_on
        row.checked_on = checked_on
        row.checked_by = checked_by
        row.source = RegisterSource.COUNTER.value
