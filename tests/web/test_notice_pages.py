"""お知らせ on the web (issue 15): choose, preview (logged), send once, reprint the letters and
export the mailing list; the template editor refuses unsafe wording with the line number and
previews a synthetic person. The clock is at the tests' TODAY (deadlines are relative)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import func, select

from tests import factories
from tests import factories_notices as fn
from tests.factories import NOW
from tests.helpers import csrf_token, login
from tracker.domain.codes import AuditAction, Role
from tracker.models import AuditEvent, Contact, Item, NoticeBatch


@pytest.fixture(autouse=True)
def at_today() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def actions(app: Flask) -> list[str]:
    with factories.database_of(app).session_scope() as session:
        return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))


def test_choose_preview_send_once_reprint_and_export(app: Flask, client: FlaskClient) -> None:
    rule_a, _ = fn.rules(app)
    ids = fn.many(app, [fn.RETURNED_A[0], fn.RETURNED_A2[0]])
    login(client, factories.user(app, Role.RECORDS_OFFICER))
    token = csrf_token(client, "/notices")
    selection = {
        "csrf_token": token,
        "mode": "rule",
        "rule_id": str(rule_a),
        "days": "",
        "control_nos": "",
        "as_of": "R8.11.27",
        "sent_on": "R8.11.27",
    }
    page = client.post("/notices/preview", data=selection)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'data-testid="notice-letters">2<' in text
    assert "令和9年3月31日までに" in text and "通知 太郎0" in text
    assert actions(app)[-1] == AuditAction.NOTICE_PREVIEW.value

    send = {**selection, "method": "simple_registered", "expected": "2"}
    answer = client.post("/notices/send", data=send)
    assert answer.status_code == 302
    again = client.post("/notices/send", data=send)  # the same form submitted twice
    assert again.status_code == 422
    assert "同じ発送日にお知らせ済み" in again.get_data(as_text=True)
    with factories.database_of(app).session_scope() as session:
        assert session.scalar(select(func.count()).select_from(NoticeBatch)) == 1
        assert session.scalar(select(func.count()).select_from(Contact)) == 2
        assert all(session.get(Item, i).notice_sent_on == NOW.date() for i in ids)  # type: ignore[union-attr]
        batch_id = session.scalar(select(NoticeBatch.id))
    batch_page = client.get(f"/notices/{batch_id}").get_data(as_text=True)
    assert "N000000001" in batch_page and "簡易書留" in batch_page
    assert "通知 太郎" not in batch_page  # control numbers only

    pdf = client.get(f"/notices/{batch_id}/letters.pdf")
    assert pdf.mimetype == "application/pdf"
    import io

    reader = PdfReader(io.BytesIO(pdf.data))
    assert len(reader.pages) == 2
    assert "令和9年5月31日までに" in reader.pages[1].extract_text()
    csv = client.get(f"/notices/{batch_id}/list.csv")
    assert csv.data.startswith(b"\xef\xbb\xbf")
    assert "通知 太郎1" in csv.data.decode("utf-8-sig")
    sjis = client.get(f"/notices/{batch_id}/list.csv?encoding=cp932")
    assert "発送番号" in sjis.data.decode("cp932")
    assert actions(app)[-3:] == [
        AuditAction.NOTICE_PRINT.value,
        AuditAction.NOTICE_LIST_EXPORT.value,
        AuditAction.NOTICE_LIST_EXPORT.value,
    ]


def test_a_preview_with_a_bad_selection_says_why(app: Flask, client: FlaskClient) -> None:
    login(client, factories.user(app, Role.RECORDS_OFFICER))
    token = csrf_token(client, "/notices")
    page = client.post(
        "/notices/preview",
        data={"csrf_token": token, "mode": "items", "control_nos": "", "as_of": "", "sent_on": ""},
    )
    assert page.status_code == 422
    assert "管理番号を1件以上入力してください" in page.get_data(as_text=True)


def test_template_editor_refuses_unsafe_wording_and_saves_a_version(
    app: Flask, client: FlaskClient
) -> None:
    login(client, factories.user(app, Role.RECORDS_OFFICER))
    token = csrf_token(client, "/notices/template")
    refused = client.post(
        "/notices/template/save",
        data={"csrf_token": token, "title": "お知らせ", "body": "様\n{{ name.__class__ }}"},
    )
    assert refused.status_code == 422
    assert "安全でない操作" in refused.get_data(as_text=True)
    unknown = client.post(
        "/notices/template/preview",
        data={"csrf_token": token, "title": "お知らせ", "body": "\n\n{{ birth_date }}"},
    )
    assert unknown.status_code == 422
    assert "3行目" in unknown.get_data(as_text=True)
    preview = client.post(
        "/notices/template/preview",
        data={"csrf_token": token, "title": "お知らせ", "body": "{{ name }} 様 {{ last_day }}"},
    )
    assert "見本 花子 様 令和9年3月31日" in preview.get_data(as_text=True)
    sample_pdf = client.post(
        "/notices/template/preview",
        data={"csrf_token": token, "title": "お知らせ", "body": "{{ name }} 様", "as_pdf": "1"},
    )
    assert sample_pdf.mimetype == "application/pdf"
    saved = client.post(
        "/notices/template/save",
        data={"csrf_token": token, "title": "お知らせ", "body": "{{ name }} 様"},
        follow_redirects=True,
    )
    assert "第2版" in saved.get_data(as_text=True)
    assert AuditAction.NOTICE_TEMPLATE_CHANGE.value in actions(app)


def test_clerks_read_the_template_but_cannot_edit(app: Flask, client: FlaskClient) -> None:
    login(client, factories.user(app, Role.CLERK))
    page = client.get("/notices/template").get_data(as_text=True)
    assert "通知カードの受け取りについて（お知らせ）" in page
    assert "新しい版として保存" not in page
    assert not re.search(
        r'action="/notices/preview"', client.get("/notices").get_data(as_text=True)
    )


def test_the_office_contact_is_an_admin_setting(app: Flask, client: FlaskClient) -> None:
    login(client, factories.user(app, Role.ADMIN))
    page = client.get("/admin/settings").get_data(as_text=True)
    assert "096-328-2288" in page and "問い合わせ先" in page


def _selection(token: str, **fields: str) -> dict[str, str]:
    base = {
        "csrf_token": token,
        "mode": "within",
        "rule_id": "",
        "days": "400",
        "control_nos": "",
        "as_of": "R8.11.27",
        "sent_on": "R8.11.27",
    }
    return {**base, **fields}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"days": "abc"}, "日数は整数で入力してください"),
        ({"mode": "bogus"}, "選び方を選んでください"),
        ({"mode": "rule", "rule_id": "999999"}, "廃棄基準「999999」が見つかりません"),
        ({"sent_on": "2100-12-31"}, "は未来の日付です"),
        ({"sent_on": "2020-01-01"}, "1年以上前の日付です"),
    ],
)
def test_a_bad_preview_form_answers_422_with_a_message(
    app: Flask, client: FlaskClient, fields: dict[str, str], message: str
) -> None:
    login(client, factories.user(app, Role.RECORDS_OFFICER))
    token = csrf_token(client, "/notices")
    page = client.post("/notices/preview", data=_selection(token, **fields))
    assert page.status_code == 422
    assert message in page.get_data(as_text=True)
    assert AuditAction.NOTICE_PREVIEW.value not in actions(app)


def test_a_nul_in_the_preview_form_is_refused_with_the_guards_message(
    app: Flask, client: FlaskClient
) -> None:
    """NUL never reaches the view: the app-wide guard refuses it with a page that says why."""
    login(client, factories.user(app, Role.RECORDS_OFFICER))
    token = csrf_token(client, "/notices")
    page = client.post("/notices/preview", data=_selection(token, mode="rule", rule_id="\x00"))
    assert page.status_code == 400
    assert "入力に使えない文字があります" in page.get_data(as_text=True)
    assert AuditAction.NOTICE_PREVIEW.value not in actions(app)


def test_hand_typed_control_numbers_are_read_like_the_returned_notice_page(
    app: Flask, client: FlaskClient
) -> None:
    fn.rules(app)
    ids = fn.many(app, [fn.RETURNED_A[0], fn.RETURNED_A2[0]])
    with factories.database_of(app).session_scope() as session:
        first, second = (session.get(Item, i).control_no for i in ids)  # type: ignore[union-attr]
    login(client, factories.user(app, Role.RECORDS_OFFICER))
    token = csrf_token(client, "/notices")
    typed = "\n".join(
        [
            first.lower(),  # e000000001-1
            first.replace("E", "Ｅ"),  # full-width E
            second.replace("-", "ー"),  # the IME's long vowel mark for the dash
        ]
    )
    page = client.post("/notices/preview", data=_selection(token, mode="items", control_nos=typed))
    text = page.get_data(as_text=True)
    assert page.status_code == 200, text
    assert 'data-testid="notice-letters">2<' in text
    assert "管理番号が見つからない" not in text
    bad = f"{first}\n{second} 12345\n\nE1-1"
    refused = client.post("/notices/preview", data=_selection(token, mode="items", control_nos=bad))
    said = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "2行目「12345」読めません" in said and "4行目「E1-1」読めません" in said


def test_the_template_editor_refuses_a_memory_bomb_and_a_letter_past_its_page(
    app: Flask, client: FlaskClient
) -> None:
    from tracker.services.notice_templates import DEFAULT_BODY

    login(client, factories.user(app, Role.RECORDS_OFFICER))
    token = csrf_token(client, "/notices/template")
    bomb = client.post(
        "/notices/template/save",
        data={"csrf_token": token, "title": "お知らせ", "body": '{{ "x" * 200000000 }}'},
    )
    assert bomb.status_code == 422
    assert "掛け算（*）で作る文字列が長すぎます" in bomb.get_data(as_text=True)
    long_body = DEFAULT_BODY.replace("問い合わせ先", "追加の説明です。\n" * 30 + "問い合わせ先")
    for url in ("/notices/template/save", "/notices/template/preview"):
        refused = client.post(
            url, data={"csrf_token": token, "title": "お知らせ", "body": long_body}
        )
        assert refused.status_code == 422
        assert re.search(
            r"1ページに収まりません（見本のお知らせで約\d+行はみ出します）",
            refused.get_data(as_text=True),
        )
    fits = client.post(
        "/notices/template/save",
        data={"csrf_token": token, "title": "お知らせ", "body": DEFAULT_BODY},
    )
    assert fits.status_code == 302  # the default wording, with the documents named, fits
    assert actions(app).count(AuditAction.NOTICE_TEMPLATE_CHANGE.value) == 1


def test_a_reprint_too_long_for_its_page_says_so_instead_of_cutting(
    app: Flask, client: FlaskClient
) -> None:
    from datetime import date

    from tracker.domain.codes import NoticeMethod
    from tracker.services import notices

    fn.rules(app)
    ids = fn.many(app, [fn.RETURNED_A[0]])
    fn.long_template(app)  # saved before the editor checked the length
    with factories.database_of(app).session_scope() as session:
        number = session.get(Item, ids[0]).control_no  # type: ignore[union-attr]
        day = date(2026, 11, 27)
        sent = notices.send(
            session,
            actor="officer1",
            selection=notices.by_hand(number),
            as_of=day,
            sent_on=day,
            method=NoticeMethod.ORDINARY,
            now=NOW,
            today=day,
        )
        batch_id = sent.batch.id
    login(client, factories.user(app, Role.RECORDS_OFFICER))
    answer = client.get(f"/notices/{batch_id}/letters.pdf")
    assert answer.status_code == 400
    assert answer.mimetype == "text/html"
    assert "1ページに収まりません" in answer.get_data(as_text=True)
    assert AuditAction.NOTICE_PRINT.value not in actions(app)
