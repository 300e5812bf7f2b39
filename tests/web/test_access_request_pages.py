"""The access-request pages (開示請求, issue 16 item 3): who may use them, the person search
posts and its words never reach a URL or a redirect, a protected person's request goes
pending → approved (another officer, password again) → exported, and each export is audited."""

from __future__ import annotations

import io
import json
import zipfile
from urllib.parse import unquote

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from tests.factories_access import BORN, KANA, NAME, person, users
from tests.factories_protect import household, protect
from tests.helpers import PASSWORD, Account, csrf_token, login
from tracker.domain.codes import AuditAction, Role
from tracker.models import AccessRequest, AuditEvent

FORBIDDEN = (NAME, NAME.split()[0], KANA, KANA.split()[0], "佐藤", "サトウ", "1970", "1984")


def _client(app: Flask, username: str, role: Role) -> FlaskClient:
    client = app.test_client()
    assert login(client, Account(username, PASSWORD, role)).status_code == 302
    return client


def _post_new(client: FlaskClient, **data: object) -> TestResponse:
    token = csrf_token(client, "/access-requests/new")
    return client.post("/access-requests/new", data={"csrf_token": token, **data})


def _assert_no_words(url: str) -> None:
    text = unquote(url)
    for word in FORBIDDEN:
        assert word not in text, (word, url)


def _events(app: Flask, action: AuditAction) -> list[AuditEvent]:
    with app.extensions["tracker.db"].session_scope() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action.value)))


def test_records_officers_use_the_pages_auditors_read_and_others_are_refused(app: Flask) -> None:
    users(app)
    factories_admin = _client(app, "auditor", Role.AUDITOR)
    assert factories_admin.get("/access-requests").status_code == 200
    assert factories_admin.get("/access-requests/new").status_code == 403
    clerk = _client(app, "clerk", Role.CLERK)
    assert clerk.get("/access-requests").status_code == 403
    assert clerk.get("/access-requests/new").status_code == 403
    officer = _client(app, "officer", Role.RECORDS_OFFICER)
    home = officer.get("/").get_data(as_text=True)
    assert 'href="/access-requests"' in home
    assert "開示請求を受け付ける" in officer.get("/access-requests").get_data(as_text=True)
    assert 'href="/access-requests"' not in clerk.get("/").get_data(as_text=True)


def test_the_search_posts_and_no_name_reaches_a_url(app: Flask) -> None:
    users(app)
    who = person(app)
    officer = _client(app, "officer", Role.RECORDS_OFFICER)
    # words in a query string are dropped before anything runs (issue 16 item 4)
    typed = officer.get(f"/access-requests/new?q={NAME}")
    assert typed.status_code == 303 and NAME not in unquote(typed.headers["Location"])
    ignored = officer.get(f"/access-requests/new?name={NAME}&birth_date=1984-07-09")
    assert ignored.status_code == 303 and ignored.headers["Location"] == "/access-requests/new"

    found = _post_new(officer, name="なるみ　しずか", birth_date="S59.7.9", action="search")
    page = found.get_data(as_text=True)
    assert found.status_code == 200 and "Location" not in found.headers
    assert "該当する通知物（2件）" in page and "熊本市中央区" in page and "水前寺" in page
    assert "6-18-1" not in page  # the address down to the town only
    assert 'action="/access-requests/new"' in page

    created = _post_new(
        officer,
        name="なるみ　しずか",
        birth_date="S59.7.9",
        action="create",
        items=[str(who.card), str(who.notice)],
        reference_no="R8-開示-0007",
        received_on="R8.11.20",
    )
    assert created.status_code == 303
    location = created.headers["Location"]
    _assert_no_words(location)
    shown = officer.get(location)
    text = shown.get_data(as_text=True)
    assert "R8-開示-0007" in text and "出力可" in text and NAME not in text
    for link in (location, *[a for a in text.split('"') if a.startswith("/")]):
        _assert_no_words(link)
    [event] = _events(app, AuditAction.ACCESS_REQUEST_VIEW)
    assert json.loads(event.details)["reference_no"] == "R8-開示-0007"


def test_bad_input_is_named_and_nothing_is_recorded(app: Flask) -> None:
    users(app)
    who = person(app)
    officer = _client(app, "officer", Role.RECORDS_OFFICER)
    no_birth = _post_new(officer, name=NAME, birth_date="", action="search")
    assert no_birth.status_code == 422
    assert "生年月日を入力してください" in no_birth.get_data(as_text=True)
    bad_date = _post_new(officer, name=NAME, birth_date="S59.2.30", action="search")
    assert bad_date.status_code == 422 and "生年月日: " in bad_date.get_data(as_text=True)
    [father] = [who.father]
    not_shown = _post_new(
        officer,
        name=NAME,
        birth_date=BORN.isoformat(),
        action="create",
        items=[str(father)],
        reference_no="R8-1",
        received_on="R8.11.20",
    )
    assert not_shown.status_code == 422
    assert "検索結果にありません" in not_shown.get_data(as_text=True)
    no_reference = _post_new(
        officer,
        name=NAME,
        birth_date=BORN.isoformat(),
        action="create",
        items=[str(who.card)],
        reference_no="",
        received_on="R8.11.20",
    )
    assert no_reference.status_code == 422
    page = no_reference.get_data(as_text=True)
    assert "受付番号を入力してください" in page and f'value="{who.card}" checked' in page
    with app.extensions["tracker.db"].session_scope() as session:
        assert session.scalars(select(AccessRequest)).all() == []


