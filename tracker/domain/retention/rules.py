"""Checking rules: one as entered or stored (:func:`rule_from_fields`), a set for shared return
dates (:func:`check_no_overlap`), and the one rule that covers a return date (:func:`rule_for`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime
from itertools import combinations
from typing import Any

from tracker.domain.codes import ItemKind, PeriodUnit, RegisterOutcome, RuleAnchor, RuleKind
from tracker.domain.errors import InputError
from tracker.domain.retention.dates import date_text, span_text
from tracker.domain.retention.kinds import (
    FiscalYearRule,
    FixedRule,
    LaterOfRule,
    MonthsAfterRule,
    PeriodFromRule,
    Rule,
)
from tracker.domain.retention.periods import ANCHORS, CAP_ANCHORS

#: Upper bounds on a rule's parameter: anything beyond is a typing slip, not a policy.
MAX_YEARS = 30
MAX_MONTHS = 600
MAX_DAYS = 36500
#: ``retention_rules.label`` is ``String(100)``.
MAX_LABEL_LENGTH = 100


class RuleError(InputError):
    """A retention rule, or a set of rules, that cannot be used; the message says why."""


_PARAMETER_LABELS = {"retain_until": "保管期限", "years": "年数", "months": "月数"}
_PARAMETER_NAMES = {
    RuleKind.FIXED: ("retain_until", _PARAMETER_LABELS["retain_until"]),
    RuleKind.FISCAL_YEAR: ("years", _PARAMETER_LABELS["years"]),
    RuleKind.MONTHS_AFTER: ("months", _PARAMETER_LABELS["months"]),
}
_PERIOD_LABELS = {"anchor": "起算日", "period_count": "期間", "period_unit": "期間の単位"}
_PERIOD_LIMITS = {PeriodUnit.DAYS: MAX_DAYS, PeriodUnit.MONTHS: MAX_MONTHS, PeriodUnit.YEARS: 100}
_KIND_LABELS = {
    RuleKind.FIXED: "期限指定",
    RuleKind.FISCAL_YEAR: "年度末基準",
    RuleKind.MONTHS_AFTER: "返戻月基準",
    RuleKind.PERIOD_FROM: "期間計算",
    RuleKind.LATER_OF: "遅い方",
}
#: A ``later_of`` rule has at least two and (a typing-slip bound) at most this many sub-rules.
MAX_SUB_RULES = 5


def rule_from_fields(
    kind: RuleKind | str,
    label: str,
    returned_from: date,
    returned_to: date,
    retain_until: date | None = None,
    years: int | None = None,
    months: int | None = None,
    anchor: RuleAnchor | str | None = None,
    period_count: int | None = None,
    period_unit: PeriodUnit | str | None = None,
    register_outcomes: str | Sequence[str] | None = None,
    item_kinds: str | Sequence[str] | None = None,
    sub_rules: str | Sequence[object] | None = None,
    cap_anchor: str | None = None,
) -> Rule:
    """Check a rule as a records officer entered it (or as stored) and build it.

    ``item_kinds``: ItemKind codes (a list or comma-separated; empty: every kind).
    ``later_of``: ``sub_rules`` is a list of sub-rule objects in the rules-file shape
    (docs/rules-format.md; or its stored JSON), ``cap_anchor`` optionally ``card_expires_on``.

    Raises :class:`RuleError` naming every problem at once: unknown kind, empty or long label,
    a window that ends before it starts, a missing parameter or one of another kind, a
    negative or implausibly large years/months, a fixed date before the window ends, or dates
    whose retain-until would fall outside the calendar.
    """
    try:
        rule_kind = RuleKind(kind)
    except ValueError:
        known = "、".join(k.value for k in RuleKind)
        raise RuleError(f"廃棄基準の種類「{kind}」は使えません（{known} のいずれか）") from None
    problems: list[str] = []
    label = label.strip() if isinstance(label, str) else ""
    if not label:
        problems.append("名称を入力してください")
    elif len(label) > MAX_LABEL_LENGTH:
        problems.append(f"名称は{MAX_LABEL_LENGTH}文字以内にしてください（{len(label)}文字）")
    window_ok = True
    for what, day in (("返戻日の開始", returned_from), ("返戻日の終了", returned_to)):
        if not _is_date(day):
            problems.append(f"{what}を日付で指定してください")
            window_ok = False
    if window_ok and returned_from > returned_to:
        problems.append(
            f"返戻日の期間が逆です（開始 {date_text(returned_from)} が"
            f"終了 {date_text(returned_to)} より後）"
        )
        window_ok = False

    kinds = _item_kinds(item_kinds, problems)
    if rule_kind is not RuleKind.LATER_OF:
        if sub_rules:
            problems.append(
                f"{_KIND_LABELS[rule_kind]}（{rule_kind.value}）の基準に副基準（rules）は指定できません"
            )
        if cap_anchor:
            problems.append(
                f"{_KIND_LABELS[rule_kind]}（{rule_kind.value}）の基準に上限日（cap_anchor）は指定できません"
            )
    if rule_kind is RuleKind.LATER_OF:
        return _later_of(
            label,
            returned_from,
            returned_to,
            problems,
            window_ok,
            {
                "retain_until": retain_until,
                "years": years,
                "months": months,
                "anchor": anchor,
                "period_count": period_count,
                "period_unit": period_unit,
            },
            register_outcomes,
            sub_rules,
            cap_anchor,
            kinds,
        )
    if rule_kind is RuleKind.PERIOD_FROM:
        return replace(
            _period_from(
                label,
                returned_from,
                returned_to,
                problems,
                window_ok,
                {"retain_until": retain_until, "years": years, "months": months},
                anchor,
                period_count,
                period_unit,
                register_outcomes,
            ),
            item_kinds=kinds,
        )
    period: dict[str, object] = {
        "anchor": anchor,
        "period_count": period_count,
        "period_unit": period_unit,
    }
    for name, value in period.items():
        if value is not None:
            problems.append(
                f"{_KIND_LABELS[rule_kind]}（{rule_kind.value}）の基準に"
                f"{_PERIOD_LABELS[name]}（{name}）は指定できません"
            )
    if register_outcomes:
        problems.append(
            f"{_KIND_LABELS[rule_kind]}（{rule_kind.value}）の基準に"
            "異動区分（register_outcomes）は指定できません"
        )
    given: dict[str, object] = {"retain_until": retain_until, "years": years, "months": months}
    own, own_label = _PARAMETER_NAMES[rule_kind]
    for name, value in given.items():
        if name != own and value is not None:
            problems.append(
                f"{_KIND_LABELS[rule_kind]}（{rule_kind.value}）の基準に"
                f"{_PARAMETER_LABELS[name]}（{name}）は指定できません"
            )
    if given[own] is None:
        problems.append(f"{_KIND_LABELS[rule_kind]}（{rule_kind.value}）には{own_label}が必要です")
    elif rule_kind is RuleKind.FIXED:
        if not _is_date(retain_until):
            problems.append(f"{own_label}を日付で指定してください")
        elif window_ok and retain_until is not None and retain_until < returned_to:
            problems.append(
                f"保管期限 {date_text(retain_until)} が"
                f"返戻日の期間の終了 {date_text(returned_to)} より前です"
                "（期限より後に返戻された分が即日廃棄対象になってしまいます）"
            )
    else:
        count = years if rule_kind is RuleKind.FISCAL_YEAR else months
        upper = MAX_YEARS if rule_kind is RuleKind.FISCAL_YEAR else MAX_MONTHS
        if not isinstance(count, int) or isinstance(count, bool):
            problems.append(f"{own_label}は整数で指定してください: {count!r}")
        elif not 0 <= count <= upper:
            problems.append(f"{own_label}は0以上{upper}以下にしてください: {count}")
    if problems:
        raise RuleError(_refusal(label, problems))

    rule: Rule
    if retain_until is not None:
        rule = FixedRule(label, returned_from, returned_to, retain_until)
    elif years is not None:
        rule = FiscalYearRule(label, returned_from, returned_to, years)
    else:
        assert months is not None  # guaranteed by the checks above
        rule = MonthsAfterRule(label, returned_from, returned_to, months)
    rule = replace(rule, item_kinds=kinds)
    try:  # the window's last day gives the latest date; it must exist (year ≤ 9999)
        rule.retain_until_for(returned_to)
    except (ValueError, OverflowError):
        raise RuleError(
            _refusal(
                label, [f"{date_text(returned_to)}に返戻された分の保管期限が暦の範囲を超えます"]
            )
        ) from None
    return rule


def _period_from(
    label: str,
    returned_from: date,
    returned_to: date,
    problems: list[str],
    window_ok: bool,
    others: dict[str, object],
    anchor: RuleAnchor | str | None,
    period_count: int | None,
    period_unit: PeriodUnit | str | None,
    register_outcomes: str | Sequence[str] | None,
) -> Rule:
    """The ``period_from`` half of :func:`rule_from_fields`."""
    kind_text = f"{_KIND_LABELS[RuleKind.PERIOD_FROM]}（period_from）"
    for name, value in others.items():
        if value is not None:
            problems.append(
                f"{kind_text}の基準に{_PARAMETER_LABELS[name]}（{name}）は指定できません"
            )
    rule_anchor: RuleAnchor | None = None
    if anchor is None or anchor == "":
        problems.append(f"{kind_text}には起算日（anchor）が必要です")
    else:
        try:
            rule_anchor = RuleAnchor(anchor)
        except ValueError:
            known = "、".join(a.value for a in RuleAnchor)
            problems.append(f"起算日（anchor）「{anchor}」は使えません（{known} のいずれか）")
    unit: PeriodUnit | None = None
    if period_unit is None or period_unit == "":
        problems.append(f"{kind_text}には期間の単位（days・months・years）が必要です")
    else:
        try:
            unit = PeriodUnit(period_unit)
        except ValueError:
            problems.append(
                f"期間の単位「{period_unit}」は使えません（days・months・years のいずれか）"
            )
    if period_count is None:
        problems.append(f"{kind_text}には期間（period_count）が必要です")
    elif not isinstance(period_count, int) or isinstance(period_count, bool):
        problems.append(f"期間は整数で指定してください: {period_count!r}")
    elif unit is not None and not 0 <= period_count <= _PERIOD_LIMITS[unit]:
        problems.append(f"期間は0以上{_PERIOD_LIMITS[unit]}以下にしてください: {period_count}")
    outcomes: list[RegisterOutcome] = []
    codes = (
        [c.strip() for c in register_outcomes.split(",") if c.strip()]
        if isinstance(register_outcomes, str)
        else list(register_outcomes or ())
    )
    for code in codes:
        try:
            outcome = RegisterOutcome(code)
        except ValueError:
            known = "、".join(o.value for o in RegisterOutcome)
            problems.append(f"異動区分「{code}」は使えません（{known} のいずれか）")
            continue
        if outcome not in outcomes:
            outcomes.append(outcome)
    if codes and rule_anchor is not None and not ANCHORS[rule_anchor].register_outcomes:
        problems.append(
            f"異動区分（register_outcomes）は起算日が異動日（register_event_on）の基準にだけ"
            f"指定できます（起算日: {rule_anchor.value}）"
        )
    if problems:
        raise RuleError(_refusal(label, problems))
    assert rule_anchor is not None and unit is not None and isinstance(period_count, int)
    ordered = tuple(o for o in RegisterOutcome if o in outcomes)  # the code list's order
    rule = PeriodFromRule(
        label, returned_from, returned_to, rule_anchor, period_count, unit, ordered
    )
    if window_ok and rule.counts_from_return:
        try:
            rule.retain_until_for(returned_to)
        except (ValueError, OverflowError):
            raise RuleError(
                _refusal(
                    label,
                    [f"{date_text(returned_to)}に返戻された分の保管期限が暦の範囲を超えます"],
                )
            ) from None
    return rule


def _item_kinds(given: str | Sequence[str] | None, problems: list[str]) -> tuple[ItemKind, ...]:
    codes = (
        [c.strip() for c in given.split(",") if c.strip()]
        if isinstance(given, str)
        else list(given or ())
    )
    found: list[ItemKind] = []
    for code in codes:
        try:
            kind = ItemKind(code)
        except ValueError:
            known = "、".join(k.value for k in ItemKind)
            problems.append(f"通知物の種別「{code}」は使えません（{known} のいずれか）")
            continue
        if kind not in found:
            found.append(kind)
    return tuple(k for k in ItemKind if k in found)  # the code list's order


def _later_of(
    label: str,
    returned_from: date,
    returned_to: date,
    problems: list[str],
    window_ok: bool,
    others: dict[str, object],
    register_outcomes: str | Sequence[str] | None,
    sub_rules: str | Sequence[object] | None,
    cap_anchor: str | None,
    kinds: tuple[ItemKind, ...],
) -> Rule:
    """The ``later_of`` half of :func:`rule_from_fields`."""
    kind_text = f"{_KIND_LABELS[RuleKind.LATER_OF]}（later_of）"
    for name, value in others.items():
        if value is not None:
            what = _PARAMETER_LABELS.get(name) or _PERIOD_LABELS[name]
            problems.append(
                f"{kind_text}の基準に{what}（{name}）は指定できません（副基準に書きます）"
            )
    if register_outcomes:
        problems.append(f"{kind_text}の基準に異動区分（register_outcomes）は指定できません")
    entries: object = sub_rules
    if isinstance(sub_rules, str):
        try:
            stored = json.loads(sub_rules)
        except ValueError:
            stored = None
        entries = stored.get("rules") if isinstance(stored, dict) else None
        if cap_anchor is None and isinstance(stored, dict):
            cap_anchor = stored.get("cap_anchor")
    subs: list[Rule] = []
    if not isinstance(entries, (list, tuple)) or not 2 <= len(entries) <= MAX_SUB_RULES:
        problems.append(f"{kind_text}には副基準（rules）を2〜{MAX_SUB_RULES}件指定してください")
    else:
        for number, entry in enumerate(entries, start=1):
            try:
                sub = sub_rule_from_json(entry, returned_from, returned_to)
            except RuleError as error:
                problems.append(f"副基準{number}: {str(error).split(': ', 1)[-1]}")
                continue
            subs.append(sub)
    if cap_anchor is not None and cap_anchor not in CAP_ANCHORS:
        known = "、".join(CAP_ANCHORS)
        problems.append(f"上限日（cap_anchor）「{cap_anchor}」は使えません（{known} のいずれか）")
    if problems:
        raise RuleError(_refusal(label, problems))
    rule = LaterOfRule(
        label, returned_from, returned_to, tuple(subs), cap_anchor or None, item_kinds=kinds
    )
    if window_ok and rule.counts_from_return:
        try:
            rule.retain_until_for(returned_to)
        except (ValueError, OverflowError):
            raise RuleError(
                _refusal(
                    label, [f"{date_text(returned_to)}に返戻された分の保管期限が暦の範囲を超えます"]
                )
            ) from None
    return rule


#: The fields a sub-rule of ``later_of`` may have (no label, window or item kinds: the
#: parent's apply).
SUB_RULE_FIELDS = {"kind", "retain_until", "years", "months", "anchor", "period"}


def sub_rule_from_json(entry: object, returned_from: date, returned_to: date) -> Rule:
    """One sub-rule of a ``later_of`` rule, in the rules-file shape (docs/rules-format.md)."""
    if not isinstance(entry, Mapping):
        raise RuleError("副基準はオブジェクト（{…}）で指定してください")
    problems: list[str] = []
    unknown = sorted(set(entry) - SUB_RULE_FIELDS)
    if unknown:
        problems.append(f"副基準に指定できない項目があります: {', '.join(map(str, unknown))}")
    kind = entry.get("kind")
    if kind == RuleKind.LATER_OF.value:
        problems.append("副基準に遅い方（later_of）は指定できません")
    count: Any = None
    unit: Any = None
    period = entry.get("period")
    if period is not None:
        units = [u.value for u in PeriodUnit]
        if not isinstance(period, Mapping) or len(period) != 1 or next(iter(period)) not in units:
            problems.append(
                '期間（period）は {"days": N}・{"months": N}・{"years": N} のいずれかです'
            )
        else:
            unit, count = next(iter(period.items()))
    retain_until: Any = entry.get("retain_until")
    if isinstance(retain_until, str):
        try:
            retain_until = date.fromisoformat(retain_until)
        except ValueError:
            problems.append(
                f"保管期限（retain_until）「{retain_until}」は日付（YYYY-MM-DD）ではありません"
            )
            retain_until = None
    if problems:
        raise RuleError(_refusal("", problems))
    rule = rule_from_fields(
        str(kind or ""),
        "副基準",
        returned_from,
        returned_to,
        retain_until=retain_until,
        years=entry.get("years"),
        months=entry.get("months"),
        anchor=entry.get("anchor"),
        period_count=count,
        period_unit=unit,
    )
    if rule.is_event_rule:
        raise RuleError(_refusal("", ["副基準の起算日に異動日（register_event_on）は使えません"]))
    return rule


def sub_rule_to_json(rule: Rule) -> dict[str, Any]:
    """A sub-rule in the rules-file shape: its kind and parameter only."""
    out: dict[str, Any] = {"kind": rule.kind.value}
    if isinstance(rule, PeriodFromRule):
        out["anchor"] = rule.anchor.value
        out["period"] = {rule.period_unit.value: rule.period_count}
    elif isinstance(rule, FixedRule):
        out["retain_until"] = rule.retain_until.isoformat()
    elif isinstance(rule, FiscalYearRule):
        out["years"] = rule.years
    elif isinstance(rule, MonthsAfterRule):
        out["months"] = rule.months
    return out


def sub_rules_json(rule: LaterOfRule) -> str:
    """The stored ``sub_rules`` column: canonical JSON (sorted keys, no spaces)."""
    data: dict[str, Any] = {"rules": [sub_rule_to_json(sub) for sub in rule.sub_rules]}
    if rule.cap_anchor is not None:
        data["cap_anchor"] = rule.cap_anchor
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _is_date(value: object) -> bool:
    # datetime is a date subclass; a timestamp here is a caller's mistake, not a day.
    return isinstance(value, date) and not isinstance(value, datetime)


def _refusal(label: str, problems: list[str]) -> str:
    named = f"「{label}」" if label else ""
    return f"廃棄基準{named}が正しくありません: " + " / ".join(problems)


def _overlap(a: Rule, b: Rule) -> tuple[date, date] | None:
    first, last = max(a.returned_from, b.returned_from), min(a.returned_to, b.returned_to)
    return (first, last) if first <= last else None


def _clash(a: Rule, b: Rule) -> bool:
    """Whether two rules may not share a return date (docs/retention.md, "Overlap").

    Ordinary rules clash with ordinary rules. An event rule applies only to items with its
    event, so it never clashes with an ordinary rule; two event rules clash when an item could
    fall under both: the same anchor and outcome sets that intersect (empty: every outcome).
    """
    if a.is_event_rule != b.is_event_rule:
        return False
    if bool(a.item_kinds) != bool(b.item_kinds):
        return False  # a rule for every kind gives way to one naming the kind (rule_for)
    if a.item_kinds and not set(a.item_kinds) & set(b.item_kinds):
        return False  # issue 14: rules for different item kinds never meet on one item
    if not a.is_event_rule:
        return True
    assert isinstance(a, PeriodFromRule) and isinstance(b, PeriodFromRule)
    if a.anchor != b.anchor:
        return False
    if not a.register_outcomes or not b.register_outcomes:
        return True
    return bool(set(a.register_outcomes) & set(b.register_outcomes))


def _clash_text(a: Rule, b: Rule) -> str:
    if not a.is_event_rule:
        if a.item_kinds or b.item_kinds:
            shared = [k.value for k in a.item_kinds if k in b.item_kinds]
            return f"（通知物の種別 {'・'.join(shared)} が共通）"
        return ""
    assert isinstance(a, PeriodFromRule) and isinstance(b, PeriodFromRule)
    if a.register_outcomes and b.register_outcomes:
        shared = [o.label_ja for o in a.register_outcomes if o in b.register_outcomes]
        return f"（異動区分 {'・'.join(shared)} が共通）"
    return "（異動区分の指定がない基準はすべての異動区分に当たります）"


def check_no_overlap(rules: Iterable[Rule]) -> None:
    """Refuse a set of rules whose windows share a return date (SPEC §3).

    Windows are inclusive, so ``…〜2019-03-31`` and ``2019-04-01〜…`` touch but do not
    overlap. The message names every overlapping pair and the shared dates. Event rules
    (anchored on ``register_event_on``) may overlap ordinary rules; two of them may not when
    their outcome sets intersect (:func:`_clash`).
    """
    ordered = sorted(rules, key=lambda r: (r.returned_from, r.returned_to, r.label))
    problems = []
    for a, b in combinations(ordered, 2):
        shared = _overlap(a, b) if _clash(a, b) else None
        if shared is not None:
            problems.append(
                f"「{a.label}」（{span_text(a.returned_from, a.returned_to)}）と"
                f"「{b.label}」（{span_text(b.returned_from, b.returned_to)}）の返戻日の期間が"
                f"{span_text(*shared)}で重なっています{_clash_text(a, b)}"
            )
    if problems:
        raise RuleError("廃棄基準の期間が重複しています: " + " / ".join(problems))


def rule_for(returned_on: date, rules: Iterable[Rule], item_kind: str | None = None) -> Rule | None:
    """The rule whose window covers the return date, or ``None`` (a coverage gap).

    Raises :class:`RuleError` if several do: overlapping rules are refused when saved, and
    guessing which one applies could destroy a card too early. Event rules
    (:attr:`Rule.is_event_rule`) are left out: they do not cover a return date by themselves.
    ``item_kind`` (issue 14): a rule naming that kind wins over a rule for every kind (which
    thus covers every kind no overlapping rule names); ``None``: only rules for every kind.
    """
    covering = [r for r in rules if not r.is_event_rule and r.covers(returned_on)]
    found = [r for r in covering if item_kind is not None and item_kind in r.item_kinds]
    if not found:  # no rule names the kind: the rule for every kind, if any
        found = [r for r in covering if not r.item_kinds]
    if len(found) > 1:
        labels = "」「".join(rule.label for rule in found)
        raise RuleError(
            f"返戻日 {date_text(returned_on)} に複数の廃棄基準（「{labels}」）が該当します。"
            "期間の重複を解消してください"
        )
    return found[0] if found else None


def ordinary_rules(rules: Iterable[Rule]) -> list[Rule]:
    """The rules that cover return dates by themselves (every rule but the event rules)."""
    return [rule for rule in rules if not rule.is_event_rule]


def event_rules(rules: Iterable[Rule]) -> list[PeriodFromRule]:
    """The rules counted from an event only some items have (``register_event_on``)."""
    return [rule for rule in rules if isinstance(rule, PeriodFromRule) and rule.is_event_rule]
