"""Security headers on every response, and a generic 500 page (issue #2)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.conftest import make_config
from tracker import create_app
from tracker.domain.codes import Role
from tracker.web.access import public


def assert_security_headers(response: TestResponse) -> None:
    csp = response.headers["Content-Security-Policy"]
    assert "object-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_headers_on_a_200(client: FlaskClient) -> None:
    response = client.get("/login")
    assert response.status_code == 200
    assert_security_headers(response)


def test_headers_on_a_404(client: FlaskClient) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert_security_headers(response)
    assert "ページが見つかりません" in response.get_data(as_text=True)


def test_authenticated_pages_are_never_cached(logged_in) -> None:
    client = logged_in(Role.CLERK)
    response = client.get("/")
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    assert_security_headers(response)


@pytest.fixture
def failing_app(database_url: str) -> Iterator[Flask]:
    app = create_app(make_config(database_url))

    @app.route("/explode")
    @public
    def explode() -> str:
        raise RuntimeError("secret internals: password=hunter2 at /srv/tracker/db.py")

    @app.route("/broken-database")
    @public
    def broken_database() -> str:
        from sqlalchemy import text

        from tracker.extensions import db

        db.session.execute(text("SELECT * FROM no_such_table"))
        return "unreachable"

    @app.route("/half-written")
    @public
    def half_written() -> str:
        from tracker.extensions import db
        from tracker.models import Location

        db.session.add(
            Location(code="HALF", name="書きかけ", is_default=False, active=True, sort_order=9)
        )
        db.session.flush()
        raise RuntimeError("failed after a flush")

    yield app
    app.extensions["tracker.db"].dispose()


def test_a_500_shows_a_generic_page_with_headers(
    failing_app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    response = failing_app.test_client().get("/explode")
    assert response.status_code == 500
    assert_security_headers(response)
    page = response.get_data(as_text=True)
    assert "システムエラーが発生しました" in page
    assert "hunter2" not in page and "Traceback" not in page and "db.py" not in page
    assert any("unhandled error" in record.message for record in caplog.records)


def test_a_database_failure_still_gets_the_japanese_error_page(failing_app: Flask) -> None:
    response = failing_app.test_client().get("/broken-database")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "システムエラーが発生しました" in page and "no_such_table" not in page
    assert_security_headers(response)


def test_nothing_flushed_by_a_failed_request_is_committed(failing_app: Flask, make_user) -> None:
    from sqlalchemy import select

    from tests.helpers import login
    from tracker.models import Location

    client = failing_app.test_client()
    login(client, make_user(Role.CLERK))
    assert client.get("/half-written").status_code == 500
    assert client.get("/").status_code == 200  # later requests by the same user still work
    with failing_app.extensions["tracker.db"].session_scope() as session:
        assert session.scalar(select(Location).where(Location.code == "HALF")) is None
