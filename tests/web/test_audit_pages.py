"""The auditor's workspace (issue #6): log filters and pages, verify button, exports, item
history, the handover review flags, and the read-only sweep."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text

from tests.factories import item_id
from tests.helpers import csrf_token
from tracker.clock import now_utc, today_jst
from tracker.domain.codes import Role
from tracker.domain.identity import Evidence, RecipientKind
from tracker.models import AuditEvent, Base, Handover
from tracker.services import audit, handover, handover_review

HEADER = "お問い合わせ番号,返戻日,還付事由,宛名,住所,氏名,フリガナ,生年月日"
ROWS = [
    "100000000019,H30.4.2,転居先不明,髙橋 一郎,熊本市中央区1,髙橋 一郎,タカハシ イチロウ,S45.1.2",
    "100000000026,R2.7.1,受取拒絶,山田 次郎,熊本市東区2,山田 次郎,ヤマダ ジロウ,1990-05-06",
]
pytestmark = pytest.mark.stock(HEADER, ROWS, actor="clerk1")


def hand_over(
    app: Flask,
    name: str,
    *,
    clerk: str,
    kind: RecipientKind = RecipientKind.SELF,
    at: datetime | None = None,
) -> int:
    evidence = Evidence(
        recipient_kind=kind,
        documents=("passport",),
        recipient_name="" if kind is RecipientKind.SELF else "代理 人",
        principal_documents=("mynumber_card",) if kind is RecipientKind.PROXY else (),
        # identity policy version 2 (issue 14): a マイナンバーカード needs its expiry date
        principal_expires_on={"mynumber_card": date(2030, 1, 1)},
        letter_of_attorney_date=date(2026, 11, 1) if kind is RecipientKind.PROXY else None,
    )
    with app.extensions["tracker.db"].session_scope() as session:
        done = handover.hand_over(
            session,
            actor=clerk,
            item_ids=[item_id(app, name)],
            evidence=evidence,
            now=at or now_utc(),
            today=date(2026, 11, 27),
        )
        return done.id


def test_filters_and_keyset_pages(stocked: Flask, logged_in) -> None:
    with stocked.extensions["tracker.db"].session_scope() as session:
        for n in range(60):
            audit.record(
                session,
                actor="bulk",
                action="item.view",
                object_type="sample",
                object_id=n,
                details={"n": n},
            )
    client = logged_in(Role.AUDITOR)
    first = client.get("/audit?actor=bulk").get_data(as_text=True)
    seqs = [int(s) for s in re.findall(r'id="event-(\d+)"', first)]
    assert len(seqs) == 50 and seqs == sorted(seqs, reverse=True)
    older = re.search(r'href="(/audit\?before=\d+[^"]*)"', first)
    assert older is not None
    second = client.get(older.group(1).replace("&amp;", "&")).get_data(as_text=True)
    rest = [int(s) for s in re.findall(r'id="event-(\d+)"', second)]
    assert len(rest) == 10 and max(rest) < min(seqs)
    by_action = client.get("/audit?action=user.create").get_data(as_text=True)
    assert len(re.findall(r'id="event-', by_action)) == 1  # the auditor's own account
    assert client.get("/audit?action=item.").get_data(as_text=True).count('id="event-') == 50
    refused = client.get("/audit?outcome=refused").get_data(as_text=True)
    assert 'id="event-' not in refused
    client.get(f"/items/{item_id(stocked, '髙橋 一郎')}")  # one view of item E000000001-1
    subject = client.get("/audit?subject=E000000001-1").get_data(as_text=True)
    rows = re.findall(r'<tr id="event-\d+"[^>]*>.*?</tr>', subject, re.S)
    assert len(rows) == 1 and "通知物の閲覧" in rows[0]
    today = today_jst().isoformat()  # audit events are filtered by their date in Japan
    dated = client.get(f"/audit?since={today}&until={today}&actor=bulk").get_data(as_text=True)
    assert len(re.findall(r'id="event-', dated)) == 50
    none = client.get("/audit?since=2020-01-01&until=2020-01-02").get_data(as_text=True)
    assert 'id="event-' not in none


def test_verify_button_on_an_intact_and_a_tampered_chain(stocked: Flask, logged_in) -> None:
    client = logged_in(Role.AUDITOR)
    page = client.get("/audit/verify").get_data(as_text=True)
    assert "改ざんはありません" in page
    database = stocked.extensions["tracker.db"]
    with database.engine.begin() as conn:
        if database.dialect == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            conn.execute(text("UPDATE audit_events SET actor = 'x' WHERE seq = 2"))
        else:
            triggers = conn.execute(
                text(
                    "SELECT name, sql FROM sqlite_master WHERE type ="
                    " 'trigger' AND tbl_name = 'audit_events'"
                )
            ).all()
            for name, _sql in triggers:
                conn.exec_driver_sql(f"DROP TRIGGER {name}")
            conn.execute(text("UPDATE audit_events SET actor = 'x' WHERE seq = 2"))
            for _name, sql in triggers:
                conn.exec_driver_sql(sql)
    page = client.get("/audit/verify").get_data(as_text=True)
    assert "連鎖が壊れています" in page and 'data-testid="broken-link"' in page
    assert 'href="/audit?before=3"' in page


def test_export_is_csv_with_bom_and_neutralised_cells(stocked: Flask, logged_in) -> None:
    with stocked.extensions["tracker.db"].session_scope() as session:
        audit.record(
            session, actor="=cmd|' /C calc'!A0", action="auth.login_failed", outcome="refused"
        )
    client = logged_in(Role.AUDITOR)
    with stocked.extensions["tracker.db"].session_scope() as session:
        head = session.scalar(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1))
        assert head is not None
        full_hash, previous = head.hash, head.prev_hash
    page = client.get("/audit").get_data(as_text=True)
    assert f"hash {full_hash}" in page and f"prev {previous}" in page  # shown in full
    response = client.get("/audit/export.csv")
    assert response.data.startswith(b"\xef\xbb\xbf")
    body = response.data.decode("utf-8-sig")
    assert body.splitlines()[0] == (
        "seq,occurred_at_jst,actor,action,object_type,object_id,outcome,details,prev_hash,hash"
    )
    assert "'=cmd" in body and ",=cmd" not in body
    assert "+09:00" in body


def test_item_history_shows_the_whole_timeline(stocked: Flask, logged_in) -> None:
    target = item_id(stocked, "山田 次郎")
    client = logged_in(Role.AUDITOR)
    client.get(f"/items/{target}")
    hand_over(stocked, "山田 次郎", clerk="clerk2")
    page = client.get(f"/items/{target}/history").get_data(as_text=True)
    for said in ("通知物の閲覧", "交付（受領書番号 H000000001"):
        assert said in page
    assert page.index("通知物の閲覧") < page.index("交付（受領書番号")
    assert "item.view" not in page and "handover.create" not in page


def test_handover_review_flags(stocked: Flask, logged_in) -> None:
    night = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)  # Thursday 23:00 JST
    hand_over(stocked, "髙橋 一郎", clerk="clerk1", kind=RecipientKind.PROXY, at=night)
    morning = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # Thursday 11:00 JST
    hand_over(stocked, "山田 次郎", clerk="clerk2", at=morning)
    page = (
        logged_in(Role.AUDITOR)
        .get("/handovers/review?since=2026-11-26&until=2026-11-26")
        .get_data(as_text=True)
    )
    proxy_row = page[page.index("H000000001") : page.index("H000000001") + 2000]
    for flag in ("時間外", "代理人", "受付と同じ担当者", "保管期限後の交付"):
        assert flag in proxy_row, flag
    other_row = page[page.index("H000000002") : page.index("H000000002") + 1500]
    assert "代理人" not in other_row.split("</tr>")[0]


def test_handover_review_pages_follow_on_in_time_order(
    stocked: Flask, logged_in, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The review shows a page at a time; 「続きを表示」 goes on after the last one shown, with
    the same filters, and the last page has no such link. Flagged-only pages skip the rest."""
    monkeypatch.setattr(handover_review, "PAGE_ROWS", 1)
    late = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)  # 23:00 JST: flagged 時間外
    hand_over(stocked, "髙橋 一郎", clerk="clerk1", at=late)
    early = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # 11:00 JST, handed over second
    hand_over(stocked, "山田 次郎", clerk="clerk2", at=early)
    client = logged_in(Role.AUDITOR)
    first = client.get("/handovers/review?since=2026-11-26&until=2026-11-26").get_data(as_text=True)
    assert "H000000002" in first and "H000000001" not in first  # 11:00 before 23:00
    link = re.search(r'data-testid="review-next" href="([^"]+)"', first)
    assert link is not None
    second = client.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert "H000000001" in second and "H000000002" not in second
    assert 'data-testid="review-next"' not in second
    flagged = client.get("/handovers/review?since=2026-11-26&until=2026-11-26&flagged=1").get_data(
        as_text=True
    )
    assert "H000000001" in flagged and 'data-testid="review-next"' not in flagged
    assert "H000000002" not in flagged.split("<tbody>")[1]


