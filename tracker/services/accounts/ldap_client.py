"""Asking the directory (LDAP / Active Directory) whether a password is right (issue 17).

The only check is a bind *as the user* with the password typed: the directory decides, with
its own password rules and lockout. Never an anonymous or unauthenticated bind: an empty
password is refused here before any connection (LDAP treats a simple bind with a name and
no password as an unauthenticated bind, which "succeeds"). A service account, if configured,
only searches for the user's DN; it never vouches for anyone.

After the bind, the user's own entry is read over that connection: the display name, the
groups (a group search or the ``memberOf`` attribute) and, for Active Directory, the
``ACCOUNTDISABLE`` bit of ``userAccountControl``. AD also refuses the bind of a disabled
account with result 49 and the sub-code ``data 533``, which is read as disabled too.

Nothing here touches the database, and nothing logged names the user's DN or password:
a directory that cannot be reached is logged with the error's class and the server URL only.
"""

from __future__ import annotations

import contextlib
import logging
import re
import ssl
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ldap3 import BASE, FIRST, NONE, SUBTREE, Connection, Server, ServerPool, Tls
from ldap3.core.exceptions import LDAPException
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import escape_rdn

from tracker.config import LdapConfig
from tracker.domain.directory import ad_account_disabled

log = logging.getLogger(__name__)

#: LDAP result codes (RFC 4511) this module tells apart.
INVALID_CREDENTIALS = 49
#: AD's sub-codes in the diagnostic message of result 49: 533 account disabled.
_AD_DISABLED = re.compile(r"\bdata 533\b")


class DirectoryOutcome(StrEnum):
    OK = "ok"
    #: Unknown name or wrong password: the directory refused the bind.
    REFUSED = "refused"
    #: The directory says the account is disabled.
    DISABLED = "disabled"
    #: No server answered, or it answered with an error other than a refused password.
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class DirectoryAnswer:
    outcome: DirectoryOutcome
    display_name: str | None = None
    groups: tuple[str, ...] = ()


def check_password(config: LdapConfig, username: str, password: str) -> DirectoryAnswer:
    """Bind as ``username`` with ``password`` and read what the login needs."""
    if not password:
        return DirectoryAnswer(DirectoryOutcome.REFUSED)
    try:
        return _check(config, username, password)
    except LDAPException as error:
        log.warning(
            "directory login: no answer from %s (%s)", " ".join(config.urls), type(error).__name__
        )
        return DirectoryAnswer(DirectoryOutcome.UNAVAILABLE)


def _servers(config: LdapConfig) -> Server | ServerPool:
    tls = Tls(
        validate=ssl.CERT_REQUIRED,
        ca_certs_file=str(config.ca_file) if config.ca_file else None,
    )
    servers = [
        Server(url, connect_timeout=config.timeout, tls=tls, get_info=NONE) for url in config.urls
    ]
    if len(servers) == 1:
        return servers[0]
    # one round over the servers in order, then give up (no endless retrying)
    return ServerPool(servers, FIRST, active=1, exhaust=False)


def _connect(config: LdapConfig, server: Server | ServerPool, dn: str, password: str) -> Any:
    """An open connection bound as ``dn`` (``Connection.bound`` says whether it is)."""
    connection = Connection(
        server,
        user=dn,
        password=password,
        receive_timeout=config.timeout,
        read_only=True,
        raise_exceptions=False,
        auto_referrals=False,
    )
    try:
        connection.open()
        if config.start_tls and not connection.start_tls():
            raise LDAPException("StartTLS refused")
        connection.bind()
    except BaseException:
        _close(connection)
        raise
    return connection


def _close(connection: Any) -> None:
    """Unbind and close the socket, also one whose connection failed half-way (ldap3 leaves
    the socket of a refused connection open otherwise)."""
    with contextlib.suppress(LDAPException):
        connection.unbind()
    sock = getattr(connection, "socket", None)
    if sock is not None:
        sock.close()


