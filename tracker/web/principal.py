"""The logged-in person as Flask-Login sees them, tied to one server-side session."""

from __future__ import annotations

from flask import current_app, g
from flask_login import UserMixin

from tracker.clock import now_utc
from tracker.domain.codes import Role
from tracker.extensions import db, login_manager
from tracker.models import User
from tracker.services import accounts


class Principal(UserMixin):
    """A user plus the session token that authenticated this request.

    ``get_id`` returns the token, so Flask-Login's cookie names the *session*, not the user:
    ending the session row on the server logs that cookie out everywhere.
    """

    def __init__(self, user: User, token: str) -> None:
        self.user = user
        self.token = token

    def get_id(self) -> str:
        return self.token

    @property
    def username(self) -> str:
        return self.user.username

    @property
    def display_name(self) -> str:
        return self.user.display_name

    @property
    def role(self) -> str:
        return self.user.role

    @property
    def role_enum(self) -> Role:
        return Role(self.user.role)

    def has_role(self, *roles: Role) -> bool:
        return self.user.role in {role.value for role in roles}


@login_manager.user_loader
def load_principal(token: str) -> Principal | None:
    """Resume the server-side session, in a session of its own.

    Its own session, so that committing the ``last_seen_at`` touch (or an expiry and its audit
    event) can never commit anything a view has flushed into the request's session. On SQLite
    this needs the write lock, so the user must be loaded before a view writes: the access
    hook does that for every protected view; a public view must not write before it touches
    ``current_user`` (the error handler rolls back first for the same reason).
    """
    config = current_app.config["TRACKER"]
    # Its own unit of work, committed here: a write (the touch) at most once a minute.
    with db.session_scope(read_first=True) as own:
        lookup = accounts.resume_session(
            own, token, now_utc(), config.idle_timeout, config.session_max_age
        )
        user = lookup.user_session.user if lookup.user_session is not None else None
    if lookup.expired:
        g.session_expired = True
    if user is None:
        return None
    return Principal(user, token)
