"""Directory login against a real slapd (issue 17), over HTTP, on SQLite and PostgreSQL.

A directory user's first login creates the local account (display name from the directory,
role from the admin's group table); a group change changes the role at the next login and
ends the other sessions; a disabled, unmapped or ambiguous user is refused with the message
of a wrong password; wrong passwords count towards the lockout; a directory that is down
says so while the local break-glass admin still logs in; no password or DN is written to the
audit log or the application log.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from tests.conftest import make_config
from tests.helpers import PASSWORD
from tests.ldap.conftest import Directory
from tests.ldap.directory_data import PEOPLE, USERS, password
from tests.ldap.support import (
    BREAK_GLASS,
    attempt,
    closed_url,
    config_for,
    logged_in_ok,
    make_ldap_app,
)
from tracker import create_app
from tracker.clock import now_utc
from tracker.config import LdapConfig
from tracker.models import AuditEvent, User
from tracker.services import accounts

SAME_MESSAGE = "ユーザー名またはパスワードが正しくありません"
DOWN_MESSAGE = "ディレクトリサーバー（LDAP）に接続できない"


def account(app: Flask, username: str) -> User | None:
    with app.extensions["tracker.db"].session_scope() as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is not None:
            session.expunge(user)
        return user


def events(app: Flask, action: str | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.seq)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    with app.extensions["tracker.db"].session_scope() as session:
        found = list(session.scalars(query))
        for event in found:
            session.expunge(event)
        return found


def details(event: AuditEvent) -> dict[str, object]:
    return dict(json.loads(event.details or "{}"))


# --- first login, roles ----------------------------------------------------------------------


def test_first_login_creates_the_account_with_the_directory_name_and_the_group_role(
    ldap_app: Flask,
) -> None:
    client = ldap_app.test_client()
    assert account(ldap_app, "suzuki") is None
    assert logged_in_ok(attempt(client, "suzuki", password("suzuki")))
    user = account(ldap_app, "suzuki")
    assert user is not None
    assert (user.display_name, user.role, user.password_hash) == ("鈴木 花子", "clerk", None)
    # the page greets the person by the directory's name and shows the clerk's menu
    page = client.get("/").text
    assert "鈴木 花子" in page
    [created] = events(ldap_app, "user.create")[-1:]
    assert details(created) == {"username": "suzuki", "role": "clerk", "source": "ldap"}
    [login] = events(ldap_app, "auth.login")
    assert login.actor == "suzuki" and details(login) == {"source": "ldap"}
    # the second login reuses the account: no second creation
    assert logged_in_ok(attempt(ldap_app.test_client(), "Suzuki", password("suzuki")))
    assert [details(e)["username"] for e in events(ldap_app, "user.create")].count("suzuki") == 1


def test_each_group_gives_its_role(ldap_app: Flask) -> None:
    for uid, role in [
        ("suzuki", "clerk"),
        ("sato", "records_officer"),
        ("kato", "auditor"),
        ("yamada", "admin"),
    ]:
        client = ldap_app.test_client()
        assert logged_in_ok(attempt(client, uid, password(uid))), uid
        user = account(ldap_app, uid)
        assert user is not None and user.role == role
    # the admin from the directory reaches the admin pages, the clerk does not
    admin = ldap_app.test_client()
    attempt(admin, "yamada", password("yamada"))
    users = admin.get("/admin/users")
    assert users.status_code == 200
    # the four directory accounts are marked as such; the local break-glass admin is not
    assert users.text.count('data-testid="directory-account"') == 4
    clerk = ldap_app.test_client()
    attempt(clerk, "suzuki", password("suzuki"))
    assert clerk.get("/admin/users").status_code == 403


def test_a_group_change_changes_the_role_at_the_next_login_and_ends_other_sessions(
    ldap_app: Flask, directory: Directory
) -> None:
    directory.set_groups("mover", {"tracker-clerks"})
    try:
        at_desk = ldap_app.test_client()
        assert logged_in_ok(attempt(at_desk, "mover", password("mover")))
        assert account(ldap_app, "mover").role == "clerk"  # type: ignore[union-attr]
        assert at_desk.get("/").status_code == 200

        directory.set_groups("mover", {"tracker-records"})  # moved to the records section
        elsewhere = ldap_app.test_client()
        assert logged_in_ok(attempt(elsewhere, "mover", password("mover")))
        assert account(ldap_app, "mover").role == "records_officer"  # type: ignore[union-attr]
        [change] = events(ldap_app, "user.role_change")
        assert details(change) == {
            "username": "mover",
            "before": "clerk",
            "after": "records_officer",
            "sessions_ended": 1,
            "by": "ldap",
        }
        # the clerk's session at the desk has ended; the new one works
        assert at_desk.get("/").status_code == 302
        assert elsewhere.get("/").status_code == 200
    finally:
        directory.set_groups("mover", {"tracker-clerks"})


# --- refusals ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uid", "reason"),
    [
        ("ito", "directory_disabled"),  # userAccountControl 514: AD's ACCOUNTDISABLE bit
        ("watanabe", "no_role"),  # in the directory, in no mapped group
        ("kobayashi", "ambiguous_role"),  # groups of two roles: refused, never "the highest"
        ("kimura", "wrong_password"),  # OpenLDAP ppolicy lock: the directory refuses the bind
    ],
)
def test_refused_with_the_message_of_a_wrong_password(
    ldap_app: Flask, uid: str, reason: str
) -> None:
    response = attempt(ldap_app.test_client(), uid, password(uid))
    assert response.status_code == 200 and SAME_MESSAGE in response.text
    assert account(ldap_app, uid) is None  # no account made for them
    [failed] = events(ldap_app, "auth.login_failed")
    assert failed.actor == "anonymous"
    assert details(failed)["reason"] == reason and details(failed)["source"] == "ldap"


def test_a_user_disabled_in_the_directory_after_a_login_is_refused(
    ldap_app: Flask, directory: Directory
) -> None:
    directory.set_groups("mover", {"tracker-clerks"})
    assert logged_in_ok(attempt(ldap_app.test_client(), "mover", password("mover")))
    directory.set_groups("mover", set())  # left the office: taken out of the groups
    try:
        refused = attempt(ldap_app.test_client(), "mover", password("mover"))
        assert SAME_MESSAGE in refused.text
        failed = events(ldap_app, "auth.login_failed")[-1]
        assert failed.actor == "mover" and details(failed)["reason"] == "no_role"
    finally:
        directory.set_groups("mover", {"tracker-clerks"})


def test_wrong_passwords_count_towards_the_lockout_and_are_audited(ldap_app: Flask) -> None:
    assert logged_in_ok(attempt(ldap_app.test_client(), "locky", password("locky")))
    attacker = ldap_app.test_client()
    for _ in range(5):
        assert SAME_MESSAGE in attempt(attacker, "locky", "a-wrong-guess", "192.0.2.66").text
    # locked for that address, even with the right password (the directory is not asked)
    refused = attempt(attacker, "locky", password("locky"), "192.0.2.66")
    assert SAME_MESSAGE in refused.text
    # the person at their own desk still logs in
    assert logged_in_ok(attempt(ldap_app.test_client(), "locky", password("locky"), "10.1.2.3"))

    failed = [e for e in events(ldap_app, "auth.login_failed") if e.actor == "locky"]
    assert [details(e)["reason"] for e in failed] == ["wrong_password"] * 5 + ["locked"]
    assert all(details(e)["source"] == "ldap" for e in failed)
    assert [details(e)["failures_in_window"] for e in failed[:5]] == [1, 2, 3, 4, 5]
    [lockout] = events(ldap_app, "auth.lockout")
    assert lockout.actor == "locky" and details(lockout)["client"] == "192.0.2.66"


def test_an_empty_password_is_refused_before_any_bind(ldap_app: Flask) -> None:
    """LDAP treats a name with an empty password as an unauthenticated bind that "succeeds"."""
    calls: list[str] = []

    def check(config: LdapConfig, username: str, secret: str) -> object:
        calls.append(username)
        raise AssertionError("the directory must not be asked")

    database = ldap_app.extensions["tracker.db"]
    fifteen = timedelta(minutes=15)
    with database.session_scope() as session:
        result = accounts.authenticate_with_directory(
            database.read_session,
            session,
            ldap_app.extensions["tracker.password_hasher"],
            accounts.LoginPolicy(threshold=5, window=fifteen, lock_for=fifteen),
            ldap_app.config["TRACKER"].ldap,
            username="suzuki",
            password="",
            client="10.0.0.1",
            now=now_utc(),
            check=check,  # type: ignore[arg-type]
        )
    assert not result.ok and calls == []
    [failed] = events(ldap_app, "auth.login_failed")
    assert details(failed)["reason"] == "wrong_password"


# --- name collision, break-glass, directory down ---------------------------------------------


def test_a_local_account_logs_in_locally_and_the_directory_user_of_that_name_cannot(
    ldap_app: Flask,
) -> None:
    # the directory's "breakglass" (another person) is refused: the local account owns the name
    refused = attempt(ldap_app.test_client(), BREAK_GLASS, password(BREAK_GLASS))
    assert SAME_MESSAGE in refused.text
    assert logged_in_ok(attempt(ldap_app.test_client(), BREAK_GLASS, PASSWORD))
    [login] = events(ldap_app, "auth.login")
    assert details(login) == {}  # a local login: no "source: ldap"


def test_directory_down_says_so_and_the_break_glass_admin_still_logs_in(
    database_url: str,
) -> None:
    application = make_ldap_app(database_url, config_for(closed_url(), timeout=1))
    try:
        response = attempt(application.test_client(), "suzuki", password("suzuki"))
        assert response.status_code == 200 and DOWN_MESSAGE in response.text
        assert SAME_MESSAGE not in response.text
        [failed] = events(application, "auth.login_failed")
        assert details(failed)["reason"] == "directory_unavailable"
        assert account(application, "suzuki") is None

        admin = application.test_client()
        assert logged_in_ok(attempt(admin, BREAK_GLASS, PASSWORD))
        assert admin.get("/admin/users").status_code == 200
    finally:
        application.extensions["tracker.db"].dispose()


def test_no_password_or_dn_in_the_audit_log_or_the_application_log(
    ldap_app: Flask, directory: Directory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    attempt(ldap_app.test_client(), "suzuki", password("suzuki"))
    attempt(ldap_app.test_client(), "sato", "sato-wrong-guess-9")
    attempt(ldap_app.test_client(), "ito", password("ito"))
    down = create_app(
        make_config(
            ldap_app.config["TRACKER"].database_url, ldap=config_for(closed_url(), timeout=1)
        )
    )
    try:
        assert DOWN_MESSAGE in attempt(down.test_client(), "kato", password("kato")).text
    finally:
        down.extensions["tracker.db"].dispose()
    written = [e.details or "" for e in events(ldap_app)]
    assert any("directory_unavailable" in text for text in written)
    logged = caplog.text
    assert "directory login: no answer from ldap://127.0.0.1:" in logged
    secrets = [user[1] for user in USERS.values()] + ["sato-wrong-guess-9", PEOPLE, "uid="]
    for text in [*written, logged]:
        for secret in secrets:
            assert secret not in text


def test_a_directory_account_is_sent_to_the_directory_to_change_its_password(
    ldap_app: Flask,
) -> None:
    client = ldap_app.test_client()
    assert logged_in_ok(attempt(client, "suzuki", password("suzuki")))
    page = client.get("/account/password").text
    assert "ディレクトリ" in page and 'name="current_password"' not in page


def test_the_audit_log_names_the_directory_refusals_in_words(ldap_app: Flask) -> None:
    attempt(ldap_app.test_client(), "ito", password("ito"))  # disabled in the directory
    attempt(ldap_app.test_client(), "watanabe", password("watanabe"))  # in no mapped group
    auditor = ldap_app.test_client()
    assert logged_in_ok(attempt(auditor, "kato", password("kato")))
    page = auditor.get("/audit").text
    visible = re.sub(r"<details.*?</details>", "", page, flags=re.S)
    for words in ["ディレクトリで無効なアカウント", "役割に対応するグループに属していない"]:
        assert words in visible
    assert "ディレクトリ（LDAP）" in visible  # the source of the events
    assert "directory_disabled" not in visible and "no_role" not in visible
