"""The counter: lookup, item pages, identity-verified handover, receipts (issue #4, SPEC §4)."""

from __future__ import annotations

import io
import json
import threading

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import func, select

from tests.factories import item_id
from tests.helpers import csrf_token, login, search
from tracker.domain.codes import Role
from tracker.models import AuditEvent, Handover, Item

HEADER = "お問い合わせ番号,返戻日,還付事由,宛名,住所,氏名,フリガナ,生年月日,続柄"
ROWS = [
    "100000000019,H30.4.2,転居先不明,髙橋 一郎,熊本市中央区1,髙橋 一郎,タカハシ イチロウ,S45.1.2,世帯主",
    "100000000019,H30.4.2,転居先不明,髙橋 一郎,熊本市中央区1,髙橋 花子,タカハシ ハナコ,S48.3.4,妻",
    "100000000026,H30.5.7,受取拒絶,高橋 次郎,熊本市東区2,高橋 次郎,タカハシ ジロウ,1990-05-06,世帯主",
    "100000000033,R2.7.1,その他,山田 太郎,熊本市北区3,山田 太郎,ヤマダ タロウ,S50.1.1,世帯主",
]
pytestmark = pytest.mark.stock(HEADER, ROWS)


def events(app: Flask, action: str) -> list[AuditEvent]:
    with app.extensions["tracker.db"].session_scope() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("たかはし", {"髙橋 一郎", "髙橋 花子", "高橋 次郎"}),
        ("ﾀｶﾊｼ ｲﾁ", {"髙橋 一郎"}),
        ("タカハシイチロウ", {"髙橋 一郎"}),
        ("高橋", {"髙橋 一郎", "髙橋 花子", "高橋 次郎"}),
        ("髙橋 花", {"髙橋 花子"}),
        ("S48.3.4", {"髙橋 花子"}),
        ("たかはし 昭和48年3月4日", {"髙橋 花子"}),
        ("1975-01-01", {"山田 太郎"}),
        ("すずき", set()),
    ],
)
def test_search_finds_names_in_any_form(
    stocked: Flask, logged_in, query: str, expected: set[str]
) -> None:
    client = logged_in(Role.CLERK)
    page = search(client, query).get_data(as_text=True)
    found = {
        name
        for name in ["髙橋 一郎", "髙橋 花子", "高橋 次郎", "山田 太郎"]
        if f">{name}</a>" in page
    }
    assert found == expected
    assert "電話で回答することはできません" in page


def test_results_are_grouped_by_envelope(stocked: Flask, logged_in) -> None:
    page = search(logged_in(Role.CLERK), "たかはし").get_data(as_text=True)
    assert page.count('data-testid="envelope-group"') == 2


def test_a_tracking_number_or_label_goes_to_the_envelope(stocked: Flask, logged_in) -> None:
    client = logged_in(Role.CLERK)
    for query in ("1000-0000-0019", "E000000001"):
        response = search(client, query, follow=False)
        assert response.status_code == 303 and response.headers["Location"] == "/envelopes/1"


def test_search_is_logged_by_kind_and_item_views_by_item(stocked: Flask, logged_in) -> None:
    client = logged_in(Role.AUDITOR)
    search(client, "たかはし")
    [event] = events(stocked, "item.search")
    assert json.loads(event.details) == {"query_kind": "kana", "results": 3}
    assert "タカハシ" not in event.details
    target = item_id(stocked, "山田 太郎")
    assert "山田 太郎" in client.get(f"/items/{target}").get_data(as_text=True)
    client.get(f"/items/{target}")
    assert [e.object_id for e in events(stocked, "item.view")] == [str(target)] * 2


def handover_data(client: FlaskClient, items: list[int], **fields) -> dict:  # type: ignore[no-untyped-def]
    data = {
        "csrf_token": csrf_token(client, "/"),
        "item": [str(i) for i in items],
        "recipient_kind": "self",
        "recipient_name": "",
        "letter_of_attorney_date": "",
        "authority_proof": "",
    }
    data.update(fields)
    return data


def test_self_with_a_driving_licence_takes_the_whole_household(stocked: Flask, logged_in) -> None:
    client = logged_in(Role.CLERK)
    ids = [item_id(stocked, "髙橋 一郎"), item_id(stocked, "髙橋 花子")]
    response = client.post(
        "/handover",
        data=handover_data(
            client, ids, documents=["drivers_license"], **{"last4-drivers_license": "1234"}
        ),
    )
    assert response.status_code == 302
    with stocked.extensions["tracker.db"].session_scope() as session:
        statuses = session.scalars(select(Item.status).where(Item.id.in_(ids))).all()
        record = session.scalar(select(Handover))
        assert record is not None
        assert json.loads(record.documents) == [{"code": "drivers_license", "last4": "1234"}]
        assert record.policy_version == 2 and record.clerk == "clerk1"  # seeded v2 (issue 14)
    assert statuses == ["handed_over", "handed_over"]
    [event] = events(stocked, "handover.create")
    assert json.loads(event.details)["items"] == ["E000000001-1", "E000000001-2"]
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "運転免許証（末尾1234）" in detail


