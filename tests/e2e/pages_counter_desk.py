"""Page objects of the counter desk (issue 12): the scan box in the header and the envelope page
with its handover choice. The screens of pages.py are reused as they are."""

from __future__ import annotations

from playwright.sync_api import Locator, Page, expect

from tests.e2e.pages import HandoverPage, Screen


class ScanBox:
    """管理番号・お問い合わせ番号 in the header: where a barcode scanner types."""

    def __init__(self, page: Page) -> None:
        self.page = page

    @property
    def box(self) -> Locator:
        return self.page.get_by_test_id("scan-box")

    def expect_focused(self) -> None:
        """The cursor is in the scan box: checked the way the browser sees it."""
        expect(self.box).to_be_focused()
        assert self.page.evaluate("document.activeElement && document.activeElement.id") == "scan-q"

    def scan(self, code: str) -> None:
        """A scanner types into the focused field and presses Enter."""
        self.expect_focused()
        self.page.keyboard.type(code)
        self.page.keyboard.press("Enter")

    def summon(self) -> None:
        """The shortcut: "/" outside a text field."""
        self.page.keyboard.press("/")


class EnvelopePage(Screen):
    """封筒: what came back in one envelope, with 「交付」 for one item or the household."""

    @property
    def control_no(self) -> Locator:
        return self.page.get_by_test_id("control-no")

    @property
    def rows(self) -> Locator:
        return self.page.get_by_test_id("item-row")

    def row(self, name: str) -> Locator:
        return self.rows.filter(has_text=name)

    def ticked(self, control_no: str) -> Locator:
        return self.page.get_by_role("checkbox", name=f"{control_no} を交付する")

    def hand_over_selected(self) -> HandoverPage:
        self.page.get_by_role("button", name="選んだ通知物を交付（本人確認へ）").click()
        expect(self.heading).to_have_text("本人確認・交付")
        return HandoverPage(self.page)


def section(page: Page, legend: str) -> Locator:
    """A fieldset of the handover form by its legend (任意代理人のとき, 法定代理人のとき)."""
    return page.locator("fieldset").filter(has=page.locator("legend", has_text=legend))
