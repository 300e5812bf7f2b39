"""Stock checks (棚卸) and losses (紛失), issue 13: every outcome, idempotent scans, four eyes,
the investigation hold that stops a handover, found / confirmed lost / found again, and the
next-check schedule. On both databases; the race of two people closing on PostgreSQL."""

from __future__ import annotations

import json
import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import select, text

from tests import factories
from tests.factories import NOW, TODAY
from tests.factories_stock import SERIES, item_of, location_id, scan, shelf, start
from tracker.db import Database
from tracker.domain.codes import HoldKind, StockCheckOutcome
from tracker.domain.identity import Evidence, RecipientKind
from tracker.domain.stock_check import add_months, in_range
from tracker.models import AuditEvent, Hold, Item
from tracker.models.lifecycle import LossReport, StockCheck, StockCheckEntry
from tracker.services import audit, handover, holds, stock_checks
from tracker.services.transitions import Conflict

PASSPORT = Evidence(recipient_kind=RecipientKind.SELF, documents=("passport",))


def close(database: Database, check_id: int, actor: str = "clerk1") -> stock_checks.Counts:
    with database.session_scope() as session:
        check = session.get(StockCheck, check_id)
        assert check is not None
        return stock_checks.close(session, actor=actor, check=check, now=NOW)


def sign_off(database: Database, check_id: int, actor: str) -> None:
    with database.session_scope() as session:
        check = session.get(StockCheck, check_id)
        assert check is not None
        stock_checks.sign_off(session, actor=actor, check=check, now=NOW)


def outcomes(database: Database, check_id: int) -> dict[str, str | None]:
    with database.session_scope() as session:
        rows = session.scalars(
            select(StockCheckEntry).where(StockCheckEntry.check_id == check_id)
        ).all()
        return {
            (row.envelope.control_no if row.envelope else row.scanned_code or ""): row.outcome
            for row in rows
        }


def actions(database: Database) -> list[str]:
    with database.session_scope() as session:
        return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))


def test_every_outcome_and_the_hold_on_the_missing_card(database: Database) -> None:
    here = shelf(database, 1, 3, slot="A-01")
    elsewhere = shelf(database, 10, 1, location="HIGASHI", slot="B-02")
    check_id = start(database)
    assert outcomes(database, check_id) == dict.fromkeys(here)

    assert scan(database, check_id, here[0]).outcome is StockCheckOutcome.FOUND
    # Full width and lower case, as the header scan box reads them.
    wide = here[1].lower().translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})
    assert scan(database, check_id, wide).outcome is StockCheckOutcome.FOUND
    assert scan(database, check_id, elsewhere[0]).outcome is StockCheckOutcome.FOUND_ELSEWHERE
    assert scan(database, check_id, "ZZ-NOT-A-LABEL").outcome is StockCheckOutcome.UNEXPECTED

    counts = close(database, check_id)
    assert (counts.expected, counts.found, counts.found_elsewhere) == (3, 2, 1)
    assert (counts.missing, counts.unexpected, counts.remaining) == (1, 1, 0)
    assert outcomes(database, check_id)[here[2]] == "missing"
    assert outcomes(database, check_id)["ZZ-NOT-A-LABEL"] == "unexpected"

    missing_item = item_of(database, here[2])
    with database.session_scope() as session:
        hold = stock_checks.investigation_hold(session, missing_item)
        assert hold is not None
        assert hold.kind == HoldKind.INVESTIGATION.value
        assert hold.reason == f"棚卸 S{check_id:09d} で所在不明"
        assert hold.stock_check_id == check_id
    with (
        database.session_scope() as session,
        pytest.raises(handover.HandoverError, match="所在調査中のため交付できません"),
    ):
        handover.hand_over(
            session,
            actor="clerk1",
            item_ids=[missing_item],
            evidence=PASSPORT,
            now=NOW,
            today=TODAY,
        )
    assert "stock_check.close" in actions(database)


