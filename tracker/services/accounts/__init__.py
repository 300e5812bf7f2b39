"""Staff accounts: creation, password login with lockout, and server-side sessions.

Every outcome that matters to an auditor is written to the audit chain here: logins, failed
logins, lockouts, logouts, idle expiries and user changes (SPEC §8). Usernames of unknown
accounts are not logged: people type passwords into the username field by mistake.

Wrong passwords (issue 10) lock an account for the client address they came from, never for
everyone: otherwise anyone on the network could lock out both officers a four-eyes approval
needs with five guesses each. Failures from many addresses slow every attempt on the account
down instead (a delay, not a lock), and an admin can lift the locks (``unlock``). A password
typed again to confirm an approval counts exactly like a login (``confirm_password``).

:mod:`.users` creates and changes accounts, :mod:`.logins` checks passwords and keeps the
lockout, :mod:`.directory` logs in through LDAP / Active Directory (issue 17) with the same
lockout, sessions and audit, :mod:`.sessions` starts, resumes and ends the server-side
sessions. Callers use the names re-exported here (``accounts.create_user``,
``accounts.authenticate``, …).
"""

from __future__ import annotations

from tracker.services.accounts.directory import (
    authenticate_with_directory,
    confirm_with_directory,
    load_group_roles,
    save_group_roles,
)
from tracker.services.accounts.logins import (
    AttemptKind,
    Credentials,
    LoginOutcome,
    LoginPolicy,
    LoginResult,
    authenticate,
    check_password,
    confirm_password,
    locked_user_ids,
    lookup_credentials,
    record_login_attempt,
)
from tracker.services.accounts.sessions import (
    TOUCH_INTERVAL,
    SessionLookup,
    end_session,
    resume_session,
    start_session,
)
from tracker.services.accounts.users import (
    NO_ADMIN_LEFT,
    SAME_PASSWORD,
    USERNAME_ALLOWED,
    WRONG_CURRENT_PASSWORD,
    AccountError,
    change_own_password,
    change_role,
    create_user,
    generate_password,
    make_hasher,
    reset_password,
    set_active,
    set_password,
    unlock,
    validate_password,
    validate_username,
)

__all__ = [
    "NO_ADMIN_LEFT",
    "SAME_PASSWORD",
    "TOUCH_INTERVAL",
    "USERNAME_ALLOWED",
    "WRONG_CURRENT_PASSWORD",
    "AccountError",
    "AttemptKind",
    "Credentials",
    "LoginOutcome",
    "LoginPolicy",
    "LoginResult",
    "SessionLookup",
    "authenticate",
    "authenticate_with_directory",
    "change_own_password",
    "change_role",
    "check_password",
    "confirm_password",
    "confirm_with_directory",
    "create_user",
    "end_session",
    "generate_password",
    "load_group_roles",
    "locked_user_ids",
    "lookup_credentials",
    "make_hasher",
    "record_login_attempt",
    "reset_password",
    "resume_session",
    "save_group_roles",
    "set_active",
    "set_password",
    "start_session",
    "unlock",
    "validate_password",
    "validate_username",
]
