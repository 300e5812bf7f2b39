"""Lockout that cannot be used against the office, and password re-entry that counts (issue 10).

Over HTTP: failures lock an account for the client address they came from, never for
everyone; many failures from anywhere slow the account down instead; an admin can lift the
locks; a password typed again to approve a disposal batch counts like a login.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from tests import factories
from tests.conftest import make_config
from tests.helpers import PASSWORD, Account, csrf_token, login
from tracker import create_app
from tracker.config import Config
from tracker.domain.codes import Role
from tracker.models import AuditEvent, LoginLock, User

SAME_MESSAGE = "ユーザー名またはパスワードが正しくありません"
WRONG = "not-the-password-at-all"


def attempt(
    client: FlaskClient,
    account: Account,
    password: str,
    address: str,
    forwarded_for: str | None = None,
) -> TestResponse:
    """A login from ``address`` (the TCP peer), optionally through a proxy's header."""
    return client.post(
        "/login",
        data={
            "username": account.username,
            "password": password,
            "csrf_token": csrf_token(client),
        },
        environ_base={"REMOTE_ADDR": address},
        headers={"X-Forwarded-For": forwarded_for} if forwarded_for else {},
    )


def events(app: Flask, action: str) -> list[AuditEvent]:
    with app.extensions["tracker.db"].session_scope() as session:
        return list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)
            )
        )


def logged_in_ok(response: TestResponse) -> bool:
    return response.status_code == 302 and response.headers["Location"] == "/"


# --- per (account, address) ----------------------------------------------------------------


def test_five_failures_lock_one_address_and_the_right_password_works_from_another(
    app: Flask, make_user
) -> None:
    account = make_user(Role.RECORDS_OFFICER, "officer-a")
    attacker, colleague = app.test_client(), app.test_client()
    for _ in range(5):
        assert SAME_MESSAGE in attempt(attacker, account, WRONG, "192.0.2.66").text
    # locked for the attacker's address: the right password is refused there, same message
    refused = attempt(attacker, account, PASSWORD, "192.0.2.66")
    assert refused.status_code == 200 and SAME_MESSAGE in refused.text
    # ... but not for the officer at their own desk
    assert logged_in_ok(attempt(colleague, account, PASSWORD, "10.1.2.3"))
    # and logging in elsewhere does not lift the attacker's lock
    assert SAME_MESSAGE in attempt(app.test_client(), account, PASSWORD, "192.0.2.66").text

    [lockout] = events(app, "auth.lockout")
    assert json.loads(lockout.details)["client"] == "192.0.2.66"
    failed = events(app, "auth.login_failed")
    assert [json.loads(e.details)["reason"] for e in failed] == ["wrong_password"] * 5 + [
        "locked"
    ] * 2
    assert all(WRONG not in e.details and PASSWORD not in e.details for e in failed)


def test_failures_from_five_addresses_lock_none_of_them(app: Flask, make_user) -> None:
    account = make_user(Role.CLERK)
    client = app.test_client()
    for number in range(5):
        attempt(client, account, WRONG, f"192.0.2.{number}")
    assert events(app, "auth.lockout") == []
    assert logged_in_ok(attempt(client, account, PASSWORD, "192.0.2.0"))


# --- the slow-down ---------------------------------------------------------------------------


@pytest.fixture
def slow_app(database_url: str) -> Iterator[Flask]:
    """The slow-down made short enough to test (1 ms instead of 2 s), same threshold."""
    application = create_app(make_config(database_url, login_slowdown=timedelta(milliseconds=1)))
    yield application
    application.extensions["tracker.db"].dispose()


def test_twenty_failures_from_anywhere_slow_every_attempt_down_but_lock_nothing(
    slow_app: Flask, make_user
) -> None:
    assert Config.login_slowdown_after == 20 and Config.login_slowdown == timedelta(seconds=2)
    account = make_user(Role.RECORDS_OFFICER)
    client = slow_app.test_client()
    for number in range(20):  # a botnet: four guesses from each of five addresses
        attempt(client, account, WRONG, f"198.51.100.{number // 4}")
    assert events(slow_app, "auth.lockout") == []
    failed = events(slow_app, "auth.login_failed")
    assert len(failed) == 20
    assert all("delay_ms" not in e.details for e in failed)  # not slowed down yet

    attempt(client, account, WRONG, "198.51.100.99")  # the 21st attempt waits first
    assert json.loads(events(slow_app, "auth.login_failed")[-1].details)["delay_ms"] == 1
    # the officer is slowed down too, but gets in: a delay, not a lock
    assert logged_in_ok(attempt(client, account, PASSWORD, "10.0.0.5"))
    [ok] = events(slow_app, "auth.login")[-1:]
    assert json.loads(ok.details) == {"delay_ms": 1}


