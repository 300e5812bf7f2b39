"""Issue 14 part 3: the rule editor takes item kinds, the new anchors and ``later_of``
sub-rules, shows the engine's preview line, and the gap report counts per item kind."""

from __future__ import annotations

from datetime import date

from flask import Flask
from sqlalchemy import select

from tests import factories_rules14 as f14
from tests.helpers import csrf_token
from tracker.domain.codes import ItemKind, Role
from tracker.extensions import db
from tracker.models import AuditEvent, RetentionRule


def _post(client, **changes: object) -> str:  # type: ignore[no-untyped-def]
    data: dict[str, object] = {
        "csrf_token": csrf_token(client, "/retention"),
        "rule_id": "",
        "label": "令和2年度返戻分（通知書）",
        "kind": "period_from",
        "returned_from": "R2.4.1",
        "returned_to": "R3.3.31",
        "anchor": "returned_on",
        "period_count": "3",
        "period_unit": "months",
        "item_kinds": ["number_notice"],
    } | changes
    response = client.post("/retention/rules", data=data, follow_redirects=True)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_preview_shows_the_engine_date_and_saves_nothing(app: Flask, logged_in) -> None:
    client = logged_in(Role.RECORDS_OFFICER)
    page = _post(client, preview="1")
    assert "この規則では、返戻日 令和2年4月1日 → 保管期限 令和2年7月1日、7月2日から廃棄対象" in page
    assert 'value="令和2年度返戻分（通知書）"' in page  # the form keeps what was typed
    with app.app_context():
        assert (
            db.session.scalar(
                select(RetentionRule).where(RetentionRule.label == "令和2年度返戻分（通知書）")
            )
            is None
        )
    saved = _post(client)
    assert "廃棄基準を保存しました" in saved
    assert "（個人番号通知書）" in saved
    with app.app_context():
        row = db.session.scalar(
            select(RetentionRule).where(RetentionRule.label == "令和2年度返戻分（通知書）")
        )
        assert row is not None and row.item_kinds == "number_notice"
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.object_id == str(row.id)).order_by(AuditEvent.seq)
        ).all()[-1]
        assert '"item_kinds":"number_notice"' in event.details


def test_a_later_of_rule_from_sub_rule_rows_with_the_cap(app: Flask, logged_in) -> None:
    client = logged_in(Role.RECORDS_OFFICER)
    fields = {
        "label": "カード（令和元年度）",
        "kind": "later_of",
        "returned_from": "R1.5.1",
        "returned_to": "R2.3.31",
        "anchor": "",
        "period_count": "",
        "period_unit": "",
        "item_kinds": [],
        "sub1_anchor": "renotice_on",
        "sub1_count": "3",
        "sub1_unit": "months",
        "sub2_anchor": "first_notice_on",
        "sub2_count": "12",
        "sub2_unit": "months",
        "cap_anchor": "card_expires_on",
    }
    page = _post(client, preview="1", **fields)
    assert (
        "この規則では、再通知日・交付通知書送付日 令和元年5月1日 → 保管期限 令和2年5月1日、"
        "5月2日から廃棄対象"
    ) in page
    saved = _post(client, **fields)
    assert "廃棄基準を保存しました" in saved
    assert "カードの有効期限が先に来ればその日まで" in saved
    one = _post(
        client,
        label="副基準1件",
        sub2_anchor="",
        sub2_count="",
        **{k: v for k, v in fields.items() if k not in {"label", "sub2_anchor", "sub2_count"}},
    )
    assert "副基準（rules）を2〜5件指定してください" in one


def test_the_gap_report_counts_per_item_kind_and_names_the_missing_date(
    app: Flask, logged_in
) -> None:
    client = logged_in(Role.RECORDS_OFFICER)
    f14.item_with_dates(
        app,
        1,
        returned_on=date(2026, 5, 1),
        kind=ItemKind.MYNUMBER_CARD,
        first_notice_on=date(2026, 5, 1),
    )
    f14.item_with_dates(app, 2, returned_on=date(2026, 5, 1))
    gaps = client.get("/retention/gaps").get_data(as_text=True)
    assert "未受領のマイナンバーカード" in gaps and "再通知日の登録待ち" in gaps
    assert "当てはまる廃棄基準がない" in gaps
    rules = client.get("/retention").get_data(as_text=True)
    assert "再通知日の登録待ち" in rules
