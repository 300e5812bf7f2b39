"""Issue 12, accounts: own password change, admin reset, role change, enable/disable, unlock."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests import factories
from tests.factories import CHEAP_HASHER, NOW
from tests.helpers import PASSWORD
from tracker.db import Database
from tracker.domain.codes import AuditAction, Role
from tracker.models import AuditEvent, LoginFailure, LoginLock, User, UserSession
from tracker.services import accounts
from tracker.services.transitions import Conflict

POLICY = accounts.LoginPolicy(5, timedelta(minutes=15), timedelta(minutes=15))
NEW_PASSWORD = "a brand new passphrase"


def _user(database: Database, username: str) -> int:
    with database.session_scope() as session:
        user_id = session.scalar(select(User.id).where(User.username == username))
        assert user_id is not None
        return user_id


def _open_sessions(database: Database, username: str, count: int) -> list[str]:
    with database.session_scope() as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None
        return [accounts.start_session(session, user, NOW) for _ in range(count)]


def _live_sessions(database: Database, user_id: int) -> int:
    with database.session_scope() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(UserSession)
                .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
            )
            or 0
        )


def _last_event(database: Database, action: AuditAction) -> AuditEvent:
    with database.session_scope() as session:
        event = session.scalar(
            select(AuditEvent)
            .where(AuditEvent.action == action.value)
            .order_by(AuditEvent.seq.desc())
        )
        assert event is not None, action
        session.expunge(event)
        return event


def _change_own(database: Database, user_id: int, current: str, new: str, keep: str | None):  # type: ignore[no-untyped-def]
    session = database.new_session()
    try:
        user = accounts.change_own_password(
            database.read_session,
            session,
            CHEAP_HASHER,
            POLICY,
            user_id=user_id,
            current_password=current,
            new_password=new,
            client="192.0.2.10",
            now=NOW,
            keep_token=keep,
            sleep=lambda _seconds: None,
        )
        session.commit()
        return user
    except accounts.AccountError:
        session.commit()  # the counted failure stands, as the web request commits it
        raise
    finally:
        session.close()


def _password_works(database: Database, username: str, password: str) -> bool:
    with database.read_session() as session:
        credentials = accounts.lookup_credentials(session, username)
    return accounts.check_password(CHEAP_HASHER, credentials, password)


def test_own_change_ends_the_other_sessions_and_clears_the_forced_change(
    database: Database,
) -> None:
    factories.user(database, Role.CLERK, "kimura", display_name="木村 花子")
    user_id = _user(database, "kimura")
    with database.session_scope() as session:
        user = session.get(User, user_id)
        assert user is not None
        user.must_change_password = True
    this, other = _open_sessions(database, "kimura", 2)

    _change_own(database, user_id, PASSWORD, NEW_PASSWORD, keep=this)

    assert _password_works(database, "kimura", NEW_PASSWORD)
    assert not _password_works(database, "kimura", PASSWORD)
    assert _live_sessions(database, user_id) == 1  # this one; the other has ended
    with database.session_scope() as session:
        assert accounts.resume_session(session, other, NOW, timedelta(hours=1)).user_session is None
        assert accounts.resume_session(session, this, NOW, timedelta(hours=1)).user_session
        user = session.get(User, user_id)
        assert user is not None and user.must_change_password is False
    event = _last_event(database, AuditAction.USER_PASSWORD_CHANGE)
    details = json.loads(event.details)
    assert event.actor == "kimura" and details["by"] == "self" and details["was_required"]
    assert details["sessions_ended"] == 1
    assert NEW_PASSWORD not in event.details and PASSWORD not in event.details


def test_a_wrong_current_password_counts_as_a_failed_login_and_changes_nothing(
    database: Database,
) -> None:
    factories.user(database, Role.CLERK, "kimura")
    user_id = _user(database, "kimura")
    for attempt in range(5):
        with pytest.raises(accounts.AccountError) as refusal:
            _change_own(database, user_id, "not my password", NEW_PASSWORD, keep=None)
        assert refusal.value.field == "current_password", attempt
        assert str(refusal.value) == accounts.WRONG_CURRENT_PASSWORD
    with database.session_scope() as session:
        assert session.scalar(select(func.count()).select_from(LoginFailure)) == 5
        assert session.scalar(select(func.count()).select_from(LoginLock)) == 1  # locked now
    # locked for this address: even the right current password is refused
    with pytest.raises(accounts.AccountError):
        _change_own(database, user_id, PASSWORD, NEW_PASSWORD, keep=None)
    assert _password_works(database, "kimura", PASSWORD)


def test_a_weak_or_unchanged_new_password_is_refused_before_any_attempt_counts(
    database: Database,
) -> None:
    factories.user(database, Role.CLERK, "kimura")
    user_id = _user(database, "kimura")
    for weak, reason in [
        ("short", "12文字以上"),
        ("password1234", "よく使われている"),
        (PASSWORD, "現在のパスワードと違う"),
    ]:
        with pytest.raises(accounts.AccountError) as refusal:
            _change_own(database, user_id, PASSWORD, weak, keep=None)
        assert refusal.value.field == "password" and reason in str(refusal.value)
    with database.session_scope() as session:
        assert session.scalar(select(func.count()).select_from(LoginFailure)) == 0
    assert _password_works(database, "kimura", PASSWORD)


def test_an_admin_reset_gives_a_one_time_password_and_forces_a_change(
    database: Database,
) -> None:
    factories.user(database, Role.CLERK, "kimura")
    user_id = _user(database, "kimura")
    _open_sessions(database, "kimura", 2)
    with database.session_scope() as session:
        session.add(
            LoginLock(
                user_id=user_id,
                client="192.0.2.1",
                locked_at=NOW,
                locked_until=NOW + timedelta(minutes=15),
            )
        )
    with database.session_scope() as session:
        user = session.get(User, user_id)
        assert user is not None
        one_time = accounts.reset_password(
            session, CHEAP_HASHER, actor="admin1", user=user, now=NOW
        )
    assert _password_works(database, "kimura", one_time)
    assert not _password_works(database, "kimura", PASSWORD)
    assert _live_sessions(database, user_id) == 0
    with database.session_scope() as session:
        user = session.get(User, user_id)
        assert user is not None and user.must_change_password is True
        assert session.scalar(select(func.count()).select_from(LoginLock)) == 0
    event = _last_event(database, AuditAction.USER_PASSWORD_RESET)
    assert event.actor == "admin1" and one_time not in event.details
    assert json.loads(event.details)["sessions_ended"] == 2


def test_a_reset_racing_a_change_is_a_conflict(database: Database) -> None:
    factories.user(database, Role.CLERK, "kimura")
    user_id = _user(database, "kimura")
    stale = database.new_session(read_first=True)
    try:
        user = stale.get(User, user_id)
        assert user is not None
        with database.session_scope() as session:  # a colleague resets it first
            fresh = session.get(User, user_id)
            assert fresh is not None
            accounts.reset_password(session, CHEAP_HASHER, actor="admin2", user=fresh, now=NOW)
        with pytest.raises(Conflict):
            accounts.reset_password(stale, CHEAP_HASHER, actor="admin1", user=user, now=NOW)
    finally:
        stale.rollback()
        stale.close()


def test_a_role_change_is_audited_with_before_and_after_and_ends_sessions(
    database: Database,
) -> None:
    factories.user(database, Role.CLERK, "kimura")
    user_id = _user(database, "kimura")
    _open_sessions(database, "kimura", 1)
    with database.session_scope() as session:
        user = session.get(User, user_id)
        assert user is not None
        accounts.change_role(session, actor="admin1", user=user, role=Role.RECORDS_OFFICER, now=NOW)
    with database.session_scope() as session:
        user = session.get(User, user_id)
        assert user is not None and user.role == Role.RECORDS_OFFICER.value
    assert _live_sessions(database, user_id) == 0
    details = json.loads(_last_event(database, AuditAction.USER_ROLE_CHANGE).details)
    assert details["before"] == "clerk" and details["after"] == "records_officer"
    with database.session_scope() as session, pytest.raises(accounts.AccountError) as same:
        user = session.get(User, user_id)
        assert user is not None
        accounts.change_role(session, actor="admin1", user=user, role=Role.RECORDS_OFFICER, now=NOW)
    assert "既に" in str(same.value)


def test_no_change_leaves_the_office_without_an_active_admin(database: Database) -> None:
    factories.user(database, Role.ADMIN, "admin1")
    admin_id = _user(database, "admin1")
    for change in ("demote", "disable"):
        with database.session_scope() as session, pytest.raises(accounts.AccountError) as refusal:
            admin = session.get(User, admin_id)
            assert admin is not None
            if change == "demote":
                accounts.change_role(session, actor="admin1", user=admin, role=Role.CLERK, now=NOW)
            else:
                accounts.set_active(session, actor="admin1", user=admin, active=False, now=NOW)
        assert str(refusal.value) == accounts.NO_ADMIN_LEFT, change
    # with a second admin, the first may step down
    factories.user(database, Role.ADMIN, "admin2")
    with database.session_scope() as session:
        admin = session.get(User, admin_id)
        assert admin is not None
        accounts.change_role(session, actor="admin1", user=admin, role=Role.AUDITOR, now=NOW)
    with database.session_scope() as session:
        assert (
            session.scalar(
                select(func.count()).select_from(User).where(User.role == Role.ADMIN.value)
            )
            == 1
        )


def test_disabling_ends_sessions_and_enabling_lets_the_user_back(database: Database) -> None:
    factories.user(database, Role.CLERK, "kimura")
    user_id = _user(database, "kimura")
    _open_sessions(database, "kimura", 2)
    with database.session_scope() as session:
        user = session.get(User, user_id)
        assert user is not None
        accounts.set_active(session, actor="admin1", user=user, active=False, now=NOW)
    assert _live_sessions(database, user_id) == 0
    assert (
        json.loads(_last_event(database, AuditAction.USER_DEACTIVATE).details)["sessions_ended"]
        == 2
    )
    with database.session_scope() as session:
        user = session.get(User, user_id)
        assert user is not None and not user.active
        accounts.set_active(session, actor="admin1", user=user, active=True, now=NOW)
    with database.session_scope() as session:
        user = session.get(User, user_id)
        assert user is not None and user.active
    assert _last_event(database, AuditAction.USER_ACTIVATE).actor == "admin1"


def test_unlock_lifts_every_lock_and_forgets_the_failures(database: Database) -> None:
    factories.user(database, Role.CLERK, "kimura")
    user_id = _user(database, "kimura")
    with database.session_scope() as session:
        for client in ("192.0.2.1", "192.0.2.2"):
            session.add(
                LoginLock(
                    user_id=user_id,
                    client=client,
                    locked_at=NOW,
                    locked_until=NOW + timedelta(minutes=15),
                )
            )
            session.add(LoginFailure(user_id=user_id, client=client, failed_at=NOW))
    with database.session_scope() as session:
        user = session.get(User, user_id)
        assert user is not None
        assert accounts.unlock(session, actor="admin1", user=user, now=NOW) == 2
    with database.session_scope() as session:
        assert session.scalar(select(func.count()).select_from(LoginLock)) == 0
        assert session.scalar(select(func.count()).select_from(LoginFailure)) == 0
    assert json.loads(_last_event(database, AuditAction.USER_UNLOCK).details)["locks_lifted"] == 2


def test_two_admins_demoting_each_other_at_once_leave_one_admin(postgres_url: str) -> None:
    """The last-admin check is serialised: without it both demotions would pass."""
    import threading

    database = Database(postgres_url, pool_size=4)
    try:
        factories.user(database, Role.ADMIN, "admin1")
        factories.user(database, Role.ADMIN, "admin2")
        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        def demote(actor: str, target: str) -> None:
            session = database.new_session()
            try:
                user = session.scalar(select(User).where(User.username == target))
                assert user is not None
                barrier.wait(timeout=30)
                accounts.change_role(session, actor=actor, user=user, role=Role.CLERK, now=NOW)
                session.commit()
                outcomes.append("demoted")
            except accounts.AccountError:
                session.rollback()
                outcomes.append("refused")
            finally:
                session.close()

        threads = [
            threading.Thread(target=demote, args=("admin1", "admin2")),
            threading.Thread(target=demote, args=("admin2", "admin1")),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(outcomes) == ["demoted", "refused"]
        with database.session_scope() as session:
            admins = session.scalar(
                select(func.count()).select_from(User).where(User.role == Role.ADMIN.value)
            )
        assert admins == 1
    finally:
        database.dispose()