def test_the_auditor_changes_nothing(stocked: Flask, logged_in) -> None:
    """Every state-changing route answers 403 to an auditor, and no table changes."""
    client: FlaskClient = logged_in(Role.AUDITOR)
    database = stocked.extensions["tracker.db"]

    def counts() -> dict[str, int]:
        with database.session_scope() as session:
            return {
                name: session.scalar(select(func.count()).select_from(table)) or 0
                for name, table in Base.metadata.tables.items()
            }

    before = counts()
    token = csrf_token(client, "/")
    tried = 0
    for rule in stocked.url_map.iter_rules():
        if "POST" not in (rule.methods or set()) or rule.endpoint.startswith("auth."):
            continue
        path = re.sub(r"<[^>]+>", "1", rule.rule)
        response = client.post(path, data={"csrf_token": token})
        if rule.endpoint in ("counter.item", "audit.item_history"):
            # a read: the 閲覧目的 of a protected item (支援措置, issue 14) is posted; an
            # item without a flag just goes back to its page, nothing written
            assert response.status_code == 302, response.status_code
            continue
        if rule.endpoint == "reservations.show":
            # a read too: only the 閲覧目的 of a protected person's reservation is posted
            # (issue 15); there is no reservation 1 here
            assert response.status_code == 404, response.status_code
            continue
        if rule.endpoint in ("counter.items", "custody.search"):
            # reads (issue 16): the search and the scan box post their words so that no name
            # is in a URL; an empty one goes home or asks again, nothing written
            assert response.status_code in (302, 422), (rule.endpoint, response.status_code)
            continue
        if rule.endpoint == "notices.letters_job":
            # auditors may reprint letters (issue 15), which a large mailing does as a job
            # (issue 17): queuing one writes only the job; there is no mailing 1 here
            assert response.status_code == 404, response.status_code
            continue
        if rule.endpoint == "audit.event":
            # the auditor's one POST (issue 16) checks a value against a digest and writes
            # only its own audit event; an event without digests: refused, nothing written
            assert response.status_code == 422, response.status_code
            continue
        assert response.status_code == 403, (rule.endpoint, response.status_code)
        tried += 1
    assert tried >= 10
    assert counts() == before
    assert json.dumps(before)  # something was counted
    with database.session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Handover)) == 0
