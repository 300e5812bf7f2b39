"""The retention of the tracker's own records on the web (issue 16 part 2): records officers
change the periods, auditors read them, the preview counts what the next purge would touch
without naming anyone, and a purged item or envelope shows as erased."""

from __future__ import annotations

import json
from datetime import date

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests import factories
from tests.factories import NOW
from tests.factories_purge import LAST4, RECIPIENT, at, closed, purged_then_voided, status_of
from tests.helpers import csrf_token, login, search
from tracker.domain.codes import AuditAction, JobKind, RecordClass, Role
from tracker.domain.record_retention import PLACEHOLDER
from tracker.models import AuditEvent, HandoverItem, Item, Job
from tracker.services import jobs, purge, record_retention

PERIODS = {"items": "5", "handovers": "5", "reservations": "365", "contacts": "5"}


def test_officers_change_the_periods_and_auditors_read_them(app: Flask, make_user) -> None:
    database = factories.database_of(app)
    officer = app.test_client()
    login(officer, make_user(Role.RECORDS_OFFICER))
    page = officer.get("/records-retention")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "記録の保存期間" in text and 'name="items"' in text
    assert "取込んだファイルの行は保存していません" in text
    assert "tracker purge --dry-run" in text

    token = csrf_token(officer, "/records-retention")
    refused = officer.post(
        "/records-retention", data={"csrf_token": token, **PERIODS, "items": "31"}
    )
    assert refused.status_code == 400
    assert "終了した通知物と返戻郵便の保存期間は1〜30年で指定してください" in refused.get_data(
        as_text=True
    )
    words = officer.post(
        "/records-retention", data={"csrf_token": token, **PERIODS, "contacts": "五年"}
    )
    assert words.status_code == 400 and "数ではありません" in words.get_data(as_text=True)
    with database.session_scope() as session:
        assert record_retention.load(session) == record_retention.defaults()

    saved = officer.post(
        "/records-retention",
        data={"csrf_token": token, **PERIODS, "items": "7"},
        follow_redirects=True,
    )
    assert "記録の保存期間を保存しました" in saved.get_data(as_text=True)
    with database.session_scope() as session:
        assert record_retention.load(session)[RecordClass.ITEMS] == 7
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == AuditAction.RECORD_RETENTION_CHANGE.value)
        ).one()
        assert json.loads(event.details)["after"] == {"items": 7}

    auditor = app.test_client()
    login(auditor, make_user(Role.AUDITOR))
    read = auditor.get("/records-retention").get_data(as_text=True)
    assert "7年" in read and 'name="items"' not in read and "保存期間を保存する" not in read
    denied = auditor.post(
        "/records-retention",
        data={"csrf_token": csrf_token(auditor, "/records-retention"), **PERIODS},
    )
    assert denied.status_code == 403

    clerk = app.test_client()
    login(clerk, make_user(Role.CLERK))
    assert clerk.get("/records-retention").status_code == 403
    assert "/records-retention" not in clerk.get("/").get_data(as_text=True)
    assert "/records-retention" in auditor.get("/").get_data(as_text=True)


def test_the_preview_counts_what_the_next_purge_touches_without_names(
    app: Flask, logged_in
) -> None:
    database = factories.database_of(app)
    who = closed(database, 1, on=date(2025, 12, 31))
    client: FlaskClient = logged_in(Role.AUDITOR)
    today = client.get("/records-retention").get_data(as_text=True)
    assert 'data-testid="step-items"><td>通知物</td><td class="num">0</td>' in today

    later = client.get("/records-retention?as_of=2031-01-01").get_data(as_text=True)
    assert 'data-testid="step-items"><td>通知物</td><td class="num">1</td>' in later
    assert "令和7年12月31日" in later  # the handover: the oldest anchor
    for personal in (who.name, RECIPIENT, "ショウキョ", "手取本町"):
        assert personal not in later

    bad = client.get("/records-retention?as_of=2031-02-30").get_data(as_text=True)
    assert 'data-testid="as-of-error"' in bad


