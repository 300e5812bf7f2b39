"""Security headers on every kind of answer (issue #7): 200, 302, 400, 403, 404, 405, 409,
500, downloads and static files. tests/web/test_headers.py covers the 500 page's content."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.conftest import make_config
from tests.helpers import csrf_token, login
from tests.security.support import import_rows, row
from tracker import create_app
from tracker.domain.codes import Role
from tracker.web.access import public


def assert_headers(response: TestResponse, *, static: bool = False) -> None:
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    assert "object-src 'none'" in csp, csp
    assert "frame-ancestors 'none'" in csp, csp
    assert headers.get("X-Content-Type-Options") == "nosniff"
    assert headers.get("Referrer-Policy") == "no-referrer"
    if not static:
        assert "no-store" in headers.get("Cache-Control", ""), headers.get("Cache-Control")


@pytest.fixture
def failing_app(database_url: str) -> Iterator[Flask]:
    """The real app plus one route that fails the way an unforeseen bug would."""
    app = create_app(make_config(database_url))

    @app.route("/explode")
    @public
    def explode() -> str:
        raise ZeroDivisionError("boom")

    yield app
    app.extensions["tracker.db"].dispose()


Request = Callable[[FlaskClient], TestResponse]

CASES: dict[str, tuple[Role | None, int, Request]] = {
    "200 login page": (None, 200, lambda c: c.get("/login")),
    "200 health check": (None, 200, lambda c: c.get("/healthz")),
    "200 metrics from this host": (None, 200, lambda c: c.get("/metrics")),
    "404 metrics from elsewhere": (
        None,
        404,
        lambda c: c.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"}),
    ),
    "302 anonymous to login": (None, 302, lambda c: c.get("/items")),
    "400 csrf": (None, 400, lambda c: c.post("/login", data={"username": "x"})),
    "400 bad form": (
        Role.CLERK,
        400,
        lambda c: c.post(
            "/envelopes/1/move", data={"location": "nan", "csrf_token": csrf_token(c, "/")}
        ),
    ),
    "403 wrong role": (Role.CLERK, 403, lambda c: c.get("/admin/users")),
    "404 no page": (None, 404, lambda c: c.get("/no/such/page")),
    "404 no item": (Role.CLERK, 404, lambda c: c.get("/items/999999")),
    "405 wrong method": (Role.RECORDS_OFFICER, 405, lambda c: c.get("/retention/rules")),
    "200 item page": (Role.CLERK, 200, lambda c: c.get("/items/1")),
    "200 csv download": (
        Role.RECORDS_OFFICER,
        200,
        lambda c: c.get("/disposal/eligible.csv?as_of=2020-04-01"),
    ),
    "200 pdf labels": (Role.CLERK, 200, lambda c: c.get("/labels.pdf?id=1")),
    "500 unhandled error": (None, 500, lambda c: c.get("/explode")),
}


@pytest.mark.parametrize("case", list(CASES))
def test_headers_on_every_status(failing_app: Flask, make_user, tmp_path, case: str) -> None:  # type: ignore[no-untyped-def]
    import_rows(failing_app, tmp_path, [row(1, "髙橋 一郎", "タカハシ イチロウ")])
    role, status, send = CASES[case]
    client = failing_app.test_client()
    if role is not None:
        # make_user writes through the default app, into the same database
        assert login(client, make_user(role)).status_code == 302
    response = send(client)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert_headers(response)
    response.close()


def test_headers_on_static_files(client: FlaskClient) -> None:
    response = client.get("/static/app.css")
    assert response.status_code == 200
    assert_headers(response, static=True)
    response.close()


def test_headers_on_a_409_double_handover(app: Flask, make_user, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import_rows(app, tmp_path, [row(1, "髙橋 一郎", "タカハシ イチロウ")])
    client = app.test_client()
    login(client, make_user(Role.CLERK))
    data = {
        "item": "1",
        "recipient_kind": "self",
        "documents": "drivers_license",
        "authority_proof": "",
    }
    first = client.post("/handover", data={**data, "csrf_token": csrf_token(client, "/")})
    assert first.status_code == 302
    again = client.post("/handover", data={**data, "csrf_token": csrf_token(client, "/")})
    assert again.status_code == 409
    assert_headers(again)
