"""Issue 14: period counting by 民法 140–143 as a table, monotonicity of every rule kind (a
property test), item kinds and ``later_of`` with the card-expiry cap, in the pure engine."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.domain.codes import PeriodUnit
from tracker.domain.retention import (
    ItemFacts,
    Rule,
    RuleError,
    check_no_overlap,
    eligibility,
    in_coverage_gap,
    period_end,
    rule_for,
    rule_from_fields,
    waiting_for,
)

D = date
#: (anchor, count, unit, last day of the period) — SPEC §3 and the issue's examples, month
#: ends, leap days, year ends, the 和暦 era changes (昭和→平成 1989-01-07/08, 平成→令和
#: 2019-04-30/05-01) and N = 0.
TABLE = [
    # SPEC §3 / 北谷町: returned 4/1 → kept until 7/1
    (D(2020, 4, 1), 3, "months", D(2020, 7, 1)),
    (D(2022, 1, 31), 3, "months", D(2022, 4, 30)),
    (D(2022, 2, 28), 3, "months", D(2022, 5, 31)),
    (D(2021, 11, 29), 3, "months", D(2022, 2, 28)),
    # month ends: 1/31 + 1 month (start 2/1 → ends the day before 3/1)
    (D(2021, 1, 31), 1, "months", D(2021, 2, 28)),
    (D(2020, 1, 31), 1, "months", D(2020, 2, 29)),
    (D(2021, 1, 30), 1, "months", D(2021, 2, 28)),
    (D(2021, 1, 28), 1, "months", D(2021, 2, 28)),
    (D(2021, 1, 27), 1, "months", D(2021, 2, 27)),
    (D(2021, 3, 31), 1, "months", D(2021, 4, 30)),
    (D(2021, 4, 30), 1, "months", D(2021, 5, 31)),
    (D(2021, 8, 31), 1, "months", D(2021, 9, 30)),
    # leap days
    (D(2020, 2, 29), 1, "years", D(2021, 2, 28)),
    (D(2019, 2, 28), 1, "years", D(2020, 2, 29)),
    (D(2020, 2, 28), 1, "years", D(2021, 2, 28)),
    (D(2020, 2, 29), 4, "years", D(2024, 2, 29)),
    (D(2020, 2, 29), 12, "months", D(2021, 2, 28)),
    (D(2020, 2, 28), 1, "days", D(2020, 2, 29)),
    (D(2020, 2, 29), 1, "days", D(2020, 3, 1)),
    (D(2021, 2, 28), 1, "days", D(2021, 3, 1)),
    # year ends
    (D(2021, 12, 31), 1, "days", D(2022, 1, 1)),
    (D(2021, 12, 31), 1, "months", D(2022, 1, 31)),
    (D(2021, 12, 31), 1, "years", D(2022, 12, 31)),
    (D(2021, 11, 30), 1, "months", D(2021, 12, 31)),
    (D(2021, 12, 1), 1, "months", D(2022, 1, 1)),
    (D(2021, 10, 1), 3, "months", D(2022, 1, 1)),
    # 和暦 era changes: the count ignores them
    (D(2019, 4, 30), 1, "days", D(2019, 5, 1)),
    (D(2019, 4, 30), 3, "months", D(2019, 7, 31)),
    (D(2019, 5, 1), 3, "months", D(2019, 8, 1)),
    (D(2019, 1, 31), 3, "months", D(2019, 4, 30)),
    (D(2019, 2, 1), 3, "months", D(2019, 5, 1)),
    (D(2018, 5, 1), 1, "years", D(2019, 5, 1)),
    (D(1989, 1, 7), 1, "days", D(1989, 1, 8)),
    (D(1988, 10, 8), 3, "months", D(1989, 1, 8)),
    # N = 0: the anchor date itself
    (D(2020, 4, 1), 0, "days", D(2020, 4, 1)),
    (D(2020, 4, 1), 0, "months", D(2020, 4, 1)),
    (D(2020, 4, 1), 0, "years", D(2020, 4, 1)),
    (D(2020, 2, 29), 0, "months", D(2020, 2, 29)),
    # days and longer periods
    (D(2020, 4, 1), 30, "days", D(2020, 5, 1)),
    (D(2020, 4, 1), 90, "days", D(2020, 6, 30)),
    (D(2020, 4, 1), 12, "months", D(2021, 4, 1)),
    (D(2020, 4, 1), 1, "years", D(2021, 4, 1)),
]


def test_the_table_has_at_least_30_rows() -> None:
    assert len(TABLE) >= 30


@pytest.mark.parametrize(("anchor", "count", "unit", "last"), TABLE)
def test_period_end(anchor: date, count: int, unit: str, last: date) -> None:
    assert period_end(anchor, count, unit) == last
    if count:
        assert last >= anchor + timedelta(days=1) or unit == "days"


WINDOW = (D(2016, 1, 1), D(2040, 12, 31))
ANCHOR_FIELDS = ("returned_on", "notice_sent_on", "first_notice_on", "renotice_on")


def _later_of(cap: bool) -> Rule:
    return rule_from_fields(
        "later_of",
        "未受領",
        *WINDOW,
        item_kinds=["mynumber_card"],
        sub_rules=[
            {"kind": "period_from", "anchor": "renotice_on", "period": {"months": 3}},
            {"kind": "period_from", "anchor": "first_notice_on", "period": {"months": 12}},
        ],
        cap_anchor="card_expires_on" if cap else None,
    )


RULES: dict[str, Rule] = {
    "fixed": rule_from_fields("fixed", "固定", *WINDOW, retain_until=D(2041, 3, 31)),
    "fiscal_year": rule_from_fields("fiscal_year", "年度", *WINDOW, years=1),
    "months_after": rule_from_fields("months_after", "月末", *WINDOW, months=6),
    **{
        f"period_from {unit.value} {anchor}": rule_from_fields(
            "period_from",
            f"期間 {unit.value} {anchor}",
            *WINDOW,
            anchor=anchor,
            period_count=7 if unit is PeriodUnit.DAYS else 3,
            period_unit=unit.value,
        )
        for unit in PeriodUnit
        for anchor in ANCHOR_FIELDS
    },
    "later_of": _later_of(cap=False),
    "later_of capped": _later_of(cap=True),
    "later_of on the return date": rule_from_fields(
        "later_of",
        "返戻日の遅い方",
        *WINDOW,
        sub_rules=[
            {"kind": "fiscal_year", "years": 0},
            {"kind": "period_from", "anchor": "returned_on", "period": {"days": 200}},
        ],
    ),
}
dates = st.dates(min_value=WINDOW[0], max_value=D(2040, 6, 30))


def _facts(day: date, which: str, base: date) -> ItemFacts:
    """Every date of the item is ``base`` except the one under test, ``day``."""
    values = {name: (day if name == which else base) for name in (*ANCHOR_FIELDS,)}
    return ItemFacts(
        "in_custody",
        False,
        values.pop("returned_on"),
        item_kind="mynumber_card",
        card_expires_on=base + timedelta(days=400),
        **values,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("name", list(RULES))
@settings(max_examples=60, deadline=None)
@given(first=dates, second=dates, base=dates)
def test_retain_until_never_decreases_as_an_anchor_date_increases(
    name: str, first: date, second: date, base: date
) -> None:
    rule = RULES[name]
    early, late = sorted((first, second))
    for which in ANCHOR_FIELDS:
        a = rule.retain_until_of(_facts(early, which, base))
        b = rule.retain_until_of(_facts(late, which, base))
        assert a is not None and b is not None, which
        assert a <= b, (which, early, late)


CARD = _later_of(cap=True)


def card(**dates: date | None) -> ItemFacts:
    return ItemFacts("in_custody", False, D(2020, 1, 6), item_kind="mynumber_card", **dates)  # type: ignore[arg-type]


def test_later_of_takes_the_later_date_capped_by_the_expiry() -> None:
    # first notice 2020-01-10 + 12 months → 2021-01-10; re-notice 2020-11-01 + 3 months → 2021-02-01
    facts = card(first_notice_on=D(2020, 1, 10), renotice_on=D(2020, 11, 1))
    assert CARD.retain_until_of(facts) == D(2021, 2, 1)
    assert not eligibility(facts, [CARD], D(2021, 2, 1)).eligible
    assert eligibility(facts, [CARD], D(2021, 2, 2)).eligible
    # the re-notice early: the first notice's 12 months are later
    early = card(first_notice_on=D(2020, 1, 10), renotice_on=D(2020, 3, 1))
    assert CARD.retain_until_of(early) == D(2021, 1, 10)
    # the card expires first: kept until its expiry
    capped = card(
        first_notice_on=D(2020, 1, 10), renotice_on=D(2020, 11, 1), card_expires_on=D(2020, 12, 15)
    )
    assert CARD.retain_until_of(capped) == D(2020, 12, 15)
    assert eligibility(capped, [CARD], D(2020, 12, 16)).eligible
    later_expiry = card(
        first_notice_on=D(2020, 1, 10), renotice_on=D(2020, 11, 1), card_expires_on=D(2030, 1, 1)
    )
    assert CARD.retain_until_of(later_expiry) == D(2021, 2, 1)


def test_a_card_without_its_renotice_date_waits_in_the_gap() -> None:
    facts = card(first_notice_on=D(2020, 1, 10), card_expires_on=D(2020, 6, 1))
    decision = eligibility(facts, [CARD], D(2030, 1, 1))
    assert not decision.eligible
    assert decision.reasons == (
        "再通知日が未登録のため保管期限が決まりません（廃棄基準「未受領」）",
    )
    assert in_coverage_gap(facts, [CARD])
    waiting = waiting_for(facts, [CARD])
    assert waiting is not None and waiting[1] == ["再通知日"]


def test_an_event_anchor_rule_waits_for_its_date() -> None:
    notice = rule_from_fields(
        "period_from",
        "お知らせ",
        *WINDOW,
        anchor="notice_sent_on",
        period_count=3,
        period_unit="months",
    )
    without = ItemFacts("in_custody", False, D(2020, 4, 1))
    assert not eligibility(without, [notice], D(2030, 1, 1)).eligible
    assert in_coverage_gap(without, [notice])
    sent = ItemFacts("in_custody", False, D(2020, 1, 1), notice_sent_on=D(2020, 4, 1))
    assert not eligibility(sent, [notice], D(2020, 7, 1)).eligible
    assert eligibility(sent, [notice], D(2020, 7, 2)).eligible
    assert "お知らせ送付日から3か月" in notice.describe()


def test_item_kinds_decide_which_rule_applies_and_overlaps() -> None:
    general = rule_from_fields(
        "fixed", "全種別", D(2018, 4, 1), D(2019, 3, 31), retain_until=D(2020, 3, 31)
    )
    notices = rule_from_fields(
        "fiscal_year",
        "通知書",
        D(2018, 4, 1),
        D(2019, 3, 31),
        years=3,
        item_kinds=["number_notice"],
    )
    rules = [general, notices, CARD]
    check_no_overlap(rules)  # a rule naming a kind, and one for every kind, may share dates
    day = D(2018, 6, 1)
    assert rule_for(day, rules, "notification_card") == general
    assert rule_for(day, rules, "number_notice") == notices
    assert rule_for(day, rules, "mynumber_card") == CARD
    assert rule_for(day, rules, None) == general
    assert "（個人番号通知書）" in notices.describe()
    clash = rule_from_fields(
        "fixed",
        "重複",
        D(2019, 1, 1),
        D(2019, 12, 31),
        retain_until=D(2021, 3, 31),
        item_kinds=["number_notice", "notification_card"],
    )
    with pytest.raises(RuleError, match="number_notice が共通"):
        check_no_overlap([*rules, clash])
    with pytest.raises(RuleError, match="重なっています"):
        check_no_overlap(
            [
                general,
                rule_from_fields(
                    "fixed", "全種別2", D(2019, 1, 1), D(2019, 12, 31), retain_until=D(2021, 1, 1)
                ),
            ]
        )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"item_kinds": ["letter"]}, "通知物の種別「letter」"),
        ({"sub_rules": [{"kind": "fixed", "retain_until": "2041-03-31"}]}, "2〜5件"),
        (
            {"sub_rules": [{"kind": "later_of"}, {"kind": "fiscal_year", "years": 1}]},
            "遅い方（later_of）は指定できません",
        ),
        (
            {
                "sub_rules": [
                    {"kind": "period_from", "anchor": "register_event_on", "period": {"days": 0}},
                    {"kind": "fiscal_year", "years": 1},
                ]
            },
            "異動日",
        ),
        (
            {
                "sub_rules": [
                    {"kind": "fiscal_year", "years": 1, "label": "x"},
                    {"kind": "fiscal_year", "years": 2},
                ]
            },
            "label",
        ),
        (
            {
                "cap_anchor": "birth_date",
                "sub_rules": [
                    {"kind": "fiscal_year", "years": 1},
                    {"kind": "fiscal_year", "years": 2},
                ],
            },
            "上限日",
        ),
    ],
)
def test_bad_later_of_rules_are_refused_with_the_reason(
    fields: dict[str, object], message: str
) -> None:
    with pytest.raises(RuleError, match=message):
        rule_from_fields("later_of", "悪い例", *WINDOW, **fields)  # type: ignore[arg-type]


def test_a_later_of_rule_round_trips_through_its_stored_fields() -> None:
    for rule in RULES.values():
        assert rule_from_fields(**rule.as_fields()) == rule  # type: ignore[arg-type]