def test_a_handed_over_envelope_on_the_shelf_is_unexpected(database: Database) -> None:
    (gone,) = shelf(database, 1, 1)
    item_id = item_of(database, gone)
    with database.session_scope() as session:
        handover.hand_over(
            session, actor="clerk1", item_ids=[item_id], evidence=PASSPORT, now=NOW, today=TODAY
        )
    check_id = start(database)
    assert outcomes(database, check_id) == {}  # nothing in custody: nothing expected
    result = scan(database, check_id, gone)
    assert result.outcome is StockCheckOutcome.UNEXPECTED


def test_slot_range_in_text_order(database: Database) -> None:
    inside = shelf(database, 1, 1, slot="H30-04-B017")
    outside = shelf(database, 2, 1, slot="H30-05-A001")
    check_id = start(database, slot_from="H30-04-B001", slot_to="H30-04-B099")
    assert outcomes(database, check_id) == dict.fromkeys(inside)
    assert scan(database, check_id, outside[0]).outcome is StockCheckOutcome.FOUND_ELSEWHERE
    assert in_range(None, None, None)
    assert not in_range(None, "A", None)


def test_scanning_twice_is_harmless(database: Database) -> None:
    here = shelf(database, 1, 2)
    (other,) = shelf(database, 5, 1, location="HIGASHI")
    check_id = start(database)
    first = scan(database, check_id, here[0])
    assert not first.already
    again = scan(database, check_id, here[0].lower())
    assert again.already and again.outcome is StockCheckOutcome.FOUND
    assert scan(database, check_id, other).already is False
    assert scan(database, check_id, other).already is True
    assert scan(database, check_id, "xyz").already is False
    assert scan(database, check_id, "XYZ").already is True
    assert actions(database).count("stock_check.scan") == 3
    assert len(outcomes(database, check_id)) == 4


def test_one_open_check_per_location(database: Database) -> None:
    shelf(database, 1, 1)
    first = start(database)
    with pytest.raises(stock_checks.StockCheckError, match=f"S{first:09d} が実施中です"):
        start(database)
    start(database, "HIGASHI")  # another location is free


def test_bad_ranges_and_empty_scans_are_refused(database: Database) -> None:
    with pytest.raises(stock_checks.StockCheckError, match="範囲が逆です"):
        start(database, slot_from="B", slot_to="A")
    check_id = start(database)
    with pytest.raises(stock_checks.StockCheckError, match="読み取ってください"):
        scan(database, check_id, "  ")


def test_sign_off_needs_a_second_person(database: Database) -> None:
    shelf(database, 1, 1)
    check_id = start(database)
    close(database, check_id, "officer1")
    with pytest.raises(stock_checks.StockCheckError, match="締めた本人は確認できません"):
        sign_off(database, check_id, "officer1")
    sign_off(database, check_id, "officer2")
    with database.session_scope() as session:
        check = session.get(StockCheck, check_id)
        assert check is not None
        assert (check.status, check.closed_by, check.signed_off_by) == (
            "signed_off",
            "officer1",
            "officer2",
        )
    with pytest.raises(Conflict, match="既に確認済みです"):
        sign_off(database, check_id, "officer3")


def test_cancel_an_open_check_places_no_hold(database: Database) -> None:
    (control,) = shelf(database, 1, 1)
    check_id = start(database)
    with database.session_scope() as session:
        check = session.get(StockCheck, check_id)
        assert check is not None
        stock_checks.cancel(session, actor="clerk1", check=check, reason="途中で中断", now=NOW)
    with pytest.raises(Conflict, match="取り消されています"):
        close(database, check_id)
    with database.session_scope() as session:
        assert stock_checks.investigation_hold(session, item_of(database, control)) is None
    start(database)  # the location is free again


