"""Session fixation and replay (issue #7), beyond tests/web/test_auth.py.

The cookie a browser holds before login must be worthless after it; each login opens a new
server-side session; a captured cookie is dead after logout (tested in test_auth), after the
idle timeout, after the absolute maximum age, and once the user is disabled — and stays dead
when the user is enabled again.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from tests.helpers import csrf_token, login
from tests.security.support import user_id
from tracker.clock import now_utc
from tracker.domain.codes import Role
from tracker.models import UserSession

COOKIE = "tracker_session"


def _cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    return cookie.value


def _server_token(client: FlaskClient) -> str | None:
    """The server-side session token Flask-Login keeps in the (signed) cookie."""
    with client.session_transaction() as session:
        return session.get("_user_id")


def _replay(app: Flask, cookie: str) -> int:
    """An attacker's browser presenting a captured cookie: 200 = logged in."""
    attacker = app.test_client()
    attacker.set_cookie(COOKIE, cookie)
    return attacker.get("/").status_code


def test_the_cookie_changes_at_login(app: Flask, client: FlaskClient, make_user) -> None:
    client.get("/login")
    before = _cookie(client)
    assert _server_token(client) is None
    login(client, make_user(Role.CLERK))
    after = _cookie(client)
    assert after != before
    assert _server_token(client)


def test_a_planted_pre_login_cookie_gives_the_attacker_nothing(app: Flask, make_user) -> None:
    """Fixation: the attacker fetches /login, plants that cookie in the victim's browser, the
    victim logs in; the attacker's copy must still be anonymous."""
    attacker = app.test_client()
    attacker.get("/login")
    planted = _cookie(attacker)

    victim = app.test_client()
    victim.set_cookie(COOKIE, planted)
    assert login(victim, make_user(Role.RECORDS_OFFICER)).status_code == 302
    assert victim.get("/").status_code == 200
    assert _cookie(victim) != planted

    response = attacker.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_each_login_opens_a_new_server_session(app: Flask, client: FlaskClient, make_user) -> None:
    account = make_user(Role.CLERK)
    tokens = []
    for _ in range(3):
        login(client, account)
        tokens.append(_server_token(client))
        client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert len(set(tokens)) == 3 and None not in tokens
    with app.extensions["tracker.db"].session_scope() as session:
        rows = session.scalars(select(UserSession)).all()
        assert len(rows) == 3 and all(r.ended_at is not None for r in rows)
        # only a hash of the token is stored: a database reader cannot replay a session
        stored = {r.token_hash for r in rows}
        assert not stored & set(tokens)  # type: ignore[arg-type]


def test_two_logins_of_one_user_get_two_sessions(app: Flask, make_user) -> None:
    account = make_user(Role.CLERK)
    first, second = app.test_client(), app.test_client()
    login(first, account)
    login(second, account)
    assert _server_token(first) != _server_token(second)
    second.post("/logout", data={"csrf_token": csrf_token(second, "/")})
    assert first.get("/").status_code == 200  # logging out one browser leaves the other


def test_a_cookie_replayed_after_the_idle_timeout_is_dead(
    app: Flask, client: FlaskClient, make_user
) -> None:
    login(client, make_user(Role.CLERK))
    captured = _cookie(client)
    assert _replay(app, captured) == 200  # the replay works while the session is live
    with app.extensions["tracker.db"].session_scope() as session:
        session.execute(
            update(UserSession).values(last_seen_at=now_utc() - timedelta(minutes=15, seconds=5))
        )
    assert _replay(app, captured) == 302  # the first use after the timeout ends it ...
    with app.extensions["tracker.db"].session_scope() as session:
        # ... for good: even a "fresh" last_seen_at (clock skew, a racing request) cannot
        # bring an ended session back
        [row] = session.scalars(select(UserSession)).all()
        assert row.ended_at is not None
        session.execute(update(UserSession).values(last_seen_at=now_utc()))
    assert _replay(app, captured) == 302
    assert client.get("/").status_code == 302


def test_a_busy_session_still_ends_at_its_maximum_age(
    app: Flask, client: FlaskClient, make_user
) -> None:
    login(client, make_user(Role.CLERK))
    captured = _cookie(client)
    with app.extensions["tracker.db"].session_scope() as session:
        session.execute(
            update(UserSession).values(created_at=now_utc() - timedelta(hours=12, minutes=1))
        )
    assert _replay(app, captured) == 302


def test_a_cookie_replayed_after_the_user_is_disabled_stays_dead(
    app: Flask, client: FlaskClient, make_user
) -> None:
    account = make_user(Role.CLERK)
    login(client, account)
    captured = _cookie(client)
    admin = app.test_client()
    login(admin, make_user(Role.ADMIN, "boss"))
    target = user_id(app, account.username)

    def toggle() -> None:
        response = admin.post(
            f"/admin/users/{target}/active", data={"csrf_token": csrf_token(admin, "/")}
        )
        assert response.status_code == 302

    toggle()  # disabled
    assert _replay(app, captured) == 302
    toggle()  # enabled again: the old session must not come back with the account
    assert _replay(app, captured) == 302
    assert client.get("/").status_code == 302
    assert login(client, account).status_code == 302  # a new login works
    assert _replay(app, captured) == 302  # and still does not revive the old cookie


def test_a_forged_cookie_is_anonymous(app: Flask, client: FlaskClient, make_user) -> None:
    """A cookie signed with another key, or edited, is ignored, not trusted."""
    login(client, make_user(Role.ADMIN))
    value = _cookie(client)
    tampered = value[:-2] + ("AA" if not value.endswith("AA") else "BB")
    assert _replay(app, tampered) == 302
