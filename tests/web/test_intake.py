"""Counter intake, envelope pages, edits, moves, labels and the scan box (issue #3)."""

from __future__ import annotations

import io
import json

from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import select

from tests.helpers import csrf_token, scan
from tracker.clock import today_jst
from tracker.domain.codes import Role
from tracker.domain.wareki import format_wareki
from tracker.models import AuditEvent, Envelope, Item, Location
from tracker.services import audit

TRACKING = "1234-5678-9013"  # check digit ok: 12345678901 % 7 == 3


def intake_data(client: FlaskClient, **overrides: str) -> dict[str, str]:
    data = {
        "csrf_token": csrf_token(client, "/envelopes/new"),
        "tracking_no": TRACKING,
        "return_date": "H30.4.2",
        "return_reason": "TENKYO_FUMEI",
        "addressee": "髙橋 一郎",
        "address": "熊本市中央区手取本町1-1",
        "household_code": "",
        "location": "1",
        "slot": "H30-04-B017",
        "items-0-name": "髙橋 一郎",
        "items-0-name_kana": "ﾀｶﾊｼ ｲﾁﾛｳ",
        "items-0-birth_date": "昭和45年1月2日",
        "items-0-relationship": "世帯主",
        "items-0-item_kind": "notification_card",
        "items-1-name": "𠮷田 花子",
        "items-1-name_kana": "よしだ はなこ",
        "items-1-birth_date": "S48.3.4",
        "items-1-relationship": "妻",
        "items-1-item_kind": "notification_card",
        "save": "1",
    }
    data.update(overrides)
    return data


def events(app: Flask, action: str) -> list[AuditEvent]:
    with app.extensions["tracker.db"].session_scope() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def register(client: FlaskClient, **overrides: str) -> Envelope:
    response = client.post("/envelopes/new", data=intake_data(client, **overrides))
    assert response.status_code == 302, response.get_data(as_text=True)
    app = client.application
    with app.extensions["tracker.db"].session_scope() as session:
        envelope = session.scalar(select(Envelope).order_by(Envelope.id.desc()))
        assert envelope is not None
        return envelope


