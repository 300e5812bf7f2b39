"""Two live ``tracker serve`` processes on one PostgreSQL, officers and clerks clicking at
once (issues 10 and 17): a batch is approved once and executed once, a card is handed over
once, and every loser gets a 409 page.

This is the attack run that found the double execution, kept as a test: real HTTP, real
gunicorn servers (two worker processes each, so four processes share nothing but the
database), real sessions and CSRF tokens, real Argon2 logins. It also shows that the app
servers are stateless: a login on one server is not needed by the other, but every state
change made through one is seen, and refused, by the other.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from tests import factories
from tests.factories import NOW
from tests.helpers import PASSWORD
from tracker.cli import main
from tracker.db import Database
from tracker.domain.codes import ReturnReason, Role
from tracker.models import AuditEvent, DisposalBatch, DisposalBatchItem, HandoverItem
from tracker.services import audit, disposal

#: One xdist worker runs every test of this module: the two servers start once for them all
#: instead of once per worker (each start takes seconds on a busy machine).
pytestmark = pytest.mark.xdist_group("two_servers")

CSRF = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def two_servers(
    postgres_ready: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[str]]:
    """``tracker serve`` twice, sharing the database and the secret key; started once for the
    module (each start takes seconds). Each test's ``postgres_url`` empties the tables under
    the running servers, which keep nothing of their own that could go stale: that too shows
    they are stateless."""
    script = Path(sys.executable).parent / "tracker"
    env = {
        **os.environ,
        "TRACKER_DATABASE_URL": postgres_ready,
        "TRACKER_SECRET_KEY": "two-servers-one-secret",
        "TRACKER_INSTANCE_PATH": str(tmp_path_factory.mktemp("two-servers")),
    }
    servers = []
    urls = []
    logs = Path(env["TRACKER_INSTANCE_PATH"])
    for n in range(2):
        port = free_port()
        # each server's metrics files in the test's folder, not left in /tmp if one is killed
        metrics = logs / f"metrics{n}"
        metrics.mkdir()
        with (logs / f"server{n}.log").open("wb") as log:
            servers.append(
                subprocess.Popen(
                    # small on purpose: the race needs several processes, not many
                    [script, "serve", "--port", str(port), "--workers", "2", "--threads", "4"],
                    env={**env, "PROMETHEUS_MULTIPROC_DIR": str(metrics)},
                    stdout=subprocess.DEVNULL,
                    stderr=log,
                )
            )
        urls.append(f"http://127.0.0.1:{port}")
    try:
        for n, url in enumerate(urls):
            deadline = time.monotonic() + 60  # a busy CI machine starts slowly
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/healthz", timeout=2):
                        break
                except OSError:
                    if servers[n].poll() is not None or time.monotonic() > deadline:
                        output = (logs / f"server{n}.log").read_text()[-3000:]
                        raise AssertionError(f"server {n} did not start:\n{output}") from None
                    time.sleep(0.1)
        yield urls
    finally:
        for server in servers:
            server.send_signal(signal.SIGINT)  # gunicorn's quick shutdown: no need to linger
        for server in servers:
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=10)


@dataclass
class Browser:
    """One officer's browser: its own cookie jar, talking to one of the servers."""

    base: str
    opener: urllib.request.OpenerDirector

    @classmethod
    def open(cls, base: str) -> Browser:
        jar = http.cookiejar.CookieJar()
        return cls(
            base, urllib.request.build_opener(NoRedirect, urllib.request.HTTPCookieProcessor(jar))
        )

    def get(self, path: str) -> tuple[int, str]:
        status, body = self._send(urllib.request.Request(self.base + path))
        return status, body.decode()

    def download(self, path: str) -> bytes:
        status, body = self._send(urllib.request.Request(self.base + path))
        assert status == 200, (path, status)
        return body

    def post(self, path: str, fields: dict[str, str]) -> tuple[int, str]:
        data = urllib.parse.urlencode(fields).encode()
        request = urllib.request.Request(self.base + path, data=data, method="POST")
        status, body = self._send(request)
        return status, body.decode()

    def token(self, path: str) -> str:
        status, page = self.get(path)
        match = CSRF.search(page)
        assert match, (path, status)
        return match.group(1)

    def login(self, username: str) -> None:
        status, _page = self.post(
            "/login",
            {"username": username, "password": PASSWORD, "csrf_token": self.token("/login")},
        )
        assert status == 302, f"login of {username} failed ({status})"

    def _send(self, request: urllib.request.Request) -> tuple[int, bytes]:
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


