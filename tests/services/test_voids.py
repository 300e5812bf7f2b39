"""交付取消 (void, SPEC §2): a records officer voids a handover, its items go back to custody in
one transaction with the audit event, exactly once; the clerk who made it may ask for it the
same day (JST). On both databases; the race of two officers on PostgreSQL too."""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from tests import factories
from tracker.db import Database
from tracker.domain.codes import ReturnReason, Role
from tracker.domain.identity import Evidence, RecipientKind
from tracker.models import AuditEvent, Handover, HandoverItem, Item
from tracker.services import audit, auditlog, handover, voids
from tracker.services.transitions import Conflict

TODAY = date(2026, 11, 27)
#: 2026-11-27 12:00 in Japan.
NOON = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
PASSPORT = Evidence(recipient_kind=RecipientKind.SELF, documents=("passport",))
#: A valid individual number (check digit correct): never to be stored.
MY_NUMBER = "123456789018"


def household(database: Database, n: int = 1) -> list[int]:
    return factories.envelope(
        database,
        n,
        series=4,
        reason=ReturnReason.TENKYO_FUMEI,
        items=[factories.item("山田 太郎"), factories.item("山田 花子", "ヤマダ ハナコ")],
    )


def hand_over(database: Database, items: list[int], *, clerk: str = "clerk1", at=NOON) -> int:  # type: ignore[no-untyped-def]
    with database.session_scope() as session:
        done = handover.hand_over(
            session, actor=clerk, item_ids=items, evidence=PASSPORT, now=at, today=TODAY
        )
        return done.id


def statuses(database: Database, items: list[int]) -> list[str]:
    with database.session_scope() as session:
        return list(
            session.scalars(select(Item.status).where(Item.id.in_(items)).order_by(Item.id))
        )


def actions(database: Database) -> list[str]:
    with database.session_scope() as session:
        return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))


def void(
    database: Database, handover_id: int, *, officer: str = "officer1", reason: str = "本人違い"
) -> None:
    with database.session_scope() as session:
        record = session.get(Handover, handover_id)
        assert record is not None
        voids.void(
            session,
            actor=officer,
            handover=record,
            reason=reason,
            now=NOON + timedelta(hours=1),
        )


def test_a_void_puts_the_items_back_in_custody_with_its_event(database: Database) -> None:
    items = household(database)
    done = hand_over(database, items)
    void(database, done, reason="別の世帯の方に渡したため")
    assert statuses(database, items) == ["in_custody", "in_custody"]
    with database.session_scope() as session:
        record = session.get(Handover, done)
        assert record is not None
        assert record.voided_by == "officer1" and record.void_reason == "別の世帯の方に渡したため"
        assert record.voided_at == NOON + timedelta(hours=1)
        assert [entry.voided for entry in record.items] == [True, True]
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "handover.void"))
        assert event is not None and event.actor == "officer1" and event.object_id == str(done)
        details = json.loads(event.details)
        assert details["receipt_no"] == record.receipt_no
        assert details["items"] == ["E000000001-1", "E000000001-2"]
        assert "別の世帯" not in event.details  # the reason stays with the handover
        assert voids.standing_handover(session, items[0]) is None
        assert audit.verify_chain(session).ok
        item = session.get(Item, items[1])
        assert item is not None
        timeline = [e.action for e in auditlog.history(session, item)]
        assert timeline.index("handover.create") < timeline.index("handover.void")


def test_a_voided_item_can_be_handed_over_again(database: Database) -> None:
    items = household(database)
    first = hand_over(database, items)
    void(database, first)
    second = hand_over(database, items[:1], clerk="clerk2")
    assert statuses(database, items) == ["handed_over", "in_custody"]
    with database.session_scope() as session:
        assert [h.id for h in voids.handovers_of(session, items[0])] == [first, second]
        standing = voids.standing_handover(session, items[0])
        assert standing is not None and standing.id == second
        rows = session.scalar(
            select(func.count()).select_from(HandoverItem).where(HandoverItem.item_id == items[0])
        )
        assert rows == 2


def test_voiding_twice_is_a_conflict_that_names_the_first_officer(database: Database) -> None:
    factories.user(database, Role.RECORDS_OFFICER, "officer1", display_name="記録 一郎")
    items = household(database)
    done = hand_over(database, items)
    void(database, done)
    before = actions(database)
    with pytest.raises(Conflict, match=r"既に取り消されています（11月27日 13:00、記録 一郎）"):
        void(database, done, officer="officer2")
    assert actions(database) == before
    with database.session_scope() as session:
        record = session.get(Handover, done)
        assert record is not None and record.voided_by == "officer1"


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        ("", "取消の理由を入力してください"),
        ("   ", "取消の理由を入力してください"),
        (f"番号 {MY_NUMBER} を誤記", "個人番号"),
        ("x" * 501, "500文字以内"),
    ],
)
def test_a_refused_void_changes_nothing(database: Database, reason: str, message: str) -> None:
    items = household(database)
    done = hand_over(database, items)
    before = actions(database)
    with pytest.raises(voids.VoidError, match=message):
        void(database, done, reason=reason)
    assert statuses(database, items) == ["handed_over", "handed_over"]
    assert actions(database) == before
    with database.session_scope() as session:
        record = session.get(Handover, done)
        assert record is not None and record.voided_at is None and record.void_reason is None


def test_items_not_as_the_handover_says_refuse_the_whole_void(database: Database) -> None:
    """Only a void leaves 交付済; if an item is somehow not 交付済, nothing is kept."""
    items = household(database)
    done = hand_over(database, items)
    with database.session_scope() as session:
        session.execute(
            text("UPDATE items SET status = 'in_custody' WHERE id = :id"), {"id": items[1]}
        )
    with pytest.raises(voids.VoidError, match="交付済みではない"):
        void(database, done)
    assert statuses(database, items) == ["handed_over", "in_custody"]
    with database.session_scope() as session:
        record = session.get(Handover, done)
        assert record is not None and record.voided_at is None