def test_clerk_registers_an_envelope_with_its_household(app: Flask, logged_in) -> None:
    client = logged_in(Role.CLERK)
    response = client.post("/envelopes/new", data=intake_data(client), follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "登録しました: 管理番号 E000000001（2件）" in page
    with app.extensions["tracker.db"].session_scope() as session:
        envelope = session.scalar(select(Envelope))
        assert envelope is not None
        assert (envelope.tracking_no, envelope.slot, envelope.intake_by) == (
            "123456789013",
            "H30-04-B017",
            "clerk1",
        )
        assert [(i.control_no, i.name, i.kana_key) for i in envelope.items] == [
            ("E000000001-1", "髙橋 一郎", "タカハシイチロウ"),
            ("E000000001-2", "𠮷田 花子", "ヨシダハナコ"),
        ]
    [event] = events(app, "envelope.intake")
    assert json.loads(event.details) == {"control_no": "E000000001", "items": 2, "location": "CHUO"}
    # the next envelope starts at the same location and slot, ready for the next scan
    assert 'value="H30-04-B017"' in page


def test_return_date_defaults_to_today_in_japan(logged_in) -> None:
    page = logged_in(Role.CLERK).get("/envelopes/new").get_data(as_text=True)
    assert f'value="{format_wareki(today_jst())}"' in page


def test_add_row_keeps_what_was_typed(logged_in) -> None:
    client = logged_in(Role.CLERK)
    data = intake_data(client)
    del data["save"]
    data["add_item"] = "1"
    page = client.post("/envelopes/new", data=data).get_data(as_text=True)
    assert 'name="items-2-name"' in page and "𠮷田 花子" in page


def test_a_duplicate_tracking_number_is_refused_with_a_link(app: Flask, logged_in) -> None:
    client = logged_in(Role.CLERK)
    first = register(client)
    response = client.post("/envelopes/new", data=intake_data(client, slot="other"))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "登録済みです" in page and f'href="/envelopes/{first.id}"' in page
    with app.extensions["tracker.db"].session_scope() as session:
        assert len(session.scalars(select(Envelope)).all()) == 1


def test_bad_values_say_what_is_wrong_and_write_nothing(app: Flask, logged_in) -> None:
    client = logged_in(Role.CLERK)
    response = client.post(
        "/envelopes/new",
        data=intake_data(
            client, **{"return_date": "平成31年5月1日", "items-1-name": "花子 123456789018"}
        ),
    )
    page = response.get_data(as_text=True)
    assert "平成の期間外" in page and "個人番号" in page
    assert "123456789018" not in page.split("個人番号")[1][:200]  # the message never echoes it
    with app.extensions["tracker.db"].session_scope() as session:
        assert session.scalars(select(Item)).all() == []
    assert events(app, "envelope.intake") == []


def test_every_opening_of_an_envelope_is_logged(app: Flask, logged_in) -> None:
    client = logged_in(Role.CLERK)
    envelope = register(client)
    client.get(f"/envelopes/{envelope.id}")
    page = client.get(f"/envelopes/{envelope.id}").get_data(as_text=True)
    assert (
        "髙橋 一郎" in page
        and "平成30年4月2日" in page
        and "電話で回答することはできません" in page
    )
    views = events(app, "envelope.view")
    assert len(views) == 2 and views[0].object_id == str(envelope.id)
    assert "髙橋" not in views[0].details


def test_edits_are_audited_with_before_and_after(app: Flask, logged_in) -> None:
    client = logged_in(Role.RECORDS_OFFICER)
    envelope = register(client)
    token = csrf_token(client, f"/envelopes/{envelope.id}/edit")
    response = client.post(
        f"/envelopes/{envelope.id}/edit",
        data={
            "csrf_token": token,
            "tracking_no": TRACKING,
            "return_date": "H30.4.3",
            "return_reason": "TENKYO_FUMEI",
            "addressee": "髙橋 一郎",
            "address": "熊本市中央区手取本町1-2",
            "household_code": "",
        },
    )
    assert response.status_code == 302
    [edit] = events(app, "envelope.edit")
    # issue 16: the address as keyed digests (values in item_revisions), the date as is
    assert json.loads(edit.details)["changes"] == {
        "address": {
            "old_digest": audit.digest("熊本市中央区手取本町1-1"),
            "new_digest": audit.digest("熊本市中央区手取本町1-2"),
        },
        "returned_on": ["2018-04-02", "2018-04-03"],
    }
    with app.extensions["tracker.db"].session_scope() as session:
        item = session.scalar(select(Item).where(Item.position == 2))
        assert item is not None
        item_id = item.id
    token = csrf_token(client, f"/items/{item_id}/edit")
    client.post(
        f"/items/{item_id}/edit",
        data={
            "csrf_token": token,
            "name": "吉田 花子",
            "name_kana": "ヨシダ ハナコ",
            "birth_date": "S48.3.4",
            "relationship": "妻",
            "item_kind": "notification_card",
        },
    )
    [item_edit] = events(app, "item.edit")
    # よしだ はなこ was stored as ヨシダ ハナコ at intake: the フリガナ did not change
    assert json.loads(item_edit.details)["changes"] == {
        "name": {"old_digest": audit.digest("𠮷田 花子"), "new_digest": audit.digest("吉田 花子")}
    }


def test_move_is_audited_and_the_location_page_lists_it(app: Flask, logged_in) -> None:
    client = logged_in(Role.CLERK)
    envelope = register(client)
    with app.extensions["tracker.db"].session_scope() as session:
        east = session.scalar(select(Location).where(Location.code == "HIGASHI"))
        assert east is not None
        east_id = east.id
    token = csrf_token(client, f"/envelopes/{envelope.id}")
    client.post(
        f"/envelopes/{envelope.id}/move",
        data={"csrf_token": token, "location": str(east_id), "slot": "E-01"},
    )
    [move] = events(app, "envelope.move")
    assert json.loads(move.details)["to"] == {"location": "HIGASHI", "slot": "E-01"}
    listing = client.get(f"/locations/{east_id}").get_data(as_text=True)
    assert envelope.control_no in listing and "E-01" in listing
    assert "髙橋" not in listing  # location pages show no names
    assert envelope.control_no not in client.get("/locations/1").get_data(as_text=True)


def test_label_pdf_has_the_control_number_and_no_names(app: Flask, logged_in) -> None:
    client = logged_in(Role.CLERK)
    envelope = register(client)
    response = client.get(f"/labels.pdf?id={envelope.id}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    assert envelope.control_no in text and "H30-04-B017" in text
    assert "保管場所 中央区役所1階 熊本市マイナンバーセンター" in text  # the name, not CHUO
    assert "髙橋" not in text and "熊本市中央区" not in text  # no name, no address
    assert len(events(app, "label.print")) == 1


def test_scanning_a_label_or_tracking_number_opens_the_envelope(logged_in) -> None:
    client = logged_in(Role.CLERK)
    envelope = register(client)
    for query in (
        envelope.control_no,
        "ｅ000000001",
        "123456789013",
        "１２３４－５６７８－９０１３",
    ):
        response = scan(client, query)
        assert response.status_code == 303, query
        assert response.headers["Location"] == f"/envelopes/{envelope.id}"
    missing = scan(client, "E000000999")
    assert missing.status_code == 404 and "見つかりません" in missing.get_data(as_text=True)


def test_auditor_may_view_but_not_register(logged_in) -> None:
    client = logged_in(Role.AUDITOR)
    assert client.get("/envelopes/new").status_code == 403
    assert client.get("/locations").status_code == 200
