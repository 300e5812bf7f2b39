"""Open redirect through ``next`` (issue #7): after login, and after the language switch.

The Location header is resolved the way a browser resolves it (WHATWG URL: tabs and newlines
dropped, leading C0 controls and spaces trimmed, ``\\`` read as ``/``) against the app's own
origin: it must stay on that origin whatever ``next`` held.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote, urljoin, urlsplit

import pytest
from flask.testing import FlaskClient

from tests.helpers import csrf_token
from tracker.domain.codes import Role

ORIGIN = "http://localhost"

NASTY = [
    "//evil.example",
    "///evil.example",
    "////evil.example/x",
    "/\\evil.example",
    "\\\\evil.example",
    "/\\/evil.example",
    "https://evil.example",
    "HTTPS://evil.example",
    "http:evil.example",
    "https:/evil.example",
    "javascript:alert(1)",
    " javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "%2F%2Fevil.example",
    "/%2F/evil.example",
    "/%5Cevil.example",
    "\t//evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    "/%09/evil.example",
    " //evil.example",
    "\x00//evil.example",
    "https://localhost@evil.example",
    "//localhost@evil.example/",
    "/@evil.example",
    "@evil.example",
    "//evil.example%2F@localhost",
    "／／evil.example",
    "//evil。example",
    "/.//evil.example",
]


def browser_target(location: str) -> str:
    """Where a browser would go for this Location header, from a page on ORIGIN."""
    cleaned = re.sub(r"[\t\n\r]", "", location).strip("".join(chr(i) for i in range(0x21)))
    return urljoin(ORIGIN + "/login", cleaned.replace("\\", "/"))


def assert_stays_home(location: str, target: str) -> None:
    resolved = urlsplit(browser_target(location))
    assert resolved.scheme == "http", (target, location)
    assert resolved.netloc == "localhost", (target, location)


def test_the_check_itself_catches_an_open_redirect() -> None:
    """browser_target must see through the tricks, or the tests below prove nothing."""
    for escaping in ["//evil.example", "/\\evil.example", "\t//evil.example", "/\t/evil.example"]:
        with pytest.raises(AssertionError):
            assert_stays_home(escaping, escaping)
    assert_stays_home("/admin/users", "/admin/users")


def _has_control(text: str) -> bool:
    return any((ord(c) < 32 and c not in "\t\r\n") or ord(c) == 127 for c in text)


@pytest.mark.parametrize("target", NASTY)
def test_login_never_redirects_off_site(client: FlaskClient, make_user, target: str) -> None:
    account = make_user(Role.ADMIN)
    if _has_control(target):  # refused outright by the request guard: no redirect at all
        assert client.get(f"/login?next={quote(target, safe='')}").status_code == 400
        return
    # as a browser would come: the login page carries ``next`` into its hidden field
    page = client.get(f"/login?next={quote(target, safe='')}")
    assert page.status_code == 200
    response = client.post(
        "/login",
        data={
            "username": account.username,
            "password": account.password,
            "next": target,
            "csrf_token": csrf_token(client),
        },
    )
    assert response.status_code == 302
    assert_stays_home(response.headers["Location"], target)


def test_a_local_next_is_still_honoured(client: FlaskClient, make_user) -> None:
    account = make_user(Role.ADMIN)
    response = client.post(
        "/login",
        data={
            "username": account.username,
            "password": account.password,
            "next": "/admin/users?page=2",
            "csrf_token": csrf_token(client),
        },
    )
    assert response.headers["Location"] == "/admin/users?page=2"


@pytest.mark.parametrize("target", NASTY)
def test_the_language_switch_never_redirects_off_site(client: FlaskClient, target: str) -> None:
    response = client.post(
        "/language", data={"lang": "en", "next": target, "csrf_token": csrf_token(client)}
    )
    if _has_control(target):  # refused by the request guard: no redirect at all
        assert response.status_code == 400 and "Location" not in response.headers
        return
    assert response.status_code == 302
    assert_stays_home(response.headers["Location"], target)


def test_the_next_built_for_an_anonymous_visit_leads_back_home(
    client: FlaskClient, make_user
) -> None:
    """The unauthorised handler builds ``next`` from the request; the round trip stays local."""
    response = client.get("/items?status=in_custody")
    assert response.status_code == 302
    login_page = response.headers["Location"]
    assert login_page.startswith("/login?next=")
    client.get(login_page)
    account = make_user(Role.CLERK)
    next_value = dict(p.split("=", 1) for p in urlsplit(login_page).query.split("&") if "=" in p)[
        "next"
    ]
    response = client.post(
        "/login",
        data={
            "username": account.username,
            "password": account.password,
            "next": unquote(next_value),
            "csrf_token": csrf_token(client),
        },
    )
    assert response.headers["Location"] == "/items?status=in_custody"
