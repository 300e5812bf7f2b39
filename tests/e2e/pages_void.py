"""Page objects for 交付取消 (void): the handover record page with its void and void-request
forms, in the words of the counter and the records office."""

from __future__ import annotations

from playwright.sync_api import Locator, expect

from tests.e2e.pages import HandoverRecordPage


class VoidableHandoverPage(HandoverRecordPage):
    """交付記録 as seen when a void is possible: officers void, the clerk who made it asks."""

    def open_record(self, handover_id: int) -> VoidableHandoverPage:
        self.page.goto(f"/handovers/{handover_id}")
        expect(self.heading).to_contain_text("交付記録")
        return self

    @property
    def handover_id(self) -> int:
        return int(self.page.url.split("?")[0].rstrip("/").rsplit("/", 1)[-1])

    def ask_for_void(self, reason: str) -> None:
        """The clerk who handed over asks a records officer to void it (same day)."""
        self.page.get_by_label("取消を依頼する理由").fill(reason)
        self.page.get_by_role("button", name="取消を依頼する").click()
        self.expect_message("取消を依頼しました")

    @property
    def pending_request(self) -> Locator:
        return self.page.get_by_test_id("void-request")

    @property
    def void_reason_box(self) -> Locator:
        return self.page.get_by_label("取消の理由", exact=True)

    def void(self, reason: str | None = None) -> None:
        """A records officer voids it; without ``reason`` the request's reason stands."""
        if reason is not None:
            self.void_reason_box.fill(reason)
        self.page.get_by_role("button", name="交付を取り消す").click()
        self.expect_message("を取り消しました")

    @property
    def void_record(self) -> Locator:
        return self.page.get_by_test_id("void-record")

    @property
    def voided_tag(self) -> Locator:
        return self.page.get_by_test_id("voided-tag")

    def receipt_pdf(self) -> bytes:
        """The receipt as the print link serves it (same login, same cookies)."""
        response = self.page.context.request.get(
            self.page.url.split("?")[0].rstrip("/") + "/receipt.pdf"
        )
        assert response.ok, response.status
        assert response.headers["content-type"] == "application/pdf"
        return response.body()
