"""The contact log on the web (issue 15): the 接触記録 section of the item page (the item's and
its household's contacts, the form, refusals with a clear message and nothing written), the
envelope page (household contacts, a protected person's notes hidden), the item history, the
returned-notice forms, and the 住基照合依頼一覧 with its CSV."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests import factories, factories_contacts, factories_protect
from tests.helpers import csrf_token, login
from tests.web.test_audit_labels import visible_text
from tracker.clock import JST, now_utc, today_jst
from tracker.domain.codes import AuditAction, ContactKind, NoticeMethod, Role
from tracker.domain.mynumber import INDIVIDUAL_NUMBER_MESSAGE
from tracker.domain.wareki import format_wareki
from tracker.models import AuditEvent, Contact, Item
from tracker.services import register

C, R, A = Role.CLERK, Role.RECORDS_OFFICER, Role.AUDITOR
VALID_NUMBER = "123456789018"  # passes the My Number check digit


def client_as(app: Flask, role: Role, name: str, display: str) -> FlaskClient:
    client = app.test_client()
    account = factories.user(app, role, name, display_name=display)
    assert login(client, account).status_code == 302
    return client


def household(app: Flask) -> list[int]:
    return factories.envelope(
        app, 1, items=[factories.item("山田 太郎"), factories.item("山田 花子")]
    )


def contacts_of(app: Flask) -> list[tuple[int | None, str, str | None]]:
    with app.extensions["tracker.db"].session_scope() as session:
        rows = session.scalars(select(Contact).order_by(Contact.id))
        return [(c.item_id, c.kind, c.note) for c in rows]


def events(app: Flask, action: AuditAction) -> list[dict[str, object]]:
    with app.extensions["tracker.db"].session_scope() as session:
        rows = session.scalars(select(AuditEvent.details).where(AuditEvent.action == action.value))
        return [json.loads(d) for d in rows]


def a_while_ago(hours: int = 1) -> tuple[str, str]:
    """Day (ISO) and time (H:MM) ``hours`` before now, in Japan."""
    moment = (now_utc() - timedelta(hours=hours)).astimezone(JST)
    return moment.date().isoformat(), f"{moment:%H:%M}"


def post_contact(client: FlaskClient, item_id: int, **fields: str):  # type: ignore[no-untyped-def]
    day, at = a_while_ago()
    body = {"kind": "phone", "day": day, "at": at, "note": "", **fields}
    body["csrf_token"] = csrf_token(client, f"/items/{item_id}")
    return client.post(f"/items/{item_id}/contacts", data=body)


def section(page: str) -> str:
    start = page.index('id="contacts"')
    return page[start : page.index("</section>", start)]


def test_a_clerk_records_a_phone_call_and_sees_it_with_their_name(app: Flask) -> None:
    first, second = household(app)
    clerk = client_as(app, C, "clerk-hanako", "窓口 花子")
    page = clerk.get(f"/items/{first}").get_data(as_text=True)
    assert "接触記録はありません" in section(page)
    assert "通知カードの返戻状況を電話で回答することはできません" in section(page)
    day, at = a_while_ago()
    response = post_contact(clerk, first, note="電話あり、来庁予定", day=day, at=at)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/items/{first}#contacts")
    shown = visible_text(section(clerk.get(f"/items/{first}").get_data(as_text=True)))
    assert "電話 電話あり、来庁予定 窓口 花子" in shown
    assert f"{at}" in shown and "令和" in shown  # the day in 和暦 and the time, in Japan
    # the note is not in the audit log, the kind and time are
    (event,) = events(app, AuditAction.CONTACT_RECORD)
    assert event["kind"] == "phone" and "note" not in event
    assert "電話あり" not in json.dumps(event, ensure_ascii=False)
    # an item-level contact is not on the other member's page
    other = section(clerk.get(f"/items/{second}").get_data(as_text=True))
    assert "電話あり、来庁予定" not in other


def test_the_item_page_lists_household_contacts_and_notices(app: Flask, logged_in) -> None:
    first, second = household(app)
    factories.user(app, C, "clerk-taro", display_name="窓口 太郎")
    factories_contacts.contact(
        app, second, kind=ContactKind.VISIT, note="世帯主が来庁", household=True,
        actor="clerk-taro",
    )  # fmt: skip
    factories_contacts.batch(
        app, [first], batch_no="N000000007", method=NoticeMethod.SIMPLE_REGISTERED
    )
    shown = visible_text(section(logged_in(A).get(f"/items/{first}").get_data(as_text=True)))
    assert "来庁 世帯 世帯主が来庁 窓口 太郎" in shown
    assert "郵送のお知らせ" in shown and "N000000007 簡易書留" in shown
    # the auditor reads, and has no form
    assert "接触記録を登録" not in shown and "お知らせが返戻された" not in shown


def test_refused_contacts_say_why_and_write_nothing(app: Flask, logged_in) -> None:
    (item_id,) = factories.envelope(app, 1)
    clerk = logged_in(C)
    tomorrow = (now_utc() + timedelta(days=1)).astimezone(JST).date().isoformat()
    cases = [
        ({"note": f"番号 {VALID_NUMBER} と言っていた"}, INDIVIDUAL_NUMBER_MESSAGE),
        ({"day": tomorrow}, "未来の日付です"),
        ({"at": "25:00"}, "ありえない時刻です"),
        ({"at": "朝"}, "時:分（例: 9:30）で入力してください"),
        ({"day": "2026-02-30"}, "2026-02-30"),
        ({"kind": "notice_mail"}, "選択肢が正しくありません"),  # written by the notice mailing only
    ]
    for fields, message in cases:
        response = post_contact(clerk, item_id, **fields)
        page = response.get_data(as_text=True)
        assert response.status_code == 422, fields
        assert message in page, (fields, visible_text(page))
        assert "何も登録していません" in page
        assert "山田" not in visible_text(page)  # the control number only
    # a time later today than now is in the future too
    later = (now_utc() + timedelta(minutes=30)).astimezone(JST)
    response = post_contact(clerk, item_id, day=later.date().isoformat(), at=f"{later:%H:%M}")
    assert response.status_code == 422
    assert "未来" in response.get_data(as_text=True)
    assert contacts_of(app) == []


def test_an_auditor_cannot_record_a_contact(app: Flask, logged_in) -> None:
    (item_id,) = factories.envelope(app, 1)
    auditor = logged_in(A)
    day, at = a_while_ago()
    token = csrf_token(auditor, f"/items/{item_id}")
    body = {"kind": "phone", "day": day, "at": at, "csrf_token": token}
    assert auditor.post(f"/items/{item_id}/contacts", data=body).status_code == 403
    envelope = auditor.get(f"/items/{item_id}").get_data(as_text=True)
    assert "接触を記録する" not in envelope
    assert contacts_of(app) == []


def test_the_envelope_page_hides_the_notes_of_a_protected_person(app: Flask, logged_in) -> None:
    first, second = household(app)
    factories_protect.protect(app, second, whole_envelope=False)
    factories_contacts.contact(app, first, note="太郎さんから電話")
    factories_contacts.contact(app, second, note="花子さんの新しい勤務先の話")
    factories_contacts.contact(app, first, note="世帯で転居の予定", household=True)
    officer = logged_in(R)
    with app.extensions["tracker.db"].session_scope() as session:
        envelope_id = session.get(Item, first).envelope_id  # type: ignore[union-attr]
    page = officer.get(f"/envelopes/{envelope_id}").get_data(as_text=True)
    shown = visible_text(section(page))
    assert "太郎さんから電話" in shown  # not protected
    assert "花子さんの新しい勤務先" not in page
    assert "世帯で転居の予定" not in page  # the household holds a protected person
    assert shown.count("支援措置の対象のため表示しません") == 2


def test_a_siblings_item_page_hides_the_household_notes_of_a_protected_envelope(
    app: Flask, logged_in
) -> None:
    """Only one item of the envelope is protected: the other member's page (which asks no
    purpose) must not show the household's notes either; the protected item's own page,
    opened with a purpose, may."""
    first, second = household(app)
    factories_protect.protect(app, second, whole_envelope=False)
    factories_contacts.contact(app, first, note="太郎さんから電話")
    factories_contacts.contact(app, first, note="世帯で転居の予定", household=True)
    officer = logged_in(R)
    sibling = section(officer.get(f"/items/{first}").get_data(as_text=True))
    assert "太郎さんから電話" in visible_text(sibling)  # the sibling's own contact
    assert "世帯で転居の予定" not in sibling
    assert "支援措置の対象のため表示しません" in visible_text(sibling)
    token = csrf_token(officer, "/")
    own = officer.post(f"/items/{second}", data={"csrf_token": token, "purpose": "窓口で本人確認"})
    assert own.status_code == 200
    assert "世帯で転居の予定" in visible_text(section(own.get_data(as_text=True)))


def test_the_envelope_page_lists_and_records_household_contacts(app: Flask, logged_in) -> None:
    first, second = household(app)
    factories_contacts.contact(app, first, note="太郎さんから電話")
    clerk = logged_in(C)
    with app.extensions["tracker.db"].session_scope() as session:
        envelope_id = session.get(Item, first).envelope_id  # type: ignore[union-attr]
        control = session.get(Item, first).control_no  # type: ignore[union-attr]
    page = clerk.get(f"/envelopes/{envelope_id}").get_data(as_text=True)
    assert f"{control} 電話 太郎さんから電話" in visible_text(section(page))
    day, at = a_while_ago(2)
    response = clerk.post(
        f"/envelopes/{envelope_id}/contacts",
        data={
            "kind": "home_visit",
            "day": day,
            "at": at,
            "note": "不在、不在票を投函",
            "csrf_token": csrf_token(clerk, f"/envelopes/{envelope_id}"),
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/envelopes/{envelope_id}#contacts")
    assert contacts_of(app)[-1] == (None, "home_visit", "不在、不在票を投函")
    # a household contact shows on each member's page
    for item_id in (first, second):
        shown = visible_text(section(clerk.get(f"/items/{item_id}").get_data(as_text=True)))
        assert "訪問 世帯 不在、不在票を投函" in shown


def test_the_history_shows_the_kind_and_time_but_not_the_note(app: Flask, logged_in) -> None:
    (item_id,) = factories.envelope(app, 1)
    clerk = logged_in(C)
    day, at = a_while_ago(3)
    assert post_contact(clerk, item_id, note="折り返し希望", day=day, at=at).status_code == 302
    officer = app.test_client()
    login(officer, factories.user(app, R))
    page = visible_text(officer.get(f"/items/{item_id}/history").get_data(as_text=True))
    assert "接触記録（種類 電話、日時 令和" in page and at in page
    assert "折り返し希望" not in page


def test_a_returned_notice_from_the_item_page(app: Flask, logged_in) -> None:
    first, second = household(app)
    factories_contacts.batch(app, [first], batch_no="N000000001")
    factories_contacts.batch(app, [first], batch_no="N000000002")
    clerk = logged_in(C)
    page = clerk.get(f"/items/{first}").get_data(as_text=True)
    assert "お知らせが返戻された" in page
    assert "お知らせが返戻された" not in clerk.get(f"/items/{second}").get_data(as_text=True)
    # the latest batch is chosen
    latest = re.search(r'<option selected value="(\d+)">N000000002', page) or re.search(
        r'<option value="(\d+)" selected>N000000002', page
    )
    assert latest, section(page)
    today = today_jst().isoformat()
    body = {"batch": latest.group(1), "returned_on": today}
    body["csrf_token"] = csrf_token(clerk, f"/items/{first}")
    response = clerk.post(f"/items/{first}/notice-returns", data=body)
    assert response.status_code == 302
    (event,) = events(app, AuditAction.NOTICE_RETURN)
    assert event["batch_no"] == "N000000002" and event["control_no"].startswith("E")  # type: ignore[union-attr]
    shown = visible_text(section(clerk.get(f"/items/{first}").get_data(as_text=True)))
    day = format_wareki(today_jst())
    assert f"{day} お知らせの返戻 N000000002" in shown  # a day, without a time
    # the same again is refused, nothing more written
    again = clerk.post(f"/items/{first}/notice-returns", data=body)
    assert again.status_code == 422
    assert "返戻は記録済みです" in again.get_data(as_text=True)
    assert len(events(app, AuditAction.NOTICE_RETURN)) == 1


def test_bulk_returns_report_every_bad_line_then_record_all(app: Flask, logged_in) -> None:
    ids = household(app)
    factories_contacts.batch(app, ids[:1], batch_no="N000000003")
    officer = logged_in(R)
    with app.extensions["tracker.db"].session_scope() as session:
        numbers = [session.get(Item, i).control_no for i in ids]  # type: ignore[union-attr]
    body = {
        "batch_no": "n000000003",
        "returned_on": today_jst().isoformat(),
        "numbers": f"{numbers[0].lower()}\n{numbers[1]}\nE000000099-9\n",
        "csrf_token": csrf_token(officer, "/notices/returns"),
    }
    response = officer.post("/notices/returns", data=body)
    assert response.status_code == 422
    rows = re.findall(r'<tr data-testid="bulk-error">(.*?)</tr>', response.get_data(as_text=True))
    assert [visible_text(r).strip() for r in rows] == [
        f"2 {numbers[1]} 発送番号 N000000003 のお知らせの対象ではありません",
        "3 E000000099-9 この管理番号の通知物はありません",
    ]
    assert events(app, AuditAction.NOTICE_RETURN) == []
    body["numbers"] = f"{numbers[0].lower()}\n"
    response = officer.post("/notices/returns", data=body, follow_redirects=True)
    assert "お知らせの返戻を1件記録しました（発送番号 N000000003）" in response.get_data(
        as_text=True
    )
    unknown = dict(body, batch_no="N000000999")
    page = officer.post("/notices/returns", data=unknown).get_data(as_text=True)
    assert "発送番号「N000000999」のお知らせはありません" in page


def test_the_register_request_list_and_its_csv(app: Flask, logged_in, tmp_path: Path) -> None:
    first, second = household(app)
    batch_id = factories_contacts.batch(app, [first, second])
    factories_contacts.returned(app, first, batch_id)
    auditor = logged_in(A)
    page = auditor.get("/register/requests").get_data(as_text=True)
    rows = re.findall(r'<tr data-testid="request-row">(.*?)</tr>', page, re.S)
    assert len(rows) == 1 and "山田 太郎" in rows[0] and "N000000001" in rows[0]
    assert events(app, AuditAction.REGISTER_REQUEST_VIEW) == [{"items": 1}]
    response = auditor.get("/register/requests.csv")
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    with app.extensions["tracker.db"].session_scope() as session:
        control = session.get(Item, first).control_no  # type: ignore[union-attr]
    assert lines == [
        ["管理番号", "氏名", "生年月日", "異動区分", "異動日", "備考"],
        [control, "山田 太郎", "1975-01-01", "", "", ""],
    ]
    cp932 = auditor.get("/register/requests.csv?encoding=cp932").get_data()
    assert cp932.decode("cp932").splitlines()[0] == "管理番号,氏名,生年月日,異動区分,異動日,備考"
    assert [e["encoding"] for e in events(app, AuditAction.REGISTER_REQUEST_EXPORT)] == [
        "utf-8-sig",
        "cp932",
    ]
    # the resident-records section fills in the outcome; the file imports as it stands
    lines[1][3] = "現住"
    filled = tmp_path / "filled.csv"
    with filled.open("w", encoding="utf-8-sig", newline="") as out:
        csv.writer(out).writerows(lines)
    with app.extensions["tracker.db"].session_scope() as session:
        settled = register.check_file(
            session, filled, actor="cli:test", today=today_jst(), now=now_utc()
        )
        assert settled.refusal is None and settled.report.new == 1, settled
    assert auditor.get("/register/requests").get_data(as_text=True).count("request-row") == 0


def test_a_formula_looking_name_is_neutralised_in_the_csv(app: Flask, logged_in) -> None:
    (item_id,) = factories.envelope(app, 1, items=[factories.item("=HYPERLINK(1)", "イコール")])
    batch_id = factories_contacts.batch(app, [item_id])
    factories_contacts.returned(app, item_id, batch_id)
    body = logged_in(R).get("/register/requests.csv").get_data().decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(body)))[1][1] == "'=HYPERLINK(1)"


def test_the_register_checks_page_links_the_request_list(app: Flask, logged_in) -> None:
    page = logged_in(R).get("/register-checks").get_data(as_text=True)
    assert 'href="/register/requests"' in page and 'href="/notices/returns"' in page
