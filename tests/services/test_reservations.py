"""受取予約 (issue 15): booking, its refusals, cancel / no-show / attend, on SQLite and
PostgreSQL; 30 clerks racing for the last 5 places and cancel against no-show on PostgreSQL."""

from __future__ import annotations

import json
import threading
from datetime import time, timedelta

import pytest
from sqlalchemy import func, select, text

from tests import factories
from tests.factories import NOW, TODAY
from tests.factories_reservations import PHONE, SATURDAY, at, book, fill, open_day
from tracker.db import Database
from tracker.domain.codes import AuditAction, ItemAction, ReservationStatus
from tracker.domain.mynumber import INDIVIDUAL_NUMBER_MESSAGE
from tracker.models import AuditEvent, Item, PickupSlot, Reservation, ReservationItem
from tracker.services import reservations
from tracker.services.transitions import Conflict, move_item

VALID_NUMBER = "123456789018"  # passes the My Number check digit


def counts(database: Database) -> tuple[int, int, int]:
    """(reservations, reservation items, RESERVATION_CREATE events)."""
    with database.session_scope() as session:
        return (
            session.scalar(select(func.count(Reservation.id))) or 0,
            session.scalar(select(func.count()).select_from(ReservationItem)) or 0,
            session.scalar(
                select(func.count()).where(
                    AuditEvent.action == AuditAction.RESERVATION_CREATE.value
                )
            )
            or 0,
        )


def booked_of(database: Database, slot_id: int) -> int:
    with database.session_scope() as session:
        slot = session.get(PickupSlot, slot_id)
        assert slot is not None
        return slot.booked


def test_a_booking_takes_a_place_stores_the_number_normalised_and_audits_without_personal_data(
    database: Database,
) -> None:
    first, second = factories.envelope(
        database, 1, items=[factories.item("山田 太郎"), factories.item("山田 花子")]
    )
    slots = open_day(database)
    reservation_id = book(
        database, slots["9:00"], [first, second], name="山田 花子", phone="(096)328-2111",
        note="二人分を受け取り",
    )  # fmt: skip
    with database.session_scope() as session:
        reservation = session.get(Reservation, reservation_id)
        assert reservation is not None
        assert reservation.reservation_no == f"Y{reservation_id:09d}"
        assert reservation.phone == "0963282111"
        assert reservation.status == ReservationStatus.BOOKED
        assert [ri.item_id for ri in reservation.items] == [first, second]
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == AuditAction.RESERVATION_CREATE.value)
        ).one()
        details = json.loads(event.details)
        controls = [session.get(Item, i).control_no for i in (first, second)]  # type: ignore[union-attr]
        assert details == {
            "reservation_no": reservation.reservation_no,
            "day": SATURDAY.isoformat(),
            "slot_time": "9:00-9:30",
            "items": controls,
            "count": 2,
        }
        for secret in ("山田", "0963282111", "328-2111", "二人分"):
            assert secret not in event.details
    assert booked_of(database, slots["9:00"]) == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"phone": "12345"}, "10桁または11桁"),
        ({"phone": "090-1234-5678-9"}, "10桁または11桁"),
        ({"phone": "abc-defg-hijk"}, "数字とハイフン"),
        ({"phone": ""}, "折り返しの電話番号を入力してください"),
        ({"name": ""}, "来庁者の氏名を入力してください"),
        ({"name": "山" * 101}, "100文字以内"),
        ({"note": f"番号 {VALID_NUMBER}"}, INDIVIDUAL_NUMBER_MESSAGE),
        ({"name": f"太郎{VALID_NUMBER}"}, INDIVIDUAL_NUMBER_MESSAGE),
    ],
)
def test_bad_fields_are_refused_by_name_and_nothing_is_written(
    database: Database, changes: dict[str, str], message: str
) -> None:
    (item_id,) = factories.envelope(database, 1)
    slots = open_day(database)
    fields = {"name": "山田 太郎", "phone": PHONE, "note": None, **changes}
    with pytest.raises(reservations.ReservationError, match=message):
        book(database, slots["9:00"], [item_id], **fields)  # type: ignore[arg-type]
    assert counts(database) == (0, 0, 0)
    assert booked_of(database, slots["9:00"]) == 0


