"""Browser journey (issue 17, Must show): a records officer uploads a 100,000-row file on the
imports page; a real ``tracker worker`` imports it in the background while the page's progress
bar moves, a search in another tab of the same browser answers meanwhile, and the page ends
with the same report as ``tracker import``.

``TRACKER_E2E_JOB_ROWS`` makes the file smaller for a quick local run; CI keeps 100,000.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests import factories
from tests.conftest import make_config
from tests.e2e.conftest import LiveServer, QuietRequestHandler
from tests.e2e.pages import SearchPage, log_in, save_final_screen
from tests.e2e.pages_jobs import BulkImportPage
from tests.factories_jobs import JobsSetup, returns_csv, running_worker
from tracker import create_app
from tracker.domain.codes import Role

ROWS = int(os.environ.get("TRACKER_E2E_JOB_ROWS", "100000"))
#: How long the import may take on a slow, shared CI machine before the journey fails.
IMPORT_TIMEOUT_MS = 300_000

SEED = (
    "お問い合わせ番号,返戻日,還付事由,宛名,住所,氏名,フリガナ,生年月日\n"
    f"{factories.tracking_no(1, series=9)},R2.4.1,転居先不明,菊池 玲奈,熊本市中央区1,"
    "菊池 玲奈,キクチ レナ,S60.5.6\n"
)


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return returns_csv(tmp_path_factory.mktemp("jobs-e2e") / "returns-100k.csv", ROWS, seed=11)


@pytest.fixture
def live_server(sqlite_template: Path, tmp_path: Path) -> Iterator[LiveServer]:
    """The app in a thread, as in tests/e2e/conftest.py, and beside it a real worker process
    sharing its database file and a SQLite job queue."""
    from werkzeug.serving import make_server

    path = tmp_path / "e2e.sqlite3"
    shutil.copy(sqlite_template, path)
    setup = JobsSetup(tmp_path, f"sqlite:///{path}")
    # The page runs under the suite's pinned clock (TRACKER_TEST_CLOCK, e.g. 23:30 UTC today);
    # the worker process keeps the machine's. Its heartbeats then look hours old or new to the
    # page, so a job would be taken as killed at once: with a day's grace (more than the two
    # clocks can differ), only a real failure fails the job here. The stale rule itself is
    # tested with one clock in tests/services/test_jobs.py and tests/cli/test_worker.py.
    app = create_app(make_config(setup.database_url, **setup.config_changes(stale_seconds=86_400)))
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, name="e2e-live-server", daemon=True)
    thread.start()
    try:
        with running_worker(setup):
            yield LiveServer(f"http://127.0.0.1:{server.server_port}", app)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        app.extensions["tracker.db"].dispose()


def test_a_large_import_runs_in_the_background_with_a_moving_bar(
    page: Page, live_server: LiveServer, big_file: Path, tmp_path: Path
) -> None:
    officer = live_server.create_user(Role.RECORDS_OFFICER, "officer1", display_name="記録 一郎")
    factories.import_csv(live_server.app, tmp_path, SEED)
    log_in(page, officer)
    started = time.monotonic()
    job = BulkImportPage(page).open().upload_file(big_file)

    first = job.wait_for_bar_above(0)
    second = job.wait_for_bar_above(first)
    assert second > first  # the bar moved between two reads

    # Meanwhile the server answers: a search in another tab of the same browser.
    other = page.context.new_page()
    results = SearchPage(other).open().search("きくち れな")
    expect(results.result_count).to_contain_text("1")
    expect(other.get_by_role("link", name="菊池 玲奈")).to_be_visible()
    expect(job.state).to_have_attribute("data-state", "running")  # still importing
    other.close()

    expect(job.report).to_contain_text("取込が完了しました", timeout=IMPORT_TIMEOUT_MS)
    expect(job.report).to_contain_text(f"通知物 {ROWS}件")
    expect(job.state).to_have_attribute("data-state", "succeeded")
    print(f"{ROWS:,} rows imported in the background in {time.monotonic() - started:.0f} s")
    save_final_screen(page, "background-import")
