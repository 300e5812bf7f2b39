"""Crash safety (issue 17): an import killed (``kill -9``, or its connection terminated on the
server) in its writing phase leaves no row behind and succeeds when run again; a server killed
during a burst of handovers loses only what it had not committed, and every committed handover
has its items and its audit event. Real processes, real signals."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests import factories
from tests.factories_backup import cards, consistency_problems, counts
from tests.web.test_transition_races import Browser, free_port
from tracker.domain.codes import Role
from tracker.synthetic.cli import main as gen_returns

TRACKER = str(Path(sys.executable).parent / "tracker")
#: Rows in the file an import is killed in: its writing phase must last long enough to be
#: caught (about a second) on a busy 2-core machine, the whole test well under 20 s.
ROWS = 8_000
APPLICATION = "tracker_crash_test"


@pytest.fixture
def returns_file(tmp_path: Path) -> Path:
    path = tmp_path / "returns.csv"
    assert gen_returns([str(ROWS), "--seed", "17", "--output", str(path)]) == 0
    return path


def _env(url: str, tmp_path: Path) -> dict[str, str]:
    if url.startswith("postgresql"):  # to find the import's connection on the server
        url = (
            make_url(url)
            .update_query_dict({"application_name": APPLICATION})
            .render_as_string(hide_password=False)
        )
    return {
        **os.environ,
        "TRACKER_DATABASE_URL": url,
        "TRACKER_AUDIT_KEY_FILE": str(tmp_path / "audit_digest_key"),
        "TRACKER_INSTANCE_PATH": str(tmp_path),
        "TRACKER_SECRET_KEY": "crash-tests",
    }


@pytest.fixture
def start_import(tmp_path: Path) -> Iterator[Callable[[str, Path], subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []

    def start(url: str, file: Path) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [TRACKER, "import", str(file)],
            env=_env(url, tmp_path),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        started.append(process)
        return process

    yield start
    for process in started:  # never leave one behind
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        if process.stderr:
            process.stderr.close()


def _until(condition: Callable[[], object], process: subprocess.Popen[bytes], what: str) -> object:
    deadline = time.monotonic() + 30
    while True:
        found = condition()
        if found:
            return found
        assert process.poll() is None, f"the import ended before {what} (exit {process.returncode})"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def _sqlite_writer_busy(url: str) -> Callable[[], bool]:
    """True while another process holds the write lock: the import has begun writing."""
    path = make_url(url).database
    assert path is not None

    def busy() -> bool:
        probe = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError as error:
            return "locked" in str(error)
        finally:
            probe.close()

    return busy


def _postgres_inserting(url: str) -> Callable[[], int | None]:
    """The backend pid of the import while it inserts items, else None."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")

    def inserting() -> int | None:
        with engine.connect() as conn:
            pid = conn.execute(
                text(
                    "SELECT pid FROM pg_stat_activity WHERE application_name = :app"
                    " AND state = 'active' AND query LIKE 'INSERT INTO items%'"
                ),
                {"app": APPLICATION},
            ).scalar()
        return None if pid is None else int(pid)

    inserting.engine = engine  # type: ignore[attr-defined]
    return inserting


def _in_writing_phase(url: str, process: subprocess.Popen[bytes]) -> int | None:
    """Wait until the import writes; on PostgreSQL return its backend pid."""
    if url.startswith("sqlite"):
        _until(_sqlite_writer_busy(url), process, "the import took the write lock")
        time.sleep(0.1)  # into the checks and inserts that follow
        assert process.poll() is None, "the import finished before it could be killed"
        return None
    inserting = _postgres_inserting(url)
    try:
        return int(_until(inserting, process, "the import inserted items"))  # type: ignore[arg-type]
    finally:
        inserting.engine.dispose()  # type: ignore[attr-defined]


def _run_again(url: str, file: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [TRACKER, "import", str(file)],
        env=_env(url, tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"items={ROWS}" in done.stdout


def test_import_killed_in_its_writing_phase_leaves_nothing(
    database_url: str, returns_file: Path, start_import, tmp_path: Path
) -> None:
    before = counts(database_url)
    process = start_import(database_url, returns_file)
    _in_writing_phase(database_url, process)
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=10) == -signal.SIGKILL
    assert counts(database_url) == before  # no envelope, item or audit event of it
    assert consistency_problems(database_url) == []
    _run_again(database_url, returns_file, tmp_path)
    after = counts(database_url)
    assert after["items"] == before["items"] + ROWS
    assert after["audit_events"] == before["audit_events"] + 1  # import.commit
    assert consistency_problems(database_url) == []


def test_import_whose_connection_is_terminated_leaves_nothing(
    postgres_url: str, returns_file: Path, start_import, tmp_path: Path
) -> None:
    before = counts(postgres_url)
    process = start_import(postgres_url, returns_file)
    pid = _in_writing_phase(postgres_url, process)
    engine = create_engine(postgres_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
    engine.dispose()
    assert process.wait(timeout=20) != 0
    assert counts(postgres_url) == before
    assert consistency_problems(postgres_url) == []
    _run_again(postgres_url, returns_file, tmp_path)
    assert counts(postgres_url)["items"] == before["items"] + ROWS
    assert consistency_problems(postgres_url) == []


# --- a server killed during a burst of handovers ---------------------------------------------


@pytest.fixture
def server(postgres_url: str, tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``tracker serve`` in a process group of its own (so kill -9 takes every worker)."""
    port = free_port()
    process = subprocess.Popen(
        [TRACKER, "serve", "--port", str(port)],
        env=_env(postgres_url, tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        import urllib.request

        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=2):
                    break
            except OSError:
                assert process.poll() is None, "tracker serve did not start"
                assert time.monotonic() < deadline, "tracker serve not ready in 20 s"
                time.sleep(0.1)
        yield url, process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def test_server_killed_during_handovers_leaves_every_committed_one_whole(
    postgres_url: str, server: tuple[str, subprocess.Popen[bytes]]
) -> None:
    url, process = server
    from tracker.db import Database

    database = Database(postgres_url)
    try:
        items = cards(database, 60)
        for n in range(4):
            factories.user(database, Role.CLERK, f"desk{n}")
    finally:
        database.dispose()
    confirmed: list[int] = []
    lock = threading.Lock()

    def clerk(n: int) -> None:
        browser = Browser.open(url)
        try:
            browser.login(f"desk{n}")
            for item in items[n::4]:
                path = f"/handover?item={item}"
                status, _ = browser.post(
                    path,
                    {
                        "csrf_token": browser.token(path),
                        "recipient_kind": "self",
                        "recipient_name": "",
                        "letter_of_attorney_date": "",
                        "authority_proof": "",
                        "documents": "passport",
                    },
                )
                if status == 302:
                    with lock:
                        confirmed.append(item)
        except (OSError, AssertionError):
            return  # the server is gone

    threads = [threading.Thread(target=clerk, args=(n,), daemon=True) for n in range(4)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while len(confirmed) < 8:
        assert time.monotonic() < deadline, "no handovers"
        time.sleep(0.01)
    os.killpg(process.pid, signal.SIGKILL)  # mid-burst: requests are in flight
    process.wait(timeout=10)
    for thread in threads:
        thread.join(timeout=30)
    assert consistency_problems(postgres_url) == []
    after = counts(postgres_url)
    # every handover the clerks saw confirmed was committed; none is half there
    assert after["handovers"] >= len(confirmed)
    assert after["handovers"] < len(items), "the server was killed too late to test anything"
