"""Staff accounts: creation, password login with lockout, and server-side sessions.

Every outcome that matters to an auditor is written to the audit chain here: logins, failed
logins, lockouts, logouts, idle expiries and user changes (SPEC §8). Usernames of unknown
accounts are not logged: people type passwords into the username field by mistake.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tracker.domain.codes import Role
from tracker.models import User, UserSession
from tracker.services import audit

MIN_PASSWORD_LENGTH = 12
USERNAME_ALLOWED = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._-")


class AccountError(ValueError):
    """A refused account change; the message is for the person who asked.

    ``field`` names the form field at fault (``username`` or ``password``).
    """

    def __init__(self, message: str, field: str = "username") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class LoginPolicy:
    threshold: int
    window: timedelta
    lock_for: timedelta


class LoginOutcome(StrEnum):
    OK = "ok"
    BAD_CREDENTIALS = "bad_credentials"  # unknown user, wrong password, disabled account
    LOCKED = "locked"


@dataclass(frozen=True)
class LoginResult:
    outcome: LoginOutcome
    user: User | None = None


def make_hasher(time_cost: int, memory_cost: int, parallelism: int) -> PasswordHasher:
    """Argon2id with the given cost (argon2-cffi's default type is Argon2id)."""
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)


def validate_username(username: str) -> str:
    name = username.strip()
    if not 2 <= len(name) <= 64 or not set(name) <= USERNAME_ALLOWED:
        raise AccountError(
            "ユーザー名は2〜64文字の半角英小文字・数字・「.」「_」「-」で入力してください"
            f"（入力値: 「{name}」）"
        )
    return name


def validate_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            f"パスワードは{MIN_PASSWORD_LENGTH}文字以上にしてください", field="password"
        )


def create_user(
    session: Session,
    hasher: PasswordHasher,
    *,
    actor: str,
    username: str,
    role: Role,
    password: str,
    display_name: str | None = None,
) -> User:
    """Add an account (audited). Refuses a taken name or a weak password."""
    username = validate_username(username)
    validate_password(password)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise AccountError(f"ユーザー名「{username}」は既に使われています")
    user = User(
        username=username,
        display_name=(display_name or username).strip(),
        role=role.value,
        password_hash=hasher.hash(password),
        active=True,
        failed_login_count=0,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="user.create",
        object_type="user",
        object_id=user.id,
        details={"username": username, "role": role.value},
    )
    return user


def set_active(session: Session, *, actor: str, user: User, active: bool, now: datetime) -> None:
    """Enable or disable an account; disabling ends its open sessions at once."""
    if user.active == active:
        return
    user.active = active
    if not active:
        _end_all_sessions(session, user, now, reason="deactivated")
    audit.record(
        session,
        actor=actor,
        action="user.activate" if active else "user.deactivate",
        object_type="user",
        object_id=user.id,
        details={"username": user.username},
    )


def set_password(
    session: Session,
    hasher: PasswordHasher,
    *,
    actor: str,
    user: User,
    password: str,
    now: datetime,
) -> None:
    """Replace a password; other sessions of that user end (they may be an intruder's)."""
    validate_password(password)
    user.password_hash = hasher.hash(password)
    user.failed_login_count = 0
    user.failed_login_window_start = None
    user.locked_until = None
    _end_all_sessions(session, user, now, reason="password")
    audit.record(
        session,
        actor=actor,
        action="user.password_change",
        object_type="user",
        object_id=user.id,
        details={"username": user.username},
    )


# A valid hash to verify against when the username is unknown, so that both failures cost the
# same time and an attacker cannot tell which accounts exist.
_DUMMY_PASSWORD = "timing-equaliser-not-a-password"  # noqa: S105 — not a credential


_dummy_hashes: dict[tuple[int, int, int], str] = {}


def _dummy_hash(hasher: PasswordHasher) -> str:
    key = (hasher.time_cost, hasher.memory_cost, hasher.parallelism)
    if key not in _dummy_hashes:
        _dummy_hashes[key] = hasher.hash(_DUMMY_PASSWORD)
    return _dummy_hashes[key]


