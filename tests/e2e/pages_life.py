"""Page objects of the last day at the counter (issue 13 part 6): a disposal batch page from
which a records officer takes one card out, with a reason."""

from __future__ import annotations

from playwright.sync_api import Locator, expect

from tests.e2e.pages import DisposalBatchPage


class ExcludingBatchPage(DisposalBatchPage):
    """廃棄処理 with the 「除外…」 buttons beside its cards and the form that takes one out."""

    def open_batch(self, batch_id: int) -> ExcludingBatchPage:
        self.page.goto(f"/disposal/batches/{batch_id}")
        return self

    def exclude_button(self, control_no: str) -> Locator:
        return self.page.get_by_test_id(f"exclude-{control_no}")

    def take_out(self, control_no: str, reason: str) -> None:
        """Press 「除外…」 beside the card, give the reason, take it out."""
        self.exclude_button(control_no).click()
        expect(self.page.get_by_label("除外する通知物の管理番号")).to_have_value(control_no)
        self.page.get_by_label("除外の理由").fill(reason)
        self.page.get_by_role("button", name="廃棄処理から除外する").click()
        self.expect_message("から除外しました")

    @property
    def excluded(self) -> Locator:
        return self.page.get_by_test_id("excluded").locator("tbody tr")
