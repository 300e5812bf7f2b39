"""The disposal desk (issue 12): batches scoped to a cohort, the eligible list a page at a time,
and execution only after the officer has re-typed the number of cards."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from tests import factories
from tests.factories import NOW
from tracker.db import Database
from tracker.domain.codes import ItemStatus, RuleKind
from tracker.domain.retention import rule_from_fields
from tracker.models import AuditEvent, DisposalBatch, DisposalBatchItem, Item, RetentionRule
from tracker.services import disposal, holds, retention

AS_OF = date(2020, 4, 1)
EXECUTION = disposal.Execution(
    destroyed_on=date(2020, 4, 10),
    method="shredding",
    place="本庁舎 裁断室",
    executor="裁断 一郎",
    witness="立会 花子",
)


def add_rule(database: Database, label: str, first_year: int) -> int:
    """A 年度 rule (k = 1, as Kumamoto's) for the fiscal year starting in April ``first_year``."""
    rule = rule_from_fields(
        RuleKind.FISCAL_YEAR,
        label,
        date(first_year, 4, 1),
        date(first_year + 1, 3, 31),
        years=1,
    )
    with database.session_scope() as session:
        row = retention.save_rule(
            session, actor="o", rule=rule, kind=RuleKind.FISCAL_YEAR, parameters={"years": 1}
        )
        return row.id


def rule_id(database: Database, label: str) -> int:
    with database.session_scope() as session:
        found = session.scalar(select(RetentionRule.id).where(RetentionRule.label == label))
        assert found is not None
        return found


def stock(database: Database, h27: int = 0, h29: int = 0, h30: int = 0) -> None:
    """Items returned in 平成27, 29 and 30年度 (all eligible on 2020-04-01), a few a day."""
    n = 0
    for count, first_day in ((h27, date(2015, 5, 1)), (h29, date(2017, 6, 1)), (h30, RETURNED)):
        for i in range(count):
            factories.envelope(
                database, n, returned_on=first_day + timedelta(days=i), addressee=f"対象 {n}"
            )
            n += 1


RETURNED = date(2018, 4, 2)


@pytest.fixture
def cohorts(database: Database) -> Database:
    add_rule(database, "平成27年度返戻分", 2015)
    add_rule(database, "平成29年度返戻分", 2017)
    return database


def test_a_batch_for_one_cohort_freezes_only_that_cohort(cohorts: Database) -> None:
    stock(cohorts, h27=2, h29=3, h30=4)
    h30 = rule_id(cohorts, "平成30年度返戻分")

    with cohorts.session_scope() as session:
        batch = disposal.create_batch(session, actor="o1", as_of=AS_OF, now=NOW, rule_ids=[h30])
        batch_id = batch.id

    with cohorts.session_scope() as session:
        frozen = session.execute(
            select(DisposalBatchItem.rule_label, func.count())
            .where(DisposalBatchItem.batch_id == batch_id)
            .group_by(DisposalBatchItem.rule_label)
        ).all()
        assert dict(frozen) == {"平成30年度返戻分": 4}
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "disposal.create"))
        assert event is not None
        details = json.loads(event.details)
        assert details["rules"] == ["平成30年度返戻分"]
        assert details["cohorts"] == {"平成30年度返戻分": 4}
        # the other cohorts are still free for a batch of their own, or for all of them
        batch = session.get(DisposalBatch, batch_id)
        assert batch is not None
        disposal.cancel(session, actor="o1", batch=batch, reason="やり直し", now=NOW)
        everything = disposal.create_batch(session, actor="o1", as_of=AS_OF, now=NOW)
        assert disposal.summary(session, everything).cohorts == [
            ("平成27年度返戻分", 2),
            ("平成29年度返戻分", 3),
            ("平成30年度返戻分", 4),
        ]


def test_a_cohort_with_nothing_eligible_or_an_unknown_rule_is_refused(cohorts: Database) -> None:
    stock(cohorts, h30=2)
    h29 = rule_id(cohorts, "平成29年度返戻分")
    with (
        pytest.raises(disposal.DisposalError, match="廃棄できる通知物はありません（平成29年度"),
        cohorts.session_scope() as session,
    ):
        disposal.create_batch(session, actor="o1", as_of=AS_OF, now=NOW, rule_ids=[h29])
    with (
        pytest.raises(disposal.DisposalError, match="廃棄基準が見つかりません"),
        cohorts.session_scope() as session,
    ):
        disposal.create_batch(session, actor="o1", as_of=AS_OF, now=NOW, rule_ids=[h29, 999])
    with cohorts.session_scope() as session:
        assert session.scalar(select(func.count()).select_from(DisposalBatch)) == 0


def walk(database: Database, size: int, **scope: object) -> list[disposal.EligiblePage]:
    """Every page from the first, by 次へ."""
    pages = []
    after = None
    with database.session_scope() as session:
        while True:
            page = disposal.eligible_page(
                session,
                AS_OF,
                after=after,
                size=size,
                **scope,  # type: ignore[arg-type]
            )
            pages.append(page)
            if not page.has_next:
                return pages
            after = page.last


