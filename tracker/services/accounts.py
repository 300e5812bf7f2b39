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
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tracker.domain.codes import Role
from tracker.domain.errors import InputError
from tracker.domain.passwords import password_problems
from tracker.domain.records import check_free_text
from tracker.models import LoginFailure, User, UserSession
from tracker.services import audit

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


def validate_password(
    password: str, *, username: str | None = None, display_name: str | None = None
) -> None:
    """The password rule of :mod:`tracker.domain.passwords`; every failed rule is named."""
    problems = password_problems(password, username=username, display_name=display_name)
    if problems:
        raise AccountError("／".join(problems), field="password")


def generate_password(username: str, display_name: str | None = None) -> str:
    """A random initial password (16 URL-safe characters) that passes the password rule."""
    while True:
        password = secrets.token_urlsafe(12)
        if not password_problems(password, username=username, display_name=display_name):
            return password


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
    try:
        shown = check_free_text(
            display_name or username, "display_name", required=True, label="表示名"
        )
    except InputError as error:
        raise AccountError(str(error), field="display_name") from None
    validate_password(password, username=username, display_name=shown)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise AccountError(f"ユーザー名「{username}」は既に使われています")
    user = User(
        username=username,
        display_name=shown,
        role=role.value,
        password_hash=hasher.hash(password),
        active=True,
    )
    try:
        with session.begin_nested():  # a colleague may have taken the name a moment ago
            session.add(user)
            session.flush()
    except IntegrityError:
        raise AccountError(f"ユーザー名「{username}」は既に使われています") from None
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
    validate_password(password, username=user.username, display_name=user.display_name)
    user.password_hash = hasher.hash(password)
    session.execute(delete(LoginFailure).where(LoginFailure.user_id == user.id))
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


@dataclass(frozen=True)
class Credentials:
    """What a login attempt is checked against, read before any lock is taken."""

    user_id: int | None
    password_hash: str | None


def lookup_credentials(session: Session, username: str) -> Credentials:
    """Step 1 of a login: read the stored hash. Run it in a short, read-only transaction."""
    row = session.execute(
        select(User.id, User.password_hash).where(User.username == username.strip())
    ).first()
    return Credentials(row.id, row.password_hash) if row else Credentials(None, None)


def check_password(hasher: PasswordHasher, credentials: Credentials, password: str) -> bool:
    """Step 2, outside any transaction (Argon2 takes ~100 ms; SQLite has one write lock).

    Always spends exactly one verification, against a dummy hash when the account is unknown
    or has no password, so that no answer comes back faster than another.
    """
    stored = credentials.password_hash
    ok = _verify_quietly(hasher, stored or _dummy_hash(hasher), password)
    return ok and stored is not None


def record_login_attempt(
    session: Session,
    hasher: PasswordHasher,
    policy: LoginPolicy,
    *,
    credentials: Credentials,
    password: str,
    password_ok: bool,
    now: datetime,
) -> LoginResult:
    """Step 3, one write transaction: lockout bookkeeping, audit, the outcome.

    Failures are counted in a sliding window (the last ``policy.window``), under a lock on the
    user's row so that parallel wrong guesses cannot slip past the threshold together.
    """
    if credentials.user_id is None:
        audit.record(
            session,
            actor="anonymous",
            action="auth.login_failed",
            outcome="refused",
            details={"reason": "unknown_user"},
        )
        return LoginResult(LoginOutcome.BAD_CREDENTIALS)
    user = session.scalar(
        select(User)
        .where(User.id == credentials.user_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if user is None:  # deleted between the steps
        return LoginResult(LoginOutcome.BAD_CREDENTIALS)
    if user.password_hash != credentials.password_hash:
        password_ok = False  # the password changed while we were hashing: check again
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

    if password_ok and user.active:
        session.execute(delete(LoginFailure).where(LoginFailure.user_id == user.id))
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

    session.add(LoginFailure(user_id=user.id, failed_at=now))
    session.flush()
    recent = (
        session.scalar(
            select(func.count())
            .select_from(LoginFailure)
            .where(LoginFailure.user_id == user.id, LoginFailure.failed_at > now - policy.window)
        )
        or 0
    )
    audit.record(
        session,
        actor=user.username,
        action="auth.login_failed",
        object_type="user",
        object_id=user.id,
        outcome="refused",
        details={
            "reason": "wrong_password" if user.active else "inactive",
            "failures_in_window": recent,
        },
    )
    if recent >= policy.threshold:
        user.locked_until = now + policy.lock_for
        # the lockout consumes these failures; the audit log keeps them
        session.execute(delete(LoginFailure).where(LoginFailure.user_id == user.id))
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
TOUCH_INTERVAL = timedelta(seconds=15)


@dataclass(frozen=True)
class SessionLookup:
    user_session: UserSession | None
    expired: bool = False


def resume_session(
    session: Session,
    token: str,
    now: datetime,
    idle_timeout: timedelta,
    max_age: timedelta = timedelta(hours=12),
) -> SessionLookup:
    """The live session for ``token``, or ``None``; ends it when idle past the timeout or
    older than ``max_age``."""
    user_session = session.scalar(
        select(UserSession).where(UserSession.token_hash == _token_hash(token))
    )
    if user_session is None or user_session.ended_at is not None:
        return SessionLookup(None)
    user = user_session.user
    if not user.active:
        return SessionLookup(None)
    too_old = now - user_session.created_at > max_age
    if too_old or now - user_session.last_seen_at > idle_timeout:
        user_session.ended_at = now
        user_session.end_reason = "max_age" if too_old else "idle"
        audit.record(
            session,
            actor=user.username,
            action="auth.session_expired",
            object_type="user",
            object_id=user.id,
            details={"reason": user_session.end_reason},
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