def test_a_protected_persons_request_is_approved_then_exported(app: Flask) -> None:
    users(app)
    member, _other = household(app)
    protect(app, member, whole_envelope=False)
    officer = _client(app, "officer", Role.RECORDS_OFFICER)
    found = _post_new(officer, name="佐藤 一郎", birth_date="1970-02-03", action="search")
    assert "支援措置" in found.get_data(as_text=True)
    assert "手取本町" not in found.get_data(as_text=True)  # masked, not even the town
    created = _post_new(
        officer,
        name="佐藤 一郎",
        birth_date="1970-02-03",
        action="create",
        items=[str(member)],
        reference_no="R8-開示-0100",
        received_on="R8.11.25",
    )
    path = created.headers["Location"]
    page = officer.get(path).get_data(as_text=True)
    assert "承認待ち" in page and "受け付けた本人は承認できません" in page

    refused = officer.post(
        f"{path}/export",
        data={"csrf_token": csrf_token(officer, path), "format": "pdf"},
        follow_redirects=True,
    )
    assert "承認されるまで出力できません" in refused.get_data(as_text=True)
    [refusal] = _events(app, AuditAction.ACCESS_REQUEST_EXPORT)
    assert refusal.outcome == "refused"
    own = officer.post(
        f"{path}/approve",
        data={"csrf_token": csrf_token(officer, path), "password": PASSWORD},
        follow_redirects=True,
    )
    assert "受け付けた本人は承認できません" in own.get_data(as_text=True)

    second = _client(app, "officer2", Role.RECORDS_OFFICER)
    wrong = second.post(
        f"{path}/approve",
        data={"csrf_token": csrf_token(second, path), "password": "nope"},
        follow_redirects=True,
    )
    assert "パスワードが正しくありません" in wrong.get_data(as_text=True)
    approved = second.post(
        f"{path}/approve",
        data={"csrf_token": csrf_token(second, path), "password": PASSWORD},
        follow_redirects=True,
    )
    assert "承認しました" in approved.get_data(as_text=True)
    assert "記録 二郎" in approved.get_data(as_text=True)
    outcomes = sorted(e.outcome for e in _events(app, AuditAction.ACCESS_REQUEST_APPROVE))
    assert outcomes == ["ok", "refused"]

    pdf = officer.post(
        f"{path}/export", data={"csrf_token": csrf_token(officer, path), "format": "pdf"}
    )
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF") and "attachment" in pdf.headers["Content-Disposition"]
    bundle = officer.post(
        f"{path}/export", data={"csrf_token": csrf_token(officer, path), "format": "csv"}
    )
    assert bundle.mimetype == "application/zip"
    files = zipfile.ZipFile(io.BytesIO(bundle.data)).namelist()
    assert "09_protections.csv" in files
    exports = [e for e in _events(app, AuditAction.ACCESS_REQUEST_EXPORT) if e.outcome == "ok"]
    assert sorted(json.loads(e.details)["format"] for e in exports) == ["csv", "pdf"]
    for event in exports:
        assert "佐藤" not in event.details and "1970" not in event.details
    listing = officer.get("/access-requests").get_data(as_text=True)
    assert "R8-開示-0100" in listing and "出力済" in listing and "2回" in listing
    auditor = _client(app, "auditor", Role.AUDITOR)
    assert auditor.get(path).status_code == 200
    # the audit log reads in words and links the events to the request
    log = auditor.get("/audit").get_data(as_text=True)
    rows = log[log.find("<tbody") :]
    assert "開示請求の出力" in rows and "開示請求の承認" in rows and "access_request." not in rows
    event_page = auditor.get(f"/audit/events/{exports[0].seq}")
    shown = event_page.get_data(as_text=True)
    assert event_page.status_code == 200 and "R8-開示-0100" in shown and path in shown
    assert (
        auditor.post(
            f"{path}/export", data={"csrf_token": csrf_token(auditor, path), "format": "pdf"}
        ).status_code
        == 403
    )


def test_a_protection_placed_after_the_request_sends_it_back_for_approval(app: Flask) -> None:
    users(app)
    member, sister = household(app)
    officer = _client(app, "officer", Role.RECORDS_OFFICER)
    created = _post_new(
        officer,
        name="佐藤 一郎",
        birth_date="1970-02-03",
        action="create",
        items=[str(member)],
        reference_no="R8-開示-0200",
        received_on="R8.11.25",
    )
    path = created.headers["Location"]
    assert "出力可" in officer.get(path).get_data(as_text=True)
    protect(app, sister, whole_envelope=False)  # his sister, after the request was recorded
    found = _post_new(officer, name="佐藤 一郎", birth_date="1970-02-03", action="search")
    assert "別の記録管理担当者の承認を受けてから出力できます" in found.get_data(as_text=True)
    refused = officer.post(
        f"{path}/export",
        data={"csrf_token": csrf_token(officer, path), "format": "csv"},
        follow_redirects=True,
    )
    page = refused.get_data(as_text=True)
    assert refused.mimetype == "text/html" and "受付の後で支援措置が設定されました" in page
    assert "承認待ち" in page
    with app.extensions["tracker.db"].session_scope() as session:
        made = session.scalar(select(AccessRequest))
        assert made is not None and made.status == "pending_approval" and made.requires_approval
    [event] = _events(app, AuditAction.ACCESS_REQUEST_EXPORT)
    assert event.outcome == "refused" and json.loads(event.details)["reason"] == "protection"