def test_one_group_b_document_is_refused_and_only_the_refusal_is_written(
    stocked: Flask, logged_in
) -> None:
    client = logged_in(Role.CLERK)
    target = item_id(stocked, "山田 太郎")
    response = client.post(
        "/handover", data=handover_data(client, [target], documents=["health_insurance_card"])
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "交付できません" in page and "B群2点" in page
    with stocked.extensions["tracker.db"].session_scope() as session:
        assert session.scalar(select(Item.status).where(Item.id == target)) == "in_custody"
        assert session.scalar(select(func.count()).select_from(Handover)) == 0
    [refused] = events(stocked, "handover.refused")
    assert refused.outcome == "refused" and "B群2点" in refused.details
    assert events(stocked, "handover.create") == []


def test_a_proxy_with_an_old_letter_is_refused(stocked: Flask, logged_in) -> None:
    client = logged_in(Role.CLERK)
    target = item_id(stocked, "山田 太郎")
    page = client.post(
        "/handover",
        data=handover_data(
            client,
            [target],
            recipient_kind="proxy",
            recipient_name="佐藤 次郎",
            documents=["passport"],
            principal_documents=["mynumber_card"],
            letter_of_attorney_date="2020-01-01",
        ),
    ).get_data(as_text=True)
    assert "委任状" in page and "交付できません" in page


def test_a_second_handover_says_when_and_by_whom(stocked: Flask, logged_in, make_user) -> None:
    client = logged_in(Role.CLERK)
    target = item_id(stocked, "高橋 次郎")
    first = client.post("/handover", data=handover_data(client, [target], documents=["passport"]))
    assert first.status_code == 302
    other = stocked.test_client()
    login(other, make_user(Role.CLERK, "clerk2"))
    again = other.post("/handover", data=handover_data(other, [target], documents=["passport"]))
    page = again.get_data(as_text=True)
    assert again.status_code == 409
    assert "E000000002-1 は交付済みです" in page and "担当 clerk1" in page


def test_two_requests_racing_hand_over_once(stocked: Flask, make_user) -> None:
    target = item_id(stocked, "山田 太郎")
    clients = []
    for n in range(2):
        client = stocked.test_client()
        login(client, make_user(Role.CLERK, f"racer{n}"))
        clients.append((client, handover_data(client, [target], documents=["passport"])))
    barrier = threading.Barrier(2)
    codes: list[int] = []

    def post(client: FlaskClient, data: dict) -> None:  # type: ignore[type-arg]
        barrier.wait(timeout=10)
        codes.append(client.post("/handover", data=data).status_code)

    threads = [threading.Thread(target=post, args=pair) for pair in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(codes) == [302, 409]
    with stocked.extensions["tracker.db"].session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Handover)) == 1
    assert len(events(stocked, "handover.create")) == 1


def test_receipt_prints_once_then_reprints_are_marked_and_audited(
    stocked: Flask, logged_in
) -> None:
    client = logged_in(Role.CLERK)
    target = item_id(stocked, "山田 太郎")
    done = client.post("/handover", data=handover_data(client, [target], documents=["passport"]))
    handover_path = done.headers["Location"]
    first = client.get(f"{handover_path}/receipt.pdf")
    assert first.status_code == 200 and first.mimetype == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(first.data)).pages)
    assert "受領書" in text and "H000000001" in text and "山田" in text and "旅券" in text
    assert "再発行" not in text
    second = client.get(f"{handover_path}/receipt.pdf")
    reprint = "".join(p.extract_text() for p in PdfReader(io.BytesIO(second.data)).pages)
    assert "再発行" in reprint
    assert len(events(stocked, "receipt.print")) == 1
    assert len(events(stocked, "receipt.reprint")) == 1


def test_handover_log_lists_todays_handovers_by_clerk(stocked: Flask, logged_in) -> None:
    client = logged_in(Role.CLERK)
    target = item_id(stocked, "山田 太郎")
    client.post("/handover", data=handover_data(client, [target], documents=["passport"]))
    page = client.get("/handovers").get_data(as_text=True)
    assert "clerk1" in page and "H000000001" in page and "E000000003-1" in page
    assert "山田" not in page  # the log shows control numbers, not names


def test_items_of_two_envelopes_cannot_go_in_one_handover(stocked: Flask, logged_in) -> None:
    client = logged_in(Role.CLERK)
    ids = [item_id(stocked, "山田 太郎"), item_id(stocked, "高橋 次郎")]
    page = client.post(
        "/handover", data=handover_data(client, ids, documents=["passport"])
    ).get_data(as_text=True)
    assert "同じ封筒" in page
