"""Serving (issue 17): one access-log line per request, the request id, ``/healthz`` and
``/metrics`` (who may read it), SQLite's durability pragmas on every connection."""

from __future__ import annotations

import json
import logging
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tests.conftest import make_config
from tests.factories import NOW
from tests.helpers import login
from tests.security.support import user_id
from tracker import create_app
from tracker.db import Database, durability_settings
from tracker.domain.codes import JobKind, Role
from tracker.logs import ACCESS_LOGGER, formatter
from tracker.schema import head_revision
from tracker.services import jobs
from tracker.web.requestlog import new_request_id


def access_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == ACCESS_LOGGER]


def test_one_access_line_per_request_with_route_status_and_user_id(
    app: Flask, client: FlaskClient, make_user, caplog: pytest.LogCaptureFixture
) -> None:
    clerk = make_user(Role.CLERK)
    clerk_id = user_id(app, clerk.username)
    login(client, clerk)
    caplog.clear()
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    client.get("/items/1?sort=secret-looking-query")
    client.get("/no/such/page")
    client.get("/admin/users")
    records = access_records(caplog)
    assert [(r.endpoint, r.status) for r in records] == [  # type: ignore[attr-defined]
        ("counter.item", 404),
        ("-", 404),
        ("admin.users", 403),
    ]
    assert {r.user_id for r in records} == {clerk_id}  # type: ignore[attr-defined]
    for record in records:
        line = formatter("text", access=True).format(record)
        assert "sort=" not in line and "/items" not in line and clerk.username not in line
        assert f"user_id={clerk_id}" in line and "duration_ms=" in line
        fields = json.loads(formatter("json", access=True).format(record))
        assert fields["endpoint"] == record.endpoint  # type: ignore[attr-defined]
        assert fields["user_id"] == clerk_id and fields["method"] == "GET"
        assert isinstance(fields["duration_ms"], float)
        assert fields["request_id"] == record.request_id  # type: ignore[attr-defined]


