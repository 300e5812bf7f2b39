"""The rule kinds (SPEC §3): how an item's retain-until date follows from its return date.

Each kind is a frozen dataclass with its formula (:meth:`Rule.retain_until_for`) and its
Japanese description; :data:`RULE_KINDS` maps the stored ``kind`` code to its class. The
classes do not validate: build rules with :func:`tracker.domain.retention.rule_from_fields`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar

from tracker.domain.codes import ItemKind, PeriodUnit, RegisterOutcome, RuleAnchor, RuleKind
from tracker.domain.records import ITEM_KIND_LABELS as _KIND_NAMES
from tracker.domain.retention.dates import date_text, fiscal_year_of, month_end, span_text
from tracker.domain.retention.periods import ANCHORS, CAP_ANCHORS, period_end, period_text


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
    #: The item kinds the rule applies to (issue 14); empty: every kind.
    item_kinds: tuple[ItemKind, ...] = field(default=(), kw_only=True)

    def covers(self, returned_on: date) -> bool:
        """Whether the return date lies in the window; both ends are included."""
        return self.returned_from <= returned_on <= self.returned_to

    def applies_to_kind(self, item_kind: str | None) -> bool:
        """Whether the rule may apply to items of this kind (no kinds listed: every kind; an
        unknown kind, ``None``, only to rules for every kind). Which of the rules covering a
        return date decides is :func:`tracker.domain.retention.rule_for`'s choice: a rule
        naming the kind wins over a rule for every kind."""
        return not self.item_kinds or item_kind in self.item_kinds

    def applies_to(self, facts: Any) -> bool:
        """Window and item kind (the rule may still wait for an anchor date)."""
        return self.covers(facts.returned_on) and self.applies_to_kind(
            getattr(facts, "item_kind", None)
        )

    @property
    def counts_from_return(self) -> bool:
        """Whether the retain-until date follows from the return date alone (then it never
        decreases as the return date increases, and SQL may cut the window at one date)."""
        return True

    def missing_dates(self, facts: Any) -> list[str]:
        """The Japanese names of the item dates the rule needs and the item lacks (an item
        waiting for them is not eligible under the rule and shows in the gap report)."""
        return []

    def kinds_text(self) -> str:
        """``（未受領のマイナンバーカード）``; empty for a rule on every kind."""
        if not self.item_kinds:
            return ""
        return "（" + "・".join(_KIND_NAMES[k] for k in self.item_kinds) + "）"

    @property
    def is_event_rule(self) -> bool:
        """Whether the rule counts from an event only some items have (``register_event_on``):
        it applies only to those items and may overlap ordinary rules (docs/retention.md)."""
        return False

    def retain_until_of(self, facts: Any) -> date | None:
        """The retain-until date of an item (an ``ItemFacts``) under this rule, or ``None``
        when the rule does not apply to it (return date outside the window; for an event rule,
        no date for its anchor or an outcome it does not list)."""
        if not self.applies_to(facts):
            return None
        return self.retain_until_for(facts.returned_on)

    def reason_for(self, facts: Any) -> str | None:
        """Why the rule applies to this item, when that is more than its return date: the
        eligibility reason of an event rule (``死亡（異動日 令和8年11月1日）``); ``None`` else."""
        return None

    @abstractmethod
    def retain_until_for(self, returned_on: date) -> date:
        """The last day of custody of an item returned on ``returned_on`` (SPEC §3 table)."""

    @abstractmethod
    def _rule_text(self) -> str:
        """How the retain-until date follows from the return date, in Japanese."""

    def example_anchors(self) -> list[str]:
        """The Japanese names of the dates the rule counts from (for :func:`preview`)."""
        return ["返戻日"]

    def window_text(self) -> str:
        """``平成30年4月1日〜平成31年3月31日に返戻``, with the item kinds when limited."""
        return f"{span_text(self.returned_from, self.returned_to)}に返戻{self.kinds_text()}"

    def describe(self) -> str:
        """The rule in one Japanese sentence, for lists, the audit log and the certificate.

        ``平成30年4月1日〜平成31年3月31日に返戻 → 令和2年3月31日まで保管``; a computed rule
        whose whole window maps to one date says so at the end.
        """
        text = f"{self.window_text()} → {self._rule_text()}"
        if not isinstance(self, FixedRule) and self.counts_from_return:
            first = self.retain_until_for(self.returned_from)
            if first == self.retain_until_for(self.returned_to):
                text += f"（この期間の返戻分はすべて{date_text(first)}まで）"
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
            "anchor": None,
            "period_count": None,
            "period_unit": None,
            "register_outcomes": None,
            "sub_rules": None,
            **self._parameter(),
            "item_kinds": ",".join(k.value for k in self.item_kinds) or None,
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
        return f"{date_text(self.retain_until)}まで保管"

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


@dataclass(frozen=True)
class PeriodFromRule(Rule):
    """``period_from``: a period counted by 民法 140–143 from an anchor date (SPEC §3).

    Anchored on ``returned_on`` it is an ordinary rule like the others. Anchored on an event
    date (``register_event_on``: the 異動日 of the item's resident-register result) it is an
    *event rule*: it applies only to items in its window that have that date and, when
    ``register_outcomes`` is not empty, one of those outcomes.
    """

    kind: ClassVar[RuleKind] = RuleKind.PERIOD_FROM

    anchor: RuleAnchor
    period_count: int
    period_unit: PeriodUnit
    #: The register outcomes the rule applies to; empty: every outcome with an event date.
    register_outcomes: tuple[RegisterOutcome, ...] = ()

    @property
    def is_event_rule(self) -> bool:
        return ANCHORS[self.anchor].per_item_event

    @property
    def counts_from_return(self) -> bool:
        return self.anchor is RuleAnchor.RETURNED_ON

    def missing_dates(self, facts: Any) -> list[str]:
        spec = ANCHORS[self.anchor]
        if spec.item_date and self.applies_to(facts) and self.anchor_date(facts) is None:
            return [spec.label]
        return []

    def example_anchors(self) -> list[str]:
        return [ANCHORS[self.anchor].label]

    def end_of_period(self, anchor_date: date) -> date:
        """The last day of custody counted from ``anchor_date``."""
        return period_end(anchor_date, self.period_count, self.period_unit)

    def retain_until_for(self, returned_on: date) -> date:
        if not self.counts_from_return:
            raise ValueError(
                f"rule {self.label!r} counts from {self.anchor.value}, not the return date"
            )
        return self.end_of_period(returned_on)

    def anchor_date(self, facts: Any) -> date | None:
        """The item's date this rule counts from, or ``None`` when the rule does not apply."""
        if not self.applies_to(facts):
            return None
        spec = ANCHORS[self.anchor]
        if (
            spec.register_outcomes
            and self.register_outcomes
            and getattr(facts, "register_outcome", None) not in self.register_outcomes
        ):
            return None
        found = getattr(facts, spec.fact, None)
        return found if isinstance(found, date) else None

    def retain_until_of(self, facts: Any) -> date | None:
        found = self.anchor_date(facts)
        return None if found is None else self.end_of_period(found)

    def reason_for(self, facts: Any) -> str | None:
        if not self.is_event_rule:
            return None
        found = self.anchor_date(facts)
        if found is None:
            return None
        spec = ANCHORS[self.anchor]
        what = self.label
        outcome = getattr(facts, "register_outcome", None) if spec.register_outcomes else None
        if isinstance(outcome, str) and outcome in RegisterOutcome.__members__.values():
            what = RegisterOutcome(outcome).label_ja
        return f"{what}（{spec.label} {date_text(found)}）"

    def outcomes_text(self) -> str:
        """``死亡・国外転出``; empty for a rule on every outcome."""
        return "・".join(outcome.label_ja for outcome in self.register_outcomes)

    def _rule_text(self) -> str:
        spec = ANCHORS[self.anchor]
        outcomes = self.outcomes_text()
        subject = f"{outcomes}の{spec.label}" if outcomes else spec.label
        period = period_text(self.period_count, self.period_unit)
        if not self.is_event_rule:
            return f"{subject}から{period}（満了日まで保管）"
        # (an event rule: register_event_on)
        if self.period_unit is PeriodUnit.DAYS:
            after = "翌日" if self.period_count == 0 else f"{self.period_count + 1}日後"
            return f"{subject}から{period}（{spec.label}の{after}から廃棄可）"
        return f"{subject}から{period}（満了日の翌日から廃棄可）"

    def describe(self) -> str:
        if not self.counts_from_return:  # per item, from its event: no single date
            return f"{self.window_text()} → {self._rule_text()}"
        return super().describe()

    def _parameter(self) -> dict[str, object]:
        return {
            "anchor": self.anchor.value,
            "period_count": self.period_count,
            "period_unit": self.period_unit.value,
            "register_outcomes": ",".join(o.value for o in self.register_outcomes) or None,
        }


@dataclass(frozen=True)
class LaterOfRule(Rule):
    """``later_of`` (issue 14): two or more sub-rules; the latest retain-until wins.

    An item missing the anchor date of any sub-rule is not eligible (it waits for that date).
    ``cap_anchor`` (optional, :data:`CAP_ANCHORS`: ``card_expires_on``) caps the result: kept
    until the later-of date **or** that date, whichever is first (an item without the cap date
    is not capped). Sub-rules carry the parent's label and window; they are never stored alone.
    """

    kind: ClassVar[RuleKind] = RuleKind.LATER_OF

    sub_rules: tuple[Rule, ...]
    cap_anchor: str | None = None

    @property
    def counts_from_return(self) -> bool:
        return self.cap_anchor is None and all(r.counts_from_return for r in self.sub_rules)

    def missing_dates(self, facts: Any) -> list[str]:
        if not self.applies_to(facts):
            return []
        return [name for sub in self.sub_rules for name in sub.missing_dates(facts)]

    def example_anchors(self) -> list[str]:
        names: list[str] = []
        for sub in self.sub_rules:
            names += [n for n in sub.example_anchors() if n not in names]
        return names

    def latest_of_subs(self, facts: Any) -> date | None:
        """The latest sub-rule date, before any cap; ``None`` when a date is missing."""
        found = [sub.retain_until_of(facts) for sub in self.sub_rules]
        if any(day is None for day in found):
            return None
        return max(day for day in found if day is not None)

    def cap_date(self, facts: Any) -> date | None:
        if self.cap_anchor is None:
            return None
        found = getattr(facts, CAP_ANCHORS[self.cap_anchor][1], None)
        return found if isinstance(found, date) else None

    def retain_until_of(self, facts: Any) -> date | None:
        if not self.applies_to(facts):
            return None
        latest = self.latest_of_subs(facts)
        if latest is None:
            return None
        cap = self.cap_date(facts)
        return latest if cap is None or cap >= latest else cap

    def retain_until_for(self, returned_on: date) -> date:
        if not self.counts_from_return:
            raise ValueError(f"rule {self.label!r} counts from item dates, not the return date")
        return max(sub.retain_until_for(returned_on) for sub in self.sub_rules)

    def _rule_text(self) -> str:
        parts = "、".join(sub._rule_text().split("（")[0] for sub in self.sub_rules)
        text = f"{parts}のうち遅い日まで保管"
        if self.cap_anchor is not None:
            text += f"（ただし{CAP_ANCHORS[self.cap_anchor][0]}が先に来ればその日まで）"
        return text

    def describe(self) -> str:
        if not self.counts_from_return:
            return f"{self.window_text()} → {self._rule_text()}"
        return super().describe()

    def _parameter(self) -> dict[str, object]:
        from tracker.domain.retention.rules import sub_rules_json  # the JSON shape lives there

        return {"sub_rules": sub_rules_json(self)}


def preview(rule: Rule, example: date | None = None) -> str:
    """One line for the rule editor, computed by the engine (issue 14):
    ``この規則では、返戻日 令和2年4月1日 → 保管期限 令和2年7月1日、7月2日から廃棄対象``.

    ``example`` (default: the window's first day) is the return date and every event date of
    an example item (the card's expiry is left out: it would only cap the result)."""
    from tracker.domain.retention.eligibility import ItemFacts

    day = example or rule.returned_from
    kind = rule.item_kinds[0].value if rule.item_kinds else None
    facts = ItemFacts(
        "in_custody",
        False,
        day,
        register_outcome=(
            rule.register_outcomes[0].value
            if isinstance(rule, PeriodFromRule) and rule.register_outcomes
            else "deceased"
        ),
        register_event_on=day,
        item_kind=kind,
        notice_sent_on=day,
        first_notice_on=day,
        renotice_on=day,
    )
    until = rule.retain_until_of(facts)
    names = "・".join(rule.example_anchors())
    if until is None:  # (not reached for a rule built by rule_from_fields)
        return f"この規則では、{names} {date_text(day)} → 保管期限を計算できません"
    after = date.fromordinal(until.toordinal() + 1)
    after_text = f"{after.month}月{after.day}日" if after.year == until.year else date_text(after)
    return (
        f"この規則では、{names} {date_text(day)} → 保管期限 {date_text(until)}、"
        f"{after_text}から廃棄対象"
    )


#: The registry of rule kinds (CTFd's ``FLAG_CLASSES`` shape): kind → class.
RULE_KINDS: Mapping[RuleKind, type[Rule]] = {
    RuleKind.FIXED: FixedRule,
    RuleKind.FISCAL_YEAR: FiscalYearRule,
    RuleKind.MONTHS_AFTER: MonthsAfterRule,
    RuleKind.PERIOD_FROM: PeriodFromRule,
    RuleKind.LATER_OF: LaterOfRule,
}

#: SPEC §3: the seed rule present in every new database (熊本市: 平成30年度の返戻分).
#: Equivalent to ``FiscalYearRule(years=1)`` over the same window.
SEED_RULE = FixedRule(
    label="平成30年度返戻分",
    returned_from=date(2018, 4, 1),
    returned_to=date(2019, 3, 31),
    retain_until=date(2020, 3, 31),
)
