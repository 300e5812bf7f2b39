"""The identity policy is data: versioned, edited by records officers, used by the counter."""

from __future__ import annotations

import json

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.helpers import csrf_token
from tracker.domain.codes import Role
from tracker.domain.identity import SEED_V2_DOCUMENTS
from tracker.models import AuditEvent, IdentityPolicy


def policy_form(client: FlaskClient, **changes: str) -> dict[str, str]:
    """The editor's form for the seeded version 2 (issue 14), with ``changes``."""
    data = {
        "csrf_token": csrf_token(client, "/identity-policy"),
        "proxy_letter_valid_months": "3",
        "note": "条例改正",
        "new_name": "",
        "new_group": "A",
    }
    for n, doc in enumerate(SEED_V2_DOCUMENTS):
        data[f"documents-{n}-code"] = doc["code"]
        data[f"documents-{n}-name"] = doc["name"]
        data[f"documents-{n}-group"] = doc["group"]
    data.update(changes)
    return data


def test_records_officer_makes_a_new_version(app: Flask, logged_in) -> None:
    # Issue 14: the seeded current version is 2 (format 2); the editor changes names, groups
    # and the 委任状 validity, every document keeping its conditions, and shows the rules.
    client = logged_in(Role.RECORDS_OFFICER)
    page = client.get("/identity-policy").get_data(as_text=True)
    assert "A群1点、またはB群2点" in page and "第2版" in page
    assert "平成24年4月1日以降の交付に限る" in page and "令和7年12月1日まで使用可" in page
    response = client.post(
        "/identity-policy",
        data=policy_form(
            client,
            proxy_letter_valid_months="6",
            new_name="住民基本台帳カード（写真なし）",
            new_group="B",
        ),
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "第3版として保存しました" in page and "委任状の有効期間 6か月" in page
    with app.extensions["tracker.db"].session_scope() as session:
        rows = session.scalars(select(IdentityPolicy).order_by(IdentityPolicy.version)).all()
        assert [r.version for r in rows] == [1, 2, 3]
        assert json.loads(rows[1].policy_json)["proxy_letter_valid_months"] == 3  # unchanged
        saved = json.loads(rows[2].policy_json)
        assert saved["rules"] == json.loads(rows[1].policy_json)["rules"]
        kept = {d["code"]: d for d in saved["documents"]}
        assert kept["health_insurance_card"]["valid_until"] == "2025-12-01"
        assert kept["mynumber_card"]["never_record_number"] is True
        event = session.scalar(
            select(AuditEvent).where(AuditEvent.action == "identity_policy.change")
        )
        assert event is not None
        changes = json.loads(event.details)["changes"]
        assert changes["proxy_letter_valid_months"] == [3, 6]
        assert changes["documents_added"][0]["name"] == "住民基本台帳カード（写真なし）"


def test_an_impossible_policy_is_refused_with_the_reason(app: Flask, logged_in) -> None:
    client = logged_in(Role.RECORDS_OFFICER)
    data = policy_form(client)
    for n, doc in enumerate(SEED_V2_DOCUMENTS):
        if doc["group"] == "A" or doc.get("photo"):
            data[f"documents-{n}-group"] = ""
    page = client.post("/identity-policy", data=data).get_data(as_text=True)
    # no photo ID left: a household member can no longer collect a My Number card
    assert "rules.mynumber_card.household はどの書類の組合せでも満たせません" in page
    with app.extensions["tracker.db"].session_scope() as session:
        assert len(session.scalars(select(IdentityPolicy)).all()) == 2


def test_clerks_read_the_policy_but_cannot_change_it(logged_in) -> None:
    client = logged_in(Role.CLERK)
    assert "A群1点、またはB群2点" in client.get("/identity-policy").get_data(as_text=True)
    assert client.post("/identity-policy", data=policy_form(client)).status_code == 403
