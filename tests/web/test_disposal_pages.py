"""Records officers' disposal pages: rules, list and CSV export, batches, certificates."""

from __future__ import annotations

import hashlib
import io

import pytest
from flask import Flask
from pypdf import PdfReader
from sqlalchemy import select

from tests.helpers import csrf_token, login
from tracker.domain.codes import Role
from tracker.models import AuditEvent, DisposalBatch, RetentionRule

HEADER = "お問い合わせ番号,返戻日,還付事由,宛名,住所,氏名,フリガナ,生年月日"
ROWS = [
    "100000000019,H30.4.2,転居先不明,髙橋 一郎,熊本市中央区1,髙橋 一郎,タカハシ イチロウ,S45.1.2",
    "100000000026,H30.5.7,受取拒絶,𠮷田 次郎,熊本市東区2,𠮷田 次郎,ヨシダ ジロウ,1990-05-06",
    "100000000033,H30.6.1,その他,=HYPERLINK(1),熊本市北区3,=HYPERLINK(1),イコール,S50.1.1",
    "100000000040,R2.7.1,その他,山田 太郎,熊本市北区3,山田 太郎,ヤマダ タロウ,S50.1.1",
]
pytestmark = pytest.mark.stock(HEADER, ROWS)


def test_csv_export_has_a_bom_and_neutralised_formulas(stocked: Flask, logged_in) -> None:
    client = logged_in(Role.RECORDS_OFFICER)
    response = client.get("/disposal/eligible.csv?as_of=2020-04-01")
    assert response.status_code == 200 and response.data.startswith(b"\xef\xbb\xbf")
    text = response.data.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("control_no,tracking_no,name")
    assert "髙橋 一郎" in text and "𠮷田 次郎" in text
    assert "'=HYPERLINK(1)" in text and ",=HYPERLINK" not in text
    assert "山田 太郎" not in text  # returned in 令和2年: no rule covers it


def test_cp932_export_reports_characters_it_cannot_hold(stocked: Flask, logged_in) -> None:
    client = logged_in(Role.RECORDS_OFFICER)
    response = client.get(
        "/disposal/eligible.csv?as_of=2020-04-01&encoding=cp932", follow_redirects=True
    )
    page = response.get_data(as_text=True)
    assert "U+20BB7" in page and "UTF-8で出力してください" in page


def test_a_rule_with_an_overlapping_window_is_refused(stocked: Flask, logged_in) -> None:
    client = logged_in(Role.RECORDS_OFFICER)
    data = {
        "csrf_token": csrf_token(client, "/retention"),
        "label": "重なる基準",
        "kind": "fixed",
        "returned_from": "2019-01-01",
        "returned_to": "2019-06-30",
        "retain_until": "2021-03-31",
    }
    page = client.post("/retention/rules", data=data, follow_redirects=True).get_data(as_text=True)
    assert "重な" in page and "平成30年度返戻分" in page
    data.update(
        label="令和元年度返戻分",
        kind="fiscal_year",
        returned_from="2019-04-01",
        returned_to="2020-03-31",
        years="1",
        retain_until="",
    )
    page = client.post("/retention/rules", data=data, follow_redirects=True).get_data(as_text=True)
    assert "廃棄基準を保存しました" in page
    with stocked.extensions["tracker.db"].session_scope() as session:
        assert (
            len(session.scalars(select(RetentionRule)).all()) == 3
        )  # the two seed rules and the new one
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "rule.create"))
        assert event is not None and "令和元年度返戻分" in event.details


