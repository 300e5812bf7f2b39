"""受取予約枠 on the web (issue 15): opening a day with a preview, the day page's changes and
their refusals (422 beside the field, 409 for bookings), copying, the CSV upload, who may do
what, the dashboard card and the navigation. The clock is pinned to tests.factories.NOW
(Friday 2026-11-27 in Japan)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import time, timedelta

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests import factories_pickup as fp
from tests.factories import NOW
from tests.helpers import csrf_token, login
from tracker.domain.codes import AuditAction, Role
from tracker.models import AuditEvent, PickupSlot


@pytest.fixture(autouse=True)
def pinned() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


SAT = fp.SATURDAY


def _post(client: FlaskClient, path: str, data: dict[str, object], page: str = "/pickup/days"):  # type: ignore[no-untyped-def]
    return client.post(path, data={"csrf_token": csrf_token(client, page), **data})


def _capacities(app: Flask, day_id: int) -> list[tuple[str, int, int]]:
    with app.extensions["tracker.db"].session_scope() as session:
        slots = session.scalars(
            select(PickupSlot).where(PickupSlot.day_id == day_id).order_by(PickupSlot.starts_at)
        ).all()
        return [
            (f"{s.starts_at.hour}:{s.starts_at.minute:02d}", s.capacity, s.booked) for s in slots
        ]


def _actions(app: Flask, action: AuditAction) -> list[dict[str, object]]:
    with app.extensions["tracker.db"].session_scope() as session:
        return [
            json.loads(e.details)
            for e in session.scalars(select(AuditEvent).where(AuditEvent.action == action.value))
        ]


def test_an_officer_previews_then_opens_a_saturday_with_the_seed_pattern(
    app: Flask, logged_in
) -> None:
    officer = logged_in(Role.RECORDS_OFFICER)
    form = {"day": "R8.11.28", "location": str(fp.default_location_id(app)), "pattern": "seed"}
    preview = _post(officer, "/pickup/days/open", {**form, "preview": "1"}, "/pickup/days/open")
    assert preview.status_code == 200
    page = preview.get_data(as_text=True)
    assert "12枠、定員の合計 170人" in page and page.count('data-testid="preview-slot"') == 12
    assert fp.day_count(app) == 0
    saved = _post(officer, "/pickup/days/open", {**form, "save": "1"}, "/pickup/days/open")
    assert saved.status_code == 302
    day_page = officer.get(saved.headers["Location"]).get_data(as_text=True)
    assert day_page.count('data-testid="slot-row"') == 12
    assert "令和8年11月28日を受取予約日にしました（12枠、170人）" in day_page
    listing = officer.get("/pickup/days").get_data(as_text=True)
    assert "9:00 0/15" in listing and "11:30 0/10" in listing and "0/170" in listing
    assert len(_actions(app, AuditAction.PICKUP_DAY_OPEN)) == 1


def test_a_bad_custom_pattern_or_a_past_date_is_refused_beside_the_field(
    app: Flask, logged_in
) -> None:
    officer = logged_in(Role.RECORDS_OFFICER)
    rows = {
        "ranges-0-start": "9:00", "ranges-0-end": "12:00", "ranges-0-minutes": "30",
        "ranges-0-capacity": "15", "ranges-0-breaks": "",
        "ranges-1-start": "13:00", "ranges-1-end": "13:45", "ranges-1-minutes": "30",
        "ranges-1-capacity": "ten", "ranges-1-breaks": "",
    }  # fmt: skip
    form = {"day": "2026-11-20", "location": str(fp.default_location_id(app)), "pattern": "custom"}
    refused = _post(
        officer, "/pickup/days/open", {**form, **rows, "save": "1"}, "/pickup/days/open"
    )
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "過去の日付は指定できません" in page
    assert "2行目の定員: 定員は数字（0〜999）で入力してください" in page
    rows["ranges-1-capacity"] = "10"
    form["day"] = "2026-11-28"
    uneven = _post(officer, "/pickup/days/open", {**form, **rows, "save": "1"}, "/pickup/days/open")
    assert uneven.status_code == 422
    assert "割り切れません" in uneven.get_data(as_text=True)
    assert fp.day_count(app) == 0


def test_capacity_below_bookings_is_a_409_and_a_valid_change_is_audited(
    app: Flask, logged_in
) -> None:
    day_id = fp.open_day(app)
    slot = fp.slot_id(app, day_id, time(9, 0))
    fp.set_booked(app, slot, 5)
    officer = logged_in(Role.RECORDS_OFFICER)
    path = f"/pickup/days/{day_id}/slots/{slot}/capacity"
    page = f"/pickup/days/{day_id}"
    refused = _post(officer, path, {f"s{slot}-capacity": "4"}, page)
    assert refused.status_code == 409
    assert "5件の予約があります" in refused.get_data(as_text=True)
    bad = _post(officer, path, {f"s{slot}-capacity": "-1"}, page)
    assert bad.status_code == 422 and "9:00–9:30: 定員は数字" in bad.get_data(as_text=True)
    assert _capacities(app, day_id)[0] == ("9:00", 15, 5)
    done = _post(officer, path, {f"s{slot}-capacity": "5"}, page)
    assert done.status_code == 302
    assert _capacities(app, day_id)[0] == ("9:00", 5, 5)
    (event,) = _actions(app, AuditAction.PICKUP_DAY_CHANGE)
    assert event["before"] == {"capacity": 15} and event["after"] == {"capacity": 5}


def test_add_remove_and_close_respect_bookings(app: Flask, logged_in) -> None:
    day_id = fp.open_day(app)
    officer = logged_in(Role.RECORDS_OFFICER)
    page = f"/pickup/days/{day_id}"
    overlap = _post(
        officer, f"{page}/slots", {"start": "15:45", "end": "16:15", "capacity": "5"}, page
    )
    assert overlap.status_code == 422 and "重なっています" in overlap.get_data(as_text=True)
    added = _post(
        officer, f"{page}/slots", {"start": "16:00", "end": "16:30", "capacity": "5"}, page
    )
    assert added.status_code == 302 and len(_capacities(app, day_id)) == 13
    booked = fp.slot_id(app, day_id, time(13, 0))
    fp.set_booked(app, booked, 1)
    assert _post(officer, f"{page}/slots/{booked}/remove", {}, page).status_code == 409
    assert _post(officer, f"{page}/close", {}, page).status_code == 409
    assert len(_capacities(app, day_id)) == 13
    extra = fp.slot_id(app, day_id, time(16, 0))
    assert _post(officer, f"{page}/slots/{extra}/remove", {}, page).status_code == 302
    fp.set_booked(app, booked, 0)
    closed = _post(officer, f"{page}/close", {}, page)
    assert closed.status_code == 302 and fp.day_count(app) == 0
    assert len(_actions(app, AuditAction.PICKUP_DAY_CLOSE)) == 1


def test_copy_day_and_copy_week_list_the_dates_they_skipped(app: Flask, logged_in) -> None:
    day_id = fp.open_day(app)
    fp.open_day(app, SAT + timedelta(weeks=1))
    officer = logged_in(Role.RECORDS_OFFICER)
    page = f"/pickup/days/{day_id}"
    copied = _post(officer, f"{page}/copy", {"target": "R8.12.5"}, page)
    assert copied.status_code == 302
    message = officer.get(copied.headers["Location"]).get_data(as_text=True)
    assert "既に受取予約日のため飛ばした日（変更していません）: 令和8年12月5日" in message
    week = _post(
        officer,
        "/pickup/weeks/copy",
        {
            "source": "2026-11-23",
            "target": "2026-12-14",
            "location": str(fp.default_location_id(app)),
        },
    )
    assert week.status_code == 302
    assert "受取予約日にした日: 令和8年12月19日" in officer.get(week.headers["Location"]).get_data(
        as_text=True
    )
    past = _post(officer, f"{page}/copy", {"target": "2026-11-01"}, page)
    assert past.status_code == 422 and "過去の日付" in past.get_data(as_text=True)
    assert fp.day_count(app) == 3


def test_the_upload_reports_rows_and_imports_all_or_nothing(app: Flask, logged_in) -> None:
    officer = logged_in(Role.RECORDS_OFFICER)
    location = str(fp.default_location_id(app))

    def upload(content: str, commit: bool):  # type: ignore[no-untyped-def]
        return officer.post(
            "/pickup/days/import",
            data={
                "csrf_token": csrf_token(officer, "/pickup/days/import"),
                "file": (io.BytesIO(content.encode()), "slots.csv"),
                "location": location,
                "encoding": "auto",
                ("commit" if commit else "validate_only"): "1",
            },
            content_type="multipart/form-data",
        )

    bad = upload(fp.SEED_CSV.format(day="2026-11-28") + "2026-11-29,9:00,9:20,30,5,\n", True)
    assert bad.status_code == 422
    page = bad.get_data(as_text=True)
    assert "何も書き込んでいません" in page and "割り切れません" in page
    assert fp.day_count(app) == 0
    good = upload(fp.SEED_CSV.format(day="2026-11-28"), True)
    assert good.status_code == 200
    assert "受取予約日 1日、予約枠 12枠、定員の合計 170人" in good.get_data(as_text=True)
    assert fp.day_count(app) == 1


def test_an_auditor_reads_but_cannot_change_and_an_admin_sees_nothing(
    app: Flask, logged_in, make_user
) -> None:
    day_id = fp.open_day(app)
    slot = fp.slot_id(app, day_id, time(9, 0))
    auditor = logged_in(Role.AUDITOR)
    page = auditor.get(f"/pickup/days/{day_id}").get_data(as_text=True)
    assert page.count('data-testid="slot-row"') == 12 and "定員の変更" not in page
    assert "受取予約日を設定" not in auditor.get("/pickup/days").get_data(as_text=True)
    token = csrf_token(auditor, "/")
    changed = auditor.post(
        f"/pickup/days/{day_id}/slots/{slot}/capacity",
        data={"csrf_token": token, f"s{slot}-capacity": "1"},
    )
    assert changed.status_code == 403
    assert (
        auditor.post(f"/pickup/days/{day_id}/close", data={"csrf_token": token}).status_code == 403
    )
    assert _capacities(app, day_id)[0] == ("9:00", 15, 0)
    admin = app.test_client()
    assert login(admin, make_user(Role.ADMIN)).status_code == 302
    assert admin.get("/pickup/days").status_code == 403
    assert admin.get(f"/pickup/days/{day_id}").status_code == 403


def test_the_dashboard_shows_today_and_this_week_in_counts(app: Flask, logged_in) -> None:
    clerk = logged_in(Role.CLERK)
    empty = clerk.get("/").get_data(as_text=True)
    assert "受取予約日はありません" in empty and 'href="/pickup/days"' in empty
    fp.open_day(app, SAT - timedelta(days=1))  # today, Friday
    saturday = fp.open_day(app, SAT)
    fp.set_booked(app, fp.slot_id(app, saturday, time(9, 0)), 3)
    page = clerk.get("/").get_data(as_text=True)
    assert "9:00–9:30 0/15" in page  # today's first slot
    assert "令和8年11月28日（土）" in page and "9:00 3/15" in page
    assert "受取予約日はありません" not in page
    assert "受取予約枠" in page  # the navigation


def test_the_audit_log_names_a_capacity_change_in_words(app: Flask, logged_in, make_user) -> None:
    day_id = fp.open_day(app)
    slot = fp.slot_id(app, day_id, time(9, 0))
    officer = logged_in(Role.RECORDS_OFFICER)
    page = f"/pickup/days/{day_id}"
    assert (
        _post(
            officer, f"{page}/slots/{slot}/capacity", {f"s{slot}-capacity": "12"}, page
        ).status_code
        == 302
    )
    auditor = app.test_client()
    assert login(auditor, make_user(Role.AUDITOR)).status_code == 302
    log = auditor.get("/audit?action=pickup.day_change")
    assert log.status_code == 200
    text = log.get_data(as_text=True)
    assert "受取予約枠の変更" in text and "定員" in text and "9:00-9:30" in text
