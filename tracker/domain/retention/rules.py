"""Retention rules and disposal eligibility: the SPEC §3 contract, as a pure engine.

A retention rule (廃棄基準) covers an inclusive window of return dates and says how an item's
*retain-until* date — the last day of custody, on which the card can still be collected —
follows from its return date R. Three kinds, kept in a registry (:data:`RULE_KINDS`) so that
the database row, the form and the audit entry all go through :func:`rule_from_fields`:

* ``fixed``        — one date for every item in the window;
* ``fiscal_year``  — 31 March of FY(R) + 1 + k, FY(R) being the April–March fiscal year that
  contains R, named by the calendar year it starts in (2019-03-31 lies in FY 2018);
* ``months_after`` — the last day of the m-th month after R's month (m = 0: R's own month end).

An item is disposal-eligible as of D iff it is in custody, has no active hold, some rule covers
its return date, and D > max(the rule's retain-until, the item's extension) (:func:`eligibility`).
Pure: no Flask, no database, no clock — the caller passes ``as_of`` / ``today`` in (Asia/Tokyo).

Decisions recorded here (SPEC §3 is silent on them):

* A ``fixed`` rule whose retain-until lies before the end of its own window is refused: items
  returned after that date would be disposable the day they arrive.
* An extension never shortens custody: the effective date is the later of rule and extension.
  Without a covering rule the effective date is ``None`` (an extension alone never makes an item
  eligible; the item belongs in the coverage gap report).
* If two rules cover one return date (the database should never hold such a pair, because
  :func:`check_no_overlap` refuses it) :func:`rule_for` raises rather than guess.
* :func:`calendar` counts items already eligible before today's month in today's bucket, so the
  first figure reads "eligible by the end of this month" and the figures add up.

Glossary: 廃棄基準 retention rule · 返戻日 return date · 保管期限 retain-until · 保留 hold ·
保管延長 extension · 年度 fiscal year (April–March) · 基準の空白 coverage gap.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from calendar import monthrange
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import combinations
from typing import ClassVar, NamedTuple

from tracker.domain.codes import ItemStatus, RuleKind
from tracker.domain.errors import InputError
from tracker.domain.wareki import ERAS, format_wareki

__all__ = [
    "MAX_MONTHS",
    "MAX_YEARS",
    "RULE_KINDS",
    "SEED_RULE",
    "CalendarMonth",
    "Decision",
    "FiscalYearRule",
    "FixedRule",
    "ItemFacts",
    "MonthsAfterRule",
    "Rule",
    "RuleError",
    "calendar",
    "check_no_overlap",
    "eligibility",
    "eligible_from",
    "fiscal_year_of",
    "in_coverage_gap",
    "month_end",
    "rule_for",
    "rule_from_fields",
]

#: Upper bounds on a rule's parameter: anything beyond is a typing slip, not a policy.
MAX_YEARS = 30
MAX_MONTHS = 600
#: ``retention_rules.label`` is ``String(100)``.
MAX_LABEL_LENGTH = 100


class RuleError(InputError):
    """A retention rule, or a set of rules, that cannot be used; the message says why."""


# --- calendar arithmetic -------------------------------------------------------------------------


def fiscal_year_of(d: date) -> int:
    """The fiscal year (年度, April–March) containing ``d``, named by its starting year.

    2018-04-01 and 2019-03-31 are both in FY 2018 (平成30年度).
    """
    return d.year if d.month >= 4 else d.year - 1


def month_end(year: int, month: int) -> date:
    """The last day of a month: ``month_end(2020, 2)`` is 2020-02-29."""
    return date(year, month, monthrange(year, month)[1])


def _fmt(d: date) -> str:
    """和暦 for messages; ISO for the (never expected) day before 明治."""
    return format_wareki(d) if d >= ERAS[0].first_day else d.isoformat()


def _span(first: date, last: date) -> str:
    return _fmt(first) if first == last else f"{_fmt(first)}〜{_fmt(last)}"


# --- rule kinds ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule(ABC):
    """What every rule kind has: a label and an inclusive window of return dates (SPEC §3).

    Build rules with :func:`rule_from_fields`, which validates; the constructors do not.
    The per-item date is :meth:`retain_until_for` — not ``retain_until``, which is the
    parameter of :class:`FixedRule` (the column of the same name).
    """

    kind: ClassVar[RuleKind]

    label: str
    returned_from: date
    returned_to: date

    def covers(self, returned_on: date) -> bool:
        """Whether the return date lies in the window; both ends are included."""
        return self.returned_from <= returned_on <= self.returned_to

    @abstractmethod
    def retain_until_for(self, returned_on: date) -> date:
        """The last day of custody of an item returned on ``returned_on`` (SPEC §3 table)."""

    @abstractmethod
    def _rule_text(self) -> str:
        """How the retain-until date follows from the return date, in Japanese."""

    def window_text(self) -> str:
        """``平成30年4月1日〜平成31年3月31日に返戻``."""
        return f"{_span(self.returned_from, self.returned_to)}に返戻"

    def describe(self) -> str:
        """The rule in one Japanese sentence, for lists, the audit log and the certificate.

        ``平成30年4月1日〜平成31年3月31日に返戻 → 令和2年3月31日まで保管``; a computed rule
        whose whole window maps to one date says so at the end.
        """
        text = f"{self.window_text()} → {self._rule_text()}"
        if not isinstance(self, FixedRule):
            first = self.retain_until_for(self.returned_from)
            if first == self.retain_until_for(self.returned_to):
                text += f"（この期間の返戻分はすべて{_fmt(first)}まで）"
        return text

    def as_fields(self) -> dict[str, object]:
        """The ``retention_rules`` columns, for the row and for audit before/after details."""
        return {
            "label": self.label,
            "kind": self.kind.value,
            "returned_from": self.returned_from,
            "returned_to": self.returned_to,
            "retain_until": None,
            "years": None,
            "months": None,
            **self._parameter(),
        }

    @abstractmethod
    def _parameter(self) -> dict[str, object]: ...


@dataclass(frozen=True)
class FixedRule(Rule):
    """``fixed``: every item in the window is kept until one date."""

    kind: ClassVar[RuleKind] = RuleKind.FIXED

    retain_until: date

    def retain_until_for(self, returned_on: date) -> date:
        return self.retain_until

    def _rule_text(self) -> str:
        return f"{_fmt(self.retain_until)}まで保管"

    def _parameter(self) -> dict[str, object]:
        return {"retain_until": self.retain_until}


@dataclass(frozen=True)
class FiscalYearRule(Rule):
    """``fiscal_year``: kept until 31 March of FY(R) + 1 + k (Kumamoto: k = 1)."""

    kind: ClassVar[RuleKind] = RuleKind.FISCAL_YEAR

    years: int

    def retain_until_for(self, returned_on: date) -> date:
        return date(fiscal_year_of(returned_on) + 1 + self.years, 3, 31)

    def _rule_text(self) -> str:
        if self.years == 0:
            return "返戻年度の末日（3月31日）まで保管"
        after = "翌年度" if self.years == 1 else f"{self.years}年後の年度"
        return f"返戻年度末から{self.years}年（返戻年度の{after}の3月31日）まで保管"

    def _parameter(self) -> dict[str, object]:
        return {"years": self.years}


@dataclass(frozen=True)
class MonthsAfterRule(Rule):
    """``months_after``: kept until the last day of the m-th month after R's month."""

    kind: ClassVar[RuleKind] = RuleKind.MONTHS_AFTER

    months: int

    def retain_until_for(self, returned_on: date) -> date:
        year, month0 = divmod(returned_on.year * 12 + returned_on.month - 1 + self.months, 12)
        return month_end(year, month0 + 1)

    def _rule_text(self) -> str:
        if self.months == 0:
            return "返戻月の末日まで保管"
        return f"返戻月の{self.months}か月後の月末まで保管"

    def _parameter(self) -> dict[str, object]:
        return {"months": self.months}


