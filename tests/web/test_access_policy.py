"""Deny by default (SPEC §1): every route is in this table, and behaves as the table says.

Adding a route without adding it here fails the suite; so does a route whose declared roles
differ from the table, or one that lets in a role the table does not name.
"""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.helpers import csrf_token, login
from tracker import create_app
from tracker.domain.codes import Role
from tracker.web.access import PUBLIC, declared_roles

C, R, A, M = Role.CLERK, Role.RECORDS_OFFICER, Role.AUDITOR, Role.ADMIN
EVERYONE = {C, R, A, M}

#: endpoint → roles allowed (``None`` = public, no login needed).
POLICY: dict[str, set[Role] | None] = {
    "static": None,
    "auth.login": None,
    "auth.logout": None,
    "auth.set_language": None,
    "auth.change_password": EVERYONE,
    "main.healthz": None,
    "main.metrics": None,
    "main.index": EVERYONE,
    "admin.users": {M},
    "admin.new_user": {M},
    "admin.toggle_active": {M},
    "admin.unlock": {M},
    "admin.user": {M},
    "admin.change_role": {M},
    "admin.reset_password": {M},
    "admin.settings": {M},
    "admin.directory_groups": {M},
    "admin.locations": {M},
    "admin.edit_location": {M},
    "admin.retire_location": {M},
    "admin.reactivate_location": {M},
    "custody.new_envelope": {C, R},
    "custody.envelope": {C, R, A},
    "custody.edit_envelope": {C, R},
    "custody.edit_item": {C, R},
    "custody.set_notice_sent": {R},
    "custody.move_envelope": {C, R},
    "custody.locations": {C, R, A},
    "stock.checks": {C, R, A},
    "stock.start": {C, R},
    "stock.check": {C, R, A},
    "stock.scan": {C, R},
    "stock.record_move": {C, R},
    "stock.close": {C, R},
    "stock.sign_off": {R},
    "stock.cancel": {C, R},
    "stock.record_pdf": {C, R, A},
    "stock.missing": {C, R, A},
    "stock.found": {C, R},
    "stock.found_lost": {R},
    "stock.confirm_lost": {R},
    "stock.loss_report_pdf": {R, A},
    "custody.location": {C, R, A},
    "custody.labels": {C, R},
    "custody.search": {C, R, A},
    "imports.upload": {R},
    "jobs.show": {C, R, A},
    "jobs.progress": {C, R, A},
    "jobs.download": {C, R, A},
    "counter.items": {C, R, A},
    "counter.item": {C, R, A},
    "counter.hand_over": {C, R},
    "counter.handover_detail": {C, R, A},
    "counter.receipt": {C, R},
    "counter.handovers": {C, R, A},
    "counter.void": {R},
    "counter.request_void": {C, R},
    "protection.place": {R},
    "protection.release": {R},
    "protection.review": {R},
    "protection.index": {R, A},
    "policy.show": {C, R, A},
    "policy.save": {R},
    "disposal.rules": {R, A},
    "disposal.save_rule": {R},
    "disposal.gaps": {R, A},
    "disposal.place_hold": {R},
    "disposal.release_hold": {R},
    "disposal.extend": {R},
    "disposal.eligible": {R, A},
    "disposal.eligible_csv": {R, A},
    "disposal.batches": {R, A},
    "disposal.create_batch": {R},
    "disposal.batch": {R, A},
    "disposal.approve": {R},
    "disposal.confirm_execution": {R},
    "disposal.execute": {R},
    "disposal.cancel": {R},
    "disposal.exclude": {R},
    "disposal.certificate": {R, A},
    "disposal.verify": {R, A},
    "disposal.record_retention": {R, A},
    "disposal.save_record_retention": {R},
    "disposal.confirm_purge": {R},
    "disposal.start_purge": {R},
    "audit.log": {A},
    "audit.verify": {A},
    "audit.event": {A},
    "audit.export": {A},
    "audit.item_history": {A, R},
    "audit.handover_log": {A, R},
    "audit.handover_export": {A, R},
    "register.upload": {R},
    "register.record": {C, R},
    "register.investigation": {R, A},
    "register.investigation_csv": {R, A},
    "register.investigation_pdf": {R, A},
    "register.requests": {R, A},
    "register.requests_csv": {R, A},
    "contacts.record_item": {C, R},
    "contacts.record_envelope": {C, R},
    "contacts.notice_return": {C, R},
    "contacts.bulk_returns": {R},
    "remail.request_remail": {C, R},
    "remail.mail": {C, R},
    "remail.cancel": {C, R},
    "remail.lookup": {C, R},
    "remail.receive": {C, R},
    "remail.index": {C, R, A},
    "remail.close_due": {R},
    "remail.list_pdf": {C, R, A},
    "remail.list_csv": {C, R, A},
    "pickup.days": {C, R, A},
    "pickup.day": {C, R, A},
    "pickup.open_day": {R},
    "pickup.change_capacity": {R},
    "pickup.add_slot": {R},
    "pickup.remove_slot": {R},
    "pickup.close": {R},
    "pickup.copy_day": {R},
    "pickup.copy_week": {R},
    "pickup.upload": {R},
    "reservations.new": {C, R},
    "reservations.show": {C, R, A},
    "reservations.cancel": {C, R},
    "reservations.no_show": {C, R},
    "reservations.today": {C, R, A},
    "notices.index": {C, R, A},
    "notices.preview": {R},
    "notices.send": {R},
    "notices.batch": {C, R, A},
    "notices.letters_pdf": {C, R, A},
    "notices.letters_job": {C, R, A},
    "notices.list_csv": {C, R, A},
    "notices.template": {C, R, A},
    "notices.template_preview": {R},
    "notices.template_save": {R},
    "access_requests.index": {R, A},
    "access_requests.new": {R},
    "access_requests.show": {R, A},
    "access_requests.approve": {R},
    "access_requests.export": {R},
    "access_requests.cancel": {R},
}


