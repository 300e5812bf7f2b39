"""The identity policy is data: versioned, edited by records officers, used by the counter."""

from __future__ import annotations

import json

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.helpers import csrf_token
from tracker.domain.codes import Role
from tracker.domain.identity import DEFAULT_DOCUMENTS
from tracker.models import AuditEvent, IdentityPolicy


def policy_form(client: FlaskClient, **changes: str) -> dict[str, str]:
    data = {
        "csrf_token": csrf_token(client, "/identity-policy"),
        "group_a_required": "1",
        "group_b_required": "2",
        "proxy_letter_valid_months": "3",
        "note": "条例改正",
        "new_name": "",
        "new_group": "A",
    }
    for n, doc in enumerate(DEFAULT_DOCUMENTS):
        data[f"documents-{n}-code"] = doc.code
        data[f"documents-{n}-name"] = doc.name
        data[f"documents-{n}-group"] = doc.group
    data.update(changes)
    return data


def test_records_officer_makes_a_new_version(app: Flask, logged_in) -> None:
    client = logged_in(Role.RECORDS_OFFICER)
    page = client.get("/identity-policy").get_data(as_text=True)
    assert "A群1点、またはB群2点" in page and "第1版" in page
    response = client.post(
        "/identity-policy",
        data=policy_form(
            client, group_b_required="3", new_name="住民基本台帳カード（写真なし）", new_group="B"
        ),
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "第2版として保存しました" in page and "B群3点" in page
    with app.extensions["tracker.db"].session_scope() as session:
        rows = session.scalars(select(IdentityPolicy).order_by(IdentityPolicy.version)).all()
        assert [r.version for r in rows] == [1, 2]
        assert json.loads(rows[0].policy_json)["group_b_required"] == 2  # history unchanged
        event = session.scalar(
            select(AuditEvent).where(AuditEvent.action == "identity_policy.change")
        )
        assert event is not None
        changes = json.loads(event.details)["changes"]
        assert changes["group_b_required"] == [2, 3]
        assert changes["documents_added"][0]["name"] == "住民基本台帳カード（写真なし）"


def test_an_impossible_policy_is_refused_with_the_reason(app: Flask, logged_in) -> None:
    client = logged_in(Role.RECORDS_OFFICER)
    data = policy_form(client)
    for n, doc in enumerate(DEFAULT_DOCUMENTS):
        if doc.group == "A":
            data[f"documents-{n}-group"] = ""
    data["group_b_required"] = "9"
    page = client.post("/identity-policy", data=data).get_data(as_text=True)
    assert "どの書類の組合せでも条件を満たせません" in page
    with app.extensions["tracker.db"].session_scope() as session:
        assert len(session.scalars(select(IdentityPolicy)).all()) == 1


def test_clerks_read_the_policy_but_cannot_change_it(logged_in) -> None:
    client = logged_in(Role.CLERK)
    assert "A群1点、またはB群2点" in client.get("/identity-policy").get_data(as_text=True)
    assert client.post("/identity-policy", data=policy_form(client)).status_code == 403
