"""Browser journey (issue 15): a clerk on the phone opens the item, sees the phone rule beside
the form, records the call by keyboard (a time in the future is refused first) and finds it in
the item's contact log with their own name."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import Page, expect

from tests import factories
from tests.e2e.conftest import LiveServer
from tests.e2e.pages import log_in, save_final_screen
from tests.e2e.pages_contacts import ContactItemPage
from tracker.clock import JST, now_utc
from tracker.domain.codes import Role


def test_a_clerk_records_a_phone_call_on_the_item_page(page: Page, live_server: LiveServer) -> None:
    clerk = live_server.create_user(Role.CLERK, "clerk1", display_name="窓口 花子")
    (item_id,) = factories.envelope(live_server.app, 1, addressee="山田 太郎")

    log_in(page, clerk)
    item = ContactItemPage(page).open_item(item_id)
    expect(item.section).to_contain_text("接触記録はありません")
    expect(item.phone_rule).to_have_text(
        "個人情報保護により、通知カードの返戻状況を電話で回答することはできません。"
    )
    later = (now_utc() + timedelta(hours=2)).astimezone(JST)
    if later.date() == now_utc().astimezone(JST).date():  # past 22:00 JST this is tomorrow
        item.record("電話", "来庁予定", time=f"{later:%H:%M}")
        expect(item.field_errors).to_contain_text("日時が未来になっています")
        item = ContactItemPage(page).open_item(item_id)
    item.record("電話", "電話あり、来庁予定")
    item.expect_message("接触記録を登録しました")
    assert page.url.endswith(f"/items/{item_id}#contacts")
    expect(item.rows).to_have_count(1)
    expect(item.rows.first).to_contain_text("電話")
    expect(item.rows.first).to_contain_text("電話あり、来庁予定")
    expect(item.rows.first).to_contain_text("窓口 花子")
    save_final_screen(page, "contacts-item")