def test_record_the_move_of_an_envelope_found_elsewhere(database: Database) -> None:
    (other,) = shelf(database, 1, 1, location="HIGASHI", slot="B-02")
    check_id = start(database)
    result = scan(database, check_id, other)
    with database.session_scope() as session:
        entry = session.get(StockCheckEntry, result.entry.id)
        assert entry is not None
        stock_checks.record_move(session, actor="clerk1", entry=entry, slot="A-09", now=NOW)
    with database.session_scope() as session:
        entry = session.get(StockCheckEntry, result.entry.id)
        assert entry is not None and entry.envelope is not None
        assert entry.moved_by == "clerk1"
        assert entry.envelope.location.code == "CHUO"
        assert entry.envelope.slot == "A-09"
    with database.session_scope() as session:
        entry = session.get(StockCheckEntry, result.entry.id)
        assert entry is not None
        with pytest.raises(Conflict, match="移動は記録済みです"):
            stock_checks.record_move(session, actor="clerk2", entry=entry, slot=None, now=NOW)
    assert actions(database).count("envelope.move") == 1


def missing_card(database: Database) -> int:
    (control,) = shelf(database, 1, 1)
    check_id = start(database)
    close(database, check_id)
    return item_of(database, control)


def test_found_releases_the_hold_and_the_card_can_be_handed_over(database: Database) -> None:
    item_id = missing_card(database)
    central = location_id(database, "CHUO")
    with database.session_scope() as session:
        item = session.get(Item, item_id)
        assert item is not None
        stock_checks.found(
            session,
            actor="clerk1",
            item=item,
            note="隣の箱にあった",
            location_id=central,
            slot="A-02",
            now=NOW,
        )
    with database.session_scope() as session:
        assert stock_checks.investigation_hold(session, item_id) is None
        item = session.get(Item, item_id)
        assert item is not None and item.envelope.slot == "A-02"
        handover.hand_over(
            session, actor="clerk1", item_ids=[item_id], evidence=PASSPORT, now=NOW, today=TODAY
        )
    assert "item.found" in actions(database)


def test_confirm_lost_then_found_again(database: Database) -> None:
    item_id = missing_card(database)
    with database.session_scope() as session:
        item = session.get(Item, item_id)
        assert item is not None
        with pytest.raises(stock_checks.StockCheckError, match="紛失の状況を入力してください"):
            stock_checks.confirm_lost(
                session, actor="officer1", item=item, circumstances=" ", now=NOW
            )
        report = stock_checks.confirm_lost(
            session, actor="officer1", item=item, circumstances="書庫を全て探したが無い", now=NOW
        )
        assert report.report_no == f"L{report.id:09d}"
    with database.session_scope() as session:
        item = session.get(Item, item_id)
        assert item is not None and item.status == "lost"
        assert stock_checks.investigation_hold(session, item_id) is None
        assert [row.item.id for row in stock_checks.missing_items(session)] == [item_id]
        stock_checks.found_lost(
            session, actor="officer2", item=item, note=None, location_id=None, slot=None, now=NOW
        )
    with database.session_scope() as session:
        item = session.get(Item, item_id)
        assert item is not None and item.status == "in_custody"
        report = session.scalar(select(LossReport).where(LossReport.item_id == item_id))
        assert report is not None and report.found_by == "officer2"
        assert stock_checks.missing_items(session) == []
        assert audit.verify_chain(session).ok
    assert actions(database)[-1] == "item.found"
    assert "item.lost" in actions(database)


def test_confirm_lost_needs_an_investigation(database: Database) -> None:
    (control,) = shelf(database, 1, 1)
    with database.session_scope() as session:
        item = session.get(Item, item_of(database, control))
        assert item is not None
        with pytest.raises(stock_checks.StockCheckError, match="所在調査中ではありません"):
            stock_checks.confirm_lost(
                session, actor="officer1", item=item, circumstances="無い", now=NOW
            )


def test_a_general_hold_still_lets_a_card_be_handed_over(database: Database) -> None:
    (control,) = shelf(database, 1, 1)
    item_id = item_of(database, control)
    with database.session_scope() as session:
        session.add(Hold(item_id=item_id, reason="来庁予約", placed_by="officer1", placed_at=NOW))
    with database.session_scope() as session:
        handover.hand_over(
            session, actor="clerk1", item_ids=[item_id], evidence=PASSPORT, now=NOW, today=TODAY
        )


