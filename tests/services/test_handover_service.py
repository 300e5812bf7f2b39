"""Handover exactly once under real concurrency (PostgreSQL), and the lookup's index use."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import func, select, text

from tests import factories
from tracker.clock import now_utc
from tracker.db import Database
from tracker.domain.codes import ReturnReason
from tracker.domain.identity import Evidence, RecipientKind
from tracker.models import AuditEvent, Handover, HandoverItem, Item, Location
from tracker.services import audit, handover, lookup

TODAY = date(2026, 11, 27)
SELF_WITH_PASSPORT = Evidence(recipient_kind=RecipientKind.SELF, documents=("passport",))


def race(database: Database, item: int, clerks: int) -> list[str]:
    barrier = threading.Barrier(clerks)
    outcomes: list[str] = []
    lock = threading.Lock()

    def clerk(n: int) -> None:
        session = database.new_session()
        try:
            if database.dialect == "postgresql":  # own connection, open before the start line
                session.execute(text("SELECT 1"))  # (on SQLite this would take the write lock)
            barrier.wait(timeout=60)
            handover.hand_over(
                session,
                actor=f"clerk{n}",
                item_ids=[item],
                evidence=SELF_WITH_PASSPORT,
                now=now_utc(),
                today=TODAY,
            )
            session.commit()
            result = "ok"
        except handover.AlreadyHandedOver as conflict:
            session.rollback()
            result = "conflict" if "は交付済みです" in str(conflict) else f"unclear: {conflict}"
        except Exception as error:  # noqa: BLE001 — any other outcome fails the test below
            session.rollback()
            result = f"error: {type(error).__name__}: {error}"
        finally:
            session.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=clerk, args=(n,)) for n in range(clerks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def test_fifty_clerks_one_card_exactly_one_handover_twenty_times(postgres_url: str) -> None:
    database = Database(postgres_url, pool_size=55, max_overflow=0)
    try:
        for run in range(20):
            [item] = factories.envelope(database, run, series=2, reason=ReturnReason.TENKYO_FUMEI)
            outcomes = race(database, item, 50)
            assert outcomes.count("ok") == 1, (run, sorted(set(outcomes)))
            assert outcomes.count("conflict") == 49, (run, sorted(set(outcomes)))
            with database.session_scope() as session:
                rows = session.scalar(
                    select(func.count())
                    .select_from(HandoverItem)
                    .where(HandoverItem.item_id == item)
                )
                events = session.scalar(
                    select(func.count())
                    .select_from(AuditEvent)
                    .where(AuditEvent.action == "handover.create")
                )
                assert rows == 1
                assert events == run + 1
        with database.session_scope() as session:
            assert session.scalar(select(func.count()).select_from(Handover)) == 20
            assert audit.verify_chain(session).ok
    finally:
        database.dispose()


def test_two_clerks_one_card_on_either_database(database: Database) -> None:
    [item] = factories.envelope(database, 99, series=2, reason=ReturnReason.TENKYO_FUMEI)
    outcomes = race(database, item, 2)
    assert sorted(outcomes) == ["conflict", "ok"]


def test_refused_evidence_changes_nothing(database: Database) -> None:
    [item] = factories.envelope(database, 7, series=2, reason=ReturnReason.TENKYO_FUMEI)
    with database.session_scope() as session, pytest.raises(handover.HandoverRefused) as refusal:
        handover.hand_over(
            session,
            actor="c",
            item_ids=[item],
            evidence=Evidence(
                recipient_kind=RecipientKind.SELF, documents=("health_insurance_card",)
            ),
            now=now_utc(),
            today=TODAY,
        )
    assert "B群2点" in " ".join(refusal.value.reasons)
    with database.session_scope() as session:
        assert session.scalar(select(Item.status).where(Item.id == item)) == "in_custody"


def fill_items(database: Database, count: int) -> None:
    """Many items with varied keys, quickly (Core insert), then fresh planner statistics."""
    kana = (
        "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワ"
    )
    with database.session_scope() as session:
        location = session.scalar(select(Location.id).where(Location.is_default.is_(True)))
        session.execute(
            text(
                "INSERT INTO envelopes (id, control_no, tracking_no, addressee, address,"
                " returned_on, return_reason, location_id, intake_by, intake_at) VALUES"
                " (900000, 'E000900000', '999999999999', 'x', 'y', '2018-04-02',"
                " 'OTHER', :loc, 't', CURRENT_TIMESTAMP)"
            ),
            {"loc": location},
        )
        rows = []
        for n in range(count):
            key = (
                kana[n % len(kana)]
                + kana[(n // len(kana)) % len(kana)]
                + kana[(n // 7) % len(kana)]
            )
            rows.append(
                {
                    "control_no": f"E000900000-{n + 1}",
                    "position": n + 1,
                    "name": key,
                    "kana": key,
                    "birth": date(1950 + n % 60, 1 + n % 12, 1 + n % 28),
                }
            )
        session.execute(
            text(
                "INSERT INTO items (control_no, envelope_id, position, kind, name, name_kana,"
                " name_key, kana_key, birth_date, status) VALUES (:control_no, 900000,"
                " :position, 'notification_card', :name, :kana, :name, :kana, :birth,"
                " 'in_custody')"
            ),
            rows,
        )
    with database.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE items"))


def test_a_kana_prefix_search_is_an_index_range_scan(database: Database) -> None:
    fill_items(database, 20000)
    statement = lookup.search_statement(lookup.parse_query("やま")).limit(50)
    with database.session_scope() as session:
        compiled = statement.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
        explain = "EXPLAIN QUERY PLAN " if database.dialect == "sqlite" else "EXPLAIN "
        plan = "\n".join(str(row[-1]) for row in session.execute(text(explain + str(compiled))))
        found = session.scalars(statement).all()
    assert found and all(item.kana_key.startswith("ヤマ") for item in found)
    if database.dialect == "sqlite":
        assert "USING INDEX ix_items_kana_order (kana_key>? AND kana_key<?)" in plan, plan
    else:
        # an (bitmap) index scan on the key's b-tree with the prefix as a range condition
        assert "Index Scan" in plan and "on ix_items_kana_order" in plan, plan
        assert "Index Cond: (((kana_key)::text >= 'ヤマ'" in plan and "Seq Scan" not in plan, plan


def test_search_pages_merge_name_and_alias_matches_in_kana_order(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page is the merge of the kana-key side and the 通称 side (issue 18): walked forwards
    and backwards two at a time, every match shows once, in フリガナ order, wherever the
    alias match falls."""
    people = [
        factories.item(f"山田 {given}", f"ヤマダ {kana}", birth_date=date(1960 + n, 1, 1))
        for n, (given, kana) in enumerate(
            [("一郎", "イチロウ"), ("次郎", "ジロウ"), ("三郎", "サブロウ"), ("四郎", "シロウ")]
        )
    ]
    people += [
        factories.item("阿部 一郎", "アベ イチロウ"),
        factories.item("和田 花子", "ワダ ハナコ"),
    ]
    ids = factories.envelope(database, 1, items=people)
    with database.session_scope() as session:  # 阿部 and 和田 go by 山口 / 山本 (通称)
        for item_id, alias in ((ids[4], "ヤマグチ"), (ids[5], "ヤマモト")):
            session.execute(
                text("UPDATE items SET alias = :a, alias_key = :a WHERE id = :i"),
                {"a": alias, "i": item_id},
            )
    monkeypatch.setattr(lookup, "RESULT_LIMIT", 2)
    query = lookup.parse_query("やま")
    expected = [
        "アベイチロウ",
        "ヤマダイチロウ",
        "ヤマダサブロウ",
        "ヤマダシロウ",
        "ヤマダジロウ",
        "ワダハナコ",
    ]
    expected.sort()  # the kana key's own order
    pages: list[list[str]] = []
    after: int | None = None
    with database.session_scope() as session:
        while True:
            found = lookup.search(session, query, actor="clerk", after=after)
            pages.append([item.kana_key for item in found.items])
            assert found.total == 6
            if found.next_after is None:
                break
            after = found.next_after
        assert [key for page in pages for key in page] == expected
        assert [len(page) for page in pages] == [2, 2, 2]
        before = found.previous_before
        backwards: list[list[str]] = []
        while before is not None:
            found = lookup.search(session, query, actor="clerk", before=before)
            backwards.insert(0, [item.kana_key for item in found.items])
            before = found.previous_before
        assert backwards == pages[:-1]


