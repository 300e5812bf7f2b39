"""Retention rules and disposal eligibility: the SPEC §3 contract."""

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker.domain.codes import ItemStatus, RuleKind
from tracker.domain.retention import (
    MAX_MONTHS,
    MAX_YEARS,
    RULE_KINDS,
    SEED_RULE,
    CalendarMonth,
    FiscalYearRule,
    FixedRule,
    ItemFacts,
    MonthsAfterRule,
    Rule,
    RuleError,
    calendar,
    check_no_overlap,
    eligibility,
    eligible_from,
    fiscal_year_of,
    in_coverage_gap,
    month_end,
    rule_for,
    rule_from_fields,
)

RULES = (SEED_RULE,)
KUMAMOTO_FY = FiscalYearRule(
    label="平成30年度返戻分（年度基準）",
    returned_from=date(2018, 4, 1),
    returned_to=date(2019, 3, 31),
    years=1,
)

days = st.dates(min_value=date(1990, 1, 1), max_value=date(2200, 12, 31))


def facts(returned_on: date, **changes: Any) -> ItemFacts:
    fields: dict[str, Any] = {
        "status": ItemStatus.IN_CUSTODY,
        "has_active_hold": False,
        "returned_on": returned_on,
        "extension_until": None,
    }
    return ItemFacts(**{**fields, **changes})


#: A valid parameter per kind; tests change one field at a time.
PARAMETERS: dict[str, dict[str, Any]] = {
    "fixed": {"retain_until": date(2020, 3, 31)},
    "fiscal_year": {"years": 1},
    "months_after": {"months": 12},
}


def rule(kind: str = "fixed", **changes: Any) -> Rule:
    fields: dict[str, Any] = {
        "label": "テスト基準",
        "returned_from": date(2018, 4, 1),
        "returned_to": date(2019, 3, 31),
        **PARAMETERS[kind],
    }
    return rule_from_fields(kind, **{**fields, **changes})


# --- the SPEC §3 boundary cases ------------------------------------------------------------------

BOUNDARY_RETURNS = [date(2018, 3, 31), date(2018, 4, 1), date(2019, 3, 31), date(2019, 4, 1)]


@pytest.mark.parametrize("rules", [RULES, (KUMAMOTO_FY,)], ids=["fixed", "fiscal_year"])
def test_nothing_is_eligible_on_the_last_day_of_custody(rules: tuple[Rule, ...]) -> None:
    decisions = [eligibility(facts(r), rules, date(2020, 3, 31)) for r in BOUNDARY_RETURNS]
    assert [d.eligible for d in decisions] == [False, False, False, False]
    # Inside the window the only reason is the date, named as the last day of custody.
    assert decisions[1].reasons == ("令和2年3月31日まで保管（翌日から廃棄可）",)
    assert decisions[2].reasons == ("令和2年3月31日まで保管（翌日から廃棄可）",)


@pytest.mark.parametrize("rules", [RULES, (KUMAMOTO_FY,)], ids=["fixed", "fiscal_year"])
def test_the_day_after_only_the_window_is_eligible(rules: tuple[Rule, ...]) -> None:
    decisions = [eligibility(facts(r), rules, date(2020, 4, 1)) for r in BOUNDARY_RETURNS]
    assert [d.eligible for d in decisions] == [False, True, True, False]
    assert decisions[1].reasons == ()
    assert decisions[1].rule == rules[0]
    assert decisions[1].retain_until == date(2020, 3, 31)
    for outside in (decisions[0], decisions[3]):
        assert outside.rule is None
        assert outside.retain_until is None
        assert len(outside.reasons) == 1
        assert "廃棄基準がありません（基準の空白）" in outside.reasons[0]
    assert "平成30年3月31日（2018-03-31）" in decisions[0].reasons[0]
    assert "平成31年4月1日（2019-04-01）" in decisions[3].reasons[0]


def test_seed_rule_is_the_kumamoto_rule() -> None:
    assert SEED_RULE.kind is RuleKind.FIXED
    assert SEED_RULE.label == "平成30年度返戻分"
    assert (SEED_RULE.returned_from, SEED_RULE.returned_to) == (date(2018, 4, 1), date(2019, 3, 31))
    assert SEED_RULE.retain_until == date(2020, 3, 31)
    assert SEED_RULE.describe() == "平成30年4月1日〜平成31年3月31日に返戻 → 令和2年3月31日まで保管"
    # It passes its own validation.
    assert rule_from_fields(**SEED_RULE.as_fields()) == SEED_RULE  # type: ignore[arg-type]