def test_next_check_dates_and_the_overdue_list(database: Database) -> None:
    shelf(database, 1, 1)
    check_id = start(database, now=NOW - timedelta(days=200))
    close(database, check_id, "officer1")
    with database.session_scope() as session:
        check = session.get(StockCheck, check_id)
        assert check is not None
        stock_checks.sign_off(session, actor="officer2", check=check, now=NOW - timedelta(days=190))
    signed = (NOW - timedelta(days=190)).date()
    with database.session_scope() as session:
        rows = {
            row.location.code: row
            for row in stock_checks.schedule(session, today=TODAY, interval_months=6)
        }
        assert rows["CHUO"].last_signed_off == signed
        assert rows["CHUO"].next_due == add_months(signed, 6)
        assert rows["CHUO"].overdue  # 190 days ago + 6 months < today
        assert rows["HIGASHI"].last_signed_off is None and rows["HIGASHI"].overdue
        later = {
            row.location.code
            for row in stock_checks.overdue(session, today=TODAY, interval_months=12)
        }
        assert "CHUO" not in later and "HIGASHI" in later
    assert add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)


def test_two_people_closing_at_once_on_postgresql(postgres_url: str) -> None:
    database = Database(postgres_url, pool_size=6, max_overflow=0)
    try:
        shelf(database, 1, 2)
        check_id = start(database)
        barrier = threading.Barrier(4)
        results: list[str] = []
        lock = threading.Lock()

        def person(n: int) -> None:
            session = database.new_session()
            try:
                session.execute(text("SELECT 1"))
                barrier.wait(timeout=60)
                check = session.get(StockCheck, check_id)
                assert check is not None
                stock_checks.close(session, actor=f"clerk{n}", check=check, now=NOW)
                session.commit()
                result = "ok"
            except Conflict as conflict:
                session.rollback()
                result = "conflict" if "既に締められています" in str(conflict) else str(conflict)
            except Exception as error:  # noqa: BLE001 — any other outcome fails the test
                session.rollback()
                result = f"error: {type(error).__name__}: {error}"
            finally:
                session.close()
            with lock:
                results.append(result)

        threads = [threading.Thread(target=person, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results) == ["conflict", "conflict", "conflict", "ok"], results
        with database.session_scope() as session:
            holds = session.scalars(select(Hold).where(Hold.stock_check_id == check_id)).all()
            assert len(holds) == 2
            assert actions(database).count("stock_check.close") == 1
    finally:
        database.dispose()


def test_an_investigation_hold_is_not_released_as_a_general_hold(database: Database) -> None:
    item_id = missing_card(database)
    with database.session_scope() as session:
        hold = stock_checks.investigation_hold(session, item_id)
        assert hold is not None
        with pytest.raises(holds.HoldError, match="所在調査中の保留はここでは解除できません"):
            holds.release(session, actor="officer1", hold=hold, reason="解除", now=NOW)


def test_a_tracking_number_scans_like_its_label(database: Database) -> None:
    (control,) = shelf(database, 1, 1)
    check_id = start(database)
    result = scan(
        database,
        check_id,
        f"{factories.tracking_no(1, SERIES)[:4]}-"
        f"{factories.tracking_no(1, SERIES)[4:8]}-{factories.tracking_no(1, SERIES)[8:]}",
    )
    assert result.outcome is StockCheckOutcome.FOUND and result.code == control


def test_no_scan_after_the_check_is_closed(database: Database) -> None:
    (control,) = shelf(database, 1, 1)
    check_id = start(database)
    close(database, check_id)
    with pytest.raises(stock_checks.StockCheckError, match="読み取りはできません"):
        scan(database, check_id, control)
    assert outcomes(database, check_id) == {control: "missing"}


def test_found_needs_a_missing_or_lost_card(database: Database) -> None:
    (control,) = shelf(database, 1, 1)
    with database.session_scope() as session:
        item = session.get(Item, item_of(database, control))
        assert item is not None
        with pytest.raises(stock_checks.StockCheckError, match="発見の記録は不要です"):
            stock_checks.found(
                session, actor="clerk1", item=item, note=None, location_id=None, slot=None, now=NOW
            )


def active_investigation_holds(database: Database, item_id: int) -> int:
    with database.session_scope() as session:
        return len(stock_checks.investigation_holds(session, item_id))


def hand_over(database: Database, item_id: int) -> None:
    with database.session_scope() as session:
        handover.hand_over(
            session, actor="clerk1", item_ids=[item_id], evidence=PASSPORT, now=NOW, today=TODAY
        )


def missing_twice(database: Database) -> int:
    """A card not scanned in two checks in a row (the second closed while still missing)."""
    (control,) = shelf(database, 1, 1)
    first = start(database)
    close(database, first)
    second = start(database)
    assert outcomes(database, second) == {control: None}  # still 保管中: expected again
    close(database, second)
    return item_of(database, control)


def duplicate_hold(database: Database, item_id: int) -> None:
    """A second active investigation hold, as an earlier version could leave behind."""
    with database.session_scope() as session:
        session.add(
            Hold(
                item_id=item_id,
                kind=HoldKind.INVESTIGATION.value,
                reason="棚卸で所在不明",
                placed_by="clerk1",
                placed_at=NOW,
            )
        )


def lose(database: Database, item_id: int) -> None:
    with database.session_scope() as session:
        item = session.get(Item, item_id)
        assert item is not None
        stock_checks.confirm_lost(
            session, actor="officer1", item=item, circumstances="書庫を探したが無い", now=NOW
        )


def test_a_second_check_keeps_the_one_hold_and_found_clears_the_card(database: Database) -> None:
    item_id = missing_twice(database)
    assert active_investigation_holds(database, item_id) == 1
    with database.session_scope() as session:
        closes = [
            json.loads(details)
            for details in session.scalars(
                select(AuditEvent.details)
                .where(AuditEvent.action == "stock_check.close")
                .order_by(AuditEvent.seq)
            )
        ]
        item = session.get(Item, item_id)
        assert item is not None
        assert [(e["held_items"], e["already_held"]) for e in closes] == [
            (1, []),
            (0, [item.control_no]),
        ]
        assert all(e["missing"] == 1 for e in closes)
        stock_checks.found(
            session, actor="clerk1", item=item, note=None, location_id=None, slot=None, now=NOW
        )
    assert active_investigation_holds(database, item_id) == 0
    with database.session_scope() as session:
        assert stock_checks.missing_items(session) == []
    hand_over(database, item_id)


def test_confirm_lost_then_found_after_two_checks_can_be_handed_over(
    database: Database,
) -> None:
    item_id = missing_twice(database)
    lose(database, item_id)
    assert active_investigation_holds(database, item_id) == 0
    with database.session_scope() as session:
        item = session.get(Item, item_id)
        assert item is not None
        stock_checks.found_lost(
            session, actor="officer2", item=item, note=None, location_id=None, slot=None, now=NOW
        )
    with database.session_scope() as session:
        item = session.get(Item, item_id)
        assert item is not None and item.status == "in_custody"
        assert stock_checks.missing_items(session) == []
    assert active_investigation_holds(database, item_id) == 0
    hand_over(database, item_id)


def test_found_and_confirm_lost_release_every_investigation_hold(database: Database) -> None:
    found_id = missing_card(database)
    duplicate_hold(database, found_id)
    with database.session_scope() as session:
        item = session.get(Item, found_id)
        assert item is not None
        stock_checks.found(
            session, actor="clerk1", item=item, note=None, location_id=None, slot=None, now=NOW
        )
    assert active_investigation_holds(database, found_id) == 0
    hand_over(database, found_id)

    (control,) = shelf(database, 2, 1)
    check_id = start(database)
    close(database, check_id)
    lost_id = item_of(database, control)
    duplicate_hold(database, lost_id)
    lose(database, lost_id)
    assert active_investigation_holds(database, lost_id) == 0
    with database.session_scope() as session:
        assert [row.item.id for row in stock_checks.missing_items(session)] == [lost_id]


def test_found_again_releases_a_hold_left_on_a_lost_card(database: Database) -> None:
    item_id = missing_card(database)
    lose(database, item_id)
    duplicate_hold(database, item_id)  # left over by an earlier version
    with database.session_scope() as session:
        item = session.get(Item, item_id)
        assert item is not None
        stock_checks.found_lost(
            session, actor="officer2", item=item, note=None, location_id=None, slot=None, now=NOW
        )
    assert active_investigation_holds(database, item_id) == 0
    hand_over(database, item_id)


def test_a_lost_card_is_not_found_through_the_clerks_action(database: Database) -> None:
    item_id = missing_card(database)
    lose(database, item_id)
    before = actions(database)
    with database.session_scope() as session:
        item = session.get(Item, item_id)
        assert item is not None
        with pytest.raises(stock_checks.StockCheckError, match="記録管理担当が記録してください"):
            stock_checks.found(
                session, actor="clerk1", item=item, note=None, location_id=None, slot=None, now=NOW
            )
    with database.session_scope() as session:
        item = session.get(Item, item_id)
        assert item is not None and item.status == "lost"
        report = session.scalar(select(LossReport).where(LossReport.item_id == item_id))
        assert report is not None and report.found_at is None
    assert actions(database) == before


def test_no_move_recorded_after_the_check_is_closed(database: Database) -> None:
    shelf(database, 1, 1)
    (other,) = shelf(database, 2, 1, location="HIGASHI", slot="B-02")
    check_id = start(database)
    result = scan(database, check_id, other)
    close(database, check_id)
    before = actions(database)
    with database.session_scope() as session:
        entry = session.get(StockCheckEntry, result.entry.id)
        assert entry is not None
        with pytest.raises(stock_checks.StockCheckError, match="移動の記録はできません"):
            stock_checks.record_move(session, actor="clerk1", entry=entry, slot="A-09", now=NOW)
    with database.session_scope() as session:
        entry = session.get(StockCheckEntry, result.entry.id)
        assert entry is not None and entry.envelope is not None
        assert entry.moved_at is None
        assert (entry.envelope.location.code, entry.envelope.slot) == ("HIGASHI", "B-02")
    assert actions(database) == before


def test_a_move_waits_for_a_close_in_progress_on_postgresql(postgres_url: str) -> None:
    database = Database(postgres_url, pool_size=4, max_overflow=0)
    try:
        shelf(database, 1, 1)
        (other,) = shelf(database, 2, 1, location="HIGASHI", slot="B-02")
        check_id = start(database)
        entry_id = scan(database, check_id, other).entry.id
        closer = database.new_session()
        check = closer.get(StockCheck, check_id)
        assert check is not None
        stock_checks.close(closer, actor="clerk1", check=check, now=NOW)  # not yet committed
        results: list[str] = []

        def move() -> None:
            session = database.new_session()
            try:
                entry = session.get(StockCheckEntry, entry_id)
                assert entry is not None
                stock_checks.record_move(session, actor="clerk2", entry=entry, slot="A", now=NOW)
                session.commit()
                results.append("moved")
            except stock_checks.StockCheckError as refusal:
                session.rollback()
                results.append(str(refusal))
            finally:
                session.close()

        mover = threading.Thread(target=move)
        mover.start()
        mover.join(timeout=1)
        assert mover.is_alive()  # waiting for the close's row lock
        closer.commit()
        closer.close()
        mover.join(timeout=30)
        assert len(results) == 1 and "移動の記録はできません" in results[0], results
        assert "envelope.move" not in actions(database)
    finally:
        database.dispose()