def authenticate(
    session: Session,
    hasher: PasswordHasher,
    policy: LoginPolicy,
    *,
    username: str,
    password: str,
    now: datetime,
) -> LoginResult:
    """Check a password login; counts failures and locks the account per ``policy``."""
    user = session.scalar(select(User).where(User.username == username.strip()).with_for_update())
    if user is None:
        _verify_quietly(hasher, _dummy_hash(hasher), password)
        audit.record(
            session,
            actor="anonymous",
            action="auth.login_failed",
            outcome="refused",
            details={"reason": "unknown_user"},
        )
        return LoginResult(LoginOutcome.BAD_CREDENTIALS)

    if user.locked_until is not None and user.locked_until > now:
        audit.record(
            session,
            actor=user.username,
            action="auth.login_failed",
            object_type="user",
            object_id=user.id,
            outcome="refused",
            details={"reason": "locked", "locked_until": user.locked_until.isoformat()},
        )
        return LoginResult(LoginOutcome.LOCKED)

    password_ok = user.password_hash is not None and _verify_quietly(
        hasher, user.password_hash, password
    )
    if password_ok and user.active:
        user.failed_login_count = 0
        user.failed_login_window_start = None
        user.locked_until = None
        user.last_login_at = now
        if user.password_hash and hasher.check_needs_rehash(user.password_hash):
            user.password_hash = hasher.hash(password)
        audit.record(
            session,
            actor=user.username,
            action="auth.login",
            object_type="user",
            object_id=user.id,
        )
        return LoginResult(LoginOutcome.OK, user)

    reason = "wrong_password" if user.active else "inactive"
    _count_failure(user, policy, now)
    audit.record(
        session,
        actor=user.username,
        action="auth.login_failed",
        object_type="user",
        object_id=user.id,
        outcome="refused",
        details={"reason": reason, "failures_in_window": user.failed_login_count},
    )
    if user.failed_login_count >= policy.threshold:
        user.locked_until = now + policy.lock_for
        user.failed_login_count = 0
        user.failed_login_window_start = None
        audit.record(
            session,
            actor=user.username,
            action="auth.lockout",
            object_type="user",
            object_id=user.id,
            outcome="refused",
            details={"locked_until": user.locked_until.isoformat()},
        )
    return LoginResult(LoginOutcome.BAD_CREDENTIALS)


def _count_failure(user: User, policy: LoginPolicy, now: datetime) -> None:
    start = user.failed_login_window_start
    if start is None or now - start > policy.window:
        user.failed_login_window_start = now
        user.failed_login_count = 1
    else:
        user.failed_login_count += 1


def _verify_quietly(hasher: PasswordHasher, stored_hash: str, password: str) -> bool:
    try:
        return hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def start_session(session: Session, user: User, now: datetime) -> str:
    """Open a server-side session and return the token for the browser's cookie."""
    token = secrets.token_urlsafe(32)
    session.add(
        UserSession(
            token_hash=_token_hash(token), user_id=user.id, created_at=now, last_seen_at=now
        )
    )
    session.flush()
    return token


#: ``last_seen_at`` is written at most this often, not on every request.
TOUCH_INTERVAL = timedelta(seconds=30)


@dataclass(frozen=True)
class SessionLookup:
    user_session: UserSession | None
    expired: bool = False


def resume_session(
    session: Session, token: str, now: datetime, idle_timeout: timedelta
) -> SessionLookup:
    """The live session for ``token``, or ``None``; ends it if idle past the timeout."""
    user_session = session.scalar(
        select(UserSession).where(UserSession.token_hash == _token_hash(token))
    )
    if user_session is None or user_session.ended_at is not None:
        return SessionLookup(None)
    user = user_session.user
    if not user.active:
        return SessionLookup(None)
    if now - user_session.last_seen_at > idle_timeout:
        user_session.ended_at = now
        user_session.end_reason = "idle"
        audit.record(
            session,
            actor=user.username,
            action="auth.session_expired",
            object_type="user",
            object_id=user.id,
            details={"idle_minutes": int(idle_timeout.total_seconds() // 60)},
        )
        return SessionLookup(None, expired=True)
    if now - user_session.last_seen_at > TOUCH_INTERVAL:
        user_session.last_seen_at = now
    return SessionLookup(user_session)


def end_session(session: Session, token: str, now: datetime) -> None:
    """Logout: the token is worthless from now on, wherever a copy of the cookie is."""
    user_session = session.scalar(
        select(UserSession).where(UserSession.token_hash == _token_hash(token))
    )
    if user_session is None or user_session.ended_at is not None:
        return
    user_session.ended_at = now
    user_session.end_reason = "logout"
    audit.record(
        session,
        actor=user_session.user.username,
        action="auth.logout",
        object_type="user",
        object_id=user_session.user_id,
    )


def _end_all_sessions(session: Session, user: User, now: datetime, reason: str) -> None:
    session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason)
    )
