"""Pickup days as data (issue 15): the CSV import, capacity changes against bookings, adding
and removing slots, closing a day, copying days and weeks; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
from datetime import date, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text, update

from tests import factories_pickup as fp
from tests.factories import NOW, TODAY
from tracker.db import Database
from tracker.domain.codes import AuditAction
from tracker.domain.pickup import SlotSpec
from tracker.models import AuditEvent, Location, PickupDay, PickupSlot
from tracker.services import pickup, slot_import
from tracker.services.transitions import Conflict

SAT, SUN = fp.SATURDAY, fp.SATURDAY + timedelta(days=1)


def _write(tmp_path: Path, content: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "slots.csv"
    path.write_bytes(content.encode(encoding))
    return path


def _import(database: Database, path: Path, **options: object) -> slot_import.SlotImportReport:
    with database.session_scope() as session:
        settled = slot_import.import_file(
            session,
            path,
            actor="officer",
            today=TODAY,
            now=NOW,
            **options,  # type: ignore[arg-type]
        )
    assert settled.report is not None, settled.refusal
    return settled.report


def _slots(database: Database) -> list[tuple[date, str, int, int]]:
    with database.session_scope() as session:
        rows = session.execute(
            select(PickupDay.day, PickupSlot.starts_at, PickupSlot.capacity, PickupSlot.booked)
            .join(PickupDay)
            .order_by(PickupDay.day, PickupSlot.starts_at)
        ).all()
        return [(d, f"{s.hour}:{s.minute:02d}", c, b) for d, s, c, b in rows]


def _events(database: Database, action: AuditAction) -> list[dict[str, object]]:
    with database.session_scope() as session:
        return [
            json.loads(e.details)
            for e in session.scalars(
                select(AuditEvent).where(AuditEvent.action == action.value).order_by(AuditEvent.seq)
            )
        ]


# --- the CSV import ----------------------------------------------------------------------------


def test_the_seed_pattern_as_four_rows_makes_12_slots_and_170_places(
    database: Database, tmp_path: Path
) -> None:
    path = _write(
        tmp_path,
        fp.SEED_CSV.format(day="2026-11-28") + fp.SEED_CSV.split("\n", 1)[1].format(day="R8.11.29"),
    )
    report = _import(database, path)
    assert report.ok and report.committed
    assert report.counts_line() == "days=2 slots=24 places=340"
    slots = _slots(database)
    saturday = [s for s in slots if s[0] == SAT]
    assert [s[1] for s in saturday] == [
        "9:00", "9:30", "10:00", "10:30", "11:00", "11:30",
        "13:00", "13:30", "14:00", "14:30", "15:00", "15:30",
    ]  # fmt: skip
    assert [s[2] for s in saturday] == [15] * 5 + [10] + [15] * 5 + [10]
    (event,) = _events(database, AuditAction.PICKUP_SLOTS_IMPORT)
    assert event["dates"] == ["2026-11-28", "2026-11-29"]
    assert (event["pickup_days"], event["pickup_slots"], event["places"]) == (2, 24, 340)
    assert len(_events(database, AuditAction.PICKUP_DAY_OPEN)) == 2


def test_a_cp932_file_with_japanese_headers_and_a_break(database: Database, tmp_path: Path) -> None:
    content = "日付,開始,終了,枠の長さ,定員,休憩\r\n令和8年11月28日,9:00,16:00,60,8,12:00-13:00\r\n"
    report = _import(database, _write(tmp_path, content, "cp932"))
    assert report.encoding == "cp932" and report.committed
    assert report.counts_line() == "days=1 slots=6 places=48"
    assert "12:00" not in [s[1] for s in _slots(database)]


def test_every_bad_row_is_named_and_nothing_is_written(database: Database, tmp_path: Path) -> None:
    content = (
        "date,start,end,slot_minutes,capacity,breaks\n"
        "2026-11-31,9:00,10:00,30,15,\n"  # 2: no such day
        "2026-11-28,9:60,10:00,30,15,\n"  # 3: bad time
        "2026-11-28,9:00,10:00,abc,15,\n"  # 4: slot length not a number
        "2026-11-28,9:00,10:00,30,1000,\n"  # 5: capacity too big
        "2026-11-28,9:00,10:00,30,15,12:00\n"  # 6: a break without an end
        "2026-11-28,9:00,10:10,30,15,\n"  # 7: not a multiple of 30
        "2026-11-20,9:00,10:00,30,15,\n"  # 8: in the past
        "2026-12-05,9:00,10:00,30,15,\n"  # 9: good alone ...
        "2026-12-05,9:30,10:30,30,15,\n"  # 10: ... but overlaps line 9
        "2026-12-06,9:00,10:00,30,15,\n"  # 11: fine
    )
    report = _import(database, _write(tmp_path, content))
    assert not report.ok and not report.committed
    found = {(p.line, p.column) for p in report.errors}
    assert found == {
        (2, "date"), (3, "start"), (4, "slot_minutes"), (5, "capacity"), (6, "breaks"),
        (7, "slot_minutes"), (8, "date"), (10, "date"),
    }  # fmt: skip
    messages = {p.line: p.message for p in report.errors}
    assert "過去の日付" in messages[8] and "重なっています" in messages[10]
    assert "割り切れません" in messages[7]
    assert _slots(database) == []
    assert _events(database, AuditAction.PICKUP_SLOTS_IMPORT) == []


def test_a_dry_run_writes_nothing_and_counts_the_same(database: Database, tmp_path: Path) -> None:
    path = _write(tmp_path, fp.SEED_CSV.format(day="2026-11-28"))
    report = _import(database, path, dry_run=True)
    assert report.ok and not report.committed
    assert report.counts_line() == "days=1 slots=12 places=170"
    assert _slots(database) == [] and _events(database, AuditAction.PICKUP_SLOTS_IMPORT) == []


def test_a_date_already_open_is_refused_on_re_import(database: Database, tmp_path: Path) -> None:
    path = _write(tmp_path, fp.SEED_CSV.format(day="2026-11-28"))
    assert _import(database, path).committed
    again = _import(database, path)
    assert not again.ok
    assert {(p.line, p.column) for p in again.errors} == {(n, "date") for n in (2, 3, 4, 5)}
    assert "既に受取予約日" in again.errors[0].message
    assert len(_slots(database)) == 12


def test_a_file_without_required_columns_or_an_unknown_location_is_refused(
    database: Database, tmp_path: Path
) -> None:
    with database.session_scope() as session:
        settled = slot_import.import_file(
            session, _write(tmp_path, "date,start\n2026-11-28,9:00\n"),
            actor="officer", today=TODAY, now=NOW,
        )  # fmt: skip
        assert settled.report is None and "終了（end）" in (settled.refusal or "")
        settled = slot_import.import_file(
            session, _write(tmp_path, fp.SEED_CSV.format(day="2026-11-28")),
            actor="officer", today=TODAY, now=NOW, location_code="NOWHERE",
        )  # fmt: skip
        assert settled.report is None and "NOWHERE" in (settled.refusal or "")


# --- capacity, slots, close ----------------------------------------------------------------------


def test_capacity_cannot_go_below_the_bookings(database: Database) -> None:
    day_id = fp.open_day(database)
    first = fp.slot_id(database, day_id, time(9, 0))
    fp.set_booked(database, first, 7)
    with pytest.raises(Conflict, match="7件の予約"), database.session_scope() as session:
        slot = session.get(PickupSlot, first)
        assert slot is not None
        pickup.change_capacity(session, actor="officer", slot=slot, capacity=6, now=NOW)
    with database.session_scope() as session:
        slot = session.get(PickupSlot, first)
        assert slot is not None
        pickup.change_capacity(session, actor="officer", slot=slot, capacity=7, now=NOW)
    assert _slots(database)[0][2:] == (7, 7)
    (event,) = _events(database, AuditAction.PICKUP_DAY_CHANGE)
    assert event["before"] == {"capacity": 15} and event["after"] == {"capacity": 7}
    assert event["pickup_slot"] == "9:00-9:30"


def test_a_slot_is_added_without_overlap_and_removed_only_without_bookings(
    database: Database,
) -> None:
    day_id = fp.open_day(database)
    with database.session_scope() as session:
        day = session.get(PickupDay, day_id)
        assert day is not None
        with pytest.raises(pickup.PickupError, match="重なっています"):
            pickup.add_slot(
                session, actor="officer", day=day,
                spec=SlotSpec(time(15, 45), time(16, 15), 5), now=NOW,
            )  # fmt: skip
        pickup.add_slot(
            session, actor="officer", day=day, spec=SlotSpec(time(16, 0), time(16, 30), 5), now=NOW
        )
    assert len(_slots(database)) == 13
    booked = fp.slot_id(database, day_id, time(9, 0))
    fp.set_booked(database, booked, 1)
    with pytest.raises(Conflict, match="予約があるため"), database.session_scope() as session:
        slot = session.get(PickupSlot, booked)
        assert slot is not None
        pickup.remove_slot(session, actor="officer", slot=slot, now=NOW)
    with database.session_scope() as session:
        slot = session.get(PickupSlot, fp.slot_id(database, day_id, time(16, 0)))
        assert slot is not None
        pickup.remove_slot(session, actor="officer", slot=slot, now=NOW)
    assert len(_slots(database)) == 12
    changes = _events(database, AuditAction.PICKUP_DAY_CHANGE)
    assert [("added" in e, "removed" in e) for e in changes] == [(True, False), (False, True)]


def test_a_day_with_a_booking_cannot_be_closed(database: Database) -> None:
    day_id = fp.open_day(database)
    fp.set_booked(database, fp.slot_id(database, day_id, time(15, 30)), 1)
    with pytest.raises(Conflict, match="予約があるため"), database.session_scope() as session:
        day = session.get(PickupDay, day_id)
        assert day is not None
        pickup.close_day(session, actor="officer", day=day, now=NOW)
    assert len(_slots(database)) == 12
    fp.set_booked(database, fp.slot_id(database, day_id, time(15, 30)), 0)
    with database.session_scope() as session:
        day = session.get(PickupDay, day_id)
        assert day is not None
        pickup.close_day(session, actor="officer", day=day, now=NOW)
    assert _slots(database) == [] and fp.day_count(database) == 0
    (event,) = _events(database, AuditAction.PICKUP_DAY_CLOSE)
    assert event["day"] == "2026-11-28" and event["pickup_slots"] == 12


# --- copying -----------------------------------------------------------------------------------


def test_copy_week_skips_dates_already_open_and_never_overwrites_them(database: Database) -> None:
    fp.open_day(database, SAT)
    fp.open_day(database, SUN)
    next_sunday = SUN + timedelta(weeks=1)
    fp.open_day(database, next_sunday, [SlotSpec(time(10, 0), time(11, 0), 3)])
    with database.session_scope() as session:
        location = session.scalar(select(Location).where(Location.is_default.is_(True)))
        assert location is not None
        result = pickup.copy_week(
            session, actor="officer", location=location, source_week=SAT,
            target_week=SAT + timedelta(days=5), today=TODAY, now=NOW,
        )  # fmt: skip
    assert result.opened == [SAT + timedelta(weeks=1)]
    assert result.skipped == [next_sunday]
    slots = _slots(database)
    assert [s for s in slots if s[0] == next_sunday] == [(next_sunday, "10:00", 3, 0)]
    assert len([s for s in slots if s[0] == SAT + timedelta(weeks=1)]) == 12
    opened = _events(database, AuditAction.PICKUP_DAY_OPEN)[-1]
    assert opened["copied_from"] == "2026-11-28"


def test_copy_day_to_the_past_is_refused(database: Database) -> None:
    day_id = fp.open_day(database)
    with pytest.raises(pickup.PickupError, match="過去"), database.session_scope() as session:
        day = session.get(PickupDay, day_id)
        assert day is not None
        pickup.copy_day(
            session, actor="officer", source=day, target=TODAY - timedelta(days=1),
            today=TODAY, now=NOW,
        )  # fmt: skip
    assert fp.day_count(database) == 1


def test_slots_between_counts_a_week(database: Database) -> None:
    day_id = fp.open_day(database)
    fp.set_booked(database, fp.slot_id(database, day_id, time(9, 0)), 4)
    with database.session_scope() as session:
        rows = pickup.slots_between(session, date(2026, 11, 23), date(2026, 11, 29))
    assert len(rows) == 12 and (rows[0].booked, rows[0].capacity) == (4, 15)


# --- PostgreSQL: capacity change racing bookings -------------------------------------------------


def test_a_capacity_cut_racing_bookings_never_leaves_more_bookings_than_places(
    postgres_url: str,
) -> None:
    """Ten booking-like increments (``booked < capacity``) race a cut from 15 to 5: either
    the cut wins (then at most 5 bookings get in) or bookings pass 5 first (then the cut is
    refused with a Conflict). Never more bookings than the capacity."""
    database = Database(postgres_url)
    try:
        day_id = fp.open_day(database)
        target = fp.slot_id(database, day_id, time(9, 0))
        fp.set_booked(database, target, 3)
        barrier = threading.Barrier(11)
        outcomes: list[str] = []

        def book() -> None:
            barrier.wait()
            with database.session_scope() as session:
                changed = session.execute(
                    update(PickupSlot)
                    .where(PickupSlot.id == target, PickupSlot.booked < PickupSlot.capacity)
                    .values(booked=PickupSlot.booked + 1)
                ).rowcount  # type: ignore[attr-defined]
                session.execute(text("SELECT pg_sleep(0.01)"))
            outcomes.append("booked" if changed else "full")

        def cut() -> None:
            barrier.wait()
            try:
                with database.session_scope() as session:
                    slot = session.get(PickupSlot, target)
                    assert slot is not None
                    pickup.change_capacity(session, actor="officer", slot=slot, capacity=5, now=NOW)
                outcomes.append("cut")
            except Conflict:
                outcomes.append("refused")

        threads = [threading.Thread(target=book) for _ in range(10)] + [
            threading.Thread(target=cut)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        ((_, _, capacity, booked),) = [s for s in _slots(database) if s[1] == "9:00"]
        assert booked <= capacity
        assert booked == 3 + outcomes.count("booked")
        if "cut" in outcomes:
            assert capacity == 5
        else:
            assert outcomes.count("refused") == 1 and capacity == 15 and booked > 5
    finally:
        database.dispose()


def test_the_demo_opens_the_coming_four_weekends_once(database: Database) -> None:
    from tracker.services.demo import create_demo_pickup_days

    saturday = date(2026, 11, 28)
    with database.session_scope() as session:
        opened = create_demo_pickup_days(session, actor="officer", today=saturday, now=NOW)
    assert opened == 8
    days = sorted({s[0] for s in _slots(database)})
    assert days[0] == date(2026, 12, 5) and days[-1] == date(2026, 12, 27)
    assert {d.weekday() for d in days} == {5, 6}
    assert len(_slots(database)) == 8 * 12
    with database.session_scope() as session:
        again = create_demo_pickup_days(session, actor="officer", today=saturday, now=NOW)
    assert again == 0
