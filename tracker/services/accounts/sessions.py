"""Server-side sessions: the browser's cookie holds a random token whose SHA-256 names a row.

A session ends at logout, after the idle timeout or at its maximum age (each audited here), and
when its user's password changes or the user is disabled (:mod:`.users` audits that change).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tracker.domain.codes import AuditAction
from tracker.models import User, UserSession
from tracker.services import audit


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


#: ``last_seen_at`` is written at most this often, not on every request: on SQLite a write
#: waits for the write lock, and a page that only reads should not (issue 10).
TOUCH_INTERVAL = timedelta(minutes=1)


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
        reason = "max_age" if too_old else "idle"
        if _end(session, user_session, now, reason):  # two tabs: one expiry, one event
            audit.record(
                session,
                actor=user.username,
                action=AuditAction.AUTH_SESSION_EXPIRED,
                object_type="user",
                object_id=user.id,
                details={"reason": reason},
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
    if user_session is None or not _end(session, user_session, now, "logout"):
        return
    audit.record(
        session,
        actor=user_session.user.username,
        action=AuditAction.AUTH_LOGOUT,
        object_type="user",
        object_id=user_session.user_id,
    )


def _end(session: Session, user_session: UserSession, now: datetime, reason: str) -> bool:
    """End a session exactly once (a conditional update); False if it had already ended."""
    ended: int = session.execute(  # type: ignore[attr-defined]  # a CursorResult
        update(UserSession)
        .where(UserSession.id == user_session.id, UserSession.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(user_session)
    return ended == 1


def _end_all_sessions(
    session: Session, user: User, now: datetime, reason: str, *, keep_token: str | None = None
) -> int:
    """End the user's open sessions (all but the one ``keep_token`` names); returns how many."""
    condition = [UserSession.user_id == user.id, UserSession.ended_at.is_(None)]
    if keep_token is not None:
        condition.append(UserSession.token_hash != _token_hash(keep_token))
    ended: int = session.execute(  # type: ignore[attr-defined]  # a CursorResult
        update(UserSession)
        .where(*condition)
        .values(ended_at=now, end_reason=reason)
        .execution_options(synchronize_session=False)
    ).rowcount
    return ended
