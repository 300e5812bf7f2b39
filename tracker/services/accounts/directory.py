"""Directory login (LDAP / Active Directory, issue 17): the same lockout, sessions and audit as
a local password, with the directory checking the password and giving the role.

Who logs in where, when ``TRACKER_LDAP_URL`` is set:

* An account **with a local password** (a password hash) logs in locally, always, and the
  directory is never asked about that name: the break-glass admin works when the directory
  is down or wrong. So a directory user whose name is taken by a local account cannot log in
  through the directory; the local account wins (rename one of them).
* Every other name is checked by binding to the directory as that user
  (:mod:`.ldap_client`). On success the local account is created, or updated: display name
  from the directory, role from the admin's group table (:mod:`tracker.domain.directory`).
  Accounts made this way have no password hash; an admin's password reset gives one a local
  password, which makes it a local account from then on.
* A role different from the stored one is changed with the same effect as an admin's role
  change: the account's other sessions end, and the change is audited (``by: ldap``). The
  last-admin rule does not hold here: the directory decides (keep a local break-glass admin).
* Refused: wrong password or unknown name, a disabled directory account, no mapped group,
  groups of two roles, an account disabled here. The login page answers all of these with the
  one message of a wrong password; the audit event says which (``reason``) with ``source:
  ldap``. Each counts towards the lockout of an account that exists here (five from one
  address lock it for that address), and a locked account is not even tried against the
  directory. A name the tracker has never seen is audited as ``anonymous``, without the name,
  as for local logins, and counts nowhere here (the directory's own lockout applies).
* No directory server answering: nothing is counted, the event says
  ``directory_unavailable``, and the page says so (:attr:`LoginOutcome.UNAVAILABLE`).

The group table is a setting (key ``ldap_group_roles``), changed by an admin and audited
with before and after like the office settings.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime

from argon2 import PasswordHasher
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tracker.config import LdapConfig
from tracker.domain.chain import canonical_json
from tracker.domain.codes import AuditAction, Role
from tracker.domain.directory import AmbiguousRole, GroupRoles, check_table, role_for_groups
from tracker.domain.errors import InputError
from tracker.domain.records import check_free_text
from tracker.models import LoginLock, Setting, User
from tracker.services import audit
from tracker.services.accounts import ldap_client
from tracker.services.accounts.logins import (
    AttemptKind,
    Credentials,
    LoginOutcome,
    LoginPolicy,
    LoginResult,
    authenticate,
    lookup_credentials,
    record_login_attempt,
)
from tracker.services.accounts.sessions import _end_all_sessions
from tracker.services.accounts.users import AccountError, validate_username

SOURCE = "ldap"
SETTING_KEY = "ldap_group_roles"

#: How the directory is asked (tests pass a stand-in); the real one binds with ldap3.
DirectoryCheck = Callable[[LdapConfig, str, str], ldap_client.DirectoryAnswer]


# --- the group → role table ----------------------------------------------------------------


def load_group_roles(session: Session) -> dict[Role, tuple[str, ...]]:
    """The admin's table, every role present (an empty tuple: no group gives it)."""
    row = session.get(Setting, SETTING_KEY)
    stored = json.loads(row.value) if row is not None else {}
    return {role: tuple(stored.get(role.value, ())) for role in Role}


def save_group_roles(session: Session, table: GroupRoles, *, actor: str, now: datetime) -> bool:
    """Store the table (audited with before and after); False when nothing changed.

    Refuses (``InputError``) a group listed under two roles. Group DNs are not personal data.
    """
    check_table(table)
    before = {role.value: list(groups) for role, groups in load_group_roles(session).items()}
    after = {role.value: list(table.get(role, ())) for role in Role}
    if before == after:
        return False
    row = session.get(Setting, SETTING_KEY)
    value = canonical_json(after)
    if row is None:
        session.add(
            Setting(key=SETTING_KEY, value=value, updated_at=now.astimezone(UTC), updated_by=actor)
        )
    else:
        row.value, row.updated_at, row.updated_by = value, now.astimezone(UTC), actor
    changed = [role for role in after if after[role] != before[role]]
    audit.record(
        session,
        actor=actor,
        action=AuditAction.SETTINGS_CHANGE,
        object_type="settings",
        details={
            "changed": [SETTING_KEY],
            "before": {SETTING_KEY: {role: before[role] for role in changed}},
            "after": {SETTING_KEY: {role: after[role] for role in changed}},
        },
    )
    session.flush()
    return True


