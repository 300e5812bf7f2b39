"""Helpers of the directory-login tests: the app with directory login, a login attempt."""

from __future__ import annotations

import socket

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests import factories
from tests.conftest import make_config
from tests.helpers import csrf_token
from tests.ldap.directory_data import GROUPS, GROUPS_OU, PEOPLE, group_dn
from tracker import create_app
from tracker.clock import now_utc
from tracker.config import LdapConfig
from tracker.domain.codes import Role
from tracker.services import accounts

BREAK_GLASS = "breakglass"


def config_for(url: str, **changes: object) -> LdapConfig:
    settings: dict[str, object] = {
        "urls": (url,),
        "user_dn_template": f"uid={{username}},{PEOPLE}",
        "group_search_base": GROUPS_OU,
        "timeout": 3,
    }
    settings.update(changes)
    return LdapConfig(**settings)  # type: ignore[arg-type]


def make_ldap_app(database_url: str, ldap: LdapConfig) -> Flask:
    """The app with directory login, the group table of the test directory, and a local
    break-glass admin whose name the directory also knows (another person)."""
    application = create_app(make_config(database_url, ldap=ldap))
    with application.extensions["tracker.db"].session_scope() as session:
        accounts.save_group_roles(
            session,
            {Role(role): (group_dn(group),) for group, role in GROUPS.items()},
            actor="cli:test",
            now=now_utc(),
        )
    factories.user(application, Role.ADMIN, BREAK_GLASS)
    return application


def closed_url() -> str:
    """An LDAP URL of a local port nobody listens on: the directory is down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"ldap://127.0.0.1:{probe.getsockname()[1]}"


def attempt(
    client: FlaskClient, username: str, secret: str, address: str = "10.0.0.1"
) -> TestResponse:
    return client.post(
        "/login",
        data={"username": username, "password": secret, "csrf_token": csrf_token(client)},
        environ_base={"REMOTE_ADDR": address},
    )


def logged_in_ok(response: TestResponse) -> bool:
    return response.status_code == 302 and response.headers["Location"] == "/"
