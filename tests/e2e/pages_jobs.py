"""Page objects for background jobs (issue 17): the upload that queues one and its page."""

from __future__ import annotations

import time
from pathlib import Path

from playwright.sync_api import Locator, expect

from tests.e2e.pages import Screen


class BulkImportPage(Screen):
    """一括取込, for a file too large to pass around in memory: it is taken from disk."""

    path = "/imports"

    def upload_file(self, file: Path, *, commit: bool = True) -> JobPage:
        self.page.get_by_label("CSVファイル").set_input_files(file)
        self.page.get_by_role("button", name="取り込む" if commit else "検証のみ").click()
        job = JobPage(self.page)
        expect(job.state).to_be_visible()
        return job


class JobPage(Screen):
    """A job's page: its state, a progress bar while it runs, then the report."""

    @property
    def state(self) -> Locator:
        return self.page.get_by_test_id("job-state")

    @property
    def bar(self) -> Locator:
        return self.page.get_by_test_id("job-progress")

    def bar_value(self) -> float:
        return float(self.bar.evaluate("bar => bar.value"))

    def wait_for_bar_above(self, value: float, timeout: float = 120.0) -> float:
        """The bar's value once it has moved past ``value`` (the page polls by itself)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.bar.count() and (current := self.bar_value()) > value:
                return current
            time.sleep(0.2)
        raise AssertionError(f"the progress bar did not move past {value}")

    @property
    def report(self) -> Locator:
        return self.page.get_by_test_id("import-report")