# --- login ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Known:
    """What the read step found about the name typed."""

    credentials: Credentials
    locked_here: bool


def authenticate_with_directory(
    read_session: Callable[[], AbstractContextManager[Session]],
    session: Session,
    hasher: PasswordHasher,
    policy: LoginPolicy,
    ldap: LdapConfig,
    *,
    username: str,
    password: str,
    client: str,
    now: datetime,
    sleep: Callable[[float], None] = time.sleep,
    check: DirectoryCheck = ldap_client.check_password,
) -> LoginResult:
    """One login attempt when directory login is configured (the rules in the module text).

    Like :func:`.logins.authenticate`: ``session`` must not be in a transaction (the directory
    is asked with none open); the outcome is flushed, the caller commits, on refusal too.
    """
    if session.in_transaction():
        raise RuntimeError("a password check must not run inside a database transaction")
    name = username.strip()
    with read_session() as reading:
        local_hash = reading.scalar(select(User.password_hash).where(User.username == name))
    if local_hash is not None:  # a local account: the break-glass path, directory not asked
        return authenticate(
            read_session,
            session,
            hasher,
            policy,
            username=name,
            password=password,
            client=client,
            now=now,
            sleep=sleep,
        )

    name = name.lower()  # directory names are case-insensitive; local names are lower case
    try:
        validate_username(name)
    except AccountError:
        name = ""  # cannot be an account here: refused without asking the directory
    known = _read(read_session, name, policy, now, client)
    if known.credentials.delay:
        sleep(known.credentials.delay)
    answer: ldap_client.DirectoryAnswer | None = None
    if name and password and not known.locked_here:
        answer = check(ldap, name, password)
    if answer is not None and answer.outcome is ldap_client.DirectoryOutcome.UNAVAILABLE:
        _record_unavailable(session, known, name, client)
        return LoginResult(LoginOutcome.UNAVAILABLE, delayed=known.credentials.delay)

    reason = _refusal(session, answer)
    role = None
    if not reason and answer is not None:
        role = role_for_groups(answer.groups, load_group_roles(session))
    password_ok = role is not None

    credentials = known.credentials
    if credentials.user_id is None and password_ok and answer is not None and role is not None:
        credentials = _create_account(session, name, answer.display_name, role)
    result = record_login_attempt(
        session,
        hasher,
        policy,
        credentials=credentials,
        password="",  # never stored: a directory account has no local hash to renew
        password_ok=password_ok,
        client=client,
        now=now,
        source=SOURCE,
        reason=reason or None,
    )
    if result.ok and result.user is not None and answer is not None and role is not None:
        _update_account(session, result.user, answer.display_name, role, now)
    return result


def confirm_with_directory(
    read_session: Callable[[], AbstractContextManager[Session]],
    session: Session,
    hasher: PasswordHasher,
    policy: LoginPolicy,
    ldap: LdapConfig,
    *,
    user: User,
    password: str,
    client: str,
    now: datetime,
    sleep: Callable[[float], None] = time.sleep,
    first: Callable[[Session], None] | None = None,
    check: DirectoryCheck = ldap_client.check_password,
) -> LoginResult:
    """A logged-in directory user types their password again (four-eyes approval).

    Checked by the directory like a login, and counted exactly like :func:`.logins.
    confirm_password` counts a local one (same lockout, ``auth.password_reentered``). The
    directory must still give the account its current role; a disabled account, another
    role or no answer from the directory refuses the step. ``first`` as there.
    """
    if session.in_transaction():
        raise RuntimeError("a password check must not run inside a database transaction")
    known = _read(read_session, user.username, policy, now, client)
    if known.credentials.user_id != user.id or known.credentials.password_hash is not None:
        return LoginResult(LoginOutcome.BAD_CREDENTIALS)  # renamed, or a local account now
    if known.credentials.delay:
        sleep(known.credentials.delay)
    answer = None
    if password and not known.locked_here:
        answer = check(ldap, user.username, password)
    if first is not None:
        first(session)
    if answer is not None and answer.outcome is ldap_client.DirectoryOutcome.UNAVAILABLE:
        _record_unavailable(session, known, user.username, client, AttemptKind.REENTRY)
        return LoginResult(LoginOutcome.UNAVAILABLE, delayed=known.credentials.delay)
    reason = _refusal(session, answer)
    if not reason:
        role = role_for_groups(answer.groups, load_group_roles(session)) if answer else None
        if role is None or role.value != user.role:
            reason = "role_changed"  # the next login applies the directory's role
    return record_login_attempt(
        session,
        hasher,
        policy,
        credentials=known.credentials,
        password="",
        password_ok=not reason,
        client=client,
        now=now,
        kind=AttemptKind.REENTRY,
        source=SOURCE,
        reason=reason or None,
    )


