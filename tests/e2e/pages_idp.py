"""Page objects for the handover form under identity policy version 2 (issue 14)."""

from __future__ import annotations

from playwright.sync_api import Locator

from tests.e2e.pages import HandoverPage


class PolicyV2HandoverPage(HandoverPage):
    """本人確認・交付 with the fields a version-2 rule asks for beside each document."""

    def _box(self) -> Locator:
        return self._fieldset("来所者の本人確認書類")

    def expiry_of(self, document: str) -> Locator:
        """The expiry-date field of a document, by its name (マイナンバーカード)."""
        return self._box().get_by_label(f"{document}（A群） 有効期限")

    def issue_date_of(self, document: str) -> Locator:
        return self._box().get_by_label(f"{document}（A群） 交付日")

    def last4_of(self, document: str, group: str = "A群") -> Locator:
        return self._box().get_by_label(f"{document}（{group}） 末尾4桁")

    @property
    def rule(self) -> Locator:
        """The rule for the chosen recipient kind (the others are hidden)."""
        return self._box().locator("p.hint:visible")
