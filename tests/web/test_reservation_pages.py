"""受取予約 on the web (issue 15): the booking form, a reservation's page with cancel and
no-show, 本日の予約 with 「交付へ」, the handover marking the reservation attended; refusals
answer 422 with the reason, a race 409; views of names and numbers are logged."""

from __future__ import annotations

import json
import re
from datetime import date, time, timedelta

import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests import factories
from tests.factories import NOW
from tests.factories_reservations import SATURDAY, at, book, fill, open_day
from tests.helpers import csrf_token
from tests.web.test_counter import handover_data
from tracker.clock import today_jst
from tracker.domain.codes import AuditAction, Role
from tracker.models import AuditEvent, Item, Location, PickupDay, PickupSlot, Reservation
from tracker.services import audit, auditlog, pickup, reservations

VALID_NUMBER = "123456789018"


def events(app: Flask, action: AuditAction) -> list[AuditEvent]:
    with factories.database_of(app).session_scope() as session:
        found = list(session.scalars(select(AuditEvent).where(AuditEvent.action == action.value)))
        session.expunge_all()
        return found


def reservation_rows(app: Flask) -> list[Reservation]:
    with factories.database_of(app).session_scope() as session:
        found = list(session.scalars(select(Reservation).order_by(Reservation.id)))
        session.expunge_all()
        return found


def control_no(app: Flask, item_id: int) -> str:
    with factories.database_of(app).session_scope() as session:
        item = session.get(Item, item_id)
        assert item is not None
        return item.control_no


def booked(app: Flask, slot_id: int) -> int:
    with factories.database_of(app).session_scope() as session:
        slot = session.get(PickupSlot, slot_id)
        assert slot is not None
        return slot.booked