# --- the client address behind a reverse proxy -------------------------------------------------


def test_x_forwarded_for_is_ignored_without_trusted_proxies(app: Flask, make_user) -> None:
    account = make_user(Role.CLERK)
    client = app.test_client()
    for number in range(5):  # an attacker inventing a new address each time
        attempt(client, account, WRONG, "192.0.2.7", forwarded_for=f"203.0.113.{number}")
    assert len(events(app, "auth.lockout")) == 1  # all five counted for the real peer
    refused = attempt(client, account, PASSWORD, "192.0.2.7", forwarded_for="203.0.113.200")
    assert SAME_MESSAGE in refused.text
    assert {json.loads(e.details)["client"] for e in events(app, "auth.login_failed")} == {
        "192.0.2.7"
    }


def test_x_forwarded_for_is_honoured_with_one_trusted_proxy(database_url: str, make_user) -> None:
    app = create_app(make_config(database_url, trusted_proxies=1))
    try:
        account = make_user(Role.CLERK)
        client = app.test_client()
        proxy = "10.0.0.1"  # every request reaches the app through the one proxy
        for _ in range(5):
            attempt(client, account, WRONG, proxy, forwarded_for="203.0.113.50")
        assert SAME_MESSAGE in attempt(client, account, PASSWORD, proxy, "203.0.113.50").text
        # another client behind the same proxy is not locked out
        assert logged_in_ok(attempt(client, account, PASSWORD, proxy, "203.0.113.51"))
        [lockout] = events(app, "auth.lockout")
        assert json.loads(lockout.details)["client"] == "203.0.113.50"
    finally:
        app.extensions["tracker.db"].dispose()


def test_trusted_proxies_setting_is_read_from_the_environment() -> None:
    base = {"TRACKER_DATABASE_URL": "sqlite://", "TRACKER_SECRET_KEY": "k"}
    assert Config.from_env(base).trusted_proxies == 0
    assert Config.from_env({**base, "TRACKER_TRUSTED_PROXIES": "2"}).trusted_proxies == 2
    with pytest.raises(ValueError, match="TRACKER_TRUSTED_PROXIES"):
        Config.from_env({**base, "TRACKER_TRUSTED_PROXIES": "yes"})


# --- admin unlock ------------------------------------------------------------------------------


def _user_id(app: Flask, username: str) -> int:
    with app.extensions["tracker.db"].session_scope() as session:
        user_id = session.scalar(select(User.id).where(User.username == username))
        assert user_id is not None
        return user_id


def test_an_admin_unlocks_an_account_and_it_is_audited(app: Flask, make_user) -> None:
    account = make_user(Role.CLERK, "locked-out")
    for _ in range(5):
        attempt(app.test_client(), account, WRONG, "127.0.0.1")
    admin = app.test_client()
    login(admin, make_user(Role.ADMIN, "boss"))
    page = admin.get("/admin/users").text
    assert "ロック中" in page and "ロックを解除" in page

    user_id = _user_id(app, "locked-out")
    response = admin.post(
        f"/admin/users/{user_id}/unlock",
        data={"csrf_token": csrf_token(admin, "/admin/users")},
        follow_redirects=True,
    )
    assert "ユーザー「locked-out」のロックを解除しました。" in response.text
    assert "ロック中" not in response.text
    [event] = events(app, "user.unlock")
    assert event.actor == "boss" and event.object_id == str(user_id)
    assert json.loads(event.details) == {"username": "locked-out", "locks_lifted": 1}
    with app.extensions["tracker.db"].session_scope() as session:
        assert session.scalars(select(LoginLock)).all() == []
    assert logged_in_ok(attempt(app.test_client(), account, PASSWORD, "127.0.0.1"))