def test_a_purged_item_and_envelope_show_as_erased(app: Flask, logged_in) -> None:
    database = factories.database_of(app)
    who = closed(database, 1, on=date(2025, 12, 31))
    with database.session_scope() as session:
        purge.run(session, actor="cli:t", as_of=date(2031, 1, 1), now=at(date(2031, 1, 1)))
    client: FlaskClient = logged_in(Role.RECORDS_OFFICER)

    item_page = client.get(f"/items/{who.item_id}").get_data(as_text=True)
    assert 'data-testid="pseudonymised"' in item_page
    assert "保存期間経過により消去済" in item_page
    assert who.name not in item_page and "明治" not in item_page and "1899" not in item_page

    envelope_page = client.get(f"/envelopes/{who.envelope_id}").get_data(as_text=True)
    assert 'data-testid="pseudonymised"' in envelope_page
    assert "手取本町" not in envelope_page and "明治" not in envelope_page
    assert "封筒を修正" not in envelope_page
    edit = client.get(f"/envelopes/{who.envelope_id}/edit", follow_redirects=True)
    assert "修正できません" in edit.get_data(as_text=True)

    history = client.get(f"/items/{who.item_id}/history")
    assert history.status_code == 200
    assert who.name not in history.get_data(as_text=True)

    with database.session_scope() as session:
        handover_id = session.scalar(
            select(HandoverItem.handover_id).where(HandoverItem.item_id == who.item_id)
        )
    detail = client.get(f"/handovers/{handover_id}").get_data(as_text=True)
    assert "保存期間経過により消去済" in detail
    assert RECIPIENT not in detail and who.name not in detail and "明治" not in detail
    assert LAST4 not in detail and "旅券" in detail  # the document's type stays
    receipt = client.get(f"/handovers/{handover_id}/receipt.pdf")
    assert receipt.status_code == 200

    found = search(client, who.name).get_data(as_text=True)
    assert f'/items/{who.item_id}"' not in found


def test_an_item_back_in_custody_after_its_purge_says_so_and_is_re_entered(
    app: Flask, logged_in
) -> None:
    database = factories.database_of(app)
    who = purged_then_voided(database, 1)
    client: FlaskClient = logged_in(Role.RECORDS_OFFICER)
    page = client.get(f"/items/{who.item_id}").get_data(as_text=True)
    assert 'data-testid="pseudonymised-back"' in page and "入力し直してください" in page
    assert f"/items/{who.item_id}/edit" in page and "保管中" in page

    form = client.get(f"/items/{who.item_id}/edit").get_data(as_text=True)
    assert 'data-testid="pseudonymised"' in form
    assert f'value="{PLACEHOLDER}"' not in form and "明治32年" not in form  # nothing to send back
    token = csrf_token(client, f"/items/{who.item_id}/edit")
    data = {
        "csrf_token": token,
        "name": who.name,
        "name_kana": "ショウキョ タイショウイチ",
        "birth_date": who.birth_date.isoformat(),
        "relationship": "子",
        "item_kind": "notification_card",
    }
    left = client.post(f"/items/{who.item_id}/edit", data={**data, "relationship": PLACEHOLDER})
    assert "入力し直してください" in left.get_data(as_text=True)
    assert search(client, who.name).get_data(as_text=True).count(f'/items/{who.item_id}"') == 0

    saved = client.post(f"/items/{who.item_id}/edit", data=data)
    assert saved.status_code == 302
    again = client.get(f"/items/{who.item_id}").get_data(as_text=True)
    assert 'data-testid="pseudonymised' not in again and who.name in again
    assert f'/items/{who.item_id}"' in search(client, who.name).get_data(as_text=True)