def test_book_from_the_envelope_page_by_phone(app: Flask, logged_in) -> None:
    client: FlaskClient = logged_in(Role.CLERK)
    first, second = factories.envelope(
        app, 1, items=[factories.item("山田 太郎"), factories.item("山田 花子")]
    )
    day = today_jst() + timedelta(days=1)
    slots = open_day(app, day)
    envelope_page = client.get(f"/envelopes/{_envelope_id(app, first)}").get_data(as_text=True)
    assert "受取予約へ" in envelope_page

    page = client.get(f"/reservations/new?item={first}&item={second}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'value="山田 太郎"' in text  # the name is prefilled with the first item's
    assert "9:00–9:30" in text and "空き 15/15" in text
    views = events(app, AuditAction.ITEM_VIEW)
    assert sorted(int(e.object_id or 0) for e in views) == [first, second]

    answer = client.post(
        f"/reservations/new?item={first}&item={second}",
        data={
            "csrf_token": csrf_token(client, "/"),
            "slot": str(slots["9:00"]),
            "name": "山田 太郎",
            "phone": "090-1234-5678",
            "note": "",
        },
        follow_redirects=True,
    )
    shown = answer.get_data(as_text=True)
    (made,) = reservation_rows(app)
    assert f"予約番号 {made.reservation_no}" in shown and "9:00–9:30" in shown
    assert "090-1234-5678" in shown
    assert made.phone == "09012345678"
    assert booked(app, slots["9:00"]) == 1
    view = events(app, AuditAction.RESERVATION_VIEW)[-1]
    assert json.loads(view.details) == {
        "reservation_no": made.reservation_no,
        "control_nos": [control_no(app, first), control_no(app, second)],
    }
    item_page = client.get(f"/items/{first}").get_data(as_text=True)
    assert made.reservation_no in item_page and "予約中" in item_page


def _envelope_id(app: Flask, item_id: int) -> int:
    from tracker.models import Item

    with factories.database_of(app).session_scope() as session:
        item = session.get(Item, item_id)
        assert item is not None
        return item.envelope_id


def test_refusals_answer_422_with_the_reason_and_write_nothing(app: Flask, logged_in) -> None:
    client: FlaskClient = logged_in(Role.CLERK)
    (item_id,) = factories.envelope(app, 1)
    slots = open_day(app, today_jst() + timedelta(days=1))
    fill(app, slots["11:30"], 10)
    url = f"/reservations/new?item={item_id}"
    full_page = client.get(url).get_data(as_text=True)
    assert "満席" in full_page
    cases = [
        ({"slot": str(slots["11:30"])}, "この枠は満席です（定員10人）"),
        ({"phone": "123"}, "10桁または11桁"),
        ({"note": VALID_NUMBER}, "個人番号"),
        ({"name": ""}, "来庁者の氏名を入力してください"),
        ({"slot": ""}, "予約枠を選んでください"),
    ]
    for change, message in cases:
        data = {
            "csrf_token": csrf_token(client, "/"),
            "slot": str(slots["9:00"]),
            "name": "山田 太郎",
            "phone": "096-328-2111",
            "note": "",
            **change,
        }
        answer = client.post(url, data=data)
        assert answer.status_code == 422, change
        assert message in answer.get_data(as_text=True), change
    assert reservation_rows(app) == []
    assert events(app, AuditAction.RESERVATION_CREATE) == []


def test_cancel_no_show_and_a_race_gives_409(app: Flask, logged_in) -> None:
    with time_machine.travel(at(SATURDAY, time(14, 0)), tick=False):  # after the 13:00 slot
        _cancel_no_show_and_a_race(app, logged_in)


def _cancel_no_show_and_a_race(app: Flask, logged_in) -> None:  # type: ignore[no-untyped-def]
    client: FlaskClient = logged_in(Role.CLERK)
    first, second = factories.envelope(app, 1, items=[factories.item(), factories.item("乙")])
    today = today_jst()
    tomorrow_slots = open_day(app, today + timedelta(days=1))
    today_slots = open_day(app, today)
    later = book(app, tomorrow_slots["9:00"], [first], today=today)
    now = book(app, today_slots["13:00"], [second], today=today)
    token = csrf_token(client, "/")

    page = client.get(f"/reservations/{later}").get_data(as_text=True)
    assert "予約を取り消す" in page and "不来庁にする" not in page  # not before the day
    early = client.post(f"/reservations/{later}/no-show", data={"csrf_token": token})
    assert early.status_code == 422 and "が終わるまでは不来庁にできません" in early.get_data(
        as_text=True
    )
    no_reason = client.post(f"/reservations/{later}/cancel", data={"csrf_token": token})
    assert no_reason.status_code == 422 and "取消の理由を入力" in no_reason.get_data(as_text=True)
    done = client.post(
        f"/reservations/{later}/cancel", data={"csrf_token": token, "reason": "都合が悪い"}
    )
    assert done.status_code == 302
    assert booked(app, tomorrow_slots["9:00"]) == 0
    # a colleague's stale page: the second cancel meets a closed reservation
    again = client.post(f"/reservations/{later}/cancel", data={"csrf_token": token, "reason": "x"})
    assert again.status_code == 409 and "既に「取消」" in again.get_data(as_text=True)

    shown = client.post(f"/reservations/{now}/no-show?back=today", data={"csrf_token": token})
    assert shown.status_code == 302 and "/reservations/today" in shown.headers["Location"]
    assert booked(app, today_slots["13:00"]) == 1
    assert [r.status for r in reservation_rows(app)] == ["cancelled", "no_show"]
    for event in events(app, AuditAction.RESERVATION_CANCEL):
        assert "都合" not in event.details


def test_today_lists_the_slots_logs_the_view_and_hands_over_into_attended(
    app: Flask, logged_in
) -> None:
    client: FlaskClient = logged_in(Role.CLERK)
    first, second = factories.envelope(
        app, 1, items=[factories.item("山田 太郎"), factories.item("山田 花子")]
    )
    (other,) = factories.envelope(app, 2, items=[factories.item("佐藤 一郎")])
    today = today_jst()
    slots = open_day(app, today)
    household = book(app, slots["9:00"], [first, second], name="山田 花子", today=today)
    cancelled = book(app, slots["9:00"], [other], name="佐藤 一郎", today=today)
    with factories.database_of(app).session_scope() as session:
        found = reservations.get(session, cancelled)
        assert found is not None
        reservations.cancel(session, actor="c", reservation=found, reason="都合", now=NOW)

    page = client.get("/reservations/today").get_data(as_text=True)
    assert "本日の予約" in page and "山田 花子" in page and "090-1234-5678" in page
    assert "予約 1/15・来庁 0・不来庁 0・取消 1" in page
    view = events(app, AuditAction.RESERVATION_VIEW)[-1]
    assert json.loads(view.details) == {
        "day": today.isoformat(),
        "count": 2,
        "control_nos": [control_no(app, first), control_no(app, second), control_no(app, other)],
    }
    handover_link = f"/handover?item={first}&amp;item={second}&amp;reservation={household}"
    assert handover_link in page

    url = f"/handover?item={first}&item={second}&reservation={household}"
    assert client.get(url).status_code == 200
    answer = client.post(
        url, data=handover_data(client, [first, second], documents=["passport"]),
        follow_redirects=True,
    )  # fmt: skip
    assert answer.status_code == 200 and "交付しました" in answer.get_data(as_text=True)
    statuses = {r.id: r.status for r in reservation_rows(app)}
    assert statuses == {household: "attended", cancelled: "cancelled"}
    (attend,) = events(app, AuditAction.RESERVATION_ATTEND)
    assert json.loads(attend.details)["receipt_no"].startswith("H")
    after = client.get("/reservations/today").get_data(as_text=True)
    assert "予約 1/15・来庁 1・不来庁 0・取消 1" in after

    # a handover for a reservation no longer open still hands over, and says so
    late = client.post(
        f"/handover?item={other}&reservation={cancelled}",
        data=handover_data(client, [other], documents=["passport"]),
        follow_redirects=True,
    )
    text = late.get_data(as_text=True)
    assert "交付しました" in text and "来庁済にしていません" in text


def test_the_auditor_reads_but_changes_nothing_and_admins_see_nothing(
    app: Flask, client: FlaskClient, make_user
) -> None:
    from tests.helpers import login

    (item_id,) = factories.envelope(app, 1)
    today = today_jst()
    slots = open_day(app, today)
    made = book(app, slots["9:00"], [item_id], today=today)
    login(client, make_user(Role.AUDITOR))
    page = client.get(f"/reservations/{made}").get_data(as_text=True)
    assert "山田 太郎" in page and "予約を取り消す" not in page and "不来庁にする" not in page
    listing = client.get(f"/reservations/today?day={today.isoformat()}").get_data(as_text=True)
    assert "山田 太郎" in listing and "交付へ" not in listing
    token = csrf_token(client, "/")
    assert (
        client.post(f"/reservations/{made}/no-show", data={"csrf_token": token}).status_code == 403
    )
    assert [r.status for r in reservation_rows(app)] == ["booked"]
    client.post("/logout", data={"csrf_token": token})
    login(client, make_user(Role.ADMIN))
    assert client.get(f"/reservations/{made}").status_code == 403
    assert client.get("/reservations/today").status_code == 403


def test_another_day_and_a_day_without_slots(app: Flask, logged_in) -> None:
    client: FlaskClient = logged_in(Role.RECORDS_OFFICER)
    assert "この日は受取予約日ではありません" in client.get(
        "/reservations/today?day=2026-12-06"
    ).get_data(as_text=True)
    assert client.get("/reservations/today?day=2026-02-30").status_code == 400


def test_a_protected_persons_card_name_is_not_listed(app: Flask, logged_in) -> None:
    """A protected person (支援措置) books by phone: the form does not prefill their name, and
    whatever name and number are given stay hidden on 本日の予約 and behind the purpose
    question on the reservation page; the views name the card for the audit log."""
    from tracker.services import protection

    client: FlaskClient = logged_in(Role.CLERK)
    (item_id,) = factories.envelope(app, 1, items=[factories.item("秘匿 花子")])
    today = today_jst()
    slots = open_day(app, today + timedelta(days=1))
    with factories.database_of(app).session_scope() as session:
        protection.place(
            session, actor="officer", item_id=item_id, reason="DV", review_on=today + timedelta(days=365),
            now=NOW, today=today,
        )  # fmt: skip
    url = f"/reservations/new?item={item_id}"
    token = csrf_token(client, "/")
    asked = client.post(url, data={"csrf_token": token, "purpose": "電話で受取予約"})
    assert asked.status_code == 302
    form = client.get(url).get_data(as_text=True)
    prefilled = re.search(r'id="name"[^>]*value="([^"]*)"|value="([^"]*)"[^>]*id="name"', form)
    assert prefilled is None or not any(prefilled.groups()), "the protected name is prefilled"
    assert 'value="秘匿 花子"' not in form
    answer = client.post(
        url,
        data={"csrf_token": token, "slot": str(slots["9:00"]), "name": "秘匿 花子",
              "phone": "090-9999-8888", "note": ""},
    )  # fmt: skip
    assert answer.status_code == 302
    (made,) = reservation_rows(app)
    client.post("/logout", data={"csrf_token": token})  # a new visit: no purpose remembered
    client = logged_in(Role.RECORDS_OFFICER)

    listing = client.get(f"/reservations/today?day={(today + timedelta(days=1)).isoformat()}")
    text = listing.get_data(as_text=True)
    assert "秘匿 花子" not in text and "090-9999-8888" not in text
    assert "支援措置の対象" in text and made.reservation_no in text
    day_view = events(app, AuditAction.RESERVATION_VIEW)[-1]
    assert json.loads(day_view.details)["control_nos"] == [control_no(app, item_id)]

    before = len(events(app, AuditAction.RESERVATION_VIEW))
    page = client.get(f"/reservations/{made.id}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "開く目的を入力してください" in text
    assert "秘匿 花子" not in text and "090-9999-8888" not in text
    assert len(events(app, AuditAction.RESERVATION_VIEW)) == before  # nothing shown, nothing logged
    token = csrf_token(client, "/")
    given = client.post(
        f"/reservations/{made.id}", data={"csrf_token": token, "purpose": "予約の確認"},
        follow_redirects=True,
    )  # fmt: skip
    text = given.get_data(as_text=True)
    assert "秘匿 花子" in text and "090-9999-8888" in text
    view = json.loads(events(app, AuditAction.RESERVATION_VIEW)[-1].details)
    assert view == {
        "reservation_no": made.reservation_no,
        "control_nos": [control_no(app, item_id)],
        "purpose_digest": audit.digest("予約の確認"),  # the typed text stays out (issue 16)
    }
    # an auditor filtering the audit log by the card finds the views of its reservation
    with factories.database_of(app).session_scope() as session:
        found = auditlog.page(session, auditlog.AuditFilter(subject=control_no(app, item_id)))
        assert AuditAction.RESERVATION_VIEW.value in {e.action for e in found.events}


def test_the_form_says_when_a_card_is_already_booked_and_skips_full_slots(
    app: Flask, logged_in
) -> None:
    client: FlaskClient = logged_in(Role.CLERK)
    (item_id,) = factories.envelope(app, 1)
    day = today_jst() + timedelta(days=2)
    slots = open_day(app, day)
    fill(app, slots["9:00"], 15)
    page = client.get(f"/reservations/new?item={item_id}").get_data(as_text=True)
    assert re.search(rf'value="{slots["9:30"]}"\s+checked autofocus', page)  # 9:00 is full
    assert re.search(rf'value="{slots["9:00"]}"\s+disabled>', page)
    made = book(app, slots["13:00"], [item_id], today=today_jst())
    again = client.get(f"/reservations/new?item={item_id}").get_data(as_text=True)
    number = reservation_rows(app)[0].reservation_no
    assert made and f"は既に予約 {number} に入っています" in again


def test_a_reservation_for_other_cards_is_not_marked_by_a_handover(app: Flask, logged_in) -> None:
    client: FlaskClient = logged_in(Role.CLERK)
    (booked_card,) = factories.envelope(app, 1)
    (other_card,) = factories.envelope(app, 2, items=[factories.item("別人 次郎")])
    today = today_jst()
    slots = open_day(app, today)
    made = book(app, slots["9:00"], [booked_card], today=today)
    answer = client.post(
        f"/handover?item={other_card}&reservation={made}",
        data=handover_data(client, [other_card], documents=["passport"]),
        follow_redirects=True,
    )
    text = answer.get_data(as_text=True)
    assert "交付しました" in text and "予約には記録していません" in text
    assert [r.status for r in reservation_rows(app)] == ["booked"]
    assert events(app, AuditAction.RESERVATION_ATTEND) == []


def test_a_handover_from_the_item_page_marks_the_cards_reservation_attended(
    app: Flask, logged_in
) -> None:
    client: FlaskClient = logged_in(Role.CLERK)
    first, second = factories.envelope(app, 1, items=[factories.item(), factories.item("乙")])
    (other,) = factories.envelope(app, 2, items=[factories.item("丙")])
    today = today_jst()
    slots = open_day(app, today)
    household = book(app, slots["9:00"], [first, second], today=today)
    untouched = book(app, slots["9:00"], [other], name="丙 三郎", today=today)
    # the clerk reaches the handover from the item page: no ?reservation= in the URL
    answer = client.post(
        f"/handover?item={first}",
        data=handover_data(client, [first], documents=["passport"]),
        follow_redirects=True,
    )
    assert answer.status_code == 200 and "交付しました" in answer.get_data(as_text=True)
    statuses = {r.id: r.status for r in reservation_rows(app)}
    assert statuses == {household: "attended", untouched: "booked"}
    (attend,) = events(app, AuditAction.RESERVATION_ATTEND)
    assert attend.object_id == str(household)
    assert json.loads(attend.details)["receipt_no"].startswith("H")
    listing = client.get(f"/reservations/today?day={today.isoformat()}").get_data(as_text=True)
    assert listing.count('data-testid="to-handover"') == 1  # only 丙's reservation is open
    token = csrf_token(client, "/")
    late = client.post(f"/reservations/{household}/no-show", data={"csrf_token": token})
    assert late.status_code == 409 and "既に「来庁済」" in late.get_data(as_text=True)


def test_no_show_only_after_the_slot_has_ended(app: Flask, logged_in) -> None:
    (item_id,) = factories.envelope(app, 1)
    slots = open_day(app, SATURDAY)
    made = book(app, slots["9:00"], [item_id])
    with time_machine.travel(at(SATURDAY, time(9, 5)), tick=False):
        client: FlaskClient = logged_in(Role.CLERK)
        listing = client.get("/reservations/today").get_data(as_text=True)
        assert "交付へ" in listing and 'data-testid="row-no-show"' not in listing
        page = client.get(f"/reservations/{made}").get_data(as_text=True)
        assert "不来庁にする" not in page
        token = csrf_token(client, "/")
        early = client.post(f"/reservations/{made}/no-show", data={"csrf_token": token})
        assert early.status_code == 422
        assert "9:00–9:30）が終わるまでは不来庁にできません" in early.get_data(as_text=True)
        assert [r.status for r in reservation_rows(app)] == ["booked"]
    with time_machine.travel(at(SATURDAY, time(9, 45)), tick=False):
        client = logged_in(Role.RECORDS_OFFICER)  # the idle session has ended
        token = csrf_token(client, "/")
        listing = client.get("/reservations/today").get_data(as_text=True)
        assert 'data-testid="row-no-show"' in listing
        done = client.post(f"/reservations/{made}/no-show", data={"csrf_token": token})
        assert done.status_code == 302
        assert [r.status for r in reservation_rows(app)] == ["no_show"]


def _second_location(app: Flask) -> int:
    with factories.database_of(app).session_scope() as session:
        place = Location(code="north", name="北支所", is_default=False)
        session.add(place)
        session.flush()
        return place.id


def _open_at(app: Flask, day: date, location_id: int) -> int:
    from tracker.domain.pickup import seed_weekend_slots

    with factories.database_of(app).session_scope() as session:
        location = session.get(Location, location_id)
        assert location is not None
        return pickup.open_day(
            session, actor="officer", day=day, location=location, slots=seed_weekend_slots(),
            note=None, now=NOW,
        ).id  # fmt: skip


def _day_ids(app: Flask) -> dict[tuple[date, str], int]:
    with factories.database_of(app).session_scope() as session:
        return {(d.day, d.location.name): d.id for d in session.scalars(select(PickupDay))}


def test_the_day_is_chosen_by_id_among_locations_and_beyond_the_first_ten(
    app: Flask, logged_in
) -> None:
    with time_machine.travel(NOW, tick=False):
        client: FlaskClient = logged_in(Role.CLERK)
        (item_id,) = factories.envelope(app, 1)
        north = _second_location(app)
        first_day = SATURDAY
        open_day(app, first_day)
        _open_at(app, first_day, north)
        for week in range(1, 12):  # twelve Saturdays: more than ten open days
            open_day(app, first_day + timedelta(weeks=week))
        ids = _day_ids(app)
        main_name = next(name for (d, name) in ids if d == first_day and name != "北支所")
        url = f"/reservations/new?item={item_id}"

        page = client.get(url).get_data(as_text=True)
        assert page.count('data-testid="open-day"') == 10
        assert "北支所" in page and "さらに先の予約日を表示" in page
        # the second location on the same date is reachable and shown as chosen
        north_page = client.get(f"{url}&day_id={ids[(first_day, '北支所')]}")
        text = north_page.get_data(as_text=True)
        assert north_page.status_code == 200 and "（北支所）</legend>" in text
        # the twelfth week, beyond the first ten listed days, by its id
        last = first_day + timedelta(weeks=11)
        far = client.get(f"{url}&day_id={ids[(last, main_name)]}").get_data(as_text=True)
        assert f"{last.isoformat()}" in far and f"（{main_name}）</legend>" in far
        more = client.get(f"{url}&days=20").get_data(as_text=True)
        assert more.count('data-testid="open-day"') == 13
        # an unknown (or closed) day: 404, not silently another day
        assert client.get(f"{url}&day_id=999999").status_code == 404

        # booking in the north slot takes a place there, not at the main office
        with factories.database_of(app).session_scope() as session:
            north_9 = session.scalar(
                select(PickupSlot.id).where(
                    PickupSlot.day_id == ids[(first_day, "北支所")],
                    PickupSlot.starts_at == time(9, 0),
                )
            )
        answer = client.post(
            f"{url}&day_id={ids[(first_day, '北支所')]}",
            data={"csrf_token": csrf_token(client, "/"), "slot": str(north_9), "name": "山田 太郎",
                  "phone": "096-328-2111", "note": ""},
        )  # fmt: skip
        assert answer.status_code == 302
        listing = client.get(f"/reservations/today?day={first_day.isoformat()}")
        sections = re.findall(
            r'data-testid="slot-location">([^<]*)<', listing.get_data(as_text=True)
        )
        assert "北支所" in sections and main_name in sections

    with time_machine.travel(at(first_day + timedelta(days=1), time(9, 0)), tick=False):
        client = logged_in(Role.RECORDS_OFFICER)  # the next day: a new visit
        past = client.get(f"{url}&day_id={ids[(first_day, main_name)]}")
        assert "過ぎた日です" in past.get_data(as_text=True)
