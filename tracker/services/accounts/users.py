"""Accounts themselves: names, passwords, roles, creation, enabling and disabling, unlocking.

Every change is audited (SPEC §8) and is a conditional ``UPDATE`` whose row count is checked
(a colleague's change in between is a :class:`~tracker.services.transitions.Conflict`).

* A person changes their own password by typing the current one first; a wrong one counts
  exactly like a failed login (:func:`.logins.confirm_password`), and their *other* sessions
  end (issue 12).
* An admin's reset gives a random one-time password, shown once and never stored or logged in
  clear; the account must choose a new one at its next login (``must_change_password``). So
  must an account an admin creates on the web; ``tracker create-user`` does not set it, since
  that is how the first admin is made (docs/cli.md).
* A role change, a reset or disabling ends all of that account's sessions; no change may leave
  the office without an active admin.
* A password change, a reset or an admin's unlock forgets the failed logins and lifts the
  locks (:mod:`.logins`).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime

from argon2 import PasswordHasher
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tracker.domain.codes import AuditAction, Role
from tracker.domain.errors import InputError
from tracker.domain.mynumber import contains_individual_number, mask_individual_numbers
from tracker.domain.passwords import password_problems
from tracker.domain.records import check_free_text
from tracker.models import LoginLock, User
from tracker.services import audit
from tracker.services.accounts.logins import (
    AttemptKind,
    LoginPolicy,
    _forget_failures,
    authenticate,
)
from tracker.services.accounts.sessions import _end_all_sessions
from tracker.services.transitions import Conflict, serialise

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
    must_change_password: bool = False,
) -> User:
    """Add an account (audited). Refuses a taken name or a weak password.

    ``must_change_password``: the first login must choose a new password (an account an admin
    creates on the web; not the first admin, made with ``tracker create-user``).
    """
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
        must_change_password=must_change_password,
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
        details={
            "username": username,
            "role": role.value,
            "must_change_password": must_change_password,
        },
    )
    return user


#: Refusal of a change that would leave nobody able to manage accounts.
NO_ADMIN_LEFT = "有効なシステム管理者が一人もいなくなるため、この変更はできません"


def _conflict(user: User) -> str:
    return f"ユーザー「{user.display_name}」は他の操作で変更されました。画面を開き直してください"


def _keeps_an_admin(session: Session, user: User) -> None:
    """Refuse when ``user`` is the last active admin. Serialised, so that two admins demoting
    each other at the same moment cannot both pass the check."""
    serialise(session, "admins")
    others = session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.role == Role.ADMIN.value, User.active.is_(True), User.id != user.id)
    )
    if not others:
        raise AccountError(NO_ADMIN_LEFT, field="role")


def set_active(session: Session, *, actor: str, user: User, active: bool, now: datetime) -> None:
    """Enable or disable an account; disabling ends its open sessions at once.

    Refuses to disable the last active admin; a change nobody needed does nothing.
    """
    if user.active == active:
        return
    if not active and user.role == Role.ADMIN.value:
        _keeps_an_admin(session, user)
    changed: int = session.execute(  # type: ignore[attr-defined]  # a CursorResult
        update(User)
        .where(User.id == user.id, User.active.is_(not active))
        .values(active=active)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(user)
    if changed != 1:
        raise Conflict(_conflict(user))
    ended = 0 if active else _end_all_sessions(session, user, now, reason="deactivated")
    audit.record(
        session,
        actor=actor,
        action=AuditAction.USER_ACTIVATE if active else AuditAction.USER_DEACTIVATE,
        object_type="user",
        object_id=user.id,
        details={"username": user.username, **({} if active else {"sessions_ended": ended})},
    )


def _replace_hash(
    session: Session, user: User, *, expected_hash: str | None, new_hash: str, must_change: bool
) -> None:
    """The password moves only from the hash the caller saw (a conditional update)."""
    condition = (
        User.password_hash.is_(None)
        if expected_hash is None
        else User.password_hash == expected_hash
    )
    changed: int = session.execute(  # type: ignore[attr-defined]  # a CursorResult
        update(User)
        .where(User.id == user.id, condition)
        .values(password_hash=new_hash, must_change_password=must_change)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(user)
    if changed != 1:
        raise Conflict(_conflict(user))


def set_password(
    session: Session,
    hasher: PasswordHasher,
    *,
    actor: str,
    user: User,
    password: str,
    now: datetime,
) -> None:
    """Replace a password without asking for the old one (for tools and tests); every session
    of that user ends (they may be an intruder's)."""
    validate_password(password, username=user.username, display_name=user.display_name)
    _replace_hash(
        session,
        user,
        expected_hash=user.password_hash,
        new_hash=hasher.hash(password),
        must_change=False,
    )
    _forget_failures(session, user.id)
    ended = _end_all_sessions(session, user, now, reason="password")
    audit.record(
        session,
        actor=actor,
        action=AuditAction.USER_PASSWORD_CHANGE,
        object_type="user",
        object_id=user.id,
        details={"username": user.username, "sessions_ended": ended},
    )


WRONG_CURRENT_PASSWORD = "現在のパスワードが正しくありません"  # noqa: S105 — a message
SAME_PASSWORD = "新しいパスワードは現在のパスワードと違うものにしてください"  # noqa: S105


def change_own_password(
    read_session: Callable[[], AbstractContextManager[Session]],
    session: Session,
    hasher: PasswordHasher,
    policy: LoginPolicy,
    *,
    user_id: int,
    current_password: str,
    new_password: str,
    client: str,
    now: datetime,
    keep_token: str | None,
    sleep: Callable[[float], None] = time.sleep,
) -> User:
    """A logged-in person replaces their own password (issue 12); returns the account.

    The new password must pass the password rule (checked first, so a weak choice costs no
    attempt). The current password is then checked exactly like a re-entered one: a wrong one
    is a failed login for the lockout, and a locked account is refused even with the right one;
    :class:`AccountError` (field ``current_password``) then says so, and the caller must still
    commit (the failure is flushed). ``session`` must not be in a transaction yet (the Argon2
    checks run outside it). On success the other sessions end (``keep_token`` is the one in
    use) and ``must_change_password`` is cleared.
    """
    if session.in_transaction():
        raise RuntimeError("a password check must not run inside a database transaction")
    with read_session() as reading:
        account = reading.get(User, user_id)
        if account is None:
            raise AccountError(WRONG_CURRENT_PASSWORD, field="current_password")
        username, display_name = account.username, account.display_name
    if new_password == current_password:
        raise AccountError(SAME_PASSWORD, field="password")
    validate_password(new_password, username=username, display_name=display_name)
    new_hash = hasher.hash(new_password)  # before any transaction: Argon2 takes a while
    result = authenticate(
        read_session,
        session,
        hasher,
        policy,
        username=username,
        password=current_password,
        client=client,
        now=now,
        kind=AttemptKind.REENTRY,
        sleep=sleep,
    )
    if not result.ok or result.user is None or result.user.id != user_id:
        raise AccountError(WRONG_CURRENT_PASSWORD, field="current_password")
    user = result.user
    was_required = user.must_change_password
    _replace_hash(
        session, user, expected_hash=user.password_hash, new_hash=new_hash, must_change=False
    )
    _forget_failures(session, user.id)
    ended = _end_all_sessions(session, user, now, reason="password", keep_token=keep_token)
    audit.record(
        session,
        actor=user.username,
        action=AuditAction.USER_PASSWORD_CHANGE,
        object_type="user",
        object_id=user.id,
        details={
            "username": user.username,
            "by": "self",
            "was_required": was_required,
            "sessions_ended": ended,
        },
    )
    return user


def reset_password(
    session: Session, hasher: PasswordHasher, *, actor: str, user: User, now: datetime
) -> str:
    """An admin gives ``user`` a random one-time password and returns it, to be shown once.

    The account must choose its own password at the next login; its sessions end, its failed
    logins and locks are forgotten. The password is in no log and no audit event.
    """
    password = generate_password(user.username, user.display_name)
    _replace_hash(
        session,
        user,
        expected_hash=user.password_hash,
        new_hash=hasher.hash(password),
        must_change=True,
    )
    _forget_failures(session, user.id)
    ended = _end_all_sessions(session, user, now, reason="password_reset")
    audit.record(
        session,
        actor=actor,
        action=AuditAction.USER_PASSWORD_RESET,
        object_type="user",
        object_id=user.id,
        details={"username": user.username, "sessions_ended": ended},
    )
    return password


def change_role(session: Session, *, actor: str, user: User, role: Role, now: datetime) -> None:
    """Give ``user`` another role (audited with before and after); their sessions end, so the
    new role applies from their next login. Refuses to leave no active admin."""
    before = user.role
    if before == role.value:
        raise AccountError(f"役割は既に「{role.label_ja}」です", field="role")
    if before == Role.ADMIN.value and user.active:
        _keeps_an_admin(session, user)
    changed: int = session.execute(  # type: ignore[attr-defined]  # a CursorResult
        update(User)
        .where(User.id == user.id, User.role == before)
        .values(role=role.value)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(user)
    if changed != 1:
        raise Conflict(_conflict(user))
    ended = _end_all_sessions(session, user, now, reason="role")
    audit.record(
        session,
        actor=actor,
        action=AuditAction.USER_ROLE_CHANGE,
        object_type="user",
        object_id=user.id,
        details={
            "username": user.username,
            "before": before,
            "after": role.value,
            "sessions_ended": ended,
        },
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
