"""Page objects for 支援措置 (protected persons, issue 14): the flag on the item page, the
purpose asked before a protected item opens, the envelope page's masked address and the list
of flags by review date."""

from __future__ import annotations

from playwright.sync_api import Locator, expect

from tests.e2e.pages import ItemPage, Screen


class ProtectedItemPage(ItemPage):
    """The item page with its 支援措置 section (records officers place and release)."""

    @property
    def section(self) -> Locator:
        return self.page.get_by_test_id("protection-section")

    def place_flag(self, reason: str, review_on: str, *, whole_envelope: bool = True) -> None:
        self.section.get_by_label("支援措置の理由").fill(reason)
        self.section.get_by_label("見直し日").fill(review_on)
        box = self.section.get_by_label("同じ封筒の他の通知物も対象にする")
        expect(box).to_be_checked()  # on by default
        if not whole_envelope:
            box.uncheck()
        self.section.get_by_role("button", name="支援措置を設定").click()

    @property
    def purpose_form(self) -> Locator:
        return self.page.get_by_test_id("purpose-form")

    def give_purpose(self, purpose: str) -> None:
        """Answer 「閲覧の目的」 and open the page (Enter in the field)."""
        field = self.purpose_form.get_by_label("閲覧の目的")
        field.fill(purpose)
        self.purpose_form.get_by_role("button", name="開く").click()

    @property
    def purpose_error(self) -> Locator:
        return self.purpose_form.locator(".field.has-error .error")

    @property
    def badge(self) -> Locator:
        return self.page.get_by_test_id("protection-badge")


class EnvelopePage(Screen):
    """封筒の詳細: addressee and address (masked for a protected person's envelope)."""

    def open_envelope(self, envelope_id: int) -> EnvelopePage:
        self.page.goto(f"/envelopes/{envelope_id}")
        return self

    @property
    def address(self) -> Locator:
        return self.page.get_by_test_id("envelope-address")

    @property
    def addressee(self) -> Locator:
        return self.page.get_by_test_id("masked-addressee")


class ProtectionsPage(Screen):
    """支援措置の見直し: the flags by review date, without names or reasons."""

    path = "/protections"

    @property
    def rows(self) -> Locator:
        return self.page.get_by_test_id("protection-row")