def test_a_full_slot_refuses_with_its_capacity_and_writes_nothing(database: Database) -> None:
    (item_id,) = factories.envelope(database, 1)
    slots = open_day(database)
    fill(database, slots["11:30"], 10)  # the last morning slot holds 10
    with pytest.raises(reservations.SlotFull, match="この枠は満席です（定員10人）"):
        book(database, slots["11:30"], [item_id])
    assert counts(database) == (0, 0, 0)
    assert booked_of(database, slots["11:30"]) == 10


def test_a_slot_of_a_past_day_is_refused_but_today_is_fine(database: Database) -> None:
    first, second = factories.envelope(database, 1, items=[factories.item(), factories.item("乙")])
    yesterday = open_day(database, TODAY - timedelta(days=1))
    today = open_day(database, TODAY)
    with pytest.raises(reservations.ReservationError, match="過ぎた日"):
        book(database, yesterday["9:00"], [first])
    assert counts(database) == (0, 0, 0)
    book(database, today["9:00"], [second])
    assert counts(database)[0] == 1


def test_items_not_in_custody_or_already_booked_are_refused(database: Database) -> None:
    first, second = factories.envelope(database, 1, items=[factories.item(), factories.item("乙")])
    slots = open_day(database)
    with database.session_scope() as session:
        move_item(session, second, ItemAction.CONFIRM_LOST, now=NOW)
    with pytest.raises(reservations.ReservationError, match=r"紛失.*予約できません"):
        book(database, slots["9:00"], [first, second])
    assert counts(database) == (0, 0, 0)
    taken = book(database, slots["9:00"], [first])
    with pytest.raises(reservations.ReservationError, match="既に予約 Y"):
        book(database, slots["13:00"], [first])
    assert counts(database) == (1, 1, 1)
    # once cancelled, the card can be booked again
    with database.session_scope() as session:
        found = reservations.get(session, taken)
        assert found is not None
        reservations.cancel(session, actor="clerk1", reservation=found, reason="都合", now=NOW)
    book(database, slots["13:00"], [first])
    assert counts(database)[0] == 2


def test_cancel_frees_the_place_and_a_second_cancel_conflicts(database: Database) -> None:
    (item_id,) = factories.envelope(database, 1)
    slots = open_day(database)
    reservation_id = book(database, slots["9:00"], [item_id])
    with database.session_scope() as session:
        found = reservations.get(session, reservation_id)
        assert found is not None
        with pytest.raises(reservations.ReservationError, match="取消の理由を入力"):
            reservations.cancel(session, actor="clerk1", reservation=found, reason="", now=NOW)
    with database.session_scope() as session:
        found = reservations.get(session, reservation_id)
        assert found is not None
        reservations.cancel(
            session, actor="clerk1", reservation=found, reason="来られない", now=NOW
        )
    assert booked_of(database, slots["9:00"]) == 0
    with database.session_scope() as session:
        found = reservations.get(session, reservation_id)
        assert found is not None and found.status == ReservationStatus.CANCELLED
        with pytest.raises(Conflict, match="既に「取消」"):
            reservations.cancel(
                session, actor="clerk2", reservation=found, reason="二度目", now=NOW
            )
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == AuditAction.RESERVATION_CANCEL.value)
        ).one()
        assert "来られない" not in event.details


