"""The rule kinds (SPEC §3): how an item's retain-until date follows from its return date.

Each kind is a frozen dataclass with its formula (:meth:`Rule.retain_until_for`) and its
Japanese description; :data:`RULE_KINDS` maps the stored ``kind`` code to its class. The
classes do not validate: build rules with :func:`tracker.domain.retention.rule_from_fields`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import ClassVar

from tracker.domain.codes import RuleKind
from tracker.domain.retention.dates import date_text, fiscal_year_of, month_end, span_text


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
        return f"{span_text(self.returned_from, self.returned_to)}に返戻"

    def describe(self) -> str:
        """The rule in one Japanese sentence, for lists, the audit log and the certificate.

        ``平成30年4月1日〜平成31年3月31日に返戻 → 令和2年3月31日まで保管``; a computed rule
        whose whole window maps to one date says so at the end.
        """
        text = f"{self.window_text()} → {self._rule_text()}"
        if not isinstance(self, FixedRule):
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
