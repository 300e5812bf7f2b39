"""Issue 14: the SQL disposal list, the gap report and the calendar agree with the pure engine
item by item, with item kinds, item-date anchors and ``later_of`` (both databases)."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta

from tests import factories_rules as fr
from tests import factories_rules14 as f14
from tracker.db import Database
from tracker.domain.codes import ItemKind
from tracker.domain.retention import ItemFacts, eligibility, eligible_from, in_coverage_gap
from tracker.domain.retention import rule_from_fields as rff
from tracker.services import retention

D = date


def _rules(database: Database) -> None:
    window = (D(2026, 4, 1), D(2027, 3, 31))
    fr.save(database, rff("fiscal_year", "令和8年度（全種別）", *window, years=1))
    fr.save(
        database,
        rff(
            "period_from",
            "令和8年度上期（お知らせから）",
            D(2026, 4, 1),
            D(2026, 9, 30),
            anchor="notice_sent_on",
            period_count=30,
            period_unit="days",
            item_kinds=["number_notice"],
        ),
    )
    fr.save(
        database,
        rff(
            "later_of",
            "令和8年度（通知の遅い方）",
            *window,
            item_kinds=["notification_card"],
            sub_rules=[
                {"kind": "months_after", "months": 2},
                {"kind": "period_from", "anchor": "renotice_on", "period": {"months": 3}},
            ],
        ),
    )
    fr.save(database, fr.period_rule("死亡", 0, outcomes="deceased"))
    fr.save(
        database,
        rff(
            "period_from",
            "カード転出",
            D(2026, 1, 1),
            D(2027, 6, 30),
            anchor="register_event_on",
            period_count=10,
            period_unit="days",
            register_outcomes=["moved_out"],
            item_kinds=["mynumber_card"],
        ),
    )


def test_sql_gap_and_calendar_agree_with_the_pure_engine(database: Database) -> None:
    _rules(database)
    chance = random.Random(14)
    facts: dict[int, ItemFacts] = {}

    def maybe(start: date, span: int) -> date | None:
        return None if chance.random() < 0.25 else start + timedelta(days=chance.randrange(span))

    for n in range(60):
        returned = D(2026, 1, 1) + timedelta(days=chance.randrange(0, 500))
        kind = chance.choice(list(ItemKind))
        dates = {
            "notice_sent_on": maybe(returned, 200),
            "first_notice_on": maybe(returned, 100),
            "renotice_on": maybe(returned, 300),
            "card_expires_on": maybe(returned, 900),
        }
        item_id = f14.item_with_dates(database, n, returned_on=returned, kind=kind, **dates)
        outcome = None
        event = None
        if chance.random() < 0.3:
            outcome = chance.choice(["deceased", "moved_out"])
            event = returned + timedelta(days=chance.randrange(200))
            fr.register_result(database, item_id, outcome, event)
        facts[item_id] = ItemFacts(
            "in_custody",
            False,
            returned,
            register_outcome=outcome,
            register_event_on=event,
            item_kind=kind.value,
            **dates,  # type: ignore[arg-type]
        )
    with database.session_scope() as session:
        rules = [s.rule for s in retention.load_rules(session)]
        for as_of in [D(2026, 1, 1) + timedelta(days=d) for d in range(0, 1000, 23)]:
            listed = {e.item_id: e for e in retention.iter_eligible(session, as_of)}
            expected = {i for i, f in facts.items() if eligibility(f, rules, as_of).eligible}
            assert set(listed) == expected, as_of
            for item_id, e in listed.items():
                decision = eligibility(facts[item_id], rules, as_of)
                assert (e.rule, e.retain_until, e.reason) == (
                    decision.rule,
                    decision.retain_until,
                    decision.reason,
                )
        everyone = retention.iter_eligible(session, D(2030, 1, 1))
        # every rule decides for some item (the rule for every kind: FY2026's second half of
        # the notices, which no rule naming the kind covers)
        assert {e.rule.label for e in everyone} == {r.label for r in rules} - {"平成30年度返戻分"}
        count, _span, rows = retention.coverage_gaps(session)
        gap = {i for i, f in facts.items() if in_coverage_gap(f, rules)}
        assert count == len(gap) and {row.id for row in rows} == gap
        assert 0 < count < len(facts)
        by_kind = Counter[str]()
        for group in retention.gaps_by_kind(session):
            by_kind[group.item_kind] += group.total
        assert by_kind == Counter(str(facts[i].item_kind) for i in gap)
        today = D(2026, 6, 15)
        months = retention.calendar(session, today, months=36)
    expected_months: Counter[date] = Counter()
    for f in facts.values():
        first = eligible_from(f, rules)
        if first is not None:
            expected_months[max(first.replace(day=1), today.replace(day=1))] += 1
    assert {m: n for m, n in months if n} == {
        m: n for m, n in expected_months.items() if m in dict(months)
    }