#: The registry of rule kinds (CTFd's ``FLAG_CLASSES`` shape): kind → class.
RULE_KINDS: Mapping[RuleKind, type[Rule]] = {
    RuleKind.FIXED: FixedRule,
    RuleKind.FISCAL_YEAR: FiscalYearRule,
    RuleKind.MONTHS_AFTER: MonthsAfterRule,
}

#: SPEC §3: the seed rule present in every new database (熊本市: 平成30年度の返戻分).
#: Equivalent to ``FiscalYearRule(years=1)`` over the same window.
SEED_RULE = FixedRule(
    label="平成30年度返戻分",
    returned_from=date(2018, 4, 1),
    returned_to=date(2019, 3, 31),
    retain_until=date(2020, 3, 31),
)

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
            f"返戻日の期間が逆です（開始 {_fmt(returned_from)} が終了 {_fmt(returned_to)} より後）"
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
                f"保管期限 {_fmt(retain_until)} が返戻日の期間の終了 {_fmt(returned_to)} より前です"
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
            _refusal(label, [f"{_fmt(returned_to)}に返戻された分の保管期限が暦の範囲を超えます"])
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
                f"「{a.label}」（{_span(a.returned_from, a.returned_to)}）と"
                f"「{b.label}」（{_span(b.returned_from, b.returned_to)}）の返戻日の期間が"
                f"{_span(*shared)}で重なっています"
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
            f"返戻日 {_fmt(returned_on)} に複数の廃棄基準（「{labels}」）が該当します。"
            "期間の重複を解消してください"
        )
    return found[0] if found else None


# --- eligibility ---------------------------------------------------------------------------------


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
            f"返戻日 {_fmt(facts.returned_on)}（{facts.returned_on.isoformat()}）に該当する"
            "廃棄基準がありません（基準の空白）"
        )
    else:
        retain_until = _effective_retain_until(rule, facts)
        if as_of <= retain_until:
            extended = retain_until != rule.retain_until_for(facts.returned_on)
            reasons.append(
                ("保管延長により" if extended else "")
                + f"{_fmt(retain_until)}まで保管（翌日から廃棄可）"
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