def test_seed_rule_equals_fiscal_year_k1_on_every_day_of_the_window() -> None:
    day = SEED_RULE.returned_from
    checked = 0
    while day <= SEED_RULE.returned_to:
        assert KUMAMOTO_FY.retain_until_for(day) == SEED_RULE.retain_until_for(day), day
        day += timedelta(days=1)
        checked += 1
    assert checked == 365


# --- conditions other than the date --------------------------------------------------------------

AFTER = date(2025, 1, 1)  # long past the seed rule's retain-until
INSIDE = date(2018, 10, 15)


def test_held_item_is_never_eligible() -> None:
    decision = eligibility(facts(INSIDE, has_active_hold=True), RULES, AFTER)
    assert not decision.eligible
    assert decision.reasons == ("保留中です（保留を解除するまで廃棄できません）",)
    assert eligible_from(facts(INSIDE, has_active_hold=True), RULES) is None


@pytest.mark.parametrize(
    ("status", "label"), [(ItemStatus.HANDED_OVER, "交付済"), (ItemStatus.DESTROYED, "廃棄済")]
)
def test_item_not_in_custody_is_never_eligible(status: ItemStatus, label: str) -> None:
    decision = eligibility(facts(INSIDE, status=status), RULES, AFTER)
    assert not decision.eligible
    assert decision.reasons == (f"{label}のため保管中ではありません",)
    assert eligible_from(facts(INSIDE, status=status), RULES) is None
    assert not in_coverage_gap(facts(date(2017, 1, 1), status=status), RULES)


def test_status_may_be_given_as_the_stored_string() -> None:
    assert eligibility(facts(INSIDE, status="in_custody"), RULES, AFTER).eligible
    reasons = eligibility(facts(INSIDE, status="handed_over"), RULES, AFTER).reasons
    assert reasons == ("交付済のため保管中ではありません",)


def test_extension_postpones_eligibility_to_the_day_after_it() -> None:
    extended = facts(INSIDE, extension_until=date(2021, 3, 31))
    on_last_day = eligibility(extended, RULES, date(2021, 3, 31))
    assert not on_last_day.eligible
    assert on_last_day.retain_until == date(2021, 3, 31)
    assert on_last_day.reasons == ("保管延長により令和3年3月31日まで保管（翌日から廃棄可）",)
    assert not eligibility(extended, RULES, date(2020, 4, 1)).eligible
    assert eligibility(extended, RULES, date(2021, 4, 1)).eligible
    assert eligible_from(extended, RULES) == date(2021, 4, 1)


def test_extension_never_shortens_custody() -> None:
    earlier = facts(INSIDE, extension_until=date(2019, 12, 31))
    decision = eligibility(earlier, RULES, date(2020, 3, 31))
    assert not decision.eligible
    assert decision.retain_until == date(2020, 3, 31)
    assert decision.reasons == ("令和2年3月31日まで保管（翌日から廃棄可）",)
    assert eligible_from(earlier, RULES) == date(2020, 4, 1)


def test_extension_without_a_rule_is_still_a_gap() -> None:
    gap = facts(date(2017, 6, 1), extension_until=date(2019, 1, 1))
    decision = eligibility(gap, RULES, AFTER)
    assert not decision.eligible
    assert decision.retain_until is None
    assert eligible_from(gap, RULES) is None
    assert in_coverage_gap(gap, RULES)
    assert not in_coverage_gap(facts(INSIDE), RULES)


def test_every_failed_condition_is_listed_in_spec_order() -> None:
    decision = eligibility(
        facts(date(2017, 6, 1), status=ItemStatus.HANDED_OVER, has_active_hold=True), RULES, AFTER
    )
    assert len(decision.reasons) == 3
    assert decision.reasons[0] == "交付済のため保管中ではありません"
    assert decision.reasons[1].startswith("保留中")
    assert decision.reasons[2].endswith("（基準の空白）")

    decision = eligibility(
        facts(INSIDE, status=ItemStatus.DESTROYED, has_active_hold=True), RULES, date(2020, 1, 1)
    )
    assert decision.reasons == (
        "廃棄済のため保管中ではありません",
        "保留中です（保留を解除するまで廃棄できません）",
        "令和2年3月31日まで保管（翌日から廃棄可）",
    )


