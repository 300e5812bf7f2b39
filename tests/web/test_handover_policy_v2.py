"""The counter form under identity policy version 2 (issue 14): it asks for what the rule needs
and nothing else, refuses with the missing piece in words, and stores the version used."""

from __future__ import annotations

import json
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.factories import item_id
from tests.factories_idp import make_unclaimed_card
from tests.helpers import csrf_token
from tracker.domain.codes import Role
from tracker.models import AuditEvent, Handover, Item

HEADER = "お問い合わせ番号,返戻日,還付事由,宛名,住所,氏名,フリガナ,生年月日,続柄"
ROWS = [
    "100000000026,H30.5.7,受取拒絶,高橋 次郎,熊本市東区2,高橋 次郎,タカハシ ジロウ,1990-05-06,世帯主",
    "100000000033,R2.7.1,その他,山田 太郎,熊本市北区3,山田 太郎,ヤマダ タロウ,S50.1.1,世帯主",
]
pytestmark = pytest.mark.stock(HEADER, ROWS)


def form(client: FlaskClient, items: list[int], **fields: object) -> dict[str, object]:
    data: dict[str, object] = {
        "csrf_token": csrf_token(client, "/"),
        "item": [str(i) for i in items],
        "recipient_kind": "self",
        "recipient_name": "",
        "letter_of_attorney_date": "",
        "authority_proof": "",
    }
    data.update(fields)
    return data


def nothing_written(app: Flask, target: int) -> None:
    with app.extensions["tracker.db"].session_scope() as session:
        assert session.scalar(select(Item.status).where(Item.id == target)) == "in_custody"
        assert session.scalar(select(func.count()).select_from(Handover)) == 0
        refused = session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "handover.refused")
        )
        assert refused and refused >= 1


def test_the_form_asks_only_for_what_the_rule_needs(stocked: Flask, logged_in) -> None:
    client = logged_in(Role.CLERK)
    target = item_id(stocked, "山田 太郎")
    page = client.get(f"/handover?item={target}").get_data(as_text=True)
    assert "基準（第2版）: A群1点、またはB群2点" in page
    assert 'name="issued-driving_record_certificate"' in page
    assert 'name="expires-mynumber_card"' in page and 'name="expires-residence_card"' in page
    assert 'name="p-expires-mynumber_card"' in page  # the principal's card, for a proxy
    assert 'name="last4-mynumber_card"' not in page and 'name="last4-passport"' in page
    assert 'name="expires-passport"' not in page and 'name="issued-passport"' not in page
    assert "資格確認書（B群）" in page and "一時庇護許可書（A群）" in page


def test_a_my_number_card_with_its_expiry_hands_over_under_version_2(
    stocked: Flask, logged_in
) -> None:
    client = logged_in(Role.CLERK)
    target = item_id(stocked, "山田 太郎")
    response = client.post(
        "/handover",
        data=form(
            client, [target], documents=["mynumber_card"], **{"expires-mynumber_card": "R12.3.31"}
        ),
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    with stocked.extensions["tracker.db"].session_scope() as session:
        record = session.scalar(select(Handover))
        assert record is not None and record.policy_version == 2
        assert json.loads(record.documents) == [
            {"code": "mynumber_card", "expires_on": "2030-03-31"}
        ]
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "handover.create"))
        assert event is not None and json.loads(event.details)["policy_version"] == 2
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "マイナンバーカード" in detail


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        (
            {
                "documents": ["mynumber_card"],
                "expires-mynumber_card": "2030-01-01",
                "last4-mynumber_card": "1234",
            },
            "マイナンバーカードの番号は記録しません",
        ),
        (
            {"documents": ["mynumber_card"], "expires-mynumber_card": "2020-01-01"},
            "マイナンバーカードは有効期限（令和2年1月1日）が過ぎています",
        ),
        (
            {"documents": ["mynumber_card"]},
            "マイナンバーカードの有効期限を入力してください",
        ),
        (
            {
                "documents": ["driving_record_certificate"],
                "issued-driving_record_certificate": "H23.6.1",
            },
            "運転経歴証明書は平成24年4月1日以降に交付されたものに限ります",
        ),
        (
            {"documents": ["health_insurance_card", "pension_book"]},
            "健康保険証は令和7年12月1日で使えなくなりました",
        ),
    ],
)
def test_refusals_name_the_missing_piece(
    stocked: Flask, logged_in, fields: dict[str, object], reason: str
) -> None:
    client = logged_in(Role.CLERK)
    target = item_id(stocked, "山田 太郎")
    response = client.post("/handover", data=form(client, [target], **fields))
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "交付できません" in page
    refusal = re.search(r'data-testid="refusal">(.*?)</div>', page, re.S)
    assert refusal is not None and reason in refusal.group(1)
    assert "1234" not in page.split('data-testid="refusal"')[1].split("</div>")[0]
    nothing_written(stocked, target)


def test_an_unreadable_date_names_the_document(stocked: Flask, logged_in) -> None:
    client = logged_in(Role.CLERK)
    target = item_id(stocked, "山田 太郎")
    fields = {"documents": ["mynumber_card"], "expires-mynumber_card": "あした"}
    page = client.post("/handover", data=form(client, [target], **fields)).get_data(as_text=True)
    assert "マイナンバーカードの有効期限:" in page
    with stocked.extensions["tracker.db"].session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Handover)) == 0


def test_an_unclaimed_card_needs_two_documents_from_a_household_member(
    stocked: Flask, logged_in
) -> None:
    client = logged_in(Role.CLERK)
    target = item_id(stocked, "山田 太郎")
    make_unclaimed_card(stocked, target)
    page = client.get(f"/handover?item={target}").get_data(as_text=True)
    assert "A群1点＋B群1点（うち写真付き1点以上）" in page
    household = {"recipient_kind": "household", "recipient_name": "山田 花子"}
    refused = client.post(
        "/handover", data=form(client, [target], documents=["passport"], **household)
    ).get_data(as_text=True)
    assert "世帯員の本人確認書類が不足しています: A群があと1点必要です" in refused
    nothing_written(stocked, target)
    done = client.post(
        "/handover",
        data=form(client, [target], documents=["passport", "pension_book"], **household),
    )
    assert done.status_code == 302
