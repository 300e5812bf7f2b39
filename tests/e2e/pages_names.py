"""Page objects for names as registered and unclaimed My Number cards (issue 14)."""

from __future__ import annotations

from typing import ClassVar

from playwright.sync_api import Locator, expect

from tests.e2e.pages import IntakePage, ItemPage


class CardIntakePage(IntakePage):
    """The intake, with a row's 通称 and the dates of an unclaimed My Number card."""

    EXTRA_FIELDS: ClassVar[dict[str, str]] = {
        "通称": "alias",
        "交付通知書送付日": "first_notice_on",
        "再通知日": "renotice_on",
        "カードの有効期限": "card_expires_on",
    }

    def extra_row(self, row: int) -> Locator:
        return self.page.get_by_test_id(f"item-extra-{row}")

    def extra_field(self, label: str, row: int) -> Locator:
        return self.page.locator(f'[name="items-{row - 1}-{self.EXTRA_FIELDS[label]}"]')

    def choose_kind(self, row: int, label: str) -> None:
        self.row_field("種別", row).select_option(label=label)

    def show_extras(self) -> None:
        self.page.get_by_label("通称・交付通知書の日付を入力する").check()


class CardItemPage(ItemPage):
    def fact(self, testid: str) -> Locator:
        return self.page.get_by_test_id(testid)

    def record_notice_sent(self, day: str) -> None:
        self.page.get_by_label("お知らせ送付日", exact=True).fill(day)
        self.page.get_by_test_id("notice-sent-on").get_by_role("button", name="記録").click()
        expect(self.messages.filter(has_text="お知らせ送付日を記録しました")).to_be_visible()
