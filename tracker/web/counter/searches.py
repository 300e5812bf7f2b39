"""Search terms never travel in a URL (issue 16): they are kept in the login session.

A name, kana, alias or birth date typed into the search page or the scan box is POSTed (with
CSRF, through :class:`~tracker.web.counter.forms.SearchForm` / ``ScanForm``); the criteria are
kept here and the browser is sent to ``/items?s=<token>``, a random token that means nothing
outside this login session. Pagination adds only ids (``after``/``before``); the back button
and a reload re-run the stored search.

Where: Flask's signed session cookie (``tracker_session``: HttpOnly, SameSite=Lax, Secure in
production), the same place :mod:`tracker.web.purpose` keeps view purposes. A cookie is a
request header, which neither waitress nor a reverse proxy writes to its access log; no new
table (and no migration) is needed, and nothing personal is kept on the server after the
browser is closed. The cookie is signed, not encrypted: the clerk's own browser can read the
terms it typed (it shows the results anyway).

A token is good for :data:`VALID_FOR` after the search was made, and only in the login session
that made it: every entry names a digest of the server-side session token
(:class:`tracker.web.principal.Principal`), and login and logout clear the cookie session. At
most :data:`KEEP` searches are kept (the oldest go first). Anything else — another user's
token, a token after logout, an old one — is "expired": the page says so and shows no results.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import session
from flask_login import current_user

from tracker.clock import now_utc

#: How long a search's token re-runs it (back button, reload, next page).
VALID_FOR = timedelta(hours=1)
#: How many searches one login session keeps (the cookie stays small).
KEEP = 10
SESSION_KEY = "searches"


@dataclass(frozen=True)
class Criteria:
    """What was asked for: the typed words, a status code, a location id."""

    q: str = ""
    status: str = ""
    location: int | None = None


def _owner() -> str:
    token = getattr(current_user, "token", "") or ""
    return hashlib.sha256(f"search:{token}".encode()).hexdigest()[:16]


def _stored() -> dict[str, object]:
    value = session.get(SESSION_KEY)
    return value if isinstance(value, dict) else {}


def _valid(entry: object, owner: str, now: datetime) -> Criteria | None:
    if not isinstance(entry, dict) or entry.get("owner") != owner:
        return None
    try:
        until = datetime.fromisoformat(str(entry.get("until")))
    except ValueError:
        return None
    if until <= now:
        return None
    location = entry.get("location")
    return Criteria(
        q=str(entry.get("q") or ""),
        status=str(entry.get("status") or ""),
        location=location if isinstance(location, int) else None,
    )


def remember(criteria: Criteria) -> str:
    """Keep ``criteria`` for this login session; the opaque token for the URL."""
    now, owner = now_utc(), _owner()
    kept = [(k, v) for k, v in _stored().items() if _valid(v, owner, now) is not None]
    token = secrets.token_urlsafe(12)
    entry = {
        "q": criteria.q,
        "status": criteria.status,
        "location": criteria.location,
        "owner": owner,
        "until": (now + VALID_FOR).isoformat(),
    }
    session[SESSION_KEY] = dict([*kept[-(KEEP - 1) :], (token, entry)])
    return token


def recall(token: str) -> Criteria | None:
    """The criteria behind ``token``, or None when it is not this session's or has expired."""
    return _valid(_stored().get(token), _owner(), now_utc())
