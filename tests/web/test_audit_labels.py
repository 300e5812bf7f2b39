"""Readable audit screens (issue 12): every code has a label in both languages; the audit log,
an item's history and the handover review show words, names and links, never raw codes or
JSON (the raw record stays one click away, inside ``<details>``)."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests import factories
from tests.helpers import Account, csrf_token, login
from tracker.clock import today_jst
from tracker.domain.codes import (
    AUDIT_ACTION_LABELS,
    OBJECT_TYPE_LABELS,
    OUTCOME_LABELS,
    AuditAction,
    ObjectType,
    Outcome,
    Role,
)
from tracker.domain.identity import policy_v2
from tracker.models import Item, Location, User
from tracker.services import accounts, holds, identity_policy, intake, settings
from tracker.services.disposal import Execution
from tracker.web.audit.readable import AREAS

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "tracker" / "translations" / "en" / "LC_MESSAGES" / "messages.po"

#: A code as stored (``handover.create``); a visible one means an unreadable screen.
RAW_CODE = re.compile(r"[a-z_]+\.[a-z_]+")


def english() -> dict[str, str]:
    with CATALOG.open("rb") as fh:
        return {str(m.id): str(m.string) for m in read_po(fh) if m.id and m.string}


@pytest.mark.parametrize(
    ("codes", "labels"),
    [
        (AuditAction, AUDIT_ACTION_LABELS),
        (Outcome, OUTCOME_LABELS),
        (ObjectType, OBJECT_TYPE_LABELS),
    ],
    ids=["action", "outcome", "object_type"],
)
def test_every_code_has_a_japanese_and_an_english_label(codes, labels) -> None:  # type: ignore[no-untyped-def]
    translated = english()
    missing_ja = [c.value for c in codes if not labels.get(c) or labels[c].isascii()]
    assert missing_ja == [], "no Japanese label"
    missing_en = [c.value for c in codes if not translated.get(labels[c])]
    assert missing_en == [], "no English label (scripts/i18n)"


def test_every_action_area_has_a_label() -> None:
    areas = {action.value.split(".")[0] for action in AuditAction}
    assert areas - set(AREAS) == set()


def test_every_object_type_the_code_writes_has_a_label() -> None:
    """``object_type="…"`` anywhere in the application: each is a labelled ObjectType."""
    written = set()
    for path in (ROOT / "tracker").rglob("*.py"):
        written |= set(re.findall(r'object_type="([^"]+)"', path.read_text(encoding="utf-8")))
    assert written, "the scan found nothing: has the call changed shape?"
    assert written - {t.value for t in ObjectType} == set()


def visible_text(page: str) -> str:
    """What a reader sees without opening a raw record: tags, scripts and the collapsed
    ``<details class="raw">`` blocks removed."""
    body = page[page.find("<main") :] if "<main" in page else page
    body = re.sub(r'<details class="raw">.*?</details>', " ", body, flags=re.S)
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    body = re.sub(r"<[^>]+>", " ", body)
    return re.sub(r"\s+", " ", body)


def client_for(app: Flask, account: Account) -> FlaskClient:
    client = app.test_client()
    assert login(client, account).status_code == 302
    return client


def hand_over(client: FlaskClient, item: int, documents: list[str]) -> int:
    """Submit the handover form for one item, as the clerk does; the response status."""
    token = csrf_token(client, f"/handover?item={item}")
    response = client.post(
        f"/handover?item={item}",
        data={
            "csrf_token": token,
            "recipient_kind": "self",
            "recipient_name": "",
            "letter_of_attorney_date": "",
            "authority_proof": "",
            "documents": documents,
        },
    )
    return response.status_code


@pytest.fixture
def busy_day(app: Flask) -> dict[str, object]:
    """A day at the office written through the pages and services: logins (one failed, one
    by an unknown name), an intake, item views, a refused and a successful handover, and a
    disposal batch created, approved and executed."""
    clerk = factories.user(app, Role.CLERK, "clerk1", display_name="窓口 花子")
    factories.user(app, Role.RECORDS_OFFICER, "officer1", display_name="記録 一郎")
    factories.user(app, Role.RECORDS_OFFICER, "officer2", display_name="記録 二郎")
    auditor = factories.user(app, Role.AUDITOR, "auditor1", display_name="監査 三郎")
    stranger = app.test_client()
    assert login(stranger, clerk, password="wrong password").status_code == 200
    assert login(stranger, Account("nobody", "x", Role.CLERK)).status_code == 200
    refused_item, handed_item = factories.envelope(
        app,
        1,
        series=5,
        returned_on=date(2026, 11, 2),
        items=[factories.item("山田 花子", "ヤマダ ハナコ"), factories.item("山田 太郎")],
        actor="clerk1",
    )
    counter = client_for(app, clerk)
    assert counter.get(f"/items/{refused_item}").status_code == 200
    assert hand_over(counter, refused_item, ["health_insurance_card"]) == 200  # B群1点: refused
    assert hand_over(counter, handed_item, ["drivers_license"]) == 302
    factories.batch(
        app,
        2,
        actor="officer1",
        approved_by="officer2",
        executed=Execution(
            destroyed_on=factories.TODAY,
            method="shredding",
            place="本庁舎 裁断室",
            executor="記録 二郎",
            witness="記録 一郎",
        ),
        now=factories.NOW,
    )
    return {"auditor": auditor, "refused_item": refused_item, "handed_item": handed_item}


def test_the_audit_log_reads_in_words(app: Flask, busy_day: dict[str, object]) -> None:
    auditor = busy_day["auditor"]
    assert isinstance(auditor, Account)
    client = client_for(app, auditor)
    page = client.get("/audit").get_data(as_text=True)
    shown = visible_text(page)
    assert RAW_CODE.findall(shown) == []
    assert "{" not in shown and '"' not in shown  # no JSON outside the raw records
    for label in (
        "ログイン",
        "ログイン失敗",
        "返戻郵便の受付",
        "通知物の閲覧",
        "交付の拒否",
        "交付",
        "廃棄処理の作成",
        "廃棄処理の承認",
        "廃棄の実行",
    ):
        assert f"> {label}" in shown or f" {label} " in shown, label
    # outcomes, objects and people in words; the login id only beside the name
    assert "拒否" in shown and "成功" in shown
    assert "交付 H000000001" in shown
    assert 'href="/handovers/1"' in page
    assert "廃棄処理 D000000001" in shown and 'href="/disposal/batches/1"' in page
    assert "窓口 花子 clerk1" in shown
    assert "（ログイン前）" in shown  # the unknown name's failed login
    # details as labelled fields, with names and links
    handover_row = row_of(page, "交付 H000000001")
    assert "<dt>受領書番号</dt>" in handover_row and "<dt>本人確認書類</dt>" in handover_row
    assert "運転免許証" in visible_text(handover_row)
    assert re.search(r"第2版（令和\d+年\d+月\d+日〜）", visible_text(handover_row))
    assert "本人" in visible_text(handover_row)
    item_link = f'href="/items/{busy_day["handed_item"]}"'
    assert item_link in handover_row  # the control number links to the item
    refused = visible_text(row_of(page, "交付の拒否"))
    assert "A群1点、またはB群2点" in refused and "健康保険証" in refused
    failed = visible_text(row_of(page, "ログイン失敗", "窓口 花子"))
    assert "パスワードの誤り" in failed and "ユーザー 窓口 花子" in failed
    # the raw record is one click away
    assert '<details class="raw"><summary>' in handover_row
    assert '"receipt_no": "H000000001"' in html.unescape(handover_row)


def row_of(page: str, *texts: str) -> str:
    """The newest event row that shows all of ``texts``."""
    rows = re.findall(r'<tr id="event-\d+".*?</tr>', page, re.S)
    found = [row for row in rows if all(text in visible_text(row) for text in texts)]
    assert found, texts
    return found[0]


def test_the_action_filter_offers_labels_and_still_takes_a_prefix(
    app: Flask, busy_day: dict[str, object]
) -> None:
    auditor = busy_day["auditor"]
    assert isinstance(auditor, Account)
    client = client_for(app, auditor)
    page = client.get("/audit").get_data(as_text=True)
    assert re.search(r'<option value="handover\.refused"\s*>交付の拒否</option>', page)
    assert re.search(r'<option value="handover\."\s*>交付（すべて）</option>', page)
    prefix = client.get("/audit?action=handover.").get_data(as_text=True)
    actions = set(re.findall(r'<td data-testid="action">([^<]+)</td>', prefix))
    assert actions == {"交付画面の表示", "交付の拒否", "交付"}
    assert re.search(r'<option value="handover\."\s*selected>', prefix)
    one = client.get("/audit?action=handover.refused").get_data(as_text=True)
    assert set(re.findall(r'<td data-testid="action">([^<]+)</td>', one)) == {"交付の拒否"}


def test_item_history_says_what_happened(app: Flask, busy_day: dict[str, object]) -> None:
    auditor = busy_day["auditor"]
    assert isinstance(auditor, Account)
    client = client_for(app, auditor)
    page = client.get(f"/items/{busy_day['refused_item']}/history").get_data(as_text=True)
    lines = [visible_text(li) for li in re.findall(r"<li.*?</li>", page, re.S)]
    refused = [line for line in lines if "交付を拒否" in line]
    assert len(refused) == 1
    # policy version 2 (issue 14): the lapsed 健康保険証 is named, then what is still missing
    assert "交付を拒否: 健康保険証は令和7年12月1日で使えなくなりました" in refused[0]
    assert (
        "本人確認書類が不足しています: A群があと1点必要です（基準: A群1点、またはB群2点"
        in refused[0]
    )
    assert "窓口 花子" in refused[0]
    assert any("返戻郵便の受付" in line and "窓口 花子" in line for line in lines)
    assert RAW_CODE.findall(visible_text(page)) == []
    assert "clerk1" not in visible_text(page) and "refused" not in visible_text(page), visible_text(
        page
    )


def test_handover_review_names_documents_and_policy(
    app: Flask, busy_day: dict[str, object]
) -> None:
    auditor = busy_day["auditor"]
    assert isinstance(auditor, Account)
    client = client_for(app, auditor)
    today = today_jst()  # the handover was made at the (pinned) time of the request
    page = client.get(f"/handovers/review?since={today}&until={today}").get_data(as_text=True)
    shown = visible_text(page)
    assert "運転免許証" in shown and "drivers_license" not in shown
    assert re.search(r"第2版（令和\d+年\d+月\d+日〜）", shown)


def test_less_common_events_have_labelled_fields_too(app: Flask) -> None:
    """Moves, edits, holds, extensions, settings, a new identity-policy version, an unlock:
    every detail field has a label, every value is in words (no raw key, code or JSON)."""
    auditor = factories.user(app, Role.AUDITOR, "auditor1", display_name="監査 三郎")
    factories.user(app, Role.CLERK, "clerk1", display_name="窓口 花子")
    (target,) = factories.envelope(app, 1, series=7, actor="clerk1")
    database = factories.database_of(app)
    with database.session_scope() as session:
        item = session.get(Item, target)
        assert item is not None
        other = session.scalar(select(Location.id).where(Location.is_default.is_(False)))
        assert other is not None
        intake.move_envelope(
            session, actor="officer1", envelope=item.envelope, location_id=other, slot="棚B-2"
        )
        holds.place(session, actor="officer1", item=item, reason="照会中", now=factories.NOW)
        holds.extend(
            session,
            actor="officer1",
            item=item,
            retain_until=date(2030, 3, 31),
            reason="本人から連絡",
            now=factories.NOW,
        )
        settings.save(
            session,
            replace(settings.load(session), receipt_addressee="熊本市長 大西 一史"),
            actor="admin1",
            now=factories.NOW,
        )
        policy = policy_v2()  # the seeded current version (issue 14)
        policy["documents"] = [d for d in policy["documents"] if d["code"] != "employee_id"]
        identity_policy.save_new_version(
            session, actor="officer1", data=policy, note="社員証を除く"
        )
        clerk = session.scalar(select(User).where(User.username == "clerk1"))
        assert clerk is not None
        accounts.unlock(session, actor="admin1", user=clerk, now=factories.NOW)
    page = client_for(app, auditor).get("/audit").get_data(as_text=True)
    shown = visible_text(page)
    assert RAW_CODE.findall(shown) == []
    assert "{" not in shown and '"' not in shown
    labels = re.findall(r"<dt>([^<]*)</dt>", page)
    assert labels and [label for label in labels if re.fullmatch(r"[a-z_0-9]+", label)] == []
    moved = visible_text(row_of(page, "保管位置の変更"))
    assert "移動先" in moved and "棚B-2" in moved
    assert "保管期限 令和12年3月31日" in visible_text(row_of(page, "保管期限の延長"))
    changed = visible_text(row_of(page, "設定の変更"))
    assert "受領書の宛先" in changed and "熊本市長 大西 一史" in changed
    policy_row = visible_text(row_of(page, "本人確認基準の変更"))
    assert "本人確認基準 第3版" in policy_row and "削除した書類 社員証（B群）" in policy_row
    assert "ユーザー 窓口 花子" in visible_text(row_of(page, "ロック解除"))
