"""Page objects for 住基照合 (resident-register checks): the file upload, the entry on the item
page and the 実態調査依頼一覧, in the words of the records office."""

from __future__ import annotations

from playwright.sync_api import Locator, expect

from tests.e2e.pages import ItemPage, Screen


class RegisterUploadPage(Screen):
    """住基照合結果の取込: a CSV file from the resident-records section, all or nothing."""

    path = "/register-checks"

    def upload(self, name: str, content: bytes, *, commit: bool = True) -> Locator:
        if not self.page.url.endswith(self.path):  # back from the last upload's job page
            self.open()
        self.page.get_by_label("CSVファイル").set_input_files(
            {"name": name, "mimeType": "text/csv", "buffer": content}
        )
        self.page.get_by_role("button", name="取り込む" if commit else "検証のみ").click()
        report = self.page.get_by_test_id("register-report")
        expect(report).to_be_visible()
        return report


class RegisterItemPage(ItemPage):
    """The item page's 住基照合 section: the current result and the entry form."""

    @property
    def result(self) -> Locator:
        return self.page.get_by_test_id("register-result")

    def record(self, outcome: str, event_on: str = "", note: str = "") -> None:
        """Fill the form from the keyboard (select, then type, then Enter) and send it."""
        select = self.page.get_by_label("異動区分")
        select.focus()
        select.select_option(label=outcome)
        self.page.get_by_label("異動日").fill(event_on)
        self.page.get_by_label("備考").fill(note)
        self.page.get_by_label("備考").press("Enter")

    @property
    def field_errors(self) -> Locator:
        return self.page.locator(".field.has-error .error")


class InvestigationListPage(Screen):
    """実態調査依頼一覧: items in custody still registered at the address (現住)."""

    path = "/register/investigation"

    @property
    def rows(self) -> Locator:
        return self.page.get_by_test_id("investigation-list").locator("tbody tr")

    def download(self, link: str) -> bytes:
        """A file as its link serves it (same login, same cookies)."""
        href = self.page.get_by_role("link", name=link).get_attribute("href")
        assert href is not None
        response = self.page.context.request.get(href)
        assert response.ok, response.status
        return response.body()
