"""A real OpenLDAP ``slapd`` (Debian) for the directory-login tests (issue 17).

Started once per test session (per xdist worker) on a free local port as this unprivileged
user, from a generated ``slapd.conf`` and a small LDIF (:mod:`tests.ldap.directory_data`),
in a temporary folder; stopped at the end. The tests skip, saying why, only when slapd is not
installed (``scripts/system-packages slapd ldap-utils``, which ``scripts/test`` runs).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from ldap3 import MODIFY_ADD, MODIFY_DELETE, Connection, Server

from tests.ldap.directory_data import (
    BASE,
    EXTRA_SCHEMA,
    GROUPS,
    POLICY_DN,
    ROOT_DN,
    ROOT_PASSWORD,
    group_dn,
    ldif,
    user_dn,
)
from tests.ldap.support import config_for, make_ldap_app

SLAPD = "/usr/sbin/slapd"
SLAPADD = "/usr/sbin/slapadd"


@dataclass(frozen=True)
class Directory:
    """The running test directory and a few ways to change it as its administrator."""

    url: str
    #: The same directory over TLS (``ldaps://localhost``), its certificate (for the name
    #: ``localhost``) signed by ``ca_file``; ``None`` when openssl is missing.
    #: ``other_ca_file`` is a CA that did not sign it. StartTLS: :meth:`starttls_url`.
    ldaps_url: str | None = None
    ca_file: Path | None = None
    other_ca_file: Path | None = None

    def starttls_url(self) -> str:
        """The plain URL by the certificate's name, for StartTLS."""
        return self.url.replace("127.0.0.1", "localhost")

    def _admin(self) -> Connection:
        connection = Connection(
            Server(self.url, connect_timeout=5), ROOT_DN, ROOT_PASSWORD, receive_timeout=5
        )
        assert connection.bind(), connection.result
        return connection

    def set_groups(self, uid: str, groups: set[str]) -> None:
        """Make ``uid`` a member of exactly ``groups`` (names from GROUPS)."""
        connection = self._admin()
        try:
            member = user_dn(uid)
            for group in GROUPS:
                operation = MODIFY_ADD if group in groups else MODIFY_DELETE
                connection.modify(group_dn(group), {"member": [(operation, [member])]})
                # 20: already a member, 16: was not one (attribute value missing)
                assert connection.result["result"] in (0, 16, 20), connection.result
        finally:
            connection.unbind()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _make_certificates(folder: Path) -> bool:
    """A self-signed certificate for 127.0.0.1 (its own CA) and an unrelated one."""
    openssl = shutil.which("openssl")
    if openssl is None:
        return False
    # a DNS name, not an IP address: ldap3 checks the name itself, and on Python 3.12+ (no
    # ssl.match_hostname) with a copy that does not accept IP addresses
    for name, subject in [("server", "localhost"), ("other", "someone-else")]:
        subprocess.run(
            [
                openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                "-keyout", str(folder / f"{name}.key"), "-out", str(folder / f"{name}.pem"),
                "-subj", f"/CN={subject}", "-addext", f"subjectAltName=DNS:{subject}",
            ],
            check=True,
            capture_output=True,
            timeout=20,
        )  # fmt: skip
    return True


def _write_config(folder: Path, tls: bool) -> Path:
    (folder / "data").mkdir()
    (folder / "tracker-test.schema").write_text(EXTRA_SCHEMA)
    config = folder / "slapd.conf"
    config.write_text(
        "\n".join(
            [
                *(
                    [
                        f"TLSCertificateFile {folder / 'server.pem'}",
                        f"TLSCertificateKeyFile {folder / 'server.key'}",
                    ]
                    if tls
                    else []
                ),
                "include /etc/ldap/schema/core.schema",
                "include /etc/ldap/schema/cosine.schema",
                "include /etc/ldap/schema/inetorgperson.schema",
                f"include {folder / 'tracker-test.schema'}",
                f"pidfile {folder / 'slapd.pid'}",
                "modulepath /usr/lib/ldap",
                "moduleload back_mdb",
                "moduleload ppolicy",
                "database mdb",
                f'suffix "{BASE}"',
                f'rootdn "{ROOT_DN}"',
                f"rootpw {ROOT_PASSWORD}",
                f"directory {folder / 'data'}",
                "maxsize 10485760",
                # password policy: an account locked by the directory's admin
                # (pwdAccountLockedTime) cannot bind
                "overlay ppolicy",
                f'ppolicy_default "{POLICY_DN}"',
                # passwords only for binding; people read the directory once logged in
                "access to attrs=userPassword by anonymous auth by * none",
                "access to * by users read by * none",
                "",
            ]
        )
    )
    return config


@pytest.fixture(scope="session")
def directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Directory]:
    if not (Path(SLAPD).exists() and Path(SLAPADD).exists()):
        pytest.skip("slapd is not installed: run scripts/system-packages slapd ldap-utils")
    folder = tmp_path_factory.mktemp("slapd")
    tls = _make_certificates(folder)
    config = _write_config(folder, tls)
    (folder / "data.ldif").write_text(ldif())
    subprocess.run(
        [SLAPADD, "-q", "-f", str(config), "-l", str(folder / "data.ldif")],
        check=True,
        capture_output=True,
        timeout=20,
    )
    port, tls_port = _free_port(), _free_port()
    url = f"ldap://127.0.0.1:{port}"
    listen = f"{url}/ ldaps://127.0.0.1:{tls_port}/" if tls else f"{url}/"
    log = (folder / "slapd.log").open("wb")
    process = subprocess.Popen(
        [SLAPD, "-h", listen, "-f", str(config), "-d", "0"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            if process.poll() is not None:
                pytest.fail(f"slapd stopped at start: {(folder / 'slapd.log').read_text()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("slapd did not answer within 10 s")
                time.sleep(0.05)
        yield Directory(
            url,
            f"ldaps://localhost:{tls_port}" if tls else None,
            folder / "server.pem" if tls else None,
            folder / "other.pem" if tls else None,
        )
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        log.close()
        shutil.rmtree(folder / "data", ignore_errors=True)


@pytest.fixture
def ldap_app(database_url: str, directory: Directory) -> Iterator[Flask]:
    """The app with directory login against the test slapd, the group table set (one group
    per role) and a local break-glass admin (:data:`tests.ldap.support.BREAK_GLASS`)."""
    application = make_ldap_app(database_url, config_for(directory.url))
    yield application
    application.extensions["tracker.db"].dispose()