# --- the clerk's request ---------------------------------------------------------------------


def request(
    database: Database,
    handover_id: int,
    *,
    clerk: str,
    at: datetime,
    reason: str = "書類の確認誤り",
) -> None:
    with database.session_scope() as session:
        record = session.get(Handover, handover_id)
        assert record is not None
        voids.request_void(session, actor=clerk, handover=record, reason=reason, now=at)


def test_the_clerk_asks_for_a_void_the_same_day_and_an_officer_voids(database: Database) -> None:
    items = household(database)
    done = hand_over(database, items)
    evening = datetime(2026, 11, 27, 14, 59, tzinfo=UTC)  # 23:59 JST, still the same day
    request(database, done, clerk="clerk1", at=evening)
    assert statuses(database, items) == ["handed_over", "handed_over"]  # only a request
    with database.session_scope() as session:
        record = session.get(Handover, done)
        assert record is not None
        assert (
            record.void_requested_by == "clerk1" and record.void_request_reason == "書類の確認誤り"
        )
        assert not voids.may_request(record, actor="clerk1", now=evening)  # asked once
    with pytest.raises(Conflict, match="既に依頼されています"):
        request(database, done, clerk="clerk1", at=evening)
    void(database, done)
    assert statuses(database, items) == ["in_custody", "in_custody"]
    assert actions(database)[-2:] == ["handover.void_request", "handover.void"]


def test_only_the_clerk_who_made_it_and_only_that_day_in_japan(database: Database) -> None:
    items = household(database)
    done = hand_over(database, items)
    next_day = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)  # 00:00 JST on the 28th
    before = actions(database)
    with pytest.raises(voids.VoidError, match="その交付をした担当者だけ"):
        request(database, done, clerk="clerk2", at=NOON)
    with pytest.raises(voids.VoidError, match="当日だけ"):
        request(database, done, clerk="clerk1", at=next_day)
    with pytest.raises(voids.VoidError, match="個人番号"):
        request(database, done, clerk="clerk1", at=NOON, reason=MY_NUMBER)
    assert actions(database) == before
    with database.session_scope() as session:
        record = session.get(Handover, done)
        assert record is not None and record.void_requested_at is None
        assert voids.may_request(record, actor="clerk1", now=NOON)
        assert not voids.may_request(record, actor="clerk1", now=next_day)
        assert not voids.may_request(record, actor="clerk2", now=NOON)


def test_no_request_after_a_void(database: Database) -> None:
    items = household(database)
    done = hand_over(database, items)
    void(database, done)
    with pytest.raises(Conflict, match="既に取り消されています"):
        request(database, done, clerk="clerk1", at=NOON)


# --- two officers at once --------------------------------------------------------------------


def race(database: Database, handover_id: int, officers: int) -> list[str]:
    barrier = threading.Barrier(officers)
    outcomes: list[str] = []
    lock = threading.Lock()

    def officer(n: int) -> None:
        session = database.new_session()
        try:
            if database.dialect == "postgresql":  # own connection, open before the start line
                session.execute(text("SELECT 1"))
            barrier.wait(timeout=60)
            record = session.get(Handover, handover_id)
            assert record is not None
            voids.void(
                session,
                actor=f"officer{n}",
                handover=record,
                reason=f"取消{n}",
                now=NOON + timedelta(hours=1),
            )
            session.commit()
            result = "ok"
        except Conflict as conflict:
            session.rollback()
            result = (
                "conflict" if "既に取り消されています" in str(conflict) else f"unclear: {conflict}"
            )
        except Exception as error:  # noqa: BLE001 — any other outcome fails the test
            session.rollback()
            result = f"error: {type(error).__name__}: {error}"
        finally:
            session.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=officer, args=(n,)) for n in range(officers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def test_two_officers_voiding_at_once_exactly_one_wins(database: Database) -> None:
    items = household(database)
    done = hand_over(database, items)
    assert sorted(race(database, done, 2)) == ["conflict", "ok"]
    assert statuses(database, items) == ["in_custody", "in_custody"]
    assert actions(database).count("handover.void") == 1


def test_eight_officers_on_postgresql_exactly_one_void(postgres_url: str) -> None:
    database = Database(postgres_url, pool_size=10, max_overflow=0)
    try:
        for run in range(5):
            items = household(database, run + 1)
            done = hand_over(database, items)
            outcomes = race(database, done, 8)
            assert outcomes.count("ok") == 1, sorted(set(outcomes))
            assert outcomes.count("conflict") == 7, sorted(set(outcomes))
            assert statuses(database, items) == ["in_custody", "in_custody"]
        with database.session_scope() as session:
            voided = session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "handover.void")
            )
            assert voided == 5
            assert audit.verify_chain(session).ok
    finally:
        database.dispose()


def test_after_a_void_and_a_new_handover_a_third_names_the_standing_one(
    database: Database,
) -> None:
    factories.user(database, Role.CLERK, "clerk2", display_name="窓口 次郎")
    items = household(database)
    first = hand_over(database, items)
    void(database, first)
    hand_over(database, items[:1], clerk="clerk2", at=NOON + timedelta(hours=2))
    with pytest.raises(
        handover.AlreadyHandedOver, match=r"交付済みです（11月27日 14:00、担当 窓口 次郎）"
    ):
        hand_over(database, items[:1], clerk="clerk1", at=NOON + timedelta(hours=3))
