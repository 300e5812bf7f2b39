"""Staff accounts and their server-side sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String
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
    #: Set when too many recent failures lock the account (issue #2); see LoginFailure.
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    sessions: Mapped[list[UserSession]] = relationship(back_populates="user")

    @property
    def role_enum(self) -> Role:
        return Role(self.role)


class LoginFailure(Base):
    """One failed password login, kept while it counts towards a lockout (sliding window)."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_user_id_failed_at", "user_id", "failed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime)


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