def all_at_once(
    browsers: list[Browser],
    path: str,
    fields: list[dict[str, str]],
    actions: list[str] | None = None,
) -> list[tuple[int, str]]:
    """Every browser posts ``fields[n]`` to ``path + actions[n]`` at the same moment."""
    barrier = threading.Barrier(len(browsers))
    results: list[tuple[int, str]] = [(0, "")] * len(browsers)
    suffixes = actions or [""] * len(browsers)

    def click(n: int) -> None:
        barrier.wait(timeout=60)
        results[n] = browsers[n].post(path + suffixes[n], fields[n])

    threads = [threading.Thread(target=click, args=(n,)) for n in range(len(browsers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def add_officers(database: Database, numbers: range) -> None:
    for n in numbers:
        factories.user(database, Role.RECORDS_OFFICER, f"officer{n}", display_name=f"記録 担当{n}")


def test_approve_racing_cancel_over_http_has_one_winner_and_no_error(
    postgres_url: str, two_servers: list[str]
) -> None:
    """The approval re-checks a password (which writes its own audit event) before it
    approves; a cancel on the other server at the same moment must give a 409, not a
    deadlock's 500."""
    database = Database(postgres_url)
    try:
        add_officers(database, range(2, 4))
        approver, canceller = Browser.open(two_servers[0]), Browser.open(two_servers[1])
        approver.login("officer2")
        canceller.login("officer3")
        batch_id = factories.batch(database, 2)
        for _round in range(6):
            path = f"/disposal/batches/{batch_id}"
            results = all_at_once(
                [approver, canceller],
                path,
                [
                    {"csrf_token": approver.token(path), "password": PASSWORD},
                    {
                        "csrf_token": canceller.token(path),
                        "reason": "基準日の誤り",
                        "seen": "created",
                    },
                ],
                actions=["/approve", "/cancel"],
            )
            assert sorted(status for status, _ in results) == [302, 409], results
            with database.session_scope() as session:
                batch = session.get(DisposalBatch, batch_id)
                assert batch is not None and batch.status in ("approved", "cancelled")
                if batch.status == "approved":
                    disposal.cancel(
                        session, actor="officer9", batch=batch, reason="次の回", now=NOW
                    )
                batch_id = disposal.create_batch(
                    session, actor="officer1", as_of=date(2020, 4, 1), now=NOW
                ).id
    finally:
        database.dispose()


def test_two_servers_eight_officers_one_approval_one_execution(
    postgres_url: str, two_servers: list[str], tmp_path: Path
) -> None:
    database = Database(postgres_url)
    try:
        add_officers(database, range(2, 10))
        batch_id = factories.batch(database, 29)  # created by officer1
        path = f"/disposal/batches/{batch_id}"
        browsers = [Browser.open(two_servers[n % 2]) for n in range(8)]
        for n, browser in enumerate(browsers):
            browser.login(f"officer{n + 2}")

        approvals = all_at_once(
            browsers[:4],
            f"{path}/approve",
            [{"csrf_token": b.token(path), "password": PASSWORD} for b in browsers[:4]],
        )
        assert sorted(status for status, _ in approvals) == [302, 409, 409, 409]
        assert all(
            "は既に承認されています（" in page for status, page in approvals if status == 409
        )

        execution = {
            "destroyed_on": "2020-04-10",
            "method": "shredding",
            "place": "本庁舎地下 裁断室",
            "executor": "裁断 一郎",
            "witness": "立会 花子",
            "confirm_count": "29",
        }
        executions = all_at_once(
            browsers,
            f"{path}/execute",
            [{"csrf_token": b.token(path), **execution} for b in browsers],
        )
        statuses = sorted(status for status, _ in executions)
        assert statuses == [302] + [409] * 7, statuses
        for status, page in executions:
            if status == 409:
                assert "他の操作と重なりました" in page
                assert "は既に廃棄が記録されています（" in page and "記録 担当" in page

        # Both servers serve the one certificate, byte for byte.
        pdf = browsers[0].download(f"{path}/certificate.pdf")
        assert browsers[1].download(f"{path}/certificate.pdf") == pdf
        with database.read_session() as session:
            batch = session.get(DisposalBatch, batch_id)
            assert batch is not None and batch.status == "executed"
            counts = dict(
                session.execute(
                    select(DisposalBatchItem.outcome, func.count())
                    .where(DisposalBatchItem.batch_id == batch_id)
                    .group_by(DisposalBatchItem.outcome)
                ).all()
            )
            assert counts == {"destroyed": 29}
            for action in ("disposal.approve", "disposal.execute"):
                assert (
                    session.scalar(
                        select(func.count())
                        .select_from(AuditEvent)
                        .where(AuditEvent.action == action, AuditEvent.outcome == "ok")
                    )
                    == 1
                ), action
            assert audit.verify_chain(session).ok
    finally:
        database.dispose()
    # The certificate as the officers received it is the one recorded at execution.
    certificate = tmp_path / "certificate.pdf"
    certificate.write_bytes(pdf)
    verified = CliRunner().invoke(
        main, ["certificate-verify", str(certificate)], env={"TRACKER_DATABASE_URL": postgres_url}
    )
    assert verified.exit_code == 0, verified.output


def test_two_servers_eight_clerks_one_card_one_handover(
    postgres_url: str, two_servers: list[str]
) -> None:
    """Eight clerks, four on each server, hand over the same card at the same moment, three
    cards in a row: one handover each, seven 409 pages that say so, and a chain that
    verifies."""
    database = Database(postgres_url)
    try:
        for n in range(8):
            factories.user(database, Role.CLERK, f"clerk{n}", display_name=f"窓口 担当{n}")
        browsers = [Browser.open(two_servers[n % 2]) for n in range(8)]
        for n, browser in enumerate(browsers):
            browser.login(f"clerk{n}")
        cards = [
            factories.envelope(database, 700 + n, series=4, reason=ReturnReason.TENKYO_FUMEI)[0]
            for n in range(3)
        ]
        for card in cards:
            fields = [
                {
                    "csrf_token": browser.token("/"),
                    "item": str(card),
                    "recipient_kind": "self",
                    "recipient_name": "",
                    "letter_of_attorney_date": "",
                    "authority_proof": "",
                    "documents": "passport",
                }
                for browser in browsers
            ]
            results = all_at_once(browsers, "/handover", fields)
            statuses = sorted(status for status, _ in results)
            assert statuses == [302] + [409] * 7, statuses
            for status, page in results:
                if status == 409:
                    assert "は交付済みです" in page, page[-3000:]
                    assert "、担当 窓口 担当" in page
        with database.read_session() as session:
            for card in cards:
                rows = session.scalar(
                    select(func.count())
                    .select_from(HandoverItem)
                    .where(HandoverItem.item_id == card)
                )
                assert rows == 1, card
            created = session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "handover.create", AuditEvent.outcome == "ok")
            )
            assert created == len(cards)
            assert audit.verify_chain(session).ok
    finally:
        database.dispose()
