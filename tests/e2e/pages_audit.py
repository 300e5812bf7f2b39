"""Page objects of the readable audit screens (issue 12): the audit log with its labelled
details and collapsed raw records, and an item's history in words."""

from __future__ import annotations

from typing import Self

from playwright.sync_api import Locator, expect

from tests.e2e.pages import AuditPage, Screen


class ReadableAuditPage(AuditPage):
    """監査ログ, as the auditor reads it."""

    def filter_by_label(self, label: str) -> Self:
        self.page.get_by_label("操作", exact=True).select_option(label=label)
        self.page.get_by_role("button", name="絞り込む").click()
        return self

    def row(self, *texts: str) -> Locator:
        rows = self.events
        for text in texts:
            rows = rows.filter(has_text=text)
        return rows.first

    def open_raw_record(self, row: Locator) -> Locator:
        """Open the collapsed record (JSON and hashes) of a row: one click."""
        row.get_by_text("記録そのもの").click()
        raw = row.get_by_test_id("raw-details")
        expect(raw).to_be_visible()
        return raw

    def text_outside_raw_records(self) -> str:
        """What the page says with every raw record closed (closed ``<details>`` content is
        not rendered, so it is not in ``innerText``)."""
        text: str = self.page.evaluate(
            "() => { document.querySelectorAll('details.raw').forEach(d => d.open = false);"
            " return document.querySelector('main').innerText; }"
        )
        return text

    def header_lines(self) -> dict[str, int]:
        """Each column header's text and the number of lines it is laid out on."""
        lines: dict[str, int] = self.page.evaluate(
            "() => Object.fromEntries(Array.from(document.querySelectorAll("
            "'[data-testid=audit-events] thead th')).map(th => {"
            " const range = document.createRange(); range.selectNodeContents(th);"
            " const tops = new Set(Array.from(range.getClientRects()).map(r => Math.round(r.top)));"
            " return [th.textContent.trim(), tops.size]; }))"
        )
        return lines


class ItemHistoryPage(Screen):
    """通知物の履歴: one line per event, in words."""

    def open_item(self, item_id: int) -> Self:
        self.page.goto(f"/items/{item_id}/history")
        expect(self.heading).to_contain_text("通知物の履歴")
        return self

    @property
    def lines(self) -> Locator:
        return self.page.get_by_test_id("timeline").locator("li")
