"""Page objects for pickup reservations (受取予約, issue 15): the booking form a clerk fills
in on the phone, a reservation's page, and the counter's 本日の予約."""

from __future__ import annotations

from typing import Self

from playwright.sync_api import Locator, expect

from tests.e2e.pages import HandoverPage, Screen


class BookingPage(Screen):
    """受取予約（電話）: a day among the open days, a slot with free places, who comes, the
    call-back number."""

    def from_envelope(self, envelope_id: int) -> Self:
        """The envelope page with its household's cards in custody ticked, then 受取予約."""
        self.page.goto(f"/envelopes/{envelope_id}")
        self.page.get_by_role("button", name="受取予約へ").click()
        expect(self.heading).to_have_text("受取予約（電話）")
        return self

    def from_item(self, item_id: int) -> Self:
        self.page.goto(f"/items/{item_id}")
        self.page.get_by_test_id("book-item").click()
        expect(self.heading).to_have_text("受取予約（電話）")
        return self

    @property
    def items(self) -> Locator:
        return self.page.get_by_test_id("booking-items").locator("li")

    def choose_slot(self, time: str) -> None:
        self.page.get_by_test_id("slot-choice").filter(has_text=time).get_by_role("radio").check()

    def book(self, *, name: str, phone: str) -> ReservationPage:
        self.page.get_by_label("来庁者の氏名").fill(name)
        self.page.get_by_label("折り返しの電話番号").fill(phone)
        self.page.get_by_label("折り返しの電話番号").press("Enter")  # Enter submits
        expect(self.page.get_by_test_id("reservation-no")).to_be_visible()
        return ReservationPage(self.page)


class ReservationPage(Screen):
    @property
    def number(self) -> Locator:
        return self.page.get_by_test_id("reservation-no")

    @property
    def status(self) -> Locator:
        return self.page.get_by_test_id("reservation-status")


class TodayPage(Screen):
    """本日の予約: the day's slots with their people and items."""

    path = "/reservations/today"

    def via_menu(self) -> Self:
        self.menu.get_by_role("link", name="本日の予約").click()
        return self

    def slot(self, time: str) -> Locator:
        return self.page.locator(f'[data-testid="slot-section"][data-slot="{time}"]')

    def counts(self, time: str) -> Locator:
        return self.slot(time).get_by_test_id("slot-counts")

    def row(self, name: str) -> Locator:
        return self.page.get_by_test_id("reservation-row").filter(has_text=name)

    def hand_over(self, name: str) -> HandoverPage:
        self.row(name).get_by_role("link", name="交付へ").click()
        expect(self.heading).to_have_text("本人確認・交付")
        return HandoverPage(self.page)

    def mark_no_show(self, name: str) -> None:
        self.row(name).get_by_role("button", name="不来庁").click()
        self.expect_message("不来庁にしました")
