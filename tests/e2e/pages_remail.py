"""Page objects for 再送付 (re-mailing): the item page's section, the return form the intake
screen leads to, and the list of re-mailings, in the words of the counter."""

from __future__ import annotations

from playwright.sync_api import Locator, expect

from tests.e2e.pages import IntakePage, ItemPage, Screen


class RemailItemPage(ItemPage):
    """The item page seen for its 再送付 section."""

    @property
    def section(self) -> Locator:
        return self.page.get_by_test_id("remail-section")

    @property
    def timeline(self) -> Locator:
        return self.page.get_by_test_id("remail-timeline")

    @property
    def returns(self) -> Locator:
        return self.page.get_by_test_id("timeline-return")

    def request_remailing(self, *, who: str, reason: str, kind: str, address: str) -> None:
        self.page.get_by_label("依頼者").fill(who)
        self.page.get_by_label("再送付の理由").fill(reason)
        self.page.get_by_label("送付先の種類").select_option(label=kind)
        self.page.get_by_label("送付先住所").fill(address)
        self.page.get_by_role("button", name="再送付を依頼する").click()
        self.expect_message("再送付の依頼を記録しました")

    def record_mailing(self, tracking_no: str, mailed_on: str) -> None:
        self.page.get_by_label("新しいお問い合わせ番号").fill(tracking_no)
        self.page.get_by_label("郵送日").fill(mailed_on)
        self.page.get_by_role("button", name="郵送を記録する").click()
        self.expect_message("再送付を記録しました")

    @property
    def handover_button(self) -> Locator:
        return self.page.get_by_role("button", name="本人確認と交付へ")


class RemailIntakePage(IntakePage):
    """The intake screen, where a re-mailed card's number leads to its return form."""

    def scan_remailed(self, tracking_no: str) -> RemailReturnPage:
        self.scan(tracking_no)
        expect(self.heading).to_have_text("再送付分の返戻")
        return RemailReturnPage(self.page)


class RemailReturnPage(Screen):
    """再送付分の返戻: the date, the reason, where the card is kept now."""

    @property
    def facts(self) -> Locator:
        return self.page.get_by_test_id("remail-return-facts")

    def receive(self, *, returned_on: str, slot: str) -> RemailItemPage:
        self.page.get_by_label("返戻日").fill(returned_on)
        self.page.get_by_label("保管位置（棚・箱）").fill(slot)
        self.page.get_by_role("button", name="返戻を受け付ける").click()
        self.expect_message("再送付分の返戻を受け付けました")
        return RemailItemPage(self.page)


class RemailListPage(Screen):
    path = "/remailings"

    @property
    def rows(self) -> Locator:
        return self.page.get_by_test_id("remailing-row")
