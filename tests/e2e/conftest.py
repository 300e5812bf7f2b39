"""Browser journeys (issue 7): Playwright for Python drives Debian's chromium against a live
server on a real port.

Database: **SQLite only**. Each test gets a fresh copy of the migrated, seeded template file
(``sqlite_template`` in tests/conftest.py): a *file*, because in-memory SQLite would give every
server thread its own empty database. PostgreSQL is covered by the rest of the suite; running
the journeys on it too would need a second database that CI does not create.

Artifacts go to ``/tmp/tracker-e2e/`` (not the repository): a screenshot of every journey's final
screen (``final-<journey>.png``) and, when a test fails, of the screen it failed on
(``failed-<test>.png``); the path is printed in the report.
"""

from __future__ import annotations

import logging
import re
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Page
from werkzeug.serving import WSGIRequestHandler, make_server

from tests.conftest import make_config
from tests.e2e.pages import ARTIFACTS
from tests.helpers import PASSWORD, Account
from tracker import create_app
from tracker.domain.codes import Role
from tracker.services import accounts

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_MISSING = (
    f"browser journeys skipped: {CHROMIUM} is missing "
    "(apt-get install chromium; scripts/test installs it). Never `playwright install`."
)
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Fail fast: every page here answers in well under a second on this machine.
TIMEOUT_MS = 10_000

_reports = pytest.StashKey[dict[str, pytest.TestReport]]()


# --- chromium ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, object]:
    """Debian's chromium, never a downloaded one (``playwright install`` cannot run here)."""
    if not CHROMIUM.exists():
        pytest.skip(CHROMIUM_MISSING)
    return {"executable_path": str(CHROMIUM), "args": LAUNCH_ARGS}


@pytest.fixture(scope="session")
def base_url() -> None:
    """Replaces pytest-playwright 0.10's fallback ``base_url`` (an instance-method session
    fixture, which pytest 9 deprecates: an error under ``filterwarnings = error``). Each test's
    own server address is set in ``browser_context_args``."""
    return None


@pytest.fixture
def browser_context_args(
    browser_context_args: dict[str, object], live_server: LiveServer
) -> dict[str, object]:
    """A Japanese desktop browser in Tokyo, pointed at this test's server."""
    return {
        **browser_context_args,
        "base_url": live_server.url,
        "locale": "ja-JP",
        "timezone_id": "Asia/Tokyo",
        "viewport": {"width": 1280, "height": 900},
        "accept_downloads": True,
    }


@pytest.fixture
def page(page: Page) -> Page:
    page.set_default_timeout(TIMEOUT_MS)
    page.set_default_navigation_timeout(TIMEOUT_MS)
    return page


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:  # type: ignore[no-untyped-def]
    skipped = [
        r for r in terminalreporter.stats.get("skipped", []) if CHROMIUM_MISSING in str(r.longrepr)
    ]
    if skipped:
        terminalreporter.write_line(f"{len(skipped)} skipped: {CHROMIUM_MISSING}", yellow=True)


# --- the live server -----------------------------------------------------------------------


class QuietRequestHandler(WSGIRequestHandler):
    """No access-log lines, as in production (waitress writes none): the log scan after the
    journeys (test_logs_hold_no_personal_data) reads what the application itself logs."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


class LogCollector(logging.Handler):
    """Every record any logger emits during the browser journeys, formatted with tracebacks."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        self.lines.append(f"{record.name}: {text}")


COLLECTED = LogCollector()


@pytest.fixture(scope="session", autouse=True)
def collect_logs() -> Iterator[LogCollector]:
    root = logging.getLogger()
    previous = root.level
    root.addHandler(COLLECTED)
    root.setLevel(logging.DEBUG)
    try:
        yield COLLECTED
    finally:
        root.removeHandler(COLLECTED)
        root.setLevel(previous)


@dataclass
class LiveServer:
    url: str
    app: Flask

    def create_user(
        self, role: Role, username: str, password: str = PASSWORD, display_name: str | None = None
    ) -> Account:
        """An account made through the service, as ``tracker create-user`` would."""
        hasher = self.app.extensions["tracker.password_hasher"]
        with self.app.extensions["tracker.db"].session_scope() as session:
            accounts.create_user(
                session,
                hasher,
                actor="cli:test",
                username=username,
                role=role,
                password=password,
                display_name=display_name,
            )
        return Account(username, password, role)


@pytest.fixture
def live_server(sqlite_template: Path, tmp_path: Path) -> Iterator[LiveServer]:
    """The app on 127.0.0.1:<free port> in a background thread, on its own database file."""
    path = tmp_path / "e2e.sqlite3"
    shutil.copy(sqlite_template, path)
    app = create_app(make_config(f"sqlite:///{path}"))
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, name="e2e-live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", app)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        app.extensions["tracker.db"].dispose()


# --- screenshots ---------------------------------------------------------------------------


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    report = yield
    item.stash.setdefault(_reports, {})[report.when] = report
    return report


def artifact_name(nodeid: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid.split("::")[-1])[:120]


@pytest.fixture(autouse=True)
def _screenshot_on_failure(request: pytest.FixtureRequest, page: Page) -> Iterator[None]:
    """Torn down before ``page``, so the failing screen is still there to photograph.
    Expected failures (xfail: a known app bug) are photographed too."""
    yield
    call = request.node.stash.get(_reports, {}).get("call")
    if call is None or not (call.failed or hasattr(call, "wasxfail")):
        return
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for index, open_page in enumerate(page.context.pages):
        suffix = "" if index == 0 else f"-{index}"
        path = ARTIFACTS / f"failed-{artifact_name(request.node.nodeid)}{suffix}.png"
        try:
            open_page.screenshot(path=str(path), full_page=True)
        except Exception as error:  # noqa: BLE001 - a screenshot must not mask the failure
            print(f"could not save a screenshot of {open_page.url}: {error}")
        else:
            print(f"screenshot of the failing screen: {path}")
            call.sections.append(("e2e screenshot", str(path)))