def test_keyset_pages_cover_every_eligible_item_exactly_once(cohorts: Database) -> None:
    stock(cohorts, h27=4, h29=5, h30=8)
    factories.envelope(cohorts, 90, returned_on=date(2019, 5, 1))  # 令和元年: no rule
    with cohorts.session_scope() as session:
        held = session.scalars(select(Item).order_by(Item.control_no)).all()[3]
        holds.place(session, actor="o", item=held, reason="来庁予約", now=NOW)
        held_no = held.control_no
        expected = [e.control_no for e in retention.iter_eligible(session, AS_OF)]
    assert len(expected) == 16 and held_no not in expected

    pages = walk(cohorts, 5)
    listed = [row.control_no for page in pages for row in page.rows]
    assert listed == expected  # each once, in control-number order
    assert [page.position for page in pages] == [0, 5, 10, 15]
    assert all(page.total == 16 for page in pages)
    assert pages[0].cohorts == [
        ("平成27年度返戻分", 3),  # one of them is held
        ("平成29年度返戻分", 5),
        ("平成30年度返戻分", 8),
    ]
    assert not pages[0].has_previous and pages[-1].has_previous

    # 前へ from the last page comes back through the same pages
    back = []
    before = pages[-1].first
    with cohorts.session_scope() as session:
        while before is not None:
            page = disposal.eligible_page(session, AS_OF, before=before, size=5)
            back.append([row.control_no for row in page.rows])
            before = page.first if page.has_previous else None
    assert back == [[row.control_no for row in page.rows] for page in reversed(pages[:-1])]

    # one cohort only: its pages hold exactly its items
    h29 = rule_id(cohorts, "平成29年度返戻分")
    only = walk(cohorts, 2, rule_ids=[h29])
    assert {row.rule.label for page in only for row in page.rows} == {"平成29年度返戻分"}
    assert sum(len(page.rows) for page in only) == only[0].total == 5
    assert only[0].cohorts == [("平成29年度返戻分", 5)]


def test_an_item_leaving_the_list_between_two_pages_moves_no_other(database: Database) -> None:
    stock(database, h30=6)
    with database.session_scope() as session:
        everything = [e.control_no for e in retention.iter_eligible(session, AS_OF)]
        first = disposal.eligible_page(session, AS_OF, size=3)
        # an item of the first page is held before 次へ is clicked
        gone = session.scalar(select(Item).where(Item.control_no == first.rows[0].control_no))
        assert gone is not None
        holds.place(session, actor="o", item=gone, reason="来庁予約", now=NOW)
        second = disposal.eligible_page(session, AS_OF, after=first.last, size=3)
    assert [row.control_no for row in second.rows] == everything[3:]
    assert (second.position, second.total, second.has_next) == (2, 5, False)


def approved(database: Database, **scope: object) -> int:
    with database.session_scope() as session:
        batch = disposal.create_batch(session, actor="o1", as_of=AS_OF, now=NOW, **scope)  # type: ignore[arg-type]
        disposal.approve(session, actor="o2", batch=batch, now=NOW)
        return batch.id


def test_the_confirmation_counts_cohorts_and_a_wrong_count_changes_nothing(
    cohorts: Database,
) -> None:
    stock(cohorts, h27=2, h30=3)
    batch_id = approved(cohorts)
    with cohorts.session_scope() as session:
        one = session.scalar(select(Item).where(Item.name == "対象 0"))  # 平成27年度
        assert one is not None
        holds.place(session, actor="o", item=one, reason="電話で来庁予約", now=NOW)
        one_no = one.control_no
    with cohorts.session_scope() as session:
        batch = session.get(DisposalBatch, batch_id)
        assert batch is not None
        shown = disposal.preview(session, batch)
    assert shown.cohorts == [
        disposal.CohortCount("平成27年度返戻分", frozen=2, skipped=1, destroy=1),
        disposal.CohortCount("平成30年度返戻分", frozen=3, skipped=0, destroy=3),
    ]
    assert (shown.destroy, shown.skip) == (4, 1)
    assert shown.skipped == [(one_no, "保留中")]

    for typed in (5, None):  # the frozen count, or nothing: not the number destroyed now
        with (
            pytest.raises(disposal.CountMismatch, match="一致しません") as refused,
            cohorts.session_scope() as session,
        ):
            batch = session.get(DisposalBatch, batch_id)
            assert batch is not None
            disposal.execute(
                session,
                actor="o2",
                batch=batch,
                execution=EXECUTION,
                now=NOW,
                today=NOW.date(),
                confirm=True,
                confirmed_count=typed,
            )
        assert refused.value.expected == 4
    with cohorts.session_scope() as session:
        batch = session.get(DisposalBatch, batch_id)
        assert batch is not None and batch.status == "approved" and batch.executed_by is None
        statuses = set(session.scalars(select(Item.status)))
        assert statuses == {ItemStatus.IN_CUSTODY.value}
        assert not session.scalar(select(AuditEvent).where(AuditEvent.action == "disposal.execute"))
        pending = set(
            session.scalars(
                select(DisposalBatchItem.outcome).where(DisposalBatchItem.batch_id == batch_id)
            )
        )
        assert pending == {"pending"}

        disposal.execute(
            session,
            actor="o2",
            batch=batch,
            execution=EXECUTION,
            now=NOW,
            today=NOW.date(),
            confirm=True,
            confirmed_count=4,
        )
    with cohorts.session_scope() as session:
        counts = dict(
            session.execute(select(Item.status, func.count()).group_by(Item.status)).all()
        )
        assert counts == {ItemStatus.DESTROYED.value: 4, ItemStatus.IN_CUSTODY.value: 1}
