"""Retention rules as JSON: ``tracker rules export|import`` (SPEC §3; format in
docs/rules-format.md, a contract).

Export writes every rule in window order. Import is all or nothing: every rule of the file is
checked (fields, kinds, the whole resulting set for overlaps) before anything is written; then
rules are matched by label — a new label is created, a changed one updated, an identical one
left alone — each with its ``rule.create`` / ``rule.change`` audit event (before/after). Rules
in the database that the file does not name are kept as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.domain.codes import PeriodUnit, RuleKind
from tracker.domain.retention import (
    LaterOfRule,
    PeriodFromRule,
    Rule,
    RuleError,
    check_no_overlap,
    rule_from_fields,
    sub_rule_to_json,
)
from tracker.domain.wareki import parse_date
from tracker.models import RetentionRule
from tracker.services import retention
from tracker.services.transitions import serialise

FORMAT = "tracker-retention-rules"
VERSION = 1
_WINDOW = ("label", "kind", "returned_from", "returned_to")
_KNOWN = {
    *_WINDOW,
    "retain_until",
    "years",
    "months",
    "anchor",
    "period",
    "register_outcomes",
    "item_kinds",
    "rules",
    "cap_anchor",
}


def rule_to_json(rule: Rule) -> dict[str, Any]:
    """One rule as the file holds it: only the fields of its kind."""
    out: dict[str, Any] = {
        "label": rule.label,
        "kind": rule.kind.value,
        "returned_from": rule.returned_from.isoformat(),
        "returned_to": rule.returned_to.isoformat(),
    }
    fields = rule.as_fields()
    if isinstance(rule, LaterOfRule):
        out["rules"] = [sub_rule_to_json(sub) for sub in rule.sub_rules]
        if rule.cap_anchor is not None:
            out["cap_anchor"] = rule.cap_anchor
    elif isinstance(rule, PeriodFromRule):
        out["anchor"] = rule.anchor.value
        out["period"] = {rule.period_unit.value: rule.period_count}
        if rule.register_outcomes:
            out["register_outcomes"] = [o.value for o in rule.register_outcomes]
    elif isinstance(fields["retain_until"], date):
        out["retain_until"] = fields["retain_until"].isoformat()
    else:
        for name in ("years", "months"):
            if fields[name] is not None:
                out[name] = fields[name]
    if rule.item_kinds:
        out["item_kinds"] = [k.value for k in rule.item_kinds]
    return out


def export_rules(session: Session) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": VERSION,
        "rules": [rule_to_json(stored.rule) for stored in retention.load_rules(session)],
    }


def _date(value: object, what: str, problems: list[str]) -> date | None:
    if not isinstance(value, str):
        problems.append(f"{what}を日付（YYYY-MM-DD）で指定してください")
        return None
    try:
        return parse_date(value)
    except ValueError as error:
        problems.append(f"{what}: {error}")
        return None


def rule_from_json(entry: object) -> Rule:
    """One rule of the file, checked like a rule entered on the form."""
    if not isinstance(entry, dict):
        raise RuleError("廃棄基準はオブジェクト（{…}）で指定してください")
    label = str(entry["label"]) if isinstance(entry.get("label"), str) else ""
    problems: list[str] = []
    unknown = sorted(set(entry) - _KNOWN)
    if unknown:
        problems.append(f"不明な項目があります: {', '.join(unknown)}")
    returned_from = _date(entry.get("returned_from"), "返戻日の開始（returned_from）", problems)
    returned_to = _date(entry.get("returned_to"), "返戻日の終了（returned_to）", problems)
    retain_until = None
    if entry.get("retain_until") is not None:
        retain_until = _date(entry.get("retain_until"), "保管期限（retain_until）", problems)
    count: Any = None
    unit: str | None = None
    period = entry.get("period")
    if period is not None:
        units = [u.value for u in PeriodUnit]
        if not isinstance(period, dict) or len(period) != 1 or next(iter(period)) not in units:
            problems.append(
                '期間（period）は {"days": N}・{"months": N}・{"years": N} のいずれかです'
            )
        else:
            unit, count = next(iter(period.items()))
    outcomes = entry.get("register_outcomes")
    if outcomes is not None and not (
        isinstance(outcomes, list) and all(isinstance(o, str) for o in outcomes)
    ):
        problems.append("異動区分（register_outcomes）はコードの配列で指定してください")
        outcomes = None
    kinds = entry.get("item_kinds")
    if kinds is not None and not (
        isinstance(kinds, list) and all(isinstance(k, str) for k in kinds)
    ):
        problems.append("通知物の種別（item_kinds）はコードの配列で指定してください")
        kinds = None
    subs = entry.get("rules")
    if subs is not None and not isinstance(subs, list):
        problems.append("副基準（rules）は配列で指定してください")
        subs = None
    cap = entry.get("cap_anchor")
    if cap is not None and not isinstance(cap, str):
        problems.append("上限日（cap_anchor）はコードで指定してください")
        cap = None
    if problems or returned_from is None or returned_to is None:
        named = f"「{label}」" if label else ""
        raise RuleError(f"廃棄基準{named}が正しくありません: " + " / ".join(problems))
    return rule_from_fields(
        str(entry.get("kind", "")),
        label,
        returned_from,
        returned_to,
        retain_until=retain_until,
        years=entry.get("years"),
        months=entry.get("months"),
        anchor=entry.get("anchor"),
        period_count=count,
        period_unit=unit,
        register_outcomes=outcomes,
        item_kinds=kinds,
        sub_rules=subs,
        cap_anchor=cap,
    )


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    #: Problems, each naming the rule's position (1-based) and label; nothing written if any.
    errors: list[str] = field(default_factory=list)


def import_rules(
    session: Session, data: object, *, actor: str, dry_run: bool = False
) -> ImportReport:
    """Check the whole file, then create or change its rules (all or nothing)."""
    report = ImportReport()
    if not isinstance(data, dict) or data.get("format", FORMAT) != FORMAT:
        report.errors.append(f'ファイルの形式が違います（"format": "{FORMAT}" が必要です）')
        return report
    if data.get("version", VERSION) != VERSION:
        report.errors.append(f"版（version）{data.get('version')!r} は読めません（{VERSION} のみ）")
        return report
    entries = data.get("rules")
    if not isinstance(entries, list):
        report.errors.append("rules は配列で指定してください")
        return report
    rules: list[Rule] = []
    for number, entry in enumerate(entries, start=1):
        try:
            rules.append(rule_from_json(entry))
        except RuleError as error:
            report.errors.append(f"{number}件目: {error}")
    labels = [rule.label for rule in rules]
    for label in sorted({x for x in labels if labels.count(x) > 1}):
        report.errors.append(f"名称「{label}」の廃棄基準が複数あります")
    if report.errors:
        return report
    serialise(session, "retention_rules")
    rows = {row.label: row for row in session.scalars(select(RetentionRule))}
    stored = {s.rule.label: s.rule for s in retention.load_rules(session)}
    final = {**stored, **{rule.label: rule for rule in rules}}
    try:
        check_no_overlap(final.values())
    except RuleError as error:
        report.errors.append(str(error))
        return report
    for rule in rules:
        existing = rows.get(rule.label)
        if existing is not None and stored[rule.label] == rule:
            report.unchanged.append(rule.label)
            continue
        (report.changed if existing is not None else report.created).append(rule.label)
        if not dry_run:
            retention.save_rule(
                session,
                actor=actor,
                rule=rule,
                kind=RuleKind(rule.kind),
                parameters={},
                existing=existing,
                checked=True,
            )
    return report