def _refusal(session: Session, answer: ldap_client.DirectoryAnswer | None) -> str:
    """Why a directory answer refuses a login ("" if it does not)."""
    if answer is None or answer.outcome is ldap_client.DirectoryOutcome.REFUSED:
        return "wrong_password"
    if answer.outcome is ldap_client.DirectoryOutcome.DISABLED:
        return "directory_disabled"
    try:
        role = role_for_groups(answer.groups, load_group_roles(session))
    except AmbiguousRole:
        return "ambiguous_role"
    return "" if role is not None else "no_role"


def _read(
    read_session: Callable[[], AbstractContextManager[Session]],
    name: str,
    policy: LoginPolicy,
    now: datetime,
    client: str,
) -> _Known:
    """The account (if any), its slow-down, and whether it is locked for this address: a
    locked account is not tried against the directory (no more guesses reach it)."""
    if not name:
        return _Known(Credentials(None, None), False)
    with read_session() as reading:
        credentials = lookup_credentials(reading, name, policy, now)
        locked = credentials.user_id is not None and (
            reading.scalar(
                select(LoginLock.id).where(
                    LoginLock.user_id == credentials.user_id,
                    LoginLock.client == (client or "unknown")[:64],
                    LoginLock.locked_until > now,
                )
            )
            is not None
        )
    return _Known(credentials, locked)


def _record_unavailable(
    session: Session,
    known: _Known,
    name: str,
    client: str,
    kind: AttemptKind = AttemptKind.LOGIN,
) -> None:
    """No directory answered: audited, counted nowhere (the password was never checked)."""
    user_id = known.credentials.user_id
    audit.record(
        session,
        actor=name if user_id is not None else "anonymous",
        action=AuditAction.AUTH_LOGIN_FAILED,
        object_type="user" if user_id is not None else None,
        object_id=user_id,
        outcome="refused",
        details={
            "reason": "directory_unavailable",
            "client": (client or "unknown")[:64],
            "attempt": kind.value,
            "source": SOURCE,
        },
    )


def _display_name(name: str, from_directory: str | None) -> str:
    """The directory's display name if it is one this tracker can hold, else the login name."""
    try:
        return check_free_text(from_directory or "", "display_name", required=True, label="表示名")
    except InputError:
        return name


def _create_account(
    session: Session, name: str, display_name: str | None, role: Role
) -> Credentials:
    """The local account of a directory user's first login (no password hash), audited."""
    user = User(
        username=name,
        display_name=_display_name(name, display_name),
        role=role.value,
        password_hash=None,
        active=True,
        must_change_password=False,
    )
    try:
        with session.begin_nested():
            session.add(user)
            session.flush()
    except IntegrityError:  # a parallel first login of the same person made it a moment ago
        existing = session.scalar(select(User).where(User.username == name))
        if existing is None:
            raise
        return Credentials(existing.id, existing.password_hash)
    audit.record(
        session,
        actor=name,
        action=AuditAction.USER_CREATE,
        object_type="user",
        object_id=user.id,
        details={"username": name, "role": role.value, "source": SOURCE},
    )
    return Credentials(user.id, None)


def _update_account(
    session: Session, user: User, display_name: str | None, role: Role, now: datetime
) -> None:
    """Bring the account in line with the directory after a login (its row is locked)."""
    shown = _display_name(user.username, display_name)
    if display_name and shown != user.display_name:
        user.display_name = shown
    before = user.role
    if before == role.value:
        return
    changed: int = session.execute(  # type: ignore[attr-defined]  # a CursorResult
        update(User)
        .where(User.id == user.id, User.role == before)
        .values(role=role.value)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(user)
    if changed != 1:  # changed meanwhile by an admin: the next login applies the directory's
        return
    ended = _end_all_sessions(session, user, now, reason="role")
    audit.record(
        session,
        actor=user.username,
        action=AuditAction.USER_ROLE_CHANGE,
        object_type="user",
        object_id=user.id,
        details={
            "username": user.username,
            "before": before,
            "after": role.value,
            "sessions_ended": ended,
            "by": SOURCE,
        },
    )
