"""Password checks with lockout and slow-down (issues 2 and 10).

A login is three steps so that no transaction is open during the Argon2 check: read the stored
hash (:func:`lookup_credentials`), verify it (:func:`check_password`), then count the outcome
under a row lock (:func:`record_login_attempt`); :func:`authenticate` runs them in order.
Failures lock the account for the client address they came from only; many failures from any
address slow every attempt down. :func:`confirm_password` (a password typed again to approve)
counts exactly like a login.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from tracker.domain.codes import AuditAction
from tracker.models import LoginFailure, LoginLock, User
from tracker.services import audit


@dataclass(frozen=True)
class LoginPolicy:
    """How wrong passwords count (issues 2 and 10).

    ``threshold`` failures from one client address within ``window`` (sliding) lock the account
    for that address for ``lock_for``. From ``slowdown_after`` failures within the window from
    any address, every attempt on the account first waits ``slowdown``.
    """

    threshold: int
    window: timedelta
    lock_for: timedelta
    slowdown_after: int = 20
    slowdown: timedelta = timedelta(seconds=2)


class AttemptKind(StrEnum):
    """Where a password was typed: both count towards the same lockout."""

    LOGIN = "login"
    #: A logged-in person typing the password again to confirm a step (four-eyes approval).
    REENTRY = "reentry"


class LoginOutcome(StrEnum):
    OK = "ok"
    BAD_CREDENTIALS = "bad_credentials"  # unknown user, wrong password, disabled account
    LOCKED = "locked"
    #: Directory login: no directory server answered (nothing was counted).
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class LoginResult:
    outcome: LoginOutcome
    user: User | None = None
    #: Seconds the attempt waited because the account is under a broad attack (0: none).
    delayed: float = 0.0

    @property
    def ok(self) -> bool:
        return self.outcome is LoginOutcome.OK


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
    #: Seconds to wait before checking: many recent failures on the account (issue 10).
    delay: float = 0.0


def lookup_credentials(
    session: Session,
    username: str,
    policy: LoginPolicy | None = None,
    now: datetime | None = None,
) -> Credentials:
    """Step 1 of a login: read the stored hash. Run it in a short, read-only transaction.

    With ``policy`` and ``now``, also decide the slow-down: failures within the window from
    every address count, so an attack spread over many addresses still slows down.
    """
    row = session.execute(
        select(User.id, User.password_hash).where(User.username == username.strip())
    ).first()
    if row is None:
        return Credentials(None, None)
    delay = 0.0
    if policy is not None and now is not None:
        recent = session.scalar(
            select(func.count())
            .select_from(LoginFailure)
            .where(LoginFailure.user_id == row.id, LoginFailure.failed_at > now - policy.window)
        )
        if (recent or 0) >= policy.slowdown_after:
            delay = policy.slowdown.total_seconds()
    return Credentials(row.id, row.password_hash, delay)


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
    client: str,
    now: datetime,
    kind: AttemptKind = AttemptKind.LOGIN,
    source: str | None = None,
    reason: str | None = None,
) -> LoginResult:
    """Step 3, one write transaction: lockout bookkeeping, audit, the outcome.

    Failures are counted per (account, client address) in a sliding window (the last
    ``policy.window``), under a lock on the user's row so that parallel wrong guesses cannot
    slip past the threshold together. A lock holds for that address only.

    ``source`` (``"ldap"``) goes into the events' details; ``reason`` names why a failure that
    is not a wrong password was refused (the directory's ``directory_disabled``, ``no_role``).
    """
    client = (client or "unknown")[:64]
    context: dict[str, object] = {"client": client, "attempt": kind.value}
    if source is not None:
        context["source"] = source
    delay_ms = round(credentials.delay * 1000)  # audit details hold no floats
    if credentials.delay:
        context["delay_ms"] = delay_ms
    if credentials.user_id is None:
        audit.record(
            session,
            actor="anonymous",
            action=AuditAction.AUTH_LOGIN_FAILED,
            outcome="refused",
            details={"reason": reason or "unknown_user", **context},
        )
        return LoginResult(LoginOutcome.BAD_CREDENTIALS, delayed=credentials.delay)
    user = session.scalar(
        select(User)
        .where(User.id == credentials.user_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if user is None:  # deleted between the steps
        return LoginResult(LoginOutcome.BAD_CREDENTIALS, delayed=credentials.delay)
    if user.password_hash != credentials.password_hash:
        password_ok = False  # the password changed while we were hashing: check again
    _prune(session, user.id, now - policy.window)
    lock = session.scalar(
        select(LoginLock).where(LoginLock.user_id == user.id, LoginLock.client == client)
    )
    if lock is not None and lock.locked_until > now:
        audit.record(
            session,
            actor=user.username,
            action=AuditAction.AUTH_LOGIN_FAILED,
            object_type="user",
            object_id=user.id,
            outcome="refused",
            details={"reason": "locked", "locked_until": lock.locked_until.isoformat(), **context},
        )
        return LoginResult(LoginOutcome.LOCKED, delayed=credentials.delay)

    if password_ok and user.active:
        # this address is trusted again; failures from elsewhere still count there
        session.execute(
            delete(LoginFailure).where(
                LoginFailure.user_id == user.id, LoginFailure.client == client
            )
        )
        if lock is not None:
            session.delete(lock)
        if kind is AttemptKind.LOGIN:
            user.last_login_at = now
        if user.password_hash and hasher.check_needs_rehash(user.password_hash):
            user.password_hash = hasher.hash(password)
        audit.record(
            session,
            actor=user.username,
            action=AuditAction.AUTH_LOGIN
            if kind is AttemptKind.LOGIN
            else AuditAction.AUTH_PASSWORD_REENTERED,
            object_type="user",
            object_id=user.id,
            details={
                **({"delay_ms": delay_ms} if credentials.delay else {}),
                **({"source": source} if source is not None else {}),
            }
            or None,
        )
        return LoginResult(LoginOutcome.OK, user, delayed=credentials.delay)

    session.add(LoginFailure(user_id=user.id, client=client, failed_at=now))
    session.flush()
    # failures up to an earlier lock of this address were used up by that lock
    since = now - policy.window
    if lock is not None and lock.locked_at > since:
        since = lock.locked_at
    recent = (
        session.scalar(
            select(func.count())
            .select_from(LoginFailure)
            .where(
                LoginFailure.user_id == user.id,
                LoginFailure.client == client,
                LoginFailure.failed_at > since,
            )
        )
        or 0
    )
    audit.record(
        session,
        actor=user.username,
        action=AuditAction.AUTH_LOGIN_FAILED,
        object_type="user",
        object_id=user.id,
        outcome="refused",
        details={
            "reason": (reason or "wrong_password") if user.active else "inactive",
            "failures_in_window": recent,
            **context,
        },
    )
    if recent >= policy.threshold:
        if lock is None:
            lock = LoginLock(user_id=user.id, client=client)
            session.add(lock)
        lock.locked_at = now
        lock.locked_until = now + policy.lock_for
        audit.record(
            session,
            actor=user.username,
            action=AuditAction.AUTH_LOCKOUT,
            object_type="user",
            object_id=user.id,
            outcome="refused",
            details={"locked_until": lock.locked_until.isoformat(), "client": client},
        )
    return LoginResult(LoginOutcome.BAD_CREDENTIALS, delayed=credentials.delay)


def authenticate(
    read_session: Callable[[], AbstractContextManager[Session]],
    session: Session,
    hasher: PasswordHasher,
    policy: LoginPolicy,
    *,
    username: str,
    password: str,
    client: str,
    now: datetime,
    kind: AttemptKind = AttemptKind.LOGIN,
    sleep: Callable[[float], None] = time.sleep,
    first: Callable[[Session], None] | None = None,
) -> LoginResult:
    """One password attempt, the three steps in order; the result is flushed, not committed.

    ``read_session`` opens a short read-only session for step 1. The slow-down wait and the
    Argon2 check then run with no transaction open, and step 3 writes into ``session``, which
    must not be in a transaction yet (on SQLite it would hold the write lock meanwhile).
    ``first`` runs in ``session`` just before step 3: the place to take the row lock of what
    the password guards, before step 3's audit event takes the audit chain's lock (the lock
    order every transition keeps).
    """
    if session.in_transaction():
        raise RuntimeError("a password check must not run inside a database transaction")
    with read_session() as reading:
        credentials = lookup_credentials(reading, username, policy, now)
    if credentials.delay:
        sleep(credentials.delay)
    password_ok = check_password(hasher, credentials, password)
    if first is not None:
        first(session)
    return record_login_attempt(
        session,
        hasher,
        policy,
        credentials=credentials,
        password=password,
        password_ok=password_ok,
        client=client,
        now=now,
        kind=kind,
    )


def confirm_password(
    read_session: Callable[[], AbstractContextManager[Session]],
    session: Session,
    hasher: PasswordHasher,
    policy: LoginPolicy,
    *,
    user: User,
    password: str,
    client: str,
    now: datetime,
    sleep: Callable[[float], None] = time.sleep,
    first: Callable[[Session], None] | None = None,
) -> LoginResult:
    """A logged-in ``user`` types the password again (four-eyes approval, issue 10).

    It counts exactly like a login: a wrong password is a failure in the same window, enough of
    them lock the account for that address (the login page then refuses it too), and a locked
    account is refused even with the right password. Same rules as :func:`authenticate`.
    """
    result = authenticate(
        read_session,
        session,
        hasher,
        policy,
        username=user.username,
        password=password,
        client=client,
        now=now,
        kind=AttemptKind.REENTRY,
        sleep=sleep,
        first=first,
    )
    if result.ok and (result.user is None or result.user.id != user.id):
        return LoginResult(LoginOutcome.BAD_CREDENTIALS)  # renamed meanwhile: never someone else
    return result


def locked_user_ids(session: Session, now: datetime) -> set[int]:
    """Accounts locked for at least one client address right now (for the admin's list)."""
    return set(session.scalars(select(LoginLock.user_id).where(LoginLock.locked_until > now)))


def _forget_failures(session: Session, user_id: int) -> None:
    session.execute(delete(LoginFailure).where(LoginFailure.user_id == user_id))
    session.execute(delete(LoginLock).where(LoginLock.user_id == user_id))


def _prune(session: Session, user_id: int, window_start: datetime) -> None:
    """Drop failures that no longer count, and locks whose consumed failures are gone too."""
    session.execute(
        delete(LoginFailure).where(
            LoginFailure.user_id == user_id, LoginFailure.failed_at <= window_start
        )
    )
    session.execute(
        delete(LoginLock).where(
            LoginLock.user_id == user_id, LoginLock.locked_until <= window_start
        )
    )


def _verify_quietly(hasher: PasswordHasher, stored_hash: str, password: str) -> bool:
    try:
        return hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False
