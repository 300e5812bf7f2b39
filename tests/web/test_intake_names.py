"""Intake, item page and item edit for names as registered and unclaimed My Number cards
(issue 14): Latin names, no フリガナ, a 通称, the card's dates, and お知らせ送付日."""

from __future__ import annotations

import json
from datetime import date

from flask import Flask
from sqlalchemy import select

from tests.helpers import csrf_token, login, search
from tests.web.test_intake import events, intake_data
from tracker.domain.codes import ItemKind, Role
from tracker.models import Envelope, Item
from tracker.services import audit


def _card_intake(client, **overrides: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    data = intake_data(
        client,
        **{
            "return_date": "R7.3.3",
            "return_reason": "OTHER",
            "addressee": "SMITH John Paul",
            "items-0-name": "SMITH John Paul",
            "items-0-name_kana": "",
            "items-0-alias": "スミス ジョン",
            "items-0-birth_date": "1990-01-02",
            "items-0-item_kind": "mynumber_card",
            "items-0-first_notice_on": "令和6年4月1日",
            "items-0-renotice_on": "R6.10.1",
            "items-0-card_expires_on": "R16.1.2",
        },
    )
    for key in [k for k in data if k.startswith("items-1-")]:
        del data[key]
    data.update(overrides)
    return data


def _item(app: Flask) -> Item:
    with app.extensions["tracker.db"].session_scope() as session:
        item = session.scalar(select(Item))
        assert item is not None
        session.expunge(item)
        return item


def test_intake_of_an_unclaimed_card_with_its_dates_a_latin_name_and_an_alias(
    app: Flask, logged_in
) -> None:
    client = logged_in(Role.CLERK)
    form = client.get("/envelopes/new").get_data(as_text=True)
    assert "未受領のマイナンバーカード" in form and "交付通知書送付日" in form
    response = client.post("/envelopes/new", data=_card_intake(client), follow_redirects=True)
    assert "登録しました" in response.get_data(as_text=True)
    item = _item(app)
    assert (item.name, item.name_kana, item.alias, item.kind) == (
        "SMITH John Paul",
        "",
        "スミス ジョン",
        ItemKind.MYNUMBER_CARD.value,
    )
    assert (item.first_notice_on, item.renotice_on, item.card_expires_on) == (
        date(2024, 4, 1),
        date(2024, 10, 1),
        date(2034, 1, 2),
    )
    page = client.get(f"/items/{item.id}").get_data(as_text=True)
    assert "スミス ジョン" in page and "未受領のマイナンバーカード" in page
    assert "令和6年4月1日" in page and "令和6年10月1日" in page and "令和16年1月2日" in page
    # Found by the alias and by the name typed in lower case.
    for typed in ("すみす", "smith john"):
        results = search(client, typed).get_data(as_text=True)
        assert f"/items/{item.id}" in results, typed


def test_card_dates_are_refused_on_other_kinds_and_a_renotice_before_the_first(
    app: Flask, logged_in
) -> None:
    client = logged_in(Role.CLERK)
    wrong_kind = _card_intake(client, **{"items-0-item_kind": "number_notice"})
    page = client.post("/envelopes/new", data=wrong_kind).get_data(as_text=True)
    assert "交付通知書送付日は種別が未受領のマイナンバーカード（mynumber_card）のときだけ" in page
    backwards = _card_intake(client, **{"items-0-renotice_on": "R6.3.1"})
    page = client.post("/envelopes/new", data=backwards).get_data(as_text=True)
    assert "再通知日 令和6年3月1日 (2024-03-01) が交付通知書送付日" in page
    number = _card_intake(client, **{"items-0-alias": "123456789018"})
    page = client.post("/envelopes/new", data=number).get_data(as_text=True)
    assert "個人番号" in page
    with app.extensions["tracker.db"].session_scope() as session:
        assert session.scalar(select(Envelope)) is None


def test_item_edit_changes_the_card_dates_and_the_alias_audited(app: Flask, logged_in) -> None:
    client = logged_in(Role.CLERK)
    client.post("/envelopes/new", data=_card_intake(client))
    item = _item(app)
    edit = client.get(f"/items/{item.id}/edit").get_data(as_text=True)
    assert "令和6年10月1日" in edit and "スミス ジョン" in edit  # the form holds the stored values
    response = client.post(
        f"/items/{item.id}/edit",
        data={
            "csrf_token": csrf_token(client, f"/items/{item.id}/edit"),
            "name": "SMITH John Paul",
            "name_kana": "",
            "alias": "",
            "birth_date": "1990-01-02",
            "relationship": "世帯主",
            "item_kind": "mynumber_card",
            "first_notice_on": "R6.4.1",
            "renotice_on": "R6.11.5",
            "card_expires_on": "R16.1.2",
        },
    )
    assert response.status_code == 302
    edited = _item(app)
    assert (edited.renotice_on, edited.alias, edited.alias_key) == (date(2024, 11, 5), None, None)
    [event] = events(app, "item.edit")
    changes = json.loads(event.details)["changes"]
    assert changes["renotice_on"] == ["2024-10-01", "2024-11-05"]
    assert changes["alias"] == {
        "old_digest": audit.digest("スミス ジョン"),
        "new_digest": audit.digest(None),
    }


def test_records_officer_records_the_notice_sent_day_audited(
    app: Flask, logged_in, make_user
) -> None:
    clerk = logged_in(Role.CLERK)
    clerk.post("/envelopes/new", data=_card_intake(clerk))
    item = _item(app)
    token = csrf_token(clerk, f"/items/{item.id}")
    refused = clerk.post(
        f"/items/{item.id}/notice-sent", data={"csrf_token": token, "notice_sent_on": "R7.4.1"}
    )
    assert refused.status_code == 403

    officer = app.test_client()
    assert login(officer, make_user(Role.RECORDS_OFFICER)).status_code == 302
    page = officer.get(f"/items/{item.id}").get_data(as_text=True)
    assert "お知らせ送付日" in page
    token = csrf_token(officer, f"/items/{item.id}")
    future = officer.post(
        f"/items/{item.id}/notice-sent",
        data={"csrf_token": token, "notice_sent_on": "R20.1.1"},
        follow_redirects=True,
    )
    assert "お知らせ送付日 令和20年1月1日 (2038-01-01) は未来の日付です" in future.get_data(
        as_text=True
    )
    assert _item(app).notice_sent_on is None
    done = officer.post(
        f"/items/{item.id}/notice-sent",
        data={"csrf_token": token, "notice_sent_on": "令和7年4月1日"},
        follow_redirects=True,
    )
    assert "お知らせ送付日を記録しました。" in done.get_data(as_text=True)
    assert _item(app).notice_sent_on == date(2025, 4, 1)
    [event] = events(app, "item.edit")
    assert event.actor == "records-officer1"
    assert json.loads(event.details) == {
        "control_no": item.control_no,
        "changes": {"notice_sent_on": [None, "2025-04-01"]},
    }