def test_no_rules_at_all_is_a_gap() -> None:
    assert rule_for(INSIDE, ()) is None
    assert not eligibility(facts(INSIDE), (), AFTER).eligible
    assert in_coverage_gap(facts(INSIDE), [])


@given(returned_on=days, as_of=days, held=st.booleans(), status=st.sampled_from(ItemStatus))
def test_eligible_from_agrees_with_eligibility(
    returned_on: date, as_of: date, held: bool, status: ItemStatus
) -> None:
    rules = (rule("months_after", returned_from=date(1990, 1, 1), returned_to=date(2100, 1, 1)),)
    item = facts(returned_on, has_active_hold=held, status=status)
    first = eligible_from(item, rules)
    eligible = eligibility(item, rules, as_of).eligible
    assert eligible == (first is not None and as_of >= first)


# --- the formulas --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "fiscal_year"),
    [
        (date(2018, 4, 1), 2018),
        (date(2019, 3, 31), 2018),
        (date(2018, 3, 31), 2017),
        (date(2019, 4, 1), 2019),
        (date(2020, 1, 1), 2019),
        (date(2019, 12, 31), 2019),
    ],
)
def test_fiscal_year_runs_april_to_march(day: date, fiscal_year: int) -> None:
    assert fiscal_year_of(day) == fiscal_year


@pytest.mark.parametrize(
    ("years", "returned_on", "expected"),
    [
        (1, date(2018, 4, 1), date(2020, 3, 31)),
        (1, date(2019, 3, 31), date(2020, 3, 31)),
        (1, date(2019, 4, 1), date(2021, 3, 31)),
        (1, date(2018, 3, 31), date(2019, 3, 31)),
        (0, date(2018, 4, 1), date(2019, 3, 31)),
        (0, date(2019, 3, 31), date(2019, 3, 31)),  # returned on the last day: kept that day
        (2, date(2019, 2, 28), date(2021, 3, 31)),
        (3, date(2020, 2, 29), date(2023, 3, 31)),
    ],
)
def test_fiscal_year_formula(years: int, returned_on: date, expected: date) -> None:
    assert rule("fiscal_year", years=years).retain_until_for(returned_on) == expected


@pytest.mark.parametrize(
    ("months", "returned_on", "expected"),
    [
        (1, date(2020, 1, 31), date(2020, 2, 29)),  # leap February
        (1, date(2019, 1, 31), date(2019, 2, 28)),
        (1, date(2100, 1, 15), date(2100, 2, 28)),  # 2100 is not a leap year
        (1, date(2000, 1, 15), date(2000, 2, 29)),  # 2000 is
        (0, date(2020, 1, 31), date(2020, 1, 31)),
        (0, date(2020, 2, 1), date(2020, 2, 29)),
        (2, date(2019, 12, 31), date(2020, 2, 29)),  # across the year end
        (12, date(2019, 2, 28), date(2020, 2, 29)),
        (13, date(2018, 4, 1), date(2019, 5, 31)),
        (24, date(2018, 3, 31), date(2020, 3, 31)),
        (600, date(2018, 4, 1), date(2068, 4, 30)),
    ],
)
def test_months_after_formula(months: int, returned_on: date, expected: date) -> None:
    assert rule("months_after", months=months).retain_until_for(returned_on) == expected


def test_fixed_formula_is_the_same_date_for_the_whole_window() -> None:
    fixed = rule("fixed", retain_until=date(2021, 6, 30))
    assert fixed.retain_until_for(date(2018, 4, 1)) == date(2021, 6, 30)
    assert fixed.retain_until_for(date(2019, 3, 31)) == date(2021, 6, 30)


@given(returned_on=days, months=st.integers(0, MAX_MONTHS))
def test_months_after_is_always_a_month_end_m_months_on(returned_on: date, months: int) -> None:
    until = MonthsAfterRule("m", date(1990, 1, 1), date(2200, 12, 31), months).retain_until_for(
        returned_on
    )
    assert (until + timedelta(days=1)).day == 1
    assert (until.year - returned_on.year) * 12 + until.month - returned_on.month == months
    assert until >= returned_on


