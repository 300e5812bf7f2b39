"""No personal data or secrets in the server log or the audit details (issue #7, STYLE).

A realistic morning runs through the test client with every logger at DEBUG: a CSV import
with 髙橋 一郎 and 𠮷田 花子, item views, a kana search, a handover with the last 4 of a
document, a failed login whose "username" is a password, a 500. The captured log text must
hold none of the names, kana, valid individual numbers, passwords, cookies or tokens; nor may
the access log (issue 17), formatted as text and as JSON, which also holds no URL, query
string or login name: one line per request, the route's name and the user's numeric id.
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select

from tests.conftest import make_config
from tests.helpers import PASSWORD, csrf_token, login, search
from tests.security.support import csv_text, row, user_id
from tracker import create_app
from tracker.domain.codes import Role
from tracker.domain.mynumber import is_valid_individual_number
from tracker.logs import ACCESS_LOGGER, formatter
from tracker.models import AuditEvent, UserSession
from tracker.web.access import public

NAMES = ["髙橋 一郎", "𠮷田 花子"]
KANA = ["タカハシ イチロウ", "ヨシダ ハナコ", "たかはし"]
PASSWORD_AS_USERNAME = "Tr0ub4dor&3-secret"
WRONG_PASSWORD = "hunter2-wrong-password"


@pytest.fixture
def logging_app(database_url: str) -> Iterator[Flask]:
    app = create_app(make_config(database_url))

    seen = app.config["REQUESTS_SEEN"] = [0]
    inner = app.wsgi_app

    def counting(environ, start_response):  # type: ignore[no-untyped-def]
        seen[0] += 1
        return inner(environ, start_response)

    app.wsgi_app = counting  # type: ignore[method-assign]

    @app.route("/explode-with-data")
    @public
    def explode() -> str:  # an unforeseen bug while a name is in the request
        raise KeyError("no such key")

    yield app
    app.extensions["tracker.db"].dispose()


def test_a_busy_morning_leaves_no_personal_data_in_the_logs(
    logging_app: Flask, make_user, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, SQLAlchemy's included
    app = logging_app
    officer, clerk = make_user(Role.RECORDS_OFFICER), make_user(Role.CLERK)
    secrets: set[str] = {PASSWORD, PASSWORD_AS_USERNAME, WRONG_PASSWORD}

    anonymous = app.test_client()
    anonymous.post(
        "/login",
        data={
            "username": PASSWORD_AS_USERNAME,
            "password": WRONG_PASSWORD,
            "csrf_token": csrf_token(anonymous),
        },
    )

    client = app.test_client()
    login(client, officer)
    token = csrf_token(client, "/")
    secrets.add(token)
    secrets.add(client.get_cookie("tracker_session").value)  # type: ignore[union-attr]
    with client.session_transaction() as session:
        secrets.add(session["_user_id"])
    rows = [row(1, NAMES[0], KANA[0]), row(2, NAMES[1], KANA[1])]
    response = client.post(
        "/imports",
        data={
            "file": (io.BytesIO(csv_text(rows).encode("utf-8")), "morning.csv"),
            "encoding": "auto",
            "commit": "1",
            "csrf_token": token,
        },
    )
    assert response.status_code == 302  # to the page of the import's job (issue 17)
    # an individual number typed into a free-text cell is refused (and must not be logged)
    bad = [row(3, "山田 123456789018 太郎", "ヤマダ")]
    assert is_valid_individual_number("123456789018")
    client.post(
        "/imports",
        data={
            "file": (io.BytesIO(csv_text(bad).encode("utf-8")), "bad.csv"),
            "encoding": "auto",
            "commit": "1",
            "csrf_token": token,
        },
    )

    counter = app.test_client()
    login(counter, clerk)
    assert search(counter, "たかはし").status_code == 200
    # issue 16: names, kana and birth dates are posted, never in a request line
    assert search(counter, NAMES[0]).status_code == 200
    assert search(counter, f"{KANA[1]} S50.1.1").status_code == 200
    assert (
        counter.post(
            "/search", data={"q": NAMES[1], "csrf_token": csrf_token(counter, "/")}
        ).status_code
        == 404
    )  # the scan box: not a number, "見つかりません"
    for item_id in (1, 2):
        assert counter.get(f"/items/{item_id}").status_code == 200
    response = counter.post(
        "/handover",
        data={
            "item": "1",
            "recipient_kind": "self",
            "documents": "drivers_license",
            "last4-drivers_license": "4821",
            "authority_proof": "",
            "csrf_token": csrf_token(counter, "/"),
        },
    )
    assert response.status_code == 302
    assert counter.get(f"/explode-with-data?name={NAMES[0]}").status_code == 500
    # an old bookmark with a name in it: sent on without it (anonymous: to the login page)
    legacy = app.test_client().get(f"/items?q={NAMES[1]}", follow_redirects=True)
    assert legacy.status_code == 200
    assert [r.location for r in legacy.history] == ["/items", "/login?next=/items"]

    log_text = caplog.text  # messages and tracebacks, as a log file would hold them
    assert "unhandled error" in log_text  # the capture works: the 500 was logged

    # The access log as tracker serve writes it, in both formats (issue 17).
    access = [r for r in caplog.records if r.name == ACCESS_LOGGER]
    assert len(access) == app.config["REQUESTS_SEEN"][0]  # exactly one line per request
    lines = [formatter(kind, access=True).format(r) for r in access for kind in ("text", "json")]
    access_text = "\n".join(lines)
    log_text += "\n" + access_text
    assert "endpoint=counter.item status=200" in access_text  # the route by name
    for value in ("/items", "?", "q=", "next=", "name=", officer.username, clerk.username):
        assert value not in access_text, value
    assert {str(user_id(app, clerk.username)), "-"} <= {str(r.user_id) for r in access}

    forbidden = [*NAMES, *(n.replace(" ", "") for n in NAMES), *KANA, *secrets]
    forbidden += [part for n in NAMES for part in n.split()]
    leaks = [value for value in forbidden if value in log_text]
    numbers = [m for m in re.findall(r"\d{12}", log_text) if is_valid_individual_number(m)]
    assert leaks == [] and numbers == []

    with app.extensions["tracker.db"].session_scope() as session:
        details = [e.details for e in session.scalars(select(AuditEvent))]
        stored_tokens = set(session.scalars(select(UserSession.token_hash)))
    audit_text = "\n".join(details)
    assert [s for s in secrets if s in audit_text] == []
    assert not any(h in audit_text for h in stored_tokens)
    for detail in details:
        json.loads(detail)  # details are structured data, not free prose
