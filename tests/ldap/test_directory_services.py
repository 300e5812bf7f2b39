"""Directory login below the web pages (issue 17): the ldap3 client against the test slapd
(template and service-account modes, several servers, no bind without a password), the
password typed again for a four-eyes step, and the ``TRACKER_LDAP_*`` settings."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from tests.ldap.conftest import Directory
from tests.ldap.directory_data import GROUPS_OU, PEOPLE, ROOT_DN, ROOT_PASSWORD, group_dn, password
from tests.ldap.support import attempt, closed_url, config_for, logged_in_ok
from tracker.clock import now_utc
from tracker.config import LdapConfig, ldap_from_env
from tracker.models import AuditEvent, User
from tracker.services import accounts
from tracker.services.accounts.ldap_client import DirectoryOutcome, check_password

FIFTEEN = timedelta(minutes=15)
POLICY = accounts.LoginPolicy(threshold=5, window=FIFTEEN, lock_for=FIFTEEN)


# --- the client ----------------------------------------------------------------------------


def test_the_client_reads_name_and_groups_and_refuses_wrong_and_disabled(
    directory: Directory,
) -> None:
    config = config_for(directory.url)
    answer = check_password(config, "sato", password("sato"))
    assert answer.outcome is DirectoryOutcome.OK
    assert answer.display_name == "佐藤 次郎"
    assert answer.groups == (group_dn("tracker-records"),)
    assert check_password(config, "sato", "wrong").outcome is DirectoryOutcome.REFUSED
    assert check_password(config, "nobody", "wrong").outcome is DirectoryOutcome.REFUSED
    assert check_password(config, "ito", password("ito")).outcome is DirectoryOutcome.DISABLED
    # OpenLDAP: locked with the password policy, the right password binds no more
    assert check_password(config, "kimura", password("kimura")).outcome is DirectoryOutcome.REFUSED


def test_an_empty_password_is_refused_without_a_connection(directory: Directory) -> None:
    # a server that is down would answer UNAVAILABLE if anything were tried
    assert check_password(config_for(closed_url()), "sato", "").outcome is DirectoryOutcome.REFUSED


def test_a_service_account_finds_the_user_then_the_user_binds(directory: Directory) -> None:
    config = LdapConfig(
        urls=(directory.url,),
        bind_dn=ROOT_DN,
        bind_password=ROOT_PASSWORD,
        user_search_base=PEOPLE,
        user_filter="(&(objectClass=inetOrgPerson)(uid={username}))",
        group_search_base=GROUPS_OU,
        timeout=3,
    )
    answer = check_password(config, "kato", password("kato"))
    assert answer.outcome is DirectoryOutcome.OK and answer.display_name == "加藤 三郎"
    # the service account's own password opens nobody's account
    assert check_password(config, "kato", ROOT_PASSWORD).outcome is DirectoryOutcome.REFUSED
    assert check_password(config, "ghost", password("kato")).outcome is DirectoryOutcome.REFUSED


def test_the_next_server_answers_when_the_first_is_down(directory: Directory) -> None:
    config = replace(config_for(directory.url, timeout=1), urls=(closed_url(), directory.url))
    assert check_password(config, "sato", password("sato")).outcome is DirectoryOutcome.OK


# --- the password typed again (four-eyes approval) --------------------------------------------


def test_a_directory_user_types_the_password_again_counted_like_a_login(
    ldap_app: Flask,
) -> None:
    assert logged_in_ok(attempt(ldap_app.test_client(), "sato", password("sato")))
    database = ldap_app.extensions["tracker.db"]
    hasher = ldap_app.extensions["tracker.password_hasher"]
    ldap = ldap_app.config["TRACKER"].ldap

    def confirm(secret: str) -> bool:
        with database.session_scope() as session:
            user = session.scalar(select(User).where(User.username == "sato"))
            assert user is not None
            session.rollback()
            return accounts.confirm_with_directory(
                database.read_session,
                session,
                hasher,
                POLICY,
                ldap,
                user=user,
                password=secret,
                client="10.0.0.7",
                now=now_utc(),
            ).ok

    assert confirm(password("sato"))
    assert not confirm("a wrong one")
    assert not confirm("")
    with database.session_scope() as session:
        reentered = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "auth.password_reentered")
        ).all()
        failed = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "auth.login_failed")
        ).all()
        assert [json.loads(e.details or "{}") for e in reentered] == [{"source": "ldap"}]
        assert [json.loads(e.details)["failures_in_window"] for e in failed] == [1, 2]
        assert {json.loads(e.details)["attempt"] for e in failed} == {"reentry"}


# --- settings ------------------------------------------------------------------------------


def test_no_ldap_url_means_local_accounts_only() -> None:
    assert ldap_from_env({}) is None


def test_the_settings_are_read_from_the_environment(tmp_path: Path) -> None:
    secret = tmp_path / "bind-password"
    secret.write_text("service-secret\n")
    config = ldap_from_env(
        {
            "TRACKER_LDAP_URL": "ldaps://dc1.example.local ldaps://dc2.example.local",
            "TRACKER_LDAP_BIND_DN": "CN=svc-tracker,OU=Service,DC=example,DC=local",
            "TRACKER_LDAP_BIND_PASSWORD_FILE": str(secret),
            "TRACKER_LDAP_USER_SEARCH_BASE": "DC=example,DC=local",
            "TRACKER_LDAP_USER_FILTER": "(sAMAccountName={username})",
            "TRACKER_LDAP_TIMEOUT": "3",
        }
    )
    assert config is not None
    assert config.urls == ("ldaps://dc1.example.local", "ldaps://dc2.example.local")
    assert config.bind_password == "service-secret"
    assert config.group_attribute == "memberOf" and config.group_search_base is None
    assert config.timeout == 3
    assert "service-secret" not in repr(config)


@pytest.mark.parametrize(
    ("environ", "names"),
    [
        ({"TRACKER_LDAP_URL": "http://dc1"}, "TRACKER_LDAP_URL"),
        ({"TRACKER_LDAP_URL": "ldap://dc1"}, "TRACKER_LDAP_USER_DN_TEMPLATE"),
        (
            {"TRACKER_LDAP_URL": "ldap://dc1", "TRACKER_LDAP_USER_DN_TEMPLATE": "uid=x,dc=org"},
            "{username}",
        ),
        (
            {
                "TRACKER_LDAP_URL": "ldap://dc1",
                "TRACKER_LDAP_USER_DN_TEMPLATE": "{username}@example.local",
                "TRACKER_LDAP_TIMEOUT": "0",
            },
            "TRACKER_LDAP_TIMEOUT",
        ),
        (
            {
                "TRACKER_LDAP_URL": "ldap://dc1",
                "TRACKER_LDAP_USER_DN_TEMPLATE": "{username}@example.local",
                "TRACKER_LDAP_CA_FILE": "/nonexistent/ca.pem",
            },
            "TRACKER_LDAP_CA_FILE",
        ),
        (
            {
                "TRACKER_LDAP_URL": "ldap://dc1",
                "TRACKER_LDAP_BIND_DN": "cn=svc,dc=example,dc=org",
                "TRACKER_LDAP_BIND_PASSWORD_FILE": "/nonexistent/password",
                "TRACKER_LDAP_USER_SEARCH_BASE": "dc=example,dc=org",
            },
            "TRACKER_LDAP_BIND_PASSWORD_FILE",
        ),
    ],
)
def test_a_setting_that_cannot_work_stops_the_start_naming_it(
    environ: dict[str, str], names: str
) -> None:
    with pytest.raises(ValueError, match=names.replace("{", r"\{").replace("}", r"\}")):
        ldap_from_env(environ)


# --- TLS -----------------------------------------------------------------------------------


def tls_config(directory: Directory, **changes: object) -> LdapConfig:
    if directory.ldaps_url is None:
        pytest.skip("openssl is missing: no certificate for the TLS tests")
    return replace(config_for(directory.ldaps_url, ca_file=directory.ca_file), **changes)


def test_ldaps_and_starttls_verify_the_certificate_against_the_ca_file(
    directory: Directory,
) -> None:
    ldaps = tls_config(directory)
    assert check_password(ldaps, "sato", password("sato")).outcome is DirectoryOutcome.OK
    starttls = tls_config(directory, urls=(directory.starttls_url(),), start_tls=True)
    assert check_password(starttls, "sato", password("sato")).outcome is DirectoryOutcome.OK


def test_a_certificate_from_another_ca_is_refused_as_a_directory_down(
    directory: Directory,
) -> None:
    for config in [
        tls_config(directory, ca_file=directory.other_ca_file),
        tls_config(
            directory,
            urls=(directory.starttls_url(),),
            start_tls=True,
            ca_file=directory.other_ca_file,
        ),
        tls_config(directory, ca_file=None),  # the system's CAs do not know the test CA
    ]:
        answer = check_password(config, "sato", password("sato"))
        assert answer.outcome is DirectoryOutcome.UNAVAILABLE, config
