"""Reason-based disposal (issue 13 part 3) on both databases: event rules in the disposal list,
batches, the certificate, the coverage-gap report and the calendar."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests import factories
from tests import factories_rules as fr
from tests.factories import NOW
from tests.services.test_disposal import disposal_list
from tracker.db import Database
from tracker.domain.codes import RegisterOutcome
from tracker.domain.retention import ItemFacts, RuleError, eligibility
from tracker.models import AuditEvent, DisposalBatch, DisposalBatchItem, Item
from tracker.services import disposal, retention

DEATH_ON = date(2026, 11, 1)
RETURNED = date(2026, 6, 1)


def _setup(database: Database) -> dict[str, int]:
    fr.ordinary_rule(database)
    fr.save(database, fr.period_rule("死亡による廃棄", 0, outcomes="deceased"))
    fr.save(database, fr.period_rule("転出後30日", 30, outcomes="moved_out"))
    ids = {}
    for n, who in enumerate(["死亡 太郎", "転出 花子", "転居 次郎", "照合なし 三郎"]):
        ids[who] = factories.envelope(database, n, returned_on=RETURNED, addressee=who)[0]
    fr.register_result(database, ids["死亡 太郎"], RegisterOutcome.DECEASED, DEATH_ON)
    fr.register_result(database, ids["転出 花子"], RegisterOutcome.MOVED_OUT, date(2026, 10, 1))
    fr.register_result(database, ids["転居 次郎"], RegisterOutcome.MOVED_WITHIN, date(2026, 7, 1))
    return ids


def test_a_dead_addressee_is_listed_the_day_after_the_event_with_its_reason(
    database: Database, database_url: str
) -> None:
    _setup(database)
    # 2026-10-31: the 転出 item's 30 days (10/1 + 30 = 10/31) have not ended
    assert disposal_list(database_url, "2026-10-31") == []
    on_the_day = disposal_list(database_url, DEATH_ON.isoformat())
    assert [row["name"] for row in on_the_day] == ["転出 花子"]
    assert on_the_day[0]["rule"] == "転出後30日"
    assert on_the_day[0]["reason"] == "転出（異動日 令和8年10月1日）"
    next_day = disposal_list(database_url, (DEATH_ON + timedelta(days=1)).isoformat())
    by_name = {row["name"]: row for row in next_day}
    assert set(by_name) == {"死亡 太郎", "転出 花子"}  # 転居 (not listed) and 照合なし: not
    dead = by_name["死亡 太郎"]
    assert dead["rule"] == "死亡による廃棄"
    assert dead["reason"] == "死亡（異動日 令和8年11月1日）"
    assert dead["retain_until"] == "2026-11-01"
    assert dead["return_date"] == RETURNED.isoformat()  # its ordinary retention runs to 2028
    assert set(dead) >= {"tracking_no", "name", "birth_date", "return_date", "rule"}
    csv_rows = disposal_list(database_url, "2026-11-02", "csv")
    assert {row["reason"] for row in csv_rows} == {
        "死亡（異動日 令和8年11月1日）",
        "転出（異動日 令和8年10月1日）",
    }
    # the ordinary rule makes everyone eligible after 2028-03-31, each under its earliest rule
    later = {row["name"]: row["rule"] for row in disposal_list(database_url, "2028-04-01")}
    assert later == {
        "死亡 太郎": "死亡による廃棄",
        "転出 花子": "転出後30日",
        "転居 次郎": "令和8年度返戻分",
        "照合なし 三郎": "令和8年度返戻分",
    }


def test_the_page_counts_each_item_once(database: Database) -> None:
    _setup(database)
    with database.session_scope() as session:
        page = disposal.eligible_page(session, date(2028, 4, 1))
        assert page.total == 4
        assert dict(page.cohorts) == {"令和8年度返戻分": 4, "死亡による廃棄": 1, "転出後30日": 1}
        early = disposal.eligible_page(session, date(2026, 11, 2))
        assert early.total == 2 and [r.reason for r in early.rows if r.reason]


def test_overlapping_register_rules_are_refused_naming_both(database: Database) -> None:
    _setup(database)
    with pytest.raises(
        RuleError,
        match=r"「死亡・職権消除」.*「死亡による廃棄」|「死亡による廃棄」.*「死亡・職権消除」",
    ):
        fr.save(database, fr.period_rule("死亡・職権消除", 10, outcomes="deceased,struck_off"))
    fr.save(database, fr.period_rule("職権消除", 10, outcomes="struck_off"))  # disjoint: fine
    with database.session_scope() as session:
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "rule.create").order_by(AuditEvent.seq)
        ).all()
        after = json.loads(rows[-1].details)["after"]
        assert after["kind"] == "period_from"
        assert after["anchor"] == "register_event_on"
        assert (after["period_count"], after["period_unit"]) == (10, "days")
        assert after["register_outcomes"] == "struck_off"


def test_register_rules_close_the_gap_only_for_their_outcome(database: Database) -> None:
    fr.save(database, fr.period_rule("死亡による廃棄", 0, outcomes="deceased"))
    dead = factories.envelope(database, 1, returned_on=RETURNED, addressee="死亡 太郎")[0]
    factories.envelope(database, 2, returned_on=RETURNED, addressee="照合なし 三郎")
    fr.register_result(database, dead, RegisterOutcome.DECEASED, DEATH_ON)
    with database.session_scope() as session:
        count, span, rows = retention.coverage_gaps(session)
        assert count == 1 and span == (RETURNED, RETURNED)
        assert [r.id for r in rows] != [dead] and len(rows) == 1
        from tracker.services import stats

        assert stats.dashboard(session, date(2026, 11, 27)).coverage_gaps == 1
        calendar = dict(retention.calendar(session, date(2026, 11, 1), months=3))
        assert calendar[date(2026, 11, 1)] == 1  # the dead addressee's card, from 11/2


def test_a_batch_freezes_the_reason_and_the_certificate_groups_it(
    database: Database, tmp_path: Path
) -> None:
    ids = _setup(database)
    # an item under the seed rule too, so that the certificate has an ordinary cohort
    factories.envelope(database, 9, returned_on=date(2018, 5, 1), addressee="普通 四郎")
    as_of = date(2026, 11, 2)
    with database.session_scope() as session:
        batch = disposal.create_batch(session, actor="officer1", as_of=as_of, now=NOW)
        batch_id = batch.id
        entries = {
            e.item_id: e
            for e in session.scalars(
                select(DisposalBatchItem).where(DisposalBatchItem.batch_id == batch_id)
            )
        }
        dead = entries[ids["死亡 太郎"]]
        assert (dead.rule_label, dead.eligibility_reason) == (
            "死亡による廃棄",
            "死亡（異動日 令和8年11月1日）",
        )
        assert entries[ids["転出 花子"]].eligibility_reason == "転出（異動日 令和8年10月1日）"
        assert sum(1 for e in entries.values() if e.eligibility_reason is None) == 1
        disposal.approve(session, actor="officer2", batch=batch, now=NOW)
        disposal.execute(
            session,
            actor="officer2",
            batch=batch,
            execution=disposal.Execution(as_of, "shredding", "裁断室", "裁断 一郎", "立会 花子"),
            now=NOW,
            today=as_of,
        )
    with database.session_scope() as session:
        pdf = disposal.certificate_pdf(session, session.get(DisposalBatch, batch_id))
        again = disposal.certificate_pdf(session, session.get(DisposalBatch, batch_id))
        assert pdf == again  # rebuilt byte for byte
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        pytest.skip("pdftotext not found: install poppler-utils")
    source = tmp_path / "certificate.pdf"
    source.write_bytes(pdf)
    text = subprocess.run(
        [pdftotext, "-layout", str(source), "-"], check=True, capture_output=True, text=True
    ).stdout
    assert "廃棄事由: 死亡" in text and "廃棄事由: 転出" in text
    assert "廃棄事由別の内訳: 死亡による廃棄（死亡、1件）" in text
    assert "廃棄事由別の内訳: 転出後30日（転出、1件）" in text
    assert "死亡（異動日 令和8年11月1日）" in text
    assert "異動日の翌日から廃棄可" in text
    assert "平成30年度返戻分" in text


def test_sql_and_the_pure_engine_agree(database: Database) -> None:
    fr.ordinary_rule(database)
    fr.save(database, fr.period_rule("死亡", 0, outcomes="deceased"))
    fr.save(database, fr.period_rule("転出", 3, unit="months", outcomes="moved_out,emigrated"))
    fr.save(database, fr.period_rule("職権消除", 1, unit="years", outcomes="struck_off"))
    chance = random.Random(13)
    facts: dict[int, ItemFacts] = {}
    outcomes = [None, *RegisterOutcome]
    for n in range(40):
        returned = date(2026, 4, 1) + timedelta(days=chance.randrange(0, 365))
        item_id = factories.envelope(database, n, returned_on=returned, addressee=f"対象 {n}")[0]
        outcome = chance.choice(outcomes)
        event = None
        if outcome is not None:
            event = date(2026, 1, 1) + timedelta(days=chance.randrange(0, 700))
            if outcome is RegisterOutcome.RESIDENT:
                event = None
            fr.register_result(database, item_id, outcome, event)
        facts[item_id] = ItemFacts(
            "in_custody", False, returned, register_outcome=outcome, register_event_on=event
        )
    with database.session_scope() as session:
        rules = [s.rule for s in retention.load_rules(session)]
        for as_of in [date(2026, 1, 1) + timedelta(days=d) for d in range(0, 1000, 37)]:
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


def test_a_corrected_register_result_skips_the_item_at_execution(database: Database) -> None:
    """The 死亡 result was a mistake, corrected to 現住 after the batch froze the card: the
    execution re-checks and keeps it, with the reason on the certificate's skipped list."""
    ids = _setup(database)
    as_of = date(2026, 11, 2)
    with database.session_scope() as session:
        batch = disposal.create_batch(session, actor="officer1", as_of=as_of, now=NOW)
        batch_id = batch.id
    fr.register_result(database, ids["死亡 太郎"], RegisterOutcome.RESIDENT, None)
    with database.session_scope() as session:
        batch = session.get(DisposalBatch, batch_id)
        disposal.approve(session, actor="officer2", batch=batch, now=NOW)
        disposal.execute(
            session,
            actor="officer2",
            batch=batch,
            execution=disposal.Execution(as_of, "shredding", "裁断室", "裁断 一郎", "立会 花子"),
            now=NOW,
            today=as_of,
        )
    with database.session_scope() as session:
        outcomes = {
            e.item_id: (e.outcome, e.skip_reason)
            for e in session.scalars(
                select(DisposalBatchItem).where(DisposalBatchItem.batch_id == batch_id)
            )
        }
        dead = session.get(Item, ids["死亡 太郎"])
        assert dead is not None and dead.status == "in_custody"
    assert outcomes[ids["死亡 太郎"]] == ("skipped", disposal.EVENT_REASON_GONE)
    assert outcomes[ids["転出 花子"]] == ("destroyed", None)
