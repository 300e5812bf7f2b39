"""Retention rules and disposal eligibility: the SPEC §3 contract, as a pure engine.

A retention rule (廃棄基準) covers an inclusive window of return dates and says how an item's
*retain-until* date — the last day of custody, on which the card can still be collected —
follows from its return date R. Three kinds, kept in a registry (:data:`RULE_KINDS`) so that
the database row, the form and the audit entry all go through :func:`rule_from_fields`:

* ``fixed``        — one date for every item in the window;
* ``fiscal_year``  — 31 March of FY(R) + 1 + k, FY(R) being the April–March fiscal year that
  contains R, named by the calendar year it starts in (2019-03-31 lies in FY 2018);
* ``months_after`` — the last day of the m-th month after R's month (m = 0: R's own month end);
* ``period_from``  — a period of N days, months or years counted by 民法 140–143 from an anchor
  date: the return date, or an event only some items have (``register_event_on``, the 異動日 of
  a resident-register result; an *event rule*, see :func:`deciding_rule`), or a date kept on
  the item (``notice_sent_on``, ``first_notice_on``, ``renotice_on``: an item without it waits);
* ``later_of``     — two or more sub-rules, the latest date wins; optionally capped by the
  card's expiry (``cap_anchor: card_expires_on``: "whichever is first").

Every rule may be limited to item kinds (``item_kinds``; none: every kind); ordinary rules
whose windows overlap must not share an item kind.

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

The engine, by module (import from the package, which re-exports every public name):
:mod:`.kinds` the rule kinds and their formulas, :mod:`.rules` checking a rule and a set of
rules, :mod:`.eligibility` one item's decision and the calendar, :mod:`.dates` the calendar
arithmetic and dates in messages.
"""

from __future__ import annotations

from tracker.domain.retention.dates import fiscal_year_of, month_end
from tracker.domain.retention.eligibility import (
    Applied,
    CalendarMonth,
    Decision,
    ItemFacts,
    calendar,
    deciding_rule,
    eligibility,
    eligible_from,
    in_coverage_gap,
    waiting_for,
)
from tracker.domain.retention.kinds import (
    RULE_KINDS,
    SEED_RULE,
    FiscalYearRule,
    FixedRule,
    LaterOfRule,
    MonthsAfterRule,
    PeriodFromRule,
    Rule,
    preview,
)
from tracker.domain.retention.periods import (
    ANCHORS,
    CAP_ANCHORS,
    AnchorSpec,
    period_end,
    period_text,
)
from tracker.domain.retention.rules import (
    MAX_MONTHS,
    MAX_YEARS,
    RuleError,
    check_no_overlap,
    event_rules,
    ordinary_rules,
    rule_for,
    rule_from_fields,
    sub_rule_from_json,
    sub_rule_to_json,
)

__all__ = [
    "ANCHORS",
    "CAP_ANCHORS",
    "MAX_MONTHS",
    "MAX_YEARS",
    "RULE_KINDS",
    "SEED_RULE",
    "AnchorSpec",
    "Applied",
    "CalendarMonth",
    "Decision",
    "FiscalYearRule",
    "FixedRule",
    "ItemFacts",
    "LaterOfRule",
    "MonthsAfterRule",
    "PeriodFromRule",
    "Rule",
    "RuleError",
    "calendar",
    "check_no_overlap",
    "deciding_rule",
    "eligibility",
    "eligible_from",
    "event_rules",
    "fiscal_year_of",
    "in_coverage_gap",
    "month_end",
    "ordinary_rules",
    "period_end",
    "period_text",
    "preview",
    "rule_for",
    "rule_from_fields",
    "sub_rule_from_json",
    "sub_rule_to_json",
    "waiting_for",
]
