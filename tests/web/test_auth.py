"""Login, logout, lockout, idle timeout and CSRF (issue #2)."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from tests.helpers import CSRF_RE, csrf_token, login
from tracker.clock import now_utc
from tracker.domain.codes import Role
from tracker.models import AuditEvent, LoginFailure, LoginLock, User, UserSession

SAME_MESSAGE = "ユーザー名またはパスワードが正しくありません"


def _events(app: Flask, action: str) -> list[AuditEvent]:
    with app.extensions["tracker.db"].session_scope() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_login_shows_the_user_and_role(client: FlaskClient, make_user) -> None:
    account = make_user(Role.CLERK, "hanako")
    response = login(client, account)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert "hanako" in page and "窓口担当" in page and "ログアウト" in page


def test_unknown_user_and_wrong_password_get_the_same_message(
    app: Flask, client: FlaskClient, make_user
) -> None:
    account = make_user(Role.CLERK)
    wrong = login(client, account, password="not the password").get_data(as_text=True)
    unknown = client.post(
        "/login",
        data={"username": "nobody", "password": "whatever", "csrf_token": csrf_token(client)},
    ).get_data(as_text=True)
    assert SAME_MESSAGE in wrong and SAME_MESSAGE in unknown
    failures = _events(app, "auth.login_failed")
    assert [e.outcome for e in failures] == ["refused", "refused"]
    # the attempted name of an unknown account is never logged (it may be a password)
    assert all("nobody" not in e.details and "whatever" not in e.details for e in failures)
    assert all("not the password" not in e.details for e in failures)


def test_login_without_csrf_token_is_refused(client: FlaskClient, make_user) -> None:
    account = make_user(Role.CLERK)
    client.get("/login")
    response = client.post(
        "/login", data={"username": account.username, "password": account.password}
    )
    assert response.status_code == 400
    assert "フォームを送信できませんでした" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302  # still not logged in


def test_state_changing_admin_form_without_csrf_is_refused(app: Flask, logged_in) -> None:
    client = logged_in(Role.ADMIN)
    response = client.post(
        "/admin/users/new",
        data={
            "username": "intruder",
            "display_name": "x",
            "role": "admin",
            "password": "a-long-password-1",
            "password_again": "a-long-password-1",
        },
    )
    assert response.status_code == 400
    with app.extensions["tracker.db"].session_scope() as session:
        assert session.scalar(select(User).where(User.username == "intruder")) is None


def test_a_cookie_replayed_after_logout_is_not_logged_in(client: FlaskClient, make_user) -> None:
    account = make_user(Role.RECORDS_OFFICER)
    login(client, account)
    assert client.get("/").status_code == 200
    captured = client.get_cookie("tracker_session")
    assert captured is not None
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert client.get("/").status_code == 302

    client.set_cookie("tracker_session", captured.value)  # an attacker's copy
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_five_failures_lock_the_account_for_fifteen_minutes(
    app: Flask, client: FlaskClient, make_user
) -> None:
    account = make_user(Role.CLERK)
    for _ in range(5):
        assert SAME_MESSAGE in login(client, account, "wrong password").get_data(as_text=True)
    # now even the right password is refused, with the same message
    response = login(client, account)
    assert response.status_code == 200 and SAME_MESSAGE in response.get_data(as_text=True)
    assert len(_events(app, "auth.lockout")) == 1

    database = app.extensions["tracker.db"]
    with database.session_scope() as session:
        [lock] = session.scalars(select(LoginLock))
        assert lock.client == "127.0.0.1"  # the test client's address
        remaining = lock.locked_until - now_utc()
        assert timedelta(minutes=14) < remaining <= timedelta(minutes=15)
        lock.locked_until = now_utc() - timedelta(seconds=1)  # fifteen minutes later
    assert login(client, account).status_code == 302


def test_four_failures_do_not_lock(client: FlaskClient, make_user) -> None:
    account = make_user(Role.CLERK)
    for _ in range(4):
        login(client, account, "wrong password")
    assert login(client, account).status_code == 302


def _age_failures(app: Flask, minutes: float) -> None:
    with app.extensions["tracker.db"].session_scope() as session:
        for failure in session.scalars(select(LoginFailure)):
            failure.failed_at = failure.failed_at - timedelta(minutes=minutes)


def test_failures_older_than_fifteen_minutes_do_not_count(
    app: Flask, client: FlaskClient, make_user
) -> None:
    account = make_user(Role.CLERK)
    for _ in range(4):
        login(client, account, "wrong password")
    _age_failures(app, 15.5)
    login(client, account, "wrong password")  # only one failure in the last 15 minutes
    assert login(client, account).status_code == 302


def test_the_window_slides_rather_than_resetting(
    app: Flask, client: FlaskClient, make_user
) -> None:
    """Failures 10 minutes ago still count: 5 within any 15 minutes lock the account."""
    account = make_user(Role.CLERK)
    for _ in range(3):
        login(client, account, "wrong password")
    _age_failures(app, 10)
    for _ in range(2):
        login(client, account, "wrong password")
    assert len(_events(app, "auth.lockout")) == 1
    assert SAME_MESSAGE in login(client, account).get_data(as_text=True)


def test_login_and_its_failures_are_audited(app: Flask, client: FlaskClient, make_user) -> None:
    account = make_user(Role.CLERK)
    login(client, account, "wrong password")
    login(client, account)
    [failed] = _events(app, "auth.login_failed")
    [ok] = _events(app, "auth.login")
    assert (failed.actor, failed.outcome) == (account.username, "refused")
    assert (ok.actor, ok.outcome) == (account.username, "ok")
    assert ok.seq > failed.seq


def test_login_works_over_https(database_url: str, make_user) -> None:
    """Browsers send no Referer (Referrer-Policy: no-referrer); CSRF must not require one."""
    from tests.conftest import make_config
    from tracker import create_app

    app = create_app(make_config(database_url, session_cookie_secure=True))
    client = app.test_client()
    account = make_user(Role.CLERK)
    page = client.get("/login", base_url="https://tracker.example").get_data(as_text=True)
    token = CSRF_RE.search(page)
    assert token is not None
    response = client.post(
        "/login",
        base_url="https://tracker.example",
        data={
            "username": account.username,
            "password": account.password,
            "csrf_token": token.group(1),
        },
    )
    assert response.status_code == 302 and response.headers["Location"] == "/"
    app.extensions["tracker.db"].dispose()


def test_idle_session_ends_after_fifteen_minutes(
    app: Flask, client: FlaskClient, make_user
) -> None:
    account = make_user(Role.AUDITOR)
    login(client, account)
    with app.extensions["tracker.db"].session_scope() as session:
        session.execute(
            update(UserSession).values(last_seen_at=now_utc() - timedelta(minutes=15, seconds=5))
        )
    response = client.get("/", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "15分間操作がなかったため" in page
    assert response.request.path == "/login"
    assert len(_events(app, "auth.session_expired")) == 1


def test_activity_within_the_timeout_keeps_the_session(
    app: Flask, client: FlaskClient, make_user
) -> None:
    account = make_user(Role.AUDITOR)
    login(client, account)
    with app.extensions["tracker.db"].session_scope() as session:
        session.execute(update(UserSession).values(last_seen_at=now_utc() - timedelta(minutes=14)))
    assert client.get("/").status_code == 200


def test_login_redirects_only_to_local_paths(client: FlaskClient, make_user) -> None:
    account = make_user(Role.ADMIN)
    for target, expected in [
        ("/admin/users", "/admin/users"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
    ]:
        token = csrf_token(client)
        response = client.post(
            "/login",
            data={
                "username": account.username,
                "password": account.password,
                "next": target,
                "csrf_token": token,
            },
        )
        assert response.headers["Location"] == expected, target
        client.post("/logout", data={"csrf_token": csrf_token(client, "/")})


def test_deactivated_user_is_logged_out_at_once(app: Flask, client: FlaskClient, make_user) -> None:
    account = make_user(Role.CLERK)
    login(client, account)
    admin = make_user(Role.ADMIN, "boss")
    admin_client = app.test_client()
    login(admin_client, admin)
    with app.extensions["tracker.db"].session_scope() as session:
        user_id = session.scalar(select(User.id).where(User.username == account.username))
    response = admin_client.post(
        f"/admin/users/{user_id}/active", data={"csrf_token": csrf_token(admin_client, "/")}
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 302  # the clerk's open session is gone
    [event] = _events(app, "user.deactivate")
    assert event.actor == "boss" and event.object_id == str(user_id)
    assert SAME_MESSAGE in login(client, account).get_data(as_text=True)


def test_english_can_be_selected(client: FlaskClient) -> None:
    assert "ログイン" in client.get("/login").get_data(as_text=True)
    client.post("/language", data={"lang": "en", "csrf_token": csrf_token(client)})
    page = client.get("/login").get_data(as_text=True)
    assert "Log in" in page and "ログイン" not in page
