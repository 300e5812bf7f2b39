"""Checking rules: one as entered or stored (:func:`rule_from_fields`), a set for shared return
dates (:func:`check_no_overlap`), and the one rule that covers a return date (:func:`rule_for`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from itertools import combinations

from tracker.domain.codes import RuleKind
from tracker.domain.errors import InputError
from tracker.domain.retention.dates import date_text, span_text
from tracker.domain.retention.kinds import FiscalYearRule, FixedRule, MonthsAfterRule, Rule

#: Upper bounds on a rule's parameter: anything beyond is a typing slip, not a policy.
MAX_YEARS = 30
MAX_MONTHS = 600
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
_KIND_LABELS = {
    RuleKind.FIXED: "期限指定",
    RuleKind.FISCAL_YEAR: "年度末基準",
    RuleKind.MONTHS_AFTER: "返戻月基準",
}


def rule_from_fields(
    kind: RuleKind | str,
    label: str,
    returned_from: date,
    returned_to: date,
    retain_until: date | None = None,
    years: int | None = None,
    months: int | None = None,
) -> Rule:
    """Check a rule as a records officer entered it (or as stored) and build it.

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
    try:  # the window's last day gives the latest date; it must exist (year ≤ 9999)
        rule.retain_until_for(returned_to)
    except (ValueError, OverflowError):
        raise RuleError(
            _refusal(
                label, [f"{date_text(returned_to)}に返戻された分の保管期限が暦の範囲を超えます"]
            )
        ) from None
    return rule


def _is_date(value: object) -> bool:
    # datetime is a date subclass; a timestamp here is a caller's mistake, not a day.
    return isinstance(value, date) and not isinstance(value, datetime)


def _refusal(label: str, problems: list[str]) -> str:
    named = f"「{label}」" if label else ""
    return f"廃棄基準{named}が正しくありません: " + " / ".join(problems)


def _overlap(a: Rule, b: Rule) -> tuple[date, date] | None:
    first, last = max(a.returned_from, b.returned_from), min(a.returned_to, b.returned_to)
    return (first, last) if first <= last else None


def check_no_overlap(rules: Iterable[Rule]) -> None:
    """Refuse a set of rules whose windows share a return date (SPEC §3).

    Windows are inclusive, so ``…〜2019-03-31`` and ``2019-04-01〜…`` touch but do not
    overlap. The message names every overlapping pair and the shared dates.
    """
    ordered = sorted(rules, key=lambda r: (r.returned_from, r.returned_to, r.label))
    problems = []
    for a, b in combinations(ordered, 2):
        shared = _overlap(a, b)
        if shared is not None:
            problems.append(
                f"「{a.label}」（{span_text(a.returned_from, a.returned_to)}）と"
                f"「{b.label}」（{span_text(b.returned_from, b.returned_to)}）の返戻日の期間が"
                f"{span_text(*shared)}で重なっています"
            )
    if problems:
        raise RuleError("廃棄基準の期間が重複しています: " + " / ".join(problems))


def rule_for(returned_on: date, rules: Iterable[Rule]) -> Rule | None:
    """The rule whose window covers the return date, or ``None`` (a coverage gap).

    Raises :class:`RuleError` if several do: overlapping rules are refused when saved, and
    guessing which one applies could destroy a card too early.
    """
    found = [rule for rule in rules if rule.covers(returned_on)]
    if len(found) > 1:
        labels = "」「".join(rule.label for rule in found)
        raise RuleError(
            f"返戻日 {date_text(returned_on)} に複数の廃棄基準（「{labels}」）が該当します。"
            "期間の重複を解消してください"
        )
    return found[0] if found else None
