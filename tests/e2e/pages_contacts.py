"""Page objects for the contact log (接触記録, issue 15): the section on the item page, in the
words of the counter."""

from __future__ import annotations

from playwright.sync_api import Locator

from tests.e2e.pages import ItemPage


class ContactItemPage(ItemPage):
    """The item page's 接触記録 section: the log and the form to add to it."""

    @property
    def section(self) -> Locator:
        return self.page.get_by_test_id("contact-section")

    @property
    def rows(self) -> Locator:
        return self.section.get_by_test_id("contact-row")

    @property
    def phone_rule(self) -> Locator:
        return self.section.get_by_test_id("phone-rule")

    def record(self, kind: str, note: str = "", *, time: str | None = None) -> None:
        """Fill the form from the keyboard (the day and time are already now) and send it
        with Enter from the time field."""
        kind_field = self.section.get_by_label("種類")
        kind_field.focus()
        kind_field.select_option(label=kind)
        self.section.get_by_label("内容（任意）").fill(note)
        time_field = self.section.get_by_label("時刻")
        if time is not None:
            time_field.fill(time)
        time_field.press("Enter")

    @property
    def field_errors(self) -> Locator:
        return self.page.locator(".field.has-error .error")
