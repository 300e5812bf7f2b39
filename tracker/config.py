"""Typed, frozen configuration built from the environment (or by tests, directly)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

#: Where the SQLite database and other local state live when nothing else is configured.
DEFAULT_INSTANCE_PATH = Path(os.environ.get("TRACKER_INSTANCE_PATH", Path.cwd() / "instance"))


@dataclass(frozen=True)
class PasswordHashing:
    """Argon2id cost parameters. The default follows argon2-cffi (RFC 9106 low-memory profile)."""

    time_cost: int = 3
    memory_cost: int = 65536  # KiB
    parallelism: int = 4

    @classmethod
    def cheap_for_tests(cls) -> PasswordHashing:
        """A profile that is fast enough for a test suite. Never use it in production."""
        return cls(time_cost=1, memory_cost=8, parallelism=1)


@dataclass(frozen=True)
class LdapConfig:
    """Directory login (LDAP / Active Directory), ``TRACKER_LDAP_*`` (docs/deployment.md).

    The user is found either by ``user_dn_template`` (``{username}`` replaced, escaped) or,
    without one, by a search as the service account ``bind_dn`` under ``user_search_base``
    with ``user_filter``. The password typed is then checked by binding as the user; the
    user's own entry (display name, groups, AD's disabled bit) is read over that binding.
    """

    #: One or more ``ldap://`` / ``ldaps://`` URLs; the first that answers is used.
    urls: tuple[str, ...]
    #: ``uid={username},ou=people,dc=example,dc=org`` or AD's ``{username}@example.local``.
    user_dn_template: str | None = None
    #: Where the user's entry is searched (needed for AD's UPN binding and for a service
    #: account); without it the entry is read at the DN the template gives.
    user_search_base: str | None = None
    user_filter: str = "(uid={username})"
    #: A service account for the search (never anonymous); its password is read from a file.
    bind_dn: str | None = None
    bind_password: str | None = field(default=None, repr=False)
    #: Groups by search (``{user_dn}`` in the filter) or, without a base, from this attribute
    #: of the user's entry (AD's and the OpenLDAP memberof overlay's ``memberOf``).
    group_search_base: str | None = None
    group_filter: str = "(|(member={user_dn})(uniqueMember={user_dn}))"
    group_attribute: str = "memberOf"
    display_name_attribute: str = "displayName"
    start_tls: bool = False
    ca_file: Path | None = None
    #: Seconds to wait for a connection and for each answer.
    timeout: int = 5


@dataclass(frozen=True)
class Config:
    """Everything the app needs to run. Build with :meth:`from_env` or directly in tests."""

    database_url: str
    secret_key: str
    #: Signed-out after this long without a request (issue #2: 15 minutes).
    idle_timeout: timedelta = timedelta(minutes=15)
    #: A login ends after this long whatever the activity (one working day).
    session_max_age: timedelta = timedelta(hours=12)
    #: Failed logins from one client address within ``lockout_window`` that lock the account
    #: for that address for ``lockout_duration`` (issues 2 and 10).
    lockout_threshold: int = 5
    lockout_window: timedelta = timedelta(minutes=15)
    lockout_duration: timedelta = timedelta(minutes=15)
    #: From this many failures within ``lockout_window`` from any address, every attempt on
    #: the account waits ``login_slowdown`` first: a delay, never a lock (issue 10).
    login_slowdown_after: int = 20
    login_slowdown: timedelta = timedelta(seconds=2)
    #: Reverse proxies in front of the app: the client address is taken from
    #: ``X-Forwarded-For`` as that many proxies set it (Werkzeug's ProxyFix). 0: the header
    #: is ignored and the address is the TCP peer's.
    trusted_proxies: int = 0
    password_hashing: PasswordHashing = field(default_factory=PasswordHashing)
    #: Set the ``Secure`` flag on the session cookie (production behind HTTPS).
    session_cookie_secure: bool = False
    #: Largest request the web server reads, in MiB: the CSV upload (``TRACKER_MAX_UPLOAD_MB``).
    #: Larger files go through ``tracker import``, which streams from disk.
    max_upload_mb: int = 64
    #: The per-installation key of the audit log's digests (issue 16, docs/audit-digests.md):
    #: a file outside the database (``TRACKER_AUDIT_KEY_FILE``, default ``audit_digest_key`` in
    #: the instance folder), made on first need. Tests set ``audit_key`` directly.
    audit_key_file: Path = field(default_factory=lambda: DEFAULT_INSTANCE_PATH / "audit_digest_key")
    audit_key: bytes | None = None
    #: Directory login; ``None`` (no ``TRACKER_LDAP_URL``): local accounts only.
    ldap: LdapConfig | None = None
    #: ``TRACKER_METRICS_TOKEN``: a bearer token that lets a scraper on another host read
    #: ``/metrics`` (issue 17); without it only this host may.
    metrics_token: str | None = None
    #: Background jobs (issue 17, docs/deployment.md "Background jobs"): where Huey keeps its
    #: queue (``TRACKER_JOBS_URL``: empty → a SQLite file in the instance folder,
    #: ``sqlite:///PATH``, ``redis://…``; ``immediate`` runs a job inside the call, tests only),
    #: where uploads wait for their job (``TRACKER_JOBS_FOLDER``), and after how long without a
    #: heartbeat a running job counts as killed (``TRACKER_JOBS_STALE_SECONDS``).
    jobs_url: str = ""
    jobs_folder: Path = field(default_factory=lambda: DEFAULT_INSTANCE_PATH / "jobs")
    jobs_stale_after: timedelta = timedelta(minutes=5)
    default_locale: str = "ja"
    timezone: str = "Asia/Tokyo"
    testing: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Config:
        """Read ``TRACKER_*`` variables; defaults give a SQLite file in the instance folder."""
        env = os.environ if environ is None else environ
        database_url = env.get("TRACKER_DATABASE_URL") or default_database_url()
        secret_key = env.get("TRACKER_SECRET_KEY") or _instance_secret_key()
        return cls(
            database_url=database_url,
            secret_key=secret_key,
            session_cookie_secure=env.get("TRACKER_SECURE_COOKIES", "") in {"1", "true", "yes"},
            default_locale=env.get("TRACKER_LOCALE", "ja"),
            trusted_proxies=_whole_number(env, "TRACKER_TRUSTED_PROXIES", 0, 0, 16),
            max_upload_mb=_whole_number(env, "TRACKER_MAX_UPLOAD_MB", 64, 1, 4096),
            audit_key_file=Path(
                env.get("TRACKER_AUDIT_KEY_FILE") or DEFAULT_INSTANCE_PATH / "audit_digest_key"
            ),
            ldap=ldap_from_env(env),
            metrics_token=env.get("TRACKER_METRICS_TOKEN") or None,
            jobs_url=env.get("TRACKER_JOBS_URL", ""),
            jobs_folder=Path(env.get("TRACKER_JOBS_FOLDER") or DEFAULT_INSTANCE_PATH / "jobs"),
            jobs_stale_after=timedelta(
                seconds=_whole_number(env, "TRACKER_JOBS_STALE_SECONDS", 300, 2, 86400)
            ),
        )

    def digest_key(self) -> bytes:
        """The audit digest key: ``audit_key`` if set, else the key file (made if missing)."""
        if self.audit_key is not None:
            return self.audit_key
        return load_or_create_key(self.audit_key_file)

    def with_changes(self, **changes: Any) -> Config:
        """A copy with some fields replaced (the config itself is immutable)."""
        return replace(self, **changes)


def _whole_number(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    """An integer setting; a value that is not one in ``low … high`` stops the start-up."""
    text = (env.get(name) or "").strip()
    if not text:
        return default
    if not (text.isascii() and text.isdigit() and low <= int(text) <= high):
        raise ValueError(f"{name} must be a whole number from {low} to {high}, not {text!r}")
    return int(text)


def ldap_from_env(env: Mapping[str, str]) -> LdapConfig | None:
    """``TRACKER_LDAP_*`` as an :class:`LdapConfig`; ``None`` without ``TRACKER_LDAP_URL``.

    A setting that cannot work stops the start-up with a message naming the variable.
    """

    def text(name: str) -> str | None:
        return (env.get(f"TRACKER_LDAP_{name}") or "").strip() or None

    urls = tuple((text("URL") or "").split())
    if not urls:
        return None
    for url in urls:
        if not url.lower().startswith(("ldap://", "ldaps://")):
            raise ValueError(f"TRACKER_LDAP_URL: {url!r} is not an ldap:// or ldaps:// URL")
    template = text("USER_DN_TEMPLATE")
    if template is not None and "{username}" not in template:
        raise ValueError("TRACKER_LDAP_USER_DN_TEMPLATE must contain {username}")
    bind_dn = text("BIND_DN")
    password_file = text("BIND_PASSWORD_FILE")
    bind_password = None
    if password_file is not None:
        try:
            bind_password = Path(password_file).read_text(encoding="utf-8").strip() or None
        except OSError as error:
            raise ValueError(
                f"TRACKER_LDAP_BIND_PASSWORD_FILE: cannot read {password_file!r} ({error.strerror})"
            ) from None
    search_base = text("USER_SEARCH_BASE")
    if template is None and (bind_dn is None or bind_password is None or search_base is None):
        raise ValueError(
            "TRACKER_LDAP_URL is set: set TRACKER_LDAP_USER_DN_TEMPLATE, or a service account "
            "(TRACKER_LDAP_BIND_DN and TRACKER_LDAP_BIND_PASSWORD_FILE) with "
            "TRACKER_LDAP_USER_SEARCH_BASE"
        )
    if bind_dn is not None and bind_password is None:
        raise ValueError("TRACKER_LDAP_BIND_DN needs TRACKER_LDAP_BIND_PASSWORD_FILE (not empty)")
    user_filter = text("USER_FILTER") or LdapConfig.user_filter
    if "{username}" not in user_filter:
        raise ValueError("TRACKER_LDAP_USER_FILTER must contain {username}")
    group_filter = text("GROUP_FILTER") or LdapConfig.group_filter
    if "{user_dn}" not in group_filter and "{username}" not in group_filter:
        raise ValueError("TRACKER_LDAP_GROUP_FILTER must contain {user_dn} or {username}")
    ca_file = text("CA_FILE")
    if ca_file is not None and not Path(ca_file).is_file():
        raise ValueError(f"TRACKER_LDAP_CA_FILE: no file {ca_file!r}")
    return LdapConfig(
        urls=urls,
        user_dn_template=template,
        user_search_base=search_base,
        user_filter=user_filter,
        bind_dn=bind_dn,
        bind_password=bind_password,
        group_search_base=text("GROUP_SEARCH_BASE"),
        group_filter=group_filter,
        group_attribute=text("GROUP_ATTRIBUTE") or LdapConfig.group_attribute,
        display_name_attribute=text("DISPLAY_NAME_ATTRIBUTE") or LdapConfig.display_name_attribute,
        start_tls=(text("START_TLS") or "").lower() in {"1", "true", "yes"},
        ca_file=Path(ca_file) if ca_file else None,
        timeout=_whole_number(env, "TRACKER_LDAP_TIMEOUT", 5, 1, 120),
    )


def default_database_url() -> str:
    """A SQLite file in the instance folder: the zero-setup default (SPEC §9)."""
    DEFAULT_INSTANCE_PATH.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{DEFAULT_INSTANCE_PATH / 'tracker.sqlite3'}"


def _instance_secret_key() -> str:
    """A random key kept in the instance folder, so sessions survive restarts without set-up.

    Production sets ``TRACKER_SECRET_KEY`` instead, shared by every app server.
    """
    DEFAULT_INSTANCE_PATH.mkdir(parents=True, exist_ok=True)
    return _private_file(DEFAULT_INSTANCE_PATH / "secret_key")


def load_or_create_key(path: Path) -> bytes:
    """The audit digest key kept in ``path`` (hex text), made (mode 0600) if it is missing.

    Every app server and command of one installation must read the same file: copy it with
    the backups, never into the database (docs/audit-digests.md).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    text = _private_file(path)
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise ValueError(f"the audit digest key in {path} is not hexadecimal text") from None
    if len(key) < 16:
        raise ValueError(f"the audit digest key in {path} is shorter than 16 bytes")
    return key


def _private_file(path: Path) -> str:
    """The text of ``path``; if missing, 32 random bytes as hex are written to it (mode 0600)."""
    if not path.exists():
        # Written whole to a private temporary file, then linked into place: a process
        # starting at the same moment sees either no key or the complete key, never half.
        temporary = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
        try:
            os.link(temporary, path)  # fails if another process won the race: use theirs
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    return path.read_text().strip()