def test_no_show_only_once_the_slot_has_ended_and_the_place_stays_counted(
    database: Database,
) -> None:
    (item_id,) = factories.envelope(database, 1)
    slots = open_day(database)
    reservation_id = book(database, slots["9:00"], [item_id])
    too_early = [NOW, at(SATURDAY, time(8, 0)), at(SATURDAY, time(9, 5)), at(SATURDAY, time(9, 29))]
    for moment in too_early:  # the day before, before the slot, during the 9:00–9:30 slot
        with database.session_scope() as session:
            found = reservations.get(session, reservation_id)
            assert found is not None
            with pytest.raises(reservations.ReservationError, match="9:00–9:30）が終わるまでは"):
                reservations.no_show(session, actor="clerk1", reservation=found, now=moment)
    with database.session_scope() as session:
        found = reservations.get(session, reservation_id)
        assert found is not None and found.status == ReservationStatus.BOOKED
        reservations.no_show(
            session, actor="clerk1", reservation=found, now=at(SATURDAY, time(9, 30))
        )
    with database.session_scope() as session:
        found = reservations.get(session, reservation_id)
        assert found is not None and found.status == ReservationStatus.NO_SHOW
    assert booked_of(database, slots["9:00"]) == 1


def test_thirty_clerks_booking_the_last_five_places_make_exactly_five(postgres_url: str) -> None:
    database = Database(postgres_url, pool_size=32, max_overflow=0)
    item_ids = [
        factories.envelope(database, n, items=[factories.item(f"人 {n:02d}")])[0]
        for n in range(2, 32)
    ]
    slots = open_day(database)
    slot_id = slots["9:00"]
    fill(database, slot_id, 10)  # capacity 15: five places left
    barrier = threading.Barrier(30)
    outcomes: list[str] = []
    lock = threading.Lock()

    def clerk(n: int) -> None:
        session = database.new_session()
        try:
            session.execute(text("SELECT 1"))
            barrier.wait(timeout=60)
            reservations.book(
                session, actor=f"clerk{n}", slot_id=slot_id, name="来庁 者", phone=PHONE,
                item_ids=[item_ids[n]], note=None, now=NOW, today=TODAY,
            )  # fmt: skip
            session.commit()
            result = "ok"
        except reservations.SlotFull as full:
            session.rollback()
            result = "full" if "この枠は満席です（定員15人）" in str(full) else str(full)
        except Exception as error:  # noqa: BLE001  (reported by the assertion below)
            session.rollback()
            result = repr(error)
        finally:
            session.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=clerk, args=(n,)) for n in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    try:
        assert sorted(outcomes) == ["full"] * 25 + ["ok"] * 5
        assert booked_of(database, slot_id) == 15
        assert counts(database) == (5, 5, 5)
    finally:
        database.dispose()


def test_cancel_against_no_show_one_wins(postgres_url: str) -> None:
    database = Database(postgres_url, pool_size=4)
    (item_id,) = factories.envelope(database, 1)
    slots = open_day(database)
    reservation_id = book(database, slots["9:00"], [item_id])
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def act(kind: str) -> None:
        session = database.new_session()
        try:
            found = reservations.get(session, reservation_id)
            assert found is not None
            barrier.wait(timeout=30)
            if kind == "cancel":
                reservations.cancel(session, actor="c1", reservation=found, reason="取消", now=NOW)
            else:
                reservations.no_show(
                    session, actor="c2", reservation=found, now=at(SATURDAY, time(10, 0))
                )
            session.commit()
            outcomes.append(kind)
        except Conflict:
            session.rollback()
            outcomes.append("conflict")
        finally:
            session.close()

    threads = [threading.Thread(target=act, args=(k,)) for k in ("cancel", "no_show")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    try:
        assert len(outcomes) == 2 and outcomes.count("conflict") == 1
        winner = next(o for o in outcomes if o != "conflict")
        with database.session_scope() as session:
            found = session.get(Reservation, reservation_id)
            assert found is not None
            assert found.status == ("cancelled" if winner == "cancel" else "no_show")
            closing = session.scalar(
                select(func.count()).where(
                    AuditEvent.action.in_(
                        [
                            AuditAction.RESERVATION_CANCEL.value,
                            AuditAction.RESERVATION_NO_SHOW.value,
                        ]
                    )
                )
            )
            assert closing == 1
        assert booked_of(database, slots["9:00"]) == (0 if winner == "cancel" else 1)
    finally:
        database.dispose()
