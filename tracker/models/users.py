"""Staff accounts and their server-side sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.domain.codes import Role, sql_in
from tracker.models.base import Base, UTCDateTime, utcnow


class User(Base):
    """A member of staff. Roles are exclusive: one person, one role (SPEC §1)."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint(f"role IN ({sql_in(Role)})", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Login name, also the actor name in the audit log.
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    #: Argon2id PHC string; ``None`` for an account that cannot log in yet.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Set for a new account and after an admin reset: the next login must choose a password.
    must_change_password: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )

    sessions: Mapped[list[UserSession]] = relationship(back_populates="user")

    @property
    def role_enum(self) -> Role:
        return Role(self.role)


class LoginFailure(Base):
    """One wrong password (at login or re-entered), kept while it counts (sliding window).

    Failures from one client address lock the account for that address only (LoginLock);
    failures from anywhere slow every attempt on the account down (issue 10).
    """

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_user_id_failed_at", "user_id", "failed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    #: The client address the attempt came from (``request.remote_addr`` after ProxyFix).
    client: Mapped[str] = mapped_column(String(64))
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LoginLock(Base):
    """An account locked for one client address: others may still log in (issue 10).

    One row per (account, address) that was ever locked, kept while its lock or the failures
    it consumed could still matter; ``locked_at`` marks the failures that lock used up.
    """

    __tablename__ = "login_locks"
    __table_args__ = (UniqueConstraint("user_id", "client"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    client: Mapped[str] = mapped_column(String(64))
    locked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime] = mapped_column(UTCDateTime)


class UserSession(Base):
    """A login. The browser holds a random token; only its SHA-256 is stored here.

    Logging out (or idling past the timeout) ends the row, so a copied cookie is worthless
    afterwards: Flask's signed-cookie session alone cannot be revoked.
    """

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: ``logout``, ``idle``, ``deactivated`` …
    end_reason: Mapped[str | None] = mapped_column(String(20))

    user: Mapped[User] = relationship(back_populates="sessions")
