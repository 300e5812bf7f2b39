"""The admin's table of directory groups → roles (issue 17): shown, saved, audited, refused
when a group is listed under two roles or a line is not a DN; the change-password page of a
directory account points to the directory."""

from __future__ import annotations

import json

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.helpers import csrf_token
from tracker.domain.codes import Role
from tracker.models import AuditEvent
from tracker.services import accounts

PAGE = "/admin/settings/directory"
CLERKS = "cn=tracker-clerks,ou=groups,dc=example,dc=org"
ADMINS = "CN=Tracker Admins,OU=Groups,DC=example,DC=local"


def post(client: FlaskClient, **fields: str) -> str:
    data = {"clerk": "", "records_officer": "", "auditor": "", "admin": "", **fields}
    response = client.post(
        PAGE, data={**data, "csrf_token": csrf_token(client, PAGE)}, follow_redirects=True
    )
    assert response.status_code == 200
    return response.text


def settings_events(app: Flask) -> list[dict[str, object]]:
    with app.extensions["tracker.db"].session_scope() as session:
        return [
            json.loads(event.details or "{}")
            for event in session.scalars(
                select(AuditEvent).where(AuditEvent.action == "settings.change")
            )
        ]


def table(app: Flask) -> dict[Role, tuple[str, ...]]:
    with app.extensions["tracker.db"].session_scope() as session:
        return accounts.load_group_roles(session)


def test_the_admin_maps_groups_to_roles_and_the_change_is_audited(app: Flask, logged_in) -> None:  # type: ignore[no-untyped-def]
    admin = logged_in(Role.ADMIN)
    page = admin.get("/admin/settings").text
    assert PAGE in page  # reached from the office settings
    form = admin.get(PAGE).text
    assert "TRACKER_LDAP_URL が設定されていません" in form  # the tests run without a directory

    page = post(admin, clerk=f"{CLERKS}\n\n{CLERKS.upper()}\n", admin=ADMINS)
    assert "設定を保存しました" in page
    assert CLERKS in page and ADMINS in page
    assert table(app) == {
        Role.CLERK: (CLERKS,),  # the same DN twice (case differs) is kept once
        Role.RECORDS_OFFICER: (),
        Role.AUDITOR: (),
        Role.ADMIN: (ADMINS,),
    }
    [event] = settings_events(app)
    assert event["changed"] == ["ldap_group_roles"]
    assert event["after"] == {"ldap_group_roles": {"clerk": [CLERKS], "admin": [ADMINS]}}
    assert event["before"] == {"ldap_group_roles": {"clerk": [], "admin": []}}

    assert "変更はありませんでした" in post(admin, clerk=CLERKS, admin=ADMINS)
    assert len(settings_events(app)) == 1


def test_a_group_under_two_roles_or_a_line_that_is_no_dn_is_refused(
    app: Flask,
    logged_in,  # type: ignore[no-untyped-def]
) -> None:
    admin = logged_in(Role.ADMIN)
    page = post(admin, clerk=CLERKS, auditor=f"  {CLERKS.upper()} ")
    assert "両方にあります" in page and "窓口担当" in page and "監査担当" in page
    page = post(admin, clerk=CLERKS, records_officer=f"{CLERKS}x\ntracker-records")
    assert "記録管理担当の2行目" in page and "DN" in page
    assert table(app)[Role.CLERK] == ()  # nothing was saved
    assert settings_events(app) == []


def test_only_the_admin_reaches_the_table(logged_in) -> None:  # type: ignore[no-untyped-def]
    assert logged_in(Role.RECORDS_OFFICER).get(PAGE).status_code == 403