def test_search_counts_a_match_on_both_sides_once_and_stops_counting_at_the_limit(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The count is read side by side, each up to the limit (issue 18): a person found by the
    name and by the 通称 counts once, and past the limit the count is a lower bound."""
    people = [
        factories.item(f"山田 {given}", f"ヤマダ {kana}")
        for given, kana in [("一郎", "イチロウ"), ("次郎", "ジロウ"), ("三郎", "サブロウ")]
    ]
    people += [factories.item("阿部 一郎", "アベ イチロウ")]
    ids = factories.envelope(database, 1, items=people)
    with database.session_scope() as session:  # 山田 一郎 also goes by 山口; 阿部 by 山本
        for item_id, alias in ((ids[0], "ヤマグチ"), (ids[3], "ヤマモト")):
            session.execute(
                text("UPDATE items SET alias = :a, alias_key = :a WHERE id = :i"),
                {"a": alias, "i": item_id},
            )
    query = lookup.parse_query("やま")
    with database.session_scope() as session:
        found = lookup.search(session, query, actor="clerk")
        assert (found.total, found.total_is_lower_bound, len(found.items)) == (4, False, 4)
        monkeypatch.setattr(lookup, "COUNT_LIMIT", 4)
        assert lookup.search(session, query, actor="clerk").total_is_lower_bound is False
        monkeypatch.setattr(lookup, "COUNT_LIMIT", 3)
        found = lookup.search(session, query, actor="clerk")
        assert (found.total, found.total_is_lower_bound, len(found.items)) == (3, True, 4)
        monkeypatch.setattr(lookup, "COUNT_LIMIT", 1)  # the 通称 side alone, at the limit
        found = lookup.search(session, lookup.parse_query("やまも"), actor="clerk")
        assert (found.total, found.total_is_lower_bound) == (1, False)
