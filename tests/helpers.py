"""Helpers shared by tests (fixtures live in conftest.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import Engine, event
from werkzeug.test import TestResponse

from tracker.domain.codes import Role

PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class Account:
    username: str
    password: str
    role: Role


CSRF_RE = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token a browser would have, read from a rendered form."""
    page = client.get(path, follow_redirects=True).get_data(as_text=True)
    match = CSRF_RE.search(page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client: FlaskClient, account: Account, password: str | None = None) -> TestResponse:
    return client.post(
        "/login",
        data={
            "username": account.username,
            "password": account.password if password is None else password,
            "csrf_token": csrf_token(client),
        },
    )


def search(client: FlaskClient, q: str = "", *, follow: bool = True, **fields: str) -> TestResponse:
    """Search the way the page does (issue 16): the words are posted, never put in the URL.

    With ``follow`` the 303 to ``/items?s=<token>`` (or to the item a number names) is
    followed, so the response is the results page."""
    token = csrf_token(client, "/items")
    data = {"q": q, "csrf_token": token, **fields}
    return client.post("/items", data=data, follow_redirects=follow)


def scan(client: FlaskClient, q: str, *, follow: bool = False) -> TestResponse:
    """Type ``q`` into the scan box in the header and press Enter (it posts, issue 16)."""
    token = csrf_token(client, "/items")
    return client.post("/search", data={"q": q, "csrf_token": token}, follow_redirects=follow)


#: Transaction control, not counted as a statement (SQLite's BEGIN is sent as SQL, PostgreSQL's
#: is not; SAVEPOINTs come with db.attempt()).
_TRANSACTION_CONTROL = re.compile(r"\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b", re.I)


@contextmanager
def count_statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements ``engine`` sends inside the block (``before_cursor_execute``),
    transaction control left out: ``with count_statements(engine) as sent: …; len(sent)``."""
    sent: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if not _TRANSACTION_CONTROL.match(statement):
            sent.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", before)
