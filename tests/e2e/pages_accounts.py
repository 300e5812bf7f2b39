"""Page objects for accounts, office settings and storage locations (issue 12)."""

from __future__ import annotations

from playwright.sync_api import Locator, expect

from tests.e2e.pages import AdminUsersPage, LoginPage, Screen
from tests.helpers import Account


class ChangePasswordPage(Screen):
    """パスワードの変更: everyone's own; the only screen until a new account has changed it."""

    path = "/account/password"

    def expect_forced(self) -> None:
        expect(self.heading).to_have_text("パスワードの変更")
        expect(self.page.get_by_test_id("must-change")).to_be_visible()

    def change(self, current: str, new: str) -> Screen:
        self.page.get_by_label("現在のパスワード").fill(current)
        self.page.get_by_label("新しいパスワード", exact=True).fill(new)
        self.page.get_by_label("新しいパスワード（確認）").fill(new)
        self.page.get_by_role("button", name="変更する").click()
        return Screen(self.page)


class FailingLoginPage(LoginPage):
    def try_log_in(self, account: Account, password: str) -> None:
        """An attempt that is expected to fail: the login page answers with its message."""
        self.page.get_by_label("ユーザー名").fill(account.username)
        self.page.get_by_label("パスワード").fill(password)
        self.page.get_by_role("button", name="ログイン").click()
        self.expect_message("ユーザー名またはパスワードが正しくありません")


class AdminUserPage(Screen):
    """ユーザーの管理: one account's role, password reset, enable/disable and unlock."""

    @property
    def state(self) -> Locator:
        return self.page.get_by_test_id("user-state")

    def unlock(self) -> None:
        self.page.get_by_role("button", name="ロックを解除").click()

    def reset_password(self) -> str:
        self.page.get_by_role("button", name="一時パスワードを発行").click()
        shown = self.page.get_by_test_id("one-time-password")
        expect(shown).to_be_visible()
        return shown.inner_text().strip()

    def change_role(self, role: str) -> None:
        self.page.get_by_label("新しい役割").select_option(label=role)
        self.page.get_by_role("button", name="役割を変更").click()


def open_user(users: AdminUsersPage, username: str) -> AdminUserPage:
    users.row(username).get_by_role("link", name="管理").click()
    return AdminUserPage(users.page)