def _check(config: LdapConfig, username: str, password: str) -> DirectoryAnswer:
    server = _servers(config)
    if config.user_dn_template is not None:
        user_dn = config.user_dn_template.format(username=escape_rdn(username))
    else:
        found = _find_user_dn(config, server, username)
        if found is None:
            return DirectoryAnswer(DirectoryOutcome.REFUSED)
        user_dn = found
    connection = _connect(config, server, user_dn, password)
    try:
        if not connection.bound:
            result = connection.result or {}
            if result.get("result") == INVALID_CREDENTIALS:
                if _AD_DISABLED.search(str(result.get("message", ""))):
                    return DirectoryAnswer(DirectoryOutcome.DISABLED)
                return DirectoryAnswer(DirectoryOutcome.REFUSED)
            raise LDAPException(f"bind answered {result.get('result')}")
        entry = _own_entry(config, connection, username, user_dn)
        if entry is None:  # bound, but the entry cannot be read: no groups, no role
            return DirectoryAnswer(DirectoryOutcome.OK)
        attributes = entry.get("attributes") or {}
        if ad_account_disabled(attributes.get("userAccountControl")):
            return DirectoryAnswer(DirectoryOutcome.DISABLED)
        groups = _groups(config, connection, username, str(entry.get("dn") or user_dn), attributes)
        display_name = _first_text(attributes.get(config.display_name_attribute)) or _first_text(
            attributes.get("cn")
        )
        return DirectoryAnswer(DirectoryOutcome.OK, display_name, groups)
    finally:
        _close(connection)


def _find_user_dn(config: LdapConfig, server: Server | ServerPool, username: str) -> str | None:
    """The user's DN found by the service account (exactly one entry, else ``None``)."""
    assert config.bind_dn and config.bind_password and config.user_search_base  # config checks
    service = _connect(config, server, config.bind_dn, config.bind_password)
    try:
        if not service.bound:
            raise LDAPException("the service account's bind was refused")
        service.search(
            config.user_search_base,
            config.user_filter.format(username=escape_filter_chars(username)),
            search_scope=SUBTREE,
            attributes=[],
            size_limit=2,
        )
        entries = _entries(service)
        return str(entries[0]["dn"]) if len(entries) == 1 else None
    finally:
        _close(service)


def _own_entry(
    config: LdapConfig, connection: Any, username: str, user_dn: str
) -> dict[str, Any] | None:
    attributes = [
        config.display_name_attribute,
        "cn",
        "userAccountControl",
        config.group_attribute,
    ]
    if config.user_search_base is not None:
        connection.search(
            config.user_search_base,
            config.user_filter.format(username=escape_filter_chars(username)),
            search_scope=SUBTREE,
            attributes=attributes,
            size_limit=2,
        )
    else:
        connection.search(user_dn, "(objectClass=*)", search_scope=BASE, attributes=attributes)
    entries = _entries(connection)
    return entries[0] if len(entries) == 1 else None


def _groups(
    config: LdapConfig,
    connection: Any,
    username: str,
    user_dn: str,
    attributes: dict[str, Any],
) -> tuple[str, ...]:
    if config.group_search_base is None:
        return tuple(_texts(attributes.get(config.group_attribute)))
    connection.search(
        config.group_search_base,
        config.group_filter.format(
            user_dn=escape_filter_chars(user_dn), username=escape_filter_chars(username)
        ),
        search_scope=SUBTREE,
        attributes=[],
    )
    return tuple(str(entry["dn"]) for entry in _entries(connection))


def _entries(connection: Any) -> list[dict[str, Any]]:
    result = connection.result or {}
    if result.get("result") not in (0, 4):  # success, or size limit exceeded
        if result.get("result") == 32:  # no such object
            return []
        raise LDAPException(f"search answered {result.get('result')}")
    return [item for item in connection.response or [] if item.get("type") == "searchResEntry"]


def _texts(value: object) -> list[str]:
    values = value if isinstance(value, list | tuple) else [] if value is None else [value]
    texts = []
    for item in values:
        if isinstance(item, bytes):
            item = item.decode("utf-8", "replace")
        texts.append(str(item))
    return texts


def _first_text(value: object) -> str | None:
    texts = [text.strip() for text in _texts(value) if text.strip()]
    return texts[0] if texts else None
