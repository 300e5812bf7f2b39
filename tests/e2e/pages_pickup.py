"""Page objects for 受取予約枠 (pickup days and slots), in the words of the records office."""

from __future__ import annotations

from playwright.sync_api import Locator, expect

from tests.e2e.pages import Screen


class PickupDaysPage(Screen):
    """受取予約枠: the open days with booked/capacity per slot."""

    path = "/pickup/days"

    @property
    def days(self) -> Locator:
        return self.page.get_by_test_id("pickup-day-row")

    def open_a_day(self) -> OpenDayPage:
        self.page.get_by_role("link", name="受取予約日を設定").click()
        form = OpenDayPage(self.page)
        expect(form.heading).to_have_text("受取予約日を設定")
        return form


class OpenDayPage(Screen):
    """受取予約日を設定: a date, the place, the pattern; a preview before saving."""

    path = "/pickup/days/open"

    def fill(self, day: str, *, weekend_pattern: bool = True) -> None:
        """Typed from the keyboard: the date field has the focus when the page opens.

        Waits for that focus first: typing before the page has focused the field loses the
        first characters (「令和」 became 「和」 in one CI run).
        """
        expect(self.page.get_by_label("日付", exact=True)).to_be_focused()
        self.page.keyboard.type(day)
        self.page.get_by_label("週末の標準" if weekend_pattern else "下の表で指定").check()

    def preview(self) -> Locator:
        self.page.get_by_role("button", name="予約枠を確認").click()
        preview = self.page.get_by_test_id("slot-preview")
        expect(preview).to_be_visible()
        return preview

    def save(self) -> PickupDayPage:
        self.page.get_by_role("button", name="受取予約日を設定").click()
        return PickupDayPage(self.page)


class PickupDayPage(Screen):
    """One pickup day: its slots with booked and capacity."""

    @property
    def slots(self) -> Locator:
        return self.page.get_by_test_id("slot-row")

    def capacities(self) -> list[int]:
        return [int(text) for text in self.slots.locator(".slot-capacity").all_inner_texts()]

    def spans(self) -> list[str]:
        return self.slots.locator(".slot-span").all_inner_texts()
