"""Browser journey (issue 15): a records officer chooses the items of a rule, sees the
preview (a protected person left out, the letters' text), records the sending by 簡易書留 and
lands on the batch page with its letters and mailing list."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import Page, expect

from tests import factories_notices as fn
from tests.e2e.conftest import LiveServer
from tests.e2e.pages import log_in, save_final_screen
from tests.e2e.pages_notices import NoticesPage
from tests.factories import NOW, TODAY, database_of
from tracker.domain.codes import Role
from tracker.services import protection


def test_choose_preview_and_record_a_mailing(page: Page, live_server: LiveServer) -> None:
    app = live_server.app
    officer = live_server.create_user(Role.RECORDS_OFFICER, "officer1", display_name="記録 一郎")
    fn.rules(app)
    # Rule B counts three months from the notice: a deadline whatever the day the test runs.
    ids = fn.many(app, [fn.RETURNED_B[0]] * 3)
    with database_of(app).session_scope() as session:
        protection.place(
            session,
            actor="officer1",
            item_id=ids[2],
            reason="申出",
            review_on=TODAY + timedelta(days=365),
            now=NOW,
            today=TODAY,
        )
    log_in(page, officer)
    preview = NoticesPage(page).open().preview_by_rule(fn.RULE_B)
    expect(preview.letters).to_have_text("2")
    expect(preview.excluded).to_contain_text("支援措置の対象: 1")
    expect(preview.first_letters).to_have_count(2)
    expect(preview.first_letters.first).to_contain_text("通知 太郎0")
    expect(preview.first_letters.first).to_contain_text("までに、下記によりお受け取りください")
    expect(preview.first_letters.first).to_contain_text("電話で回答することはできません")
    save_final_screen(page, "notices-preview")

    batch = preview.send("簡易書留")
    expect(batch.count).to_have_text("2")
    expect(batch.items).to_have_count(2)
    expect(page.get_by_role("link", name="お知らせ（PDF）")).to_be_visible()
    save_final_screen(page, "notices")
    listing = NoticesPage(page).open()
    expect(listing.batches).to_have_count(1)
    expect(listing.batches.first).to_contain_text("N000000001")
    page.goto("/notices/template")
    page.get_by_role("button", name="見本で確認").click()
    expect(page.get_by_test_id("template-preview")).to_contain_text("令和9年3月31日までに")
    save_final_screen(page, "notices-template")
