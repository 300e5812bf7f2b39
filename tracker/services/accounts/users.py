"""Accounts themselves: names, passwords, creation, enabling and disabling, unlocking.

Every change is audited (SPEC §8). A password change or disabling ends the account's open
sessions (:mod:`.sessions`); a password change or an admin's unlock forgets its failed logins
and lifts its locks (:mod:`.logins`).
"""

from __future__ import annotations

import secrets
from datetime import datetime

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tracker.domain.codes import AuditAction, Role
from tracker.domain.errors import InputError
from tracker.domain.mynumber import contains_individual_number, mask_individual_numbers
from tracker.domain.passwords import password_problems
from tracker.domain.records import check_free_text
from tracker.models import LoginLock, User
from tracker.services import audit
from tracker.services.accounts.logins import _forget_failures
from tracker.services.accounts.sessions import _end_all_sessions

USERNAME_ALLOWED = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._-")


class AccountError(ValueError):
    """A refused account change; the message is for the person who asked.

    ``field`` names the form field at fault (``username`` or ``password``).
    """

    def __init__(self, message: str, field: str = "username") -> None:
        super().__init__(message)
        self.field = field


def make_hasher(time_cost: int, memory_cost: int, parallelism: int) -> PasswordHasher:
    """Argon2id with the given cost (argon2-cffi's default type is Argon2id)."""
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)


def validate_username(username: str) -> str:
    name = username.strip()
    if contains_individual_number(name):  # SPEC §2; and never echoed back
        raise AccountError("ユーザー名に個人番号（マイナンバー）と思われる数字は使えません")
    if not 2 <= len(name) <= 64 or not set(name) <= USERNAME_ALLOWED:
        raise AccountError(
            "ユーザー名は2〜64文字の半角英小文字・数字・「.」「_」「-」で入力してください"
            f"（入力値: 「{mask_individual_numbers(name)}」）"
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
        action=AuditAction.USER_CREATE,
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
        action=AuditAction.USER_ACTIVATE if active else AuditAction.USER_DEACTIVATE,
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
    _forget_failures(session, user.id)
    _end_all_sessions(session, user, now, reason="password")
    audit.record(
        session,
        actor=actor,
        action=AuditAction.USER_PASSWORD_CHANGE,
        object_type="user",
        object_id=user.id,
        details={"username": user.username},
    )


def unlock(session: Session, *, actor: str, user: User, now: datetime) -> int:
    """Lift every lock on the account and forget its failures (audited); returns the locks
    that were in force. The slow-down starts again from zero too."""
    lifted = len(
        session.scalars(
            select(LoginLock.id).where(LoginLock.user_id == user.id, LoginLock.locked_until > now)
        ).all()
    )
    _forget_failures(session, user.id)
    audit.record(
        session,
        actor=actor,
        action=AuditAction.USER_UNLOCK,
        object_type="user",
        object_id=user.id,
        details={"username": user.username, "locks_lifted": lifted},
    )
    return lifted