def test_batch_four_eyes_password_and_certificate(stocked: Flask, make_user) -> None:
    first = stocked.test_client()
    login(first, make_user(Role.RECORDS_OFFICER, "officer-a"))
    created = first.post(
        "/disposal/batches",
        data={"csrf_token": csrf_token(first, "/disposal/batches"), "as_of": "2020-04-01"},
    )
    assert created.status_code == 302
    batch_path = created.headers["Location"]
    # the creator may not approve
    denied = first.post(
        f"{batch_path}/approve", data={"csrf_token": csrf_token(first, batch_path), "password": "x"}
    )
    assert denied.status_code == 403

    second = stocked.test_client()
    login(second, make_user(Role.RECORDS_OFFICER, "officer-b"))
    wrong = second.post(
        f"{batch_path}/approve",
        follow_redirects=True,
        data={"csrf_token": csrf_token(second, batch_path), "password": "nope"},
    )
    assert "パスワードが正しくありません" in wrong.get_data(as_text=True)
    approved = second.post(
        f"{batch_path}/approve",
        follow_redirects=True,
        data={"csrf_token": csrf_token(second, batch_path), "password": "correct horse battery"},
    )
    assert "承認済" in approved.get_data(as_text=True)
    executed = second.post(
        f"{batch_path}/execute",
        follow_redirects=True,
        data={
            "csrf_token": csrf_token(second, batch_path),
            "destroyed_on": "2020-04-10",
            "method": "shredding",
            "place": "本庁舎 裁断室",
            "executor": "作業員 甲",
            "witness": "立会人 乙",
            "confirm_count": "3",
        },
    )
    page = executed.get_data(as_text=True)
    assert "廃棄証明書を発行しました" in page and "廃棄 3件、除外 0件" in page
    # A double click (or a colleague) executing again: a 409 that says who did it, and when;
    # the certificate and its SHA-256 stay as issued, and no second event is written.
    again = first.post(
        f"{batch_path}/execute",
        data={
            "csrf_token": csrf_token(first, batch_path),
            "destroyed_on": "2020-04-11",
            "method": "pulping",
            "place": "別の場所",
            "executor": "作業員 丙",
            "witness": "立会人 丁",
        },
    )
    assert again.status_code == 409
    conflict = again.get_data(as_text=True)
    assert "他の操作と重なりました" in conflict
    assert "は既に廃棄が記録されています" in conflict and "officer-b" in conflict
    assert f'href="{batch_path}"' in conflict  # back to the batch as it is now
    with stocked.extensions["tracker.db"].session_scope() as session:
        executions = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "disposal.execute")
        ).all()
        assert len(executions) == 1
    pdf = second.get(f"{batch_path}/certificate.pdf")
    assert pdf.status_code == 200
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "髙橋○○" in text and "一郎" not in text
    digest = hashlib.sha256(pdf.data).hexdigest()
    assert digest in page
    with stocked.extensions["tracker.db"].session_scope() as session:
        batch = session.scalar(select(DisposalBatch))
        assert batch is not None and batch.certificate_sha256 == digest
    verified = second.get(f"/disposal/verify?sha256={digest}").get_data(as_text=True)
    assert "一致" in verified and batch.certificate_no in verified
    forged = second.get("/disposal/verify?sha256=" + "0" * 64).get_data(as_text=True)
    assert "一致する証明書はありません" in forged


def test_auditor_reads_but_cannot_create_batches(stocked: Flask, logged_in) -> None:
    client = logged_in(Role.AUDITOR)
    assert client.get("/disposal/batches").status_code == 200
    assert client.get("/disposal/eligible?as_of=2020-04-01").status_code == 200
    response = client.post(
        "/disposal/batches", data={"csrf_token": csrf_token(client, "/"), "as_of": "2020-04-01"}
    )
    assert response.status_code == 403


def test_holds_and_extensions_on_the_item_page(stocked: Flask, logged_in) -> None:
    client = logged_in(Role.RECORDS_OFFICER)
    from tracker.models import Item

    with stocked.extensions["tracker.db"].session_scope() as session:
        item_id = session.scalar(select(Item.id).where(Item.name == "髙橋 一郎"))
    page = client.get(f"/items/{item_id}").get_data(as_text=True)
    assert "令和2年3月31日" in page
    client.post(
        f"/items/{item_id}/holds",
        data={"csrf_token": csrf_token(client, "/"), "reason": "本人から電話、来庁予定"},
    )
    page = client.get(f"/items/{item_id}").get_data(as_text=True)
    assert "本人から電話、来庁予定" in page and "保留中です" in page
    eligible = client.get("/disposal/eligible?as_of=2020-04-01").get_data(as_text=True)
    assert "髙橋 一郎" not in eligible
