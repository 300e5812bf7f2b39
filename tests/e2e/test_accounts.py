"""Browser journeys for issue 12 (accounts): a new user must replace the initial password
before anything else, and an admin unlocks a clerk locked out by wrong passwords."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer
from tests.e2e.pages import AdminUsersPage, LoginPage, SearchPage, log_in, save_final_screen
from tests.e2e.pages_accounts import ChangePasswordPage, FailingLoginPage, open_user
from tests.helpers import Account
from tracker.domain.codes import Role


def test_a_new_user_changes_the_initial_password_before_anything_else(
    page: Page, live_server: LiveServer
) -> None:
    admin = live_server.create_user(Role.ADMIN, "admin1", display_name="管理 一")
    users = AdminUsersPage(log_in(page, admin).page)
    users.open()
    initial = "initial password 2026"
    users.add_user("clerk-new", "窓口 新人", "窓口担当", initial)
    users.expect_message("初回のログインで、初期パスワードの変更を求められます")
    expect(users.row("clerk-new")).to_contain_text("パスワード変更待ち")
    login = users.log_out()

    login.log_in(Account("clerk-new", initial, Role.CLERK))
    change = ChangePasswordPage(page)
    change.expect_forced()
    # nothing else opens until the password is changed
    for path in ("/", "/items", "/envelopes/new"):
        page.goto(path)
        change.expect_forced()
    home = change.change(initial, "my own secret phrase")
    home.expect_message("パスワードを変更しました")
    expect(page.get_by_role("heading", name="ようこそ、窓口 新人さん")).to_be_visible()
    search = SearchPage(page)
    search.open()
    expect(search.heading).not_to_have_text("パスワードの変更")

    # the initial password no longer works; the new one does, with no detour
    login = search.log_out()
    FailingLoginPage(page).try_log_in(Account("clerk-new", initial, Role.CLERK), initial)
    LoginPage(page).log_in(Account("clerk-new", "my own secret phrase", Role.CLERK))
    expect(page.get_by_test_id("must-change")).to_have_count(0)
    save_final_screen(page, "accounts-forced-change")


def test_an_admin_unlocks_a_locked_clerk_who_then_logs_in(
    page: Page, live_server: LiveServer
) -> None:
    clerk = live_server.create_user(Role.CLERK, "clerk1", display_name="窓口 花子")
    admin = live_server.create_user(Role.ADMIN, "admin1", display_name="管理 一")
    login = FailingLoginPage(page)
    login.open()
    for _ in range(5):
        login.try_log_in(clerk, "not the right password")
    login.try_log_in(clerk, clerk.password)  # locked: even the right password is refused

    users = AdminUsersPage(log_in(page, admin).page)
    users.open()
    expect(users.row("clerk1")).to_contain_text("ロック中")
    user = open_user(users, "clerk1")
    expect(user.state).to_contain_text("ロック中")
    user.unlock()
    user.expect_message("ユーザー「clerk1」のロックを解除しました")
    user.log_out()

    LoginPage(page).log_in(clerk)
    expect(page.get_by_test_id("current-user")).to_have_text("窓口 花子")
    save_final_screen(page, "accounts-unlock")