def test_each_request_gets_its_own_id_and_a_client_cannot_choose_it(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    first = client.get("/login")
    second = client.get("/login", headers={"X-Request-Id": "forged-by-the-client-123"})
    ids = [first.headers["X-Request-Id"], second.headers["X-Request-Id"]]
    assert len(set(ids)) == 2 and "forged-by-the-client-123" not in ids
    assert [r.request_id for r in access_records(caplog)] == ids  # type: ignore[attr-defined]


def test_request_ids_never_look_like_an_individual_number() -> None:
    """A log scanner for My Numbers must not flag our own ids: no 12 digits in a row (16 plain
    hex digits held a run of 9 or more in about one id of ten)."""
    ids = [new_request_id() for _ in range(20_000)]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{8}", rid) for rid in ids)
    assert not [rid for rid in ids if re.search(r"\d{9}", rid)]


def test_behind_a_trusted_proxy_its_request_id_is_kept_if_sane(database_url: str) -> None:
    app = create_app(make_config(database_url, trusted_proxies=1))
    try:
        client = app.test_client()
        kept = client.get("/login", headers={"X-Request-Id": "proxy-0a1b2c3d"})
        assert kept.headers["X-Request-Id"] == "proxy-0a1b2c3d"
        odd = client.get("/login", headers={"X-Request-Id": "a b forged=1 <script>"})
        assert odd.headers["X-Request-Id"] != "a b forged=1 <script>"
    finally:
        app.extensions["tracker.db"].dispose()


def test_healthz_reports_the_migration_head_without_a_session_or_audit_event(
    app: Flask, client: FlaskClient
) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {
        "status": "ok",
        "database": "ok",
        "revision": head_revision(),
        "head": head_revision(),
    }
    assert "Set-Cookie" not in response.headers
    with app.extensions["tracker.db"].session_scope() as session:
        before = session.scalar(text("SELECT count(*) FROM audit_events"))
        client.get("/healthz")
        assert session.scalar(text("SELECT count(*) FROM audit_events")) == before


def test_healthz_is_503_when_the_database_is_behind(app: Flask, client: FlaskClient) -> None:
    database = app.extensions["tracker.db"]
    with database.session_scope() as session:
        session.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    try:
        response = client.get("/healthz")
    finally:  # the tables are emptied between tests, the revision is not
        with database.session_scope() as session:
            session.execute(
                text("UPDATE alembic_version SET version_num = :v"), {"v": head_revision()}
            )
    assert response.status_code == 503
    assert response.json is not None
    assert response.json["reason"] == "migration" and response.json["revision"] == "0001"


def test_healthz_is_503_when_the_database_is_gone(tmp_path) -> None:  # type: ignore[no-untyped-def]
    missing = tmp_path / "gone"
    app = create_app(make_config(f"sqlite:///{missing}/db.sqlite3"))
    try:
        missing.joinpath("db.sqlite3").unlink()
        missing.rmdir()
        response = app.test_client().get("/healthz")
        assert response.status_code == 503
        assert response.json is not None and response.json["reason"] == "database"
    finally:
        app.extensions["tracker.db"].dispose()


def test_metrics_count_requests_per_route_and_imports(
    client: FlaskClient, stocked_for_metrics: None
) -> None:
    client.get("/login")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    body = response.text
    assert 'tracker_http_requests_total{endpoint="auth.login",method="GET",status="200"}' in body
    assert "tracker_http_request_duration_seconds_bucket" in body
    assert 'tracker_imports_total{outcome="committed"}' in body
    # read from the jobs table, so every app server reports the jobs a tracker worker runs
    assert 'tracker_jobs{kind="import",state="queued"} 1.0' in body
    assert "/login" not in body  # routes by name, never a URL


@pytest.fixture
def stocked_for_metrics(app: Flask, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.security.support import import_rows, row

    import_rows(app, tmp_path, [row(1, "髙橋 一郎", "タカハシ イチロウ")])
    with app.extensions["tracker.db"].session_scope() as session:  # an upload waiting for a worker
        jobs.queue(session, kind=JobKind.IMPORT, actor="officer", now=NOW)


@pytest.mark.parametrize(
    ("remote", "headers", "status"),
    [
        ("127.0.0.1", {}, 200),
        ("::1", {}, 200),
        ("203.0.113.9", {}, 404),
        ("203.0.113.9", {"Authorization": "Bearer wrong-token"}, 404),
        ("203.0.113.9", {"Authorization": "Bearer scrape-token-0123456789"}, 200),
        ("203.0.113.9", {"Authorization": "bearer scrape-token-0123456789"}, 200),
        # a reverse proxy on this host relays an outsider: not "local"
        ("127.0.0.1", {"X-Forwarded-For": "203.0.113.9"}, 404),
    ],
)
def test_metrics_only_for_this_host_or_the_token(
    database_url: str, remote: str, headers: dict[str, str], status: int
) -> None:
    app = create_app(make_config(database_url, metrics_token="scrape-token-0123456789"))
    try:
        response = app.test_client().get(
            "/metrics", headers=headers, environ_base={"REMOTE_ADDR": remote}
        )
        assert response.status_code == status
    finally:
        app.extensions["tracker.db"].dispose()


def test_without_a_token_outsiders_never_see_metrics(database_url: str) -> None:
    app = create_app(make_config(database_url))
    try:
        response = app.test_client().get(
            "/metrics",
            headers={"Authorization": "Bearer "},
            environ_base={"REMOTE_ADDR": "203.0.113.9"},
        )
        assert response.status_code == 404
    finally:
        app.extensions["tracker.db"].dispose()


def test_every_new_sqlite_connection_is_crash_safe(tmp_path) -> None:  # type: ignore[no-untyped-def]
    database = Database(f"sqlite:///{tmp_path / 'durable.sqlite3'}")
    try:
        settings = {s.name: s for s in durability_settings(database.engine)}
        assert {name: s.value for name, s in settings.items()} == {
            "journal_mode": "wal",
            "synchronous": "full",
            "foreign_keys": "1",
            "busy_timeout": "30000",
        }
        assert all(s.ok for s in settings.values())
        # and a second, pooled-afresh connection has them too
        with database.engine.connect() as first, database.engine.connect() as second:
            for conn in (first, second):
                raw = conn.connection.dbapi_connection
                assert raw is not None
                assert raw.execute("PRAGMA synchronous").fetchone()[0] == 2
                assert raw.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000
                assert raw.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    finally:
        database.dispose()


def test_postgresql_that_is_not_crash_safe_is_warned_about_at_start(
    postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Off for this connection only (never for the server other databases share).
    url = make_url(postgres_url).update_query_dict({"options": "-c synchronous_commit=off"})
    caplog.set_level(logging.WARNING)
    app = create_app(make_config(url.render_as_string(hide_password=False)))
    app.extensions["tracker.db"].dispose()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(
        "DATABASE NOT CRASH-SAFE: synchronous_commit is off (should be on)" in w for w in warnings
    ), warnings
    caplog.clear()
    create_app(make_config(postgres_url)).extensions["tracker.db"].dispose()
    assert not [r for r in caplog.records if "CRASH-SAFE" in r.getMessage()]
