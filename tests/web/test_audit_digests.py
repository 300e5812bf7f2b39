"""The auditor's side of issue 16: an edit event reads 「氏名: 変更（照合用ダイジェストあり）」,
a candidate typed on the event's page is answered 一致する / 一致しない (the check audited
without the typed value), and the item history lists the revisions with their values."""

from __future__ import annotations

import json

from flask import Flask
from sqlalchemy import select

from tests import factories
from tests.helpers import csrf_token
from tracker.domain.codes import AuditAction, Role
from tracker.models import AuditEvent, Item
from tracker.services import intake

OLD, NEW = "照合 旧子", "照合 新子"


def _rename(app: Flask) -> tuple[int, int]:
    [item_id] = factories.envelope(app, 41, items=[factories.item(OLD, "ショウゴウ キュウコ")])
    with app.extensions["tracker.db"].session_scope() as session:
        item = session.get(Item, item_id)
        assert item is not None
        intake.edit_item(
            session, actor="officer", item=item, fields=factories.item(NEW, "ショウゴウ シンコ")
        )
        seq = session.scalar(
            select(AuditEvent.seq).where(AuditEvent.action == AuditAction.ITEM_EDIT)
        )
    assert seq is not None
    return item_id, seq


def test_an_auditor_confirms_the_old_name_without_the_log_holding_it(app: Flask, logged_in) -> None:
    _, seq = _rename(app)
    auditor = logged_in(Role.AUDITOR)
    log = auditor.get("/audit").get_data(as_text=True)
    assert OLD not in log and NEW not in log
    assert "<dt>氏名・名称</dt><dd>変更（照合用ダイジェストあり）</dd>" in log

    path = f"/audit/events/{seq}"
    page = auditor.get(path).get_data(as_text=True)
    assert "氏名・名称（変更前）" in page and OLD not in page

    def check(candidate: str, field: str = "changes.name.old_digest") -> str:
        token = csrf_token(auditor, path)
        response = auditor.post(
            path, data={"csrf_token": token, "field": field, "candidate": candidate}
        )
        assert response.status_code == 200
        return response.get_data(as_text=True)

    assert "一致する" in check(OLD) and "一致しない" not in check(f" {OLD} ")
    assert "一致しない" in check(NEW)
    assert "一致する" in check(NEW, "changes.name.new_digest")
    with app.extensions["tracker.db"].session_scope() as session:
        checks = session.scalars(
            select(AuditEvent).where(AuditEvent.action == AuditAction.AUDIT_DIGEST_CHECK)
        ).all()
        assert [json.loads(c.details)["matched"] for c in checks] == [True, True, False, True]
        assert json.loads(checks[0].details) == {
            "event": seq,
            "field": "changes.name.old_digest",
            "matched": True,
        }
        for event in session.scalars(select(AuditEvent)):
            assert OLD not in event.details and NEW not in event.details


def test_an_empty_candidate_is_refused(app: Flask, logged_in) -> None:
    _, seq = _rename(app)
    auditor = logged_in(Role.AUDITOR)
    path = f"/audit/events/{seq}"
    token = csrf_token(auditor, path)
    refused = auditor.post(
        path, data={"csrf_token": token, "field": "changes.name.old_digest", "candidate": ""}
    )
    assert refused.status_code == 422
    assert "照合する値を入力してください" in refused.get_data(as_text=True)
    # who may open the page (auditors only) is in tests/web/test_access_policy.py


def test_the_item_history_lists_the_revisions_with_their_values(app: Flask, logged_in) -> None:
    item_id, _ = _rename(app)
    page = logged_in(Role.RECORDS_OFFICER).get(f"/items/{item_id}/history")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "修正の記録" in text and OLD in text and NEW in text