@given(returned_on=days, years=st.integers(0, MAX_YEARS))
def test_fiscal_year_is_always_31_march_after_the_return(returned_on: date, years: int) -> None:
    until = FiscalYearRule("k", date(1990, 1, 1), date(2200, 12, 31), years).retain_until_for(
        returned_on
    )
    assert (until.month, until.day) == (3, 31)
    assert until >= returned_on
    # k = 0 keeps to the end of the return's fiscal year; each k adds exactly one year.
    assert fiscal_year_of(until) == fiscal_year_of(returned_on) + years
    assert until - returned_on < timedelta(days=366 * (years + 1))


@given(day=days)
def test_month_end_is_the_last_day(day: date) -> None:
    end = month_end(day.year, day.month)
    assert end.month == day.month
    assert end >= day
    assert (end + timedelta(days=1)).month != day.month


# --- describing rules ----------------------------------------------------------------------------


def test_describe_each_kind() -> None:
    assert KUMAMOTO_FY.describe() == (
        "平成30年4月1日〜平成31年3月31日に返戻 → "
        "返戻年度末から1年（返戻年度の翌年度の3月31日）まで保管"
        "（この期間の返戻分はすべて令和2年3月31日まで）"
    )
    assert (
        rule("fiscal_year", years=0)
        .describe()
        .endswith(
            "返戻年度の末日（3月31日）まで保管（この期間の返戻分はすべて平成31年3月31日まで）"
        )
    )
    assert "返戻年度末から3年（返戻年度の3年後の年度の3月31日）まで保管" in (
        rule("fiscal_year", years=3).describe()
    )
    spanning = rule("fiscal_year", returned_to=date(2019, 4, 1))
    assert "すべて" not in spanning.describe()
    assert rule("months_after", months=6).describe() == (
        "平成30年4月1日〜平成31年3月31日に返戻 → 返戻月の6か月後の月末まで保管"
    )
    assert rule("months_after", months=0).describe().endswith("返戻月の末日まで保管")
    one_month = rule("months_after", returned_to=date(2018, 4, 30), months=1)
    assert one_month.describe().endswith("（この期間の返戻分はすべて平成30年5月31日まで）")
    one_day = rule("fixed", returned_from=date(2019, 5, 1), returned_to=date(2019, 5, 1))
    assert one_day.describe() == "令和元年5月1日に返戻 → 令和2年3月31日まで保管"


def test_registry_and_fields_round_trip() -> None:
    assert set(RULE_KINDS) == set(RuleKind)
    for kind, cls in RULE_KINDS.items():
        assert cls.kind is kind
    period = rule_from_fields(
        "period_from",
        "死亡",
        date(2020, 1, 1),
        date(2030, 12, 31),
        anchor="register_event_on",
        period_count=0,
        period_unit="days",
        register_outcomes="deceased,emigrated",
    )
    for made in (rule("fixed"), rule("fiscal_year"), rule("months_after"), period):
        fields = made.as_fields()
        assert set(fields) == {
            "label",
            "kind",
            "returned_from",
            "returned_to",
            "retain_until",
            "years",
            "months",
            "anchor",
            "period_count",
            "period_unit",
            "register_outcomes",
            "item_kinds",
            "sub_rules",
        }
        assert isinstance(made, RULE_KINDS[RuleKind(str(fields["kind"]))])
        assert rule_from_fields(**fields) == made  # type: ignore[arg-type]
    assert rule("fiscal_year").as_fields()["years"] == 1
    assert rule("fiscal_year").as_fields()["retain_until"] is None


def test_rules_are_frozen() -> None:
    with pytest.raises(AttributeError):
        SEED_RULE.retain_until = date(2030, 1, 1)  # type: ignore[misc]