@pytest.mark.parametrize("role", [Role.CLERK, Role.RECORDS_OFFICER, Role.AUDITOR])
def test_only_admins_may_unlock(app: Flask, make_user, role: Role) -> None:
    make_user(Role.CLERK, "target")
    client = app.test_client()
    login(client, make_user(role, "someone"))
    response = client.post(
        f"/admin/users/{_user_id(app, 'target')}/unlock",
        data={"csrf_token": csrf_token(client, "/")},
    )
    assert response.status_code == 403
    assert events(app, "user.unlock") == []


def test_unlock_without_a_csrf_token_is_refused(app: Flask, logged_in, make_user) -> None:
    make_user(Role.CLERK, "target")
    client = logged_in(Role.ADMIN)
    assert client.post(f"/admin/users/{_user_id(app, 'target')}/unlock").status_code == 400
    assert events(app, "user.unlock") == []


# --- password re-entry at a four-eyes approval ------------------------------------------------

CSV = (
    "お問い合わせ番号,返戻日,還付事由,宛名,住所,氏名,フリガナ,生年月日\n"
    "100000000019,H30.4.2,転居先不明,髙橋 一郎,熊本市中央区1,髙橋 一郎,タカハシ イチロウ,S45.1.2\n"
)


@pytest.fixture
def batch_path(app: Flask, make_user, tmp_path: Path) -> str:
    """A batch created by officer-a, waiting for another officer's approval."""
    factories.import_csv(app, tmp_path, CSV, actor="officer")
    creator = app.test_client()
    login(creator, make_user(Role.RECORDS_OFFICER, "officer-a"))
    created = creator.post(
        "/disposal/batches",
        data={"csrf_token": csrf_token(creator, "/disposal/batches"), "as_of": "2020-04-01"},
    )
    assert created.status_code == 302
    return created.headers["Location"]


def approve(client: FlaskClient, batch_path: str, password: str) -> TestResponse:
    return client.post(
        f"{batch_path}/approve",
        data={"csrf_token": csrf_token(client, batch_path), "password": password},
        follow_redirects=True,
    )


def test_wrong_passwords_at_approval_lock_the_account_like_failed_logins(
    app: Flask, make_user, batch_path: str
) -> None:
    approver = make_user(Role.RECORDS_OFFICER, "officer-b")
    client = app.test_client()
    login(client, approver)
    for _ in range(12):
        page = approve(client, batch_path, WRONG).text
        assert "パスワードが正しくありません。承認していません。" in page

    # the account is now locked for this address: the right password no longer approves ...
    page = approve(client, batch_path, PASSWORD).text
    assert "パスワードが正しくありません。承認していません。" in page
    assert "承認しました" not in page
    # ... and a fresh login is refused with the usual message
    again = app.test_client()
    refused = login(again, approver)
    assert refused.status_code == 200 and SAME_MESSAGE in refused.text

    failed = events(app, "auth.login_failed")
    reasons = [json.loads(e.details)["reason"] for e in failed]
    assert reasons == ["wrong_password"] * 5 + ["locked"] * 9
    assert all(json.loads(e.details)["attempt"] == "reentry" for e in failed[:13])
    assert all(e.actor == "officer-b" for e in failed)
    [lockout] = events(app, "auth.lockout")
    assert lockout.actor == "officer-b" and lockout.seq > failed[4].seq
    refusals = [e for e in events(app, "disposal.approve") if e.outcome == "refused"]
    assert len(refusals) == 13
    assert all(WRONG not in e.details and PASSWORD not in e.details for e in failed)


def test_the_right_password_at_approval_clears_earlier_failures(
    app: Flask, make_user, batch_path: str
) -> None:
    approver = make_user(Role.RECORDS_OFFICER, "officer-b")
    client = app.test_client()
    login(client, approver)
    for _ in range(4):
        approve(client, batch_path, WRONG)
    assert "承認済" in approve(client, batch_path, PASSWORD).text
    [confirmed] = events(app, "auth.password_reentered")
    assert confirmed.actor == "officer-b"
    # the four failures were forgotten: four more do not lock
    for _ in range(4):
        login(app.test_client(), approver, WRONG)
    assert events(app, "auth.lockout") == []
    assert login(app.test_client(), approver).status_code == 302
