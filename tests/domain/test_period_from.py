"""``period_from`` rules (SPEC §3, issue 13): 民法 140–143 periods and event rules."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker.domain.codes import PeriodUnit, RuleKind
from tracker.domain.errors import InputError
from tracker.domain.retention import (
    ItemFacts,
    RuleError,
    check_no_overlap,
    deciding_rule,
    eligibility,
    eligible_from,
    in_coverage_gap,
    period_end,
    rule_for,
    rule_from_fields,
)
from tracker.domain.retention.dates import month_end

W = (date(2026, 4, 1), date(2027, 3, 31))


def period(label: str, count: int, unit: str = "days", **kw: object):  # type: ignore[no-untyped-def]
    fields: dict[str, object] = {"anchor": "register_event_on"} | kw
    return rule_from_fields(
        RuleKind.PERIOD_FROM,
        label,
        kw.pop("returned_from", W[0]),  # type: ignore[arg-type]
        kw.pop("returned_to", W[1]),  # type: ignore[arg-type]
        period_count=count,
        period_unit=unit,
        **{k: v for k, v in fields.items() if k not in {"returned_from", "returned_to"}},  # type: ignore[arg-type]
    )


ORDINARY = rule_from_fields(RuleKind.FISCAL_YEAR, "令和8年度返戻分", *W, years=1)
DEATH = period("死亡による廃棄", 0, register_outcomes="deceased")
MOVED_OUT = period("転出後30日", 30, register_outcomes="moved_out,emigrated")


def facts(outcome: str | None = None, event_on: date | None = None, **kw: object) -> ItemFacts:
    return ItemFacts(
        status=str(kw.get("status", "in_custody")),
        has_active_hold=bool(kw.get("held", False)),
        returned_on=kw.get("returned_on", date(2026, 6, 1)),  # type: ignore[arg-type]
        extension_until=kw.get("extension"),  # type: ignore[arg-type]
        register_outcome=outcome,
        register_event_on=event_on,
    )


# --- 民法 140–143 ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("anchor", "count", "unit", "end"),
    [
        (date(2022, 1, 31), 3, "months", date(2022, 4, 30)),  # SPEC §3
        (date(2022, 2, 28), 3, "months", date(2022, 5, 31)),
        (date(2021, 11, 29), 3, "months", date(2022, 2, 28)),
        (date(2022, 4, 1), 3, "months", date(2022, 7, 1)),  # returned 4/1 + 3 months → 7/1
        (date(2023, 11, 28), 3, "months", date(2024, 2, 28)),  # from 11/29: 2024-02-29 exists
        (date(2023, 11, 30), 3, "months", date(2024, 2, 29)),  # no 2/31 → February's last day
        (date(2024, 2, 28), 1, "years", date(2025, 2, 28)),  # from 2024-02-29: no 2025-02-29
        (date(2024, 2, 29), 1, "years", date(2025, 2, 28)),  # from 3/1 → day before 2025-03-01
        (date(2023, 2, 28), 1, "years", date(2024, 2, 29)),  # from 3/1: day before 2024-03-01
        (date(2026, 11, 1), 0, "days", date(2026, 11, 1)),  # N = 0: the anchor date
        (date(2026, 11, 1), 0, "months", date(2026, 11, 1)),
        (date(2026, 10, 1), 30, "days", date(2026, 10, 31)),
        (date(2026, 12, 31), 1, "days", date(2027, 1, 1)),
        (date(2026, 12, 31), 2, "months", date(2027, 2, 28)),  # from 1/1 → day before 3/1
        (date(2027, 1, 31), 1, "months", date(2027, 2, 28)),  # from 2/1 → day before 3/1
    ],
)
def test_period_end_by_the_civil_code(anchor: date, count: int, unit: str, end: date) -> None:
    assert period_end(anchor, count, unit) == end


def test_a_holiday_end_is_not_moved() -> None:
    # 民法 142 does not apply: 2027-01-01 (元日) stays the end.
    assert period_end(date(2026, 12, 31), 1, PeriodUnit.DAYS) == date(2027, 1, 1)


days = st.dates(min_value=date(1900, 1, 1), max_value=date(2900, 12, 31))


@given(days, st.integers(0, 600))
def test_months_end_the_day_before_the_corresponding_day_or_at_month_end(
    anchor: date, months: int
) -> None:
    end = period_end(anchor, months, "months")
    start = anchor + timedelta(days=1)
    year, month0 = divmod(start.year * 12 + start.month - 1 + months, 12)
    last = month_end(year, month0 + 1)
    if start.day <= last.day:
        assert end + timedelta(days=1) == date(year, month0 + 1, start.day)
    else:
        assert end == last
    assert end >= anchor
    assert period_end(anchor, months // 12, "years") == period_end(
        anchor, months // 12 * 12, "months"
    )


@given(days, days, st.integers(0, 100), st.sampled_from(["days", "months", "years"]))
def test_a_later_anchor_never_ends_earlier(a: date, b: date, count: int, unit: str) -> None:
    first, second = sorted((a, b))
    assert period_end(first, count, unit) <= period_end(second, count, unit)


@given(days, st.integers(0, 36500))
def test_days_end_on_anchor_plus_n(anchor: date, count: int) -> None:
    assert period_end(anchor, count, "days") == anchor + timedelta(days=count)


# --- rules ----------------------------------------------------------------------------------


def test_describe_in_japanese() -> None:
    assert DEATH.describe().endswith("死亡の異動日から0日（異動日の翌日から廃棄可）")
    assert MOVED_OUT.describe().endswith(
        "転出・国外転出の異動日から30日（異動日の31日後から廃棄可）"
    )
    assert (
        period("全区分", 3, "months")
        .describe()
        .endswith("→ 異動日から3か月（満了日の翌日から廃棄可）")
    )
    returned = period("返戻後3か月", 3, "months", anchor="returned_on")
    assert returned.describe() == (
        "令和8年4月1日〜令和9年3月31日に返戻 → 返戻日から3か月（満了日まで保管）"
    )
    assert returned.retain_until_for(date(2026, 4, 1)) == date(2026, 7, 1)
    assert not returned.is_event_rule and DEATH.is_event_rule


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"anchor": None}, "起算日（anchor）が必要"),
        ({"anchor": "birthday"}, "起算日（anchor）「birthday」は使えません"),
        ({"period_unit": "weeks"}, "期間の単位「weeks」は使えません"),
        ({"period_count": -1}, "期間は0以上36500以下"),
        ({"period_count": None}, "期間（period_count）が必要"),
        ({"register_outcomes": "dead"}, "異動区分「dead」は使えません"),
        (
            {"anchor": "returned_on", "register_outcomes": "deceased"},
            "異動日（register_event_on）の基準にだけ",
        ),
        ({"years": 1}, "年数（years）は指定できません"),
    ],
)
def test_bad_period_rules_are_refused(changes: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {
        "anchor": "register_event_on",
        "period_count": 0,
        "period_unit": "days",
        "register_outcomes": None,
    } | changes
    with pytest.raises(RuleError, match=message):
        rule_from_fields(RuleKind.PERIOD_FROM, "死亡", *W, **fields)  # type: ignore[arg-type]
    assert issubclass(RuleError, InputError)


def test_other_kinds_refuse_period_fields() -> None:
    with pytest.raises(RuleError, match="起算日（anchor）は指定できません"):
        rule_from_fields(RuleKind.FISCAL_YEAR, "x", *W, years=1, anchor="returned_on")


# --- overlap ------------------------------------------------------------------------------------


def test_event_rules_may_overlap_ordinary_rules_but_not_each_other() -> None:
    check_no_overlap([ORDINARY, DEATH, MOVED_OUT])  # outcome sets disjoint: allowed
    with pytest.raises(RuleError, match=r"「死亡2」.*「死亡による廃棄」.*異動区分 死亡 が共通"):
        check_no_overlap(
            [ORDINARY, DEATH, period("死亡2", 5, register_outcomes="deceased,struck_off")]
        )
    with pytest.raises(RuleError, match="異動区分の指定がない基準はすべての異動区分に当たります"):
        check_no_overlap([DEATH, period("全区分", 10)])
    # the same outcome in windows that do not touch is fine
    check_no_overlap(
        [
            DEATH,
            period(
                "死亡旧",
                0,
                register_outcomes="deceased",
                returned_from=date(2025, 4, 1),
                returned_to=date(2026, 3, 31),
            ),
        ]
    )
    # ordinary rules keep the no-overlap rule
    with pytest.raises(RuleError, match="重なっています"):
        check_no_overlap([ORDINARY, period("返戻後", 3, "months", anchor="returned_on")])


# --- eligibility --------------------------------------------------------------------------------


def test_death_makes_an_item_eligible_the_day_after_the_event() -> None:
    rules = [ORDINARY, DEATH, MOVED_OUT]
    dead = facts("deceased", date(2026, 11, 1))
    on_the_day = eligibility(dead, rules, date(2026, 11, 1))
    assert not on_the_day.eligible
    assert on_the_day.reasons == (
        "死亡（異動日 令和8年11月1日）により令和8年11月1日まで保管（翌日から廃棄可）",
    )
    next_day = eligibility(dead, rules, date(2026, 11, 2))
    assert next_day.eligible and next_day.rule == DEATH
    assert next_day.reason == "死亡（異動日 令和8年11月1日）"
    # without the death, the ordinary rule keeps it until 2028-03-31
    assert eligible_from(facts(), rules) == date(2028, 4, 1)
    assert eligible_from(dead, rules) == date(2026, 11, 2)


def test_outcomes_not_listed_and_missing_dates_do_not_apply() -> None:
    rules = [ORDINARY, DEATH, MOVED_OUT]
    for other in (facts("moved_within", date(2026, 7, 1)), facts("resident"), facts()):
        applied = deciding_rule(other, rules)
        assert applied is not None and applied.rule == ORDINARY and applied.reason is None
    moved = facts("moved_out", date(2026, 10, 1))
    assert eligible_from(moved, rules) == date(2026, 11, 1)
    assert eligibility(facts("emigrated", date(2026, 10, 1)), rules, date(2026, 11, 1)).eligible


def test_the_earliest_rule_decides_and_a_tie_goes_to_the_ordinary_rule() -> None:
    late = period("転出後3年", 3, "years", register_outcomes="moved_out")
    moved = facts("moved_out", date(2026, 10, 1))
    assert deciding_rule(moved, [ORDINARY, late]).rule == ORDINARY  # type: ignore[union-attr]
    tie = period("同日", 0, register_outcomes="moved_out")
    at_end = facts("moved_out", date(2028, 3, 31))
    assert deciding_rule(at_end, [ORDINARY, tie]).rule == ORDINARY  # type: ignore[union-attr]


def test_holds_and_extensions_still_apply() -> None:
    rules = [ORDINARY, DEATH]
    held = facts("deceased", date(2026, 11, 1), held=True)
    assert not eligibility(held, rules, date(2026, 12, 1)).eligible
    extended = facts("deceased", date(2026, 11, 1), extension=date(2026, 12, 31))
    decision = eligibility(extended, rules, date(2026, 12, 1))
    assert decision.reasons == ("保管延長により令和8年12月31日まで保管（翌日から廃棄可）",)


def test_event_rules_close_the_gap_only_for_their_items() -> None:
    rules = [DEATH]  # no ordinary rule covers 2026
    assert not in_coverage_gap(facts("deceased", date(2026, 11, 1)), rules)
    assert in_coverage_gap(facts("moved_out", date(2026, 11, 1)), rules)
    assert in_coverage_gap(facts(), rules)
    assert rule_for(date(2026, 6, 1), rules) is None  # an event rule covers no return date