# --- validation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "changes", "message"),
    [
        ("fixed", {"label": "  "}, "名称を入力してください"),
        ("fixed", {"label": "あ" * 101}, "名称は100文字以内"),
        (
            "fixed",
            {"returned_from": date(2019, 4, 1), "returned_to": date(2019, 3, 31)},
            "返戻日の期間が逆です",
        ),
        ("fixed", {"retain_until": None}, "期限指定（fixed）には保管期限が必要です"),
        ("fixed", {"retain_until": date(2019, 3, 30)}, "より前です"),
        ("fixed", {"years": 1}, "期限指定（fixed）の基準に年数（years）は指定できません"),
        ("fiscal_year", {"years": None}, "年度末基準（fiscal_year）には年数が必要です"),
        ("fiscal_year", {"years": -1}, "年数は0以上30以下にしてください: -1"),
        ("fiscal_year", {"years": MAX_YEARS + 1}, "年数は0以上30以下"),
        ("fiscal_year", {"years": True}, "年数は整数で指定してください"),
        ("fiscal_year", {"years": 1.5}, "年数は整数で指定してください"),
        (
            "fiscal_year",
            {"retain_until": date(2020, 3, 31)},
            "保管期限（retain_until）は指定できません",
        ),
        ("months_after", {"months": -1}, "月数は0以上600以下"),
        ("months_after", {"months": MAX_MONTHS + 1}, "月数は0以上600以下"),
        ("months_after", {"months": None, "years": 1}, "月数が必要です"),
        ("fixed", {"returned_from": datetime(2018, 4, 1, 9, 0)}, "返戻日の開始を日付で指定"),
        ("fixed", {"returned_to": "2019-03-31"}, "返戻日の終了を日付で指定"),
        (
            "fiscal_year",
            {"returned_from": date(9990, 1, 1), "returned_to": date(9999, 12, 31)},
            "暦の範囲を超えます",
        ),
        (
            "months_after",
            {"returned_from": date(9990, 1, 1), "returned_to": date(9999, 12, 1)},
            "暦の範囲を超えます",
        ),
    ],
)
def test_invalid_rules_are_refused(kind: str, changes: dict[str, Any], message: str) -> None:
    with pytest.raises(RuleError, match="廃棄基準") as caught:
        rule(kind, **changes)
    assert message in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(RuleError, match="種類「weekly」は使えません"):
        rule_from_fields("weekly", "x", date(2018, 4, 1), date(2019, 3, 31))


def test_every_problem_is_named_at_once() -> None:
    with pytest.raises(RuleError) as caught:
        rule_from_fields(
            RuleKind.MONTHS_AFTER,
            "",
            date(2019, 4, 1),
            date(2018, 4, 1),
            retain_until=date(2020, 1, 1),
            months=-3,
        )
    text = str(caught.value)
    for part in (
        "名称を入力",
        "期間が逆",
        "保管期限（retain_until）は指定できません",
        "月数は0以上",
    ):
        assert part in text


def test_valid_edge_rules_are_accepted() -> None:
    # retain-until on the window's last day: an item returned that day is kept that day.
    assert rule("fixed", retain_until=date(2019, 3, 31)).retain_until_for(
        date(2019, 3, 31)
    ) == date(2019, 3, 31)
    assert rule("fiscal_year", years=0).retain_until_for(date(2018, 4, 1)) == date(2019, 3, 31)
    assert rule("fiscal_year", years=MAX_YEARS)
    assert rule("months_after", months=0)
    one_day = rule(returned_from=date(2019, 5, 1), returned_to=date(2019, 5, 1))
    assert one_day.covers(date(2019, 5, 1))
    assert rule(label="  前後に空白  ").label == "前後に空白"
    assert rule_from_fields(
        RuleKind.FISCAL_YEAR, "k", date(2018, 4, 1), date(2019, 3, 31), years=1
    ) == FiscalYearRule("k", date(2018, 4, 1), date(2019, 3, 31), 1)


# --- windows and overlap -------------------------------------------------------------------------


def test_window_is_inclusive() -> None:
    assert SEED_RULE.covers(date(2018, 4, 1))
    assert SEED_RULE.covers(date(2019, 3, 31))
    assert not SEED_RULE.covers(date(2018, 3, 31))
    assert not SEED_RULE.covers(date(2019, 4, 1))


H31 = rule(
    "fiscal_year",
    label="平成31年度返戻分",
    returned_from=date(2019, 4, 1),
    returned_to=date(2020, 3, 31),
)


