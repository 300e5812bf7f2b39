"""Browser journey (issue 14): a clerk takes in an unclaimed My Number card of a resident whose
name is in Latin letters, with a 通称 and the card's dates; it is found by the 通称 and by the
name in lower case; a records officer records the お知らせ送付日."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer
from tests.e2e.pages import SearchPage, log_in, save_final_screen
from tests.e2e.pages_names import CardIntakePage, CardItemPage
from tests.factories import tracking_no
from tracker.domain.codes import Role


def test_clerk_takes_in_an_unclaimed_card_with_a_latin_name_and_finds_it_by_alias(
    page: Page, live_server: LiveServer
) -> None:
    clerk = live_server.create_user(Role.CLERK, "clerk1", display_name="窓口 一子")
    log_in(page, clerk)
    intake = CardIntakePage(page)
    intake.open()
    expect(intake.extra_row(1)).to_be_hidden()  # no extra stops for an ordinary card
    intake.tracking_number.fill(tracking_no(27_182_818_284))
    intake.field("返戻日").fill("R8.10.1")
    intake.field("宛名（世帯主）").fill("SMITH John Paul")
    intake.field("住所").fill("熊本市中央区手取本町1-1")
    intake.row_field("氏名", 1).fill("SMITH John Paul")
    intake.row_field("生年月日", 1).fill("1990-01-02")
    intake.choose_kind(1, "未受領のマイナンバーカード")
    expect(intake.extra_row(1)).to_be_visible()  # the card's dates appear with the kind
    intake.extra_field("通称", 1).fill("スミス ジョン")
    intake.extra_field("交付通知書送付日", 1).fill("令和6年4月1日")
    intake.extra_field("再通知日", 1).fill("R6.10.1")
    intake.extra_field("カードの有効期限", 1).fill("R16.1.2")
    save_final_screen(page, "names-intake")
    assert "（1件）" in intake.register()

    search = SearchPage(page)
    search.open()
    search.search("すみす")
    expect(search.result_count).to_have_text("1件")
    search.search("smith  john")
    expect(search.result_count).to_have_text("1件")
    search.open_item("SMITH John Paul")
    item = CardItemPage(page)
    expect(item.fact("alias")).to_have_text("スミス ジョン")
    expect(item.fact("first-notice-on")).to_contain_text("令和6年4月1日")
    expect(item.fact("renotice-on")).to_contain_text("令和6年10月1日")
    expect(item.fact("card-expires-on")).to_contain_text("令和16年1月2日")
    item_id = item.item_id
    # Back re-runs the stored search (issue 16: the URL holds only its token).
    search.back_to_results()
    expect(search.result_count).to_have_text("1件")
    expect(page.locator("#q")).to_have_value("smith  john")
    item.log_out()

    officer = live_server.create_user(Role.RECORDS_OFFICER, "records1", display_name="記録 一郎")
    log_in(page, officer)
    item.open_item(item_id)
    item.record_notice_sent("R8.10.5")
    expect(item.fact("notice-sent-on")).to_contain_text("令和8年10月5日")
    save_final_screen(page, "names-item")


def test_the_extras_open_on_request_for_an_alias_on_any_kind(
    page: Page, live_server: LiveServer
) -> None:
    clerk = live_server.create_user(Role.CLERK, "clerk1", display_name="窓口 一子")
    log_in(page, clerk)
    intake = CardIntakePage(page)
    intake.open()
    intake.show_extras()
    expect(intake.extra_row(1)).to_be_visible()
    intake.add_household_member()  # the box stays ticked across the round trip
    expect(intake.extra_row(2)).to_be_visible()
