"""Page objects for stock checks (棚卸) and missing cards (所在調査中・紛失), in the words of the
records office: start a check, scan the shelf, close, sign off, print the record."""

from __future__ import annotations

from typing import Self

from playwright.sync_api import Download, Locator, expect

from tests.e2e.pages import Screen


class StockChecksPage(Screen):
    """棚卸: the list of checks and when each location is due."""

    path = "/stock-checks"

    def start_check(self, location: str) -> StockCheckPage:
        self.page.get_by_test_id("start-check").click()
        expect(self.heading).to_have_text("棚卸を開始")
        self.page.get_by_label("保管場所").select_option(label=location)
        self.page.get_by_role("button", name="開始する").click()
        screen = StockCheckPage(self.page)
        screen.expect_message("を開始しました")
        return screen

    @property
    def schedule(self) -> Locator:
        return self.page.get_by_test_id("schedule")


class StockCheckPage(Screen):
    """One check: the scan box while it is open, the counts, the exceptions, the buttons."""

    def open_check(self, check_id: int) -> Self:
        self.page.goto(f"/stock-checks/{check_id}")
        return self

    @property
    def check_id(self) -> int:
        return int(self.page.url.split("?")[0].rstrip("/").rsplit("/", 1)[-1])

    @property
    def scan_box(self) -> Locator:
        return self.page.get_by_label("ラベルのバーコード・お問い合わせ番号")

    def scan(self, code: str) -> None:
        """What a barcode scanner does: type the code into the focused box and press Enter."""
        expect(self.scan_box).to_be_focused()
        self.page.keyboard.type(code)
        self.page.keyboard.press("Enter")
        expect(self.messages.filter(has_text=code)).to_be_visible()

    def count(self, which: str) -> Locator:
        """expected / found / remaining / found-elsewhere / missing / unexpected."""
        return self.page.get_by_test_id(f"count-{which}")

    @property
    def exceptions(self) -> Locator:
        return self.page.get_by_test_id("exceptions")

    @property
    def remaining(self) -> Locator:
        return self.page.get_by_test_id("remaining")

    @property
    def status(self) -> Locator:
        return self.page.get_by_test_id("check-status")

    def close_check(self) -> None:
        self.page.get_by_test_id("close-check").click()
        self.expect_message("棚卸を締めました")

    def sign_off(self) -> None:
        self.page.get_by_test_id("sign-off").click()
        self.expect_message("を確認しました")

    def download_record(self) -> Download:
        with self.page.expect_download() as download:
            self.page.get_by_test_id("record-pdf").click()
        return download.value


class MissingItemsPage(Screen):
    """所在調査中・紛失の通知物."""

    path = "/missing-items"

    def row(self, item_control_no: str) -> Locator:
        return self.page.get_by_test_id(f"missing-{item_control_no}")