def test_touching_windows_do_not_overlap() -> None:
    check_no_overlap([H31, SEED_RULE])
    check_no_overlap([])
    check_no_overlap([SEED_RULE])
    assert rule_for(date(2019, 3, 31), [SEED_RULE, H31]) == SEED_RULE
    assert rule_for(date(2019, 4, 1), [SEED_RULE, H31]) == H31


def test_overlap_names_both_rules_and_the_shared_dates() -> None:
    late = rule(
        "months_after",
        label="3月分",
        returned_from=date(2019, 3, 1),
        returned_to=date(2019, 4, 30),
    )
    with pytest.raises(RuleError) as caught:
        check_no_overlap([H31, late, SEED_RULE])
    text = str(caught.value)
    assert "「平成30年度返戻分」（平成30年4月1日〜平成31年3月31日）" in text
    assert "「3月分」（平成31年3月1日〜平成31年4月30日）" in text
    assert "平成31年3月1日〜平成31年3月31日で重なっています" in text
    # Both pairs are named: 3月分 also overlaps 平成31年度返戻分 in April.
    assert "「平成31年度返戻分」" in text
    assert "平成31年4月1日〜平成31年4月30日で重なっています" in text


def test_overlap_of_a_single_day() -> None:
    one_day = rule(label="一日", returned_from=date(2019, 3, 31), returned_to=date(2019, 3, 31))
    with pytest.raises(RuleError, match="平成31年3月31日で重なっています"):
        check_no_overlap([SEED_RULE, one_day])


def test_identical_windows_overlap() -> None:
    with pytest.raises(RuleError, match="重複"):
        check_no_overlap([SEED_RULE, KUMAMOTO_FY])


def test_rule_for_refuses_to_guess_between_overlapping_rules() -> None:
    with pytest.raises(RuleError, match="複数の廃棄基準"):
        rule_for(date(2018, 10, 1), [SEED_RULE, KUMAMOTO_FY])
    assert rule_for(date(2017, 10, 1), [SEED_RULE, KUMAMOTO_FY]) is None


@given(
    a=st.tuples(days, days).map(sorted),
    b=st.tuples(days, days).map(sorted),
)
def test_overlap_check_agrees_with_day_membership(a: list[date], b: list[date]) -> None:
    first = FixedRule("a", a[0], a[1], date(2300, 1, 1))
    second = FixedRule("b", b[0], b[1], date(2300, 1, 1))
    shares_a_day = any(second.covers(d) for d in (a[0], a[1])) or first.covers(b[0])
    if shares_a_day:
        with pytest.raises(RuleError):
            check_no_overlap([first, second])
    else:
        check_no_overlap([first, second])


# --- the calendar --------------------------------------------------------------------------------


def test_calendar_groups_per_month_from_todays_month() -> None:
    today = date(2020, 3, 15)
    firsts = [
        date(2019, 4, 1),  # already eligible a year ago: counted in this month
        date(2020, 3, 1),  # already eligible this month
        date(2020, 4, 1),
        date(2020, 4, 1),
        date(2020, 4, 30),
        date(2021, 2, 28),  # last month shown
        date(2021, 3, 1),  # beyond 12 months: not counted
    ]
    months = calendar(firsts, today)
    assert len(months) == 12
    assert months[0] == CalendarMonth(2020, 3, 2)
    assert months[1] == (2020, 4, 3)
    assert months[-1] == (2021, 2, 1)
    assert [m.total for m in months[2:-1]] == [0] * 9
    assert [(m.year, m.month) for m in months][9:] == [(2020, 12), (2021, 1), (2021, 2)]
    assert sum(m.total for m in months) == 6


def test_calendar_from_eligible_from() -> None:
    items = [facts(date(2018, 5, 1)), facts(date(2019, 5, 1)), facts(date(2017, 5, 1))]
    rules = [SEED_RULE, H31]
    firsts = [d for d in (eligible_from(i, rules) for i in items) if d is not None]
    assert firsts == [date(2020, 4, 1), date(2021, 4, 1)]
    assert calendar(firsts, date(2020, 1, 10), months=4) == [
        (2020, 1, 0),
        (2020, 2, 0),
        (2020, 3, 0),
        (2020, 4, 1),
    ]


def test_calendar_needs_at_least_one_month() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        calendar([], date(2020, 1, 1), months=0)
