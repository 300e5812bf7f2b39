"""Page objects of the disposal desk (issue 12): the eligible list of one cohort, a batch made
from it, and the confirmation page that asks for the number of cards again."""

from __future__ import annotations

from playwright.sync_api import Locator, expect

from tests.e2e.pages import Destruction, DisposalBatchPage, DisposalListPage, Screen


class CohortListPage(DisposalListPage):
    """廃棄対象一覧, filtered by 廃棄基準 (cohort) and as-of date."""

    def show(self, as_of: str, rule: str) -> CohortListPage:
        self.page.get_by_label("基準日").fill(as_of)
        self.page.get_by_label("廃棄基準").select_option(label=rule)
        self.page.get_by_role("button", name="表示").click()
        expect(self.total).to_contain_text("時点で廃棄可能")
        return self

    def create_batch_from_this_list(self) -> DisposalBatchPage:
        self.page.get_by_role("button", name="この条件で廃棄処理を作成").click()
        self.expect_message("を作成しました")
        return DisposalBatchPage(self.page)


class ExecutionConfirmPage(Screen):
    """廃棄の記録の確認: counts per cohort; nothing is recorded until the count is re-typed."""

    @classmethod
    def after_filling(cls, batch: DisposalBatchPage, done: Destruction) -> ExecutionConfirmPage:
        page = batch.page
        page.get_by_label("廃棄日").fill(done.destroyed_on)
        page.get_by_label("方法").select_option(label=done.method)
        page.get_by_label("場所", exact=True).fill(done.place)
        page.get_by_label("廃棄した人").fill(done.executor)
        page.get_by_label("立会人").fill(done.witness)
        page.get_by_role("button", name="確認へ進む").click()
        confirm = cls(page)
        expect(confirm.heading).to_contain_text("廃棄の記録の確認")
        return confirm

    @property
    def cohorts(self) -> Locator:
        return self.page.get_by_test_id("confirm-cohorts").locator("tbody tr")

    @property
    def cards_to_destroy(self) -> Locator:
        return self.page.get_by_test_id("cards-to-destroy")

    @property
    def error(self) -> Locator:
        return self.page.get_by_test_id("confirm-error")

    def record_with_count(self, cards: str) -> None:
        self.page.get_by_label("廃棄した通知物の枚数").fill(cards)
        self.page.get_by_role("button", name="廃棄を記録して証明書を発行").click()