def test_an_officer_starts_the_purge_as_a_job_after_its_confirm_step(app: Flask, logged_in) -> None:
    database = factories.database_of(app)
    who = closed(database, 1, on=date(2020, 6, 1))
    client: FlaskClient = logged_in(Role.RECORDS_OFFICER)
    page = client.get("/records-retention?as_of=2026-01-01").get_data(as_text=True)
    assert 'data-testid="confirm-purge"' in page

    confirm = client.get("/records-retention/purge?as_of=2026-01-01")
    text = confirm.get_data(as_text=True)
    assert 'data-testid="step-items"><td>通知物</td><td class="num">1</td>' in text
    assert 'data-testid="start-purge"' in text and who.name not in text
    assert status_of(database, who.item_id) == "handed_over"  # the confirm step changes nothing
    future = client.get("/records-retention/purge?as_of=2099-01-01", follow_redirects=True)
    assert "未来の日付です" in future.get_data(as_text=True)

    token = csrf_token(client, "/records-retention/purge?as_of=2026-01-01")
    refused = client.post(
        "/records-retention/purge", data={"csrf_token": token, "as_of": "2099-01-01"}
    )
    assert refused.status_code == 302 and refused.headers["Location"] == "/records-retention"
    started = client.post(
        "/records-retention/purge", data={"csrf_token": token, "as_of": "2026-01-01"}
    )
    assert started.status_code == 302 and started.headers["Location"].startswith("/jobs/")
    report = client.get(started.headers["Location"]).get_data(as_text=True)
    assert 'data-state="succeeded"' in report and "消去が完了しました" in report
    assert "as_of=2026-01-01 reservation_phones=1 items=1 envelopes=1" in report
    assert 'data-testid="purged-items"><td>通知物</td><td class="num">1</td>' in report
    with database.read_session() as session:
        item = session.get(Item, who.item_id)
        assert item is not None and item.name == PLACEHOLDER
        runs = session.scalars(
            select(AuditEvent.details).where(AuditEvent.action == AuditAction.PURGE_RUN.value)
        ).all()
    assert len(runs) == 1 and json.loads(runs[0])["as_of"] == "2026-01-01"


def test_auditors_see_the_purge_preview_but_cannot_start_it(app: Flask, logged_in) -> None:
    client: FlaskClient = logged_in(Role.AUDITOR)
    assert 'data-testid="confirm-purge"' not in client.get("/records-retention").get_data(
        as_text=True
    )
    assert client.get("/records-retention/purge?as_of=2026-01-01").status_code == 403


def test_a_second_purge_is_not_queued_while_one_waits_or_runs(app: Flask, make_user) -> None:
    database = factories.database_of(app)
    closed(database, 1, on=date(2020, 6, 1))
    first = make_user(Role.RECORDS_OFFICER, "officer1")
    second = make_user(Role.RECORDS_OFFICER, "officer2")
    with database.session_scope() as session:  # first's purge waits for a worker
        waiting = jobs.queue(
            session, kind=JobKind.PURGE, actor=first.username, now=NOW, params={"as_of": "x"}
        ).id

    def start(account) -> FlaskClient:  # type: ignore[no-untyped-def]
        client = app.test_client()
        assert login(client, account).status_code == 302
        return client

    def post(client: FlaskClient):  # type: ignore[no-untyped-def]
        token = csrf_token(client, "/records-retention/purge?as_of=2026-01-01")
        return client.post(
            "/records-retention/purge", data={"csrf_token": token, "as_of": "2026-01-01"}
        )

    other = start(second)
    refused = post(other)
    assert refused.status_code == 302 and refused.headers["Location"] == "/records-retention"
    page = other.get("/records-retention").get_data(as_text=True)
    assert f"消去処理（処理番号 {waiting}" in page and "開始しませんでした" in page
    mine = start(first)
    again = post(mine)  # a double click: to the purge already queued
    assert again.headers["Location"] == f"/jobs/{waiting}"
    with database.read_session() as session:
        kinds = session.scalars(select(Job.kind).where(Job.kind == JobKind.PURGE.value)).all()
        assert len(kinds) == 1
        assert AuditAction.PURGE_RUN.value not in session.scalars(select(AuditEvent.action))
    with database.session_scope() as session:
        jobs.fail(session, waiting, now=NOW, reason="test", actor="system:worker")
    started = post(mine)  # once it has ended, a purge starts again
    assert started.headers["Location"] != f"/jobs/{waiting}"
    assert 'data-state="succeeded"' in mine.get(started.headers["Location"]).get_data(as_text=True)
