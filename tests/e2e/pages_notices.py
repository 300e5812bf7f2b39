"""Page objects for お知らせ (notices): the list with the selection form, the preview with the
sending form, and a batch's page, in the records office's words."""

from __future__ import annotations

from playwright.sync_api import Locator, expect

from tests.e2e.pages import Screen


class NoticesPage(Screen):
    path = "/notices"

    @property
    def batches(self) -> Locator:
        return self.page.get_by_test_id("notice-batches").locator("tbody tr")

    def preview_by_rule(self, rule_label: str) -> NoticePreviewPage:
        self.page.get_by_label("廃棄基準（対象の返戻分）").check()
        self.page.get_by_label("廃棄基準", exact=True).select_option(label=rule_label)
        self.page.get_by_role("button", name="確認する").click()
        expect(self.heading).to_have_text("お知らせの確認")
        return NoticePreviewPage(self.page)


class NoticePreviewPage(Screen):
    @property
    def letters(self) -> Locator:
        return self.page.get_by_test_id("notice-letters")

    @property
    def excluded(self) -> Locator:
        return self.page.get_by_test_id("notice-excluded")

    @property
    def first_letters(self) -> Locator:
        return self.page.get_by_test_id("notice-letter")

    def send(self, method: str) -> NoticeBatchPage:
        self.page.get_by_label("発送方法").select_option(label=method)
        self.page.get_by_role("button", name="の発送を記録する").click()
        self.expect_message("の発送を記録しました")
        return NoticeBatchPage(self.page)


class NoticeBatchPage(Screen):
    @property
    def count(self) -> Locator:
        return self.page.get_by_test_id("batch-count")

    @property
    def items(self) -> Locator:
        return self.page.get_by_test_id("batch-items").locator("li")