def test_every_route_is_in_the_policy_table(app: Flask) -> None:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - POLICY.keys() == set(), "routes missing from the policy table"
    assert POLICY.keys() - endpoints == set(), "policy table names routes that do not exist"


def test_declared_roles_match_the_policy_table(app: Flask) -> None:
    for endpoint, roles in POLICY.items():
        expected = PUBLIC if roles is None else frozenset(r.value for r in roles)
        assert declared_roles(app, endpoint) == expected, endpoint


def _sample_path(rule) -> str:  # type: ignore[no-untyped-def]
    path = re.sub(r"<int:[^>]+>", "1", rule.rule)
    path = re.sub(r"<path:[^>]+>", "app.css", path)
    return re.sub(r"<[^>]+>", "x", path)


def _walk(
    app: Flask, client: FlaskClient, skip: frozenset[tuple[str, str]] = frozenset()
) -> list[tuple[str, str, str, int, str]]:
    seen = []
    for rule in app.url_map.iter_rules():
        path = _sample_path(rule)
        for method in sorted((rule.methods or set()) & {"GET", "POST"}):
            if (rule.endpoint, method) in skip:
                continue
            if method == "GET":
                response = client.get(path)
            else:
                # a fresh token each time: a logout on the way clears the session
                token = csrf_token(client, "/login")
                response = client.post(path, data={"csrf_token": token})
            response.close()  # static files are streamed from an open file
            seen.append(
                (
                    rule.endpoint,
                    method,
                    path,
                    response.status_code,
                    response.headers.get("Location", ""),
                )
            )
    return seen


def test_anonymous_visitors_reach_only_public_routes(app: Flask, client: FlaskClient) -> None:
    for endpoint, method, _path, status, location in _walk(app, client):
        if POLICY[endpoint] is None:
            assert status != 403 and status < 500, (endpoint, method, status)
        else:
            assert status == 302 and location.startswith("/login"), (endpoint, method, status)


@pytest.mark.parametrize("role", list(Role))
def test_each_role_reaches_exactly_its_routes(
    app: Flask, client: FlaskClient, make_user, role: Role
) -> None:
    account = make_user(role)
    assert login(client, account).status_code == 302
    # logging out would end this very session mid-walk
    for endpoint, method, path, status, _location in _walk(
        app, client, skip=frozenset({("auth.logout", "POST")})
    ):
        allowed = POLICY[endpoint]
        if allowed is None or role in allowed:
            assert status != 403, (role, endpoint, method, path)
            assert status < 500, (role, endpoint, method, path, status)
        else:
            assert status == 403, (role, endpoint, method, path, status)


def test_a_route_without_declared_roles_is_refused_to_everyone(
    database_url: str, make_user, client: FlaskClient
) -> None:
    from tests.conftest import make_config

    app = create_app(make_config(database_url))

    @app.route("/forgotten")
    def forgotten() -> str:  # no @allow / @public: must be refused even to an admin
        return "secret"

    admin = make_user(Role.ADMIN)
    test_client = app.test_client()
    assert login(test_client, admin).status_code == 302
    response = test_client.get("/forgotten")
    assert response.status_code == 403
    assert "secret" not in response.get_data(as_text=True)
    app.extensions["tracker.db"].dispose()
