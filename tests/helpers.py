"""Helpers shared by tests (fixtures live in conftest.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask.testing import FlaskClient
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
