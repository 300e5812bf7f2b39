"""受取予約 on the web (issue 15): the booking form, a reservation's page with cancel and
no-show, 本日の予約 with 「交付へ」, the handover marking the reservation attended; refusals
answer 422 with the reason, a race 409; views of names and numbers are logged."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests import factories
from tests.factories import NOW
from tests.factories_reservations import book, fill, open_day
from tests.helpers import csrf_token
from tests.web.test_counter import handover_data
from tracker.clock import today_jst
from tracker.domain.codes import AuditAction, Role
from tracker.models import AuditEvent, PickupSlot, Reservation
from tracker.services import reservations

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
    assert json.loads(view.details) == {"reservation_no": made.reservation_no}
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
    assert early.status_code == 422 and "より前には不来庁にできません" in early.get_data(
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
    assert json.loads(view.details) == {"day": today.isoformat(), "count": 2}
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
    from tracker.services import protection

    client: FlaskClient = logged_in(Role.CLERK)
    (item_id,) = factories.envelope(app, 1, items=[factories.item("秘匿 花子")])
    today = today_jst()
    slots = open_day(app, today)
    made = book(app, slots["9:00"], [item_id], name="来庁 者", today=today)
    with factories.database_of(app).session_scope() as session:
        protection.place(
            session, actor="officer", item_id=item_id, reason="DV", review_on=today + timedelta(days=365),
            now=NOW, today=today,
        )  # fmt: skip
    for page in (client.get("/reservations/today"), client.get(f"/reservations/{made}")):
        text = page.get_data(as_text=True)
        assert "秘匿 花子" not in text and "支援措置" in text


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
