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
