"""The counter desk of issue 12 in a real browser: scan a label, hand over the whole household
with one A document, print the receipt, and the cursor is back in the scan box for the next
person. SQLite only (see conftest.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.pages import HandoverRecordPage, ItemPage, log_in, save_final_screen
from tests.e2e.pages_counter_desk import EnvelopePage, ScanBox, section
from tests.e2e.test_journeys import seed, tracking_no
from tracker.domain.codes import Role

if TYPE_CHECKING:
    from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e


def test_scan_a_label_hand_over_the_household_and_scan_the_next(
    page: Page, live_server: LiveServer
) -> None:
    number = tracking_no(27_182_818_284)
    ids = seed(
        live_server,
        [
            f"{number},R8.9.1,転居先不明,肥後 太郎,熊本市中央区手取本町1-2-3,"
            "肥後 太郎,ﾋｺﾞ ﾀﾛｳ,S50.1.1,世帯主",
            f"{number},R8.9.1,転居先不明,肥後 太郎,熊本市中央区手取本町1-2-3,"
            "肥後 花子,ひご はなこ,S52.4.5,妻",
        ],
    )
    log_in(page, live_server.create_user(Role.CLERK, "clerk1", display_name="窓口 花子"))
    scan = ScanBox(page)
    expect(scan.box).to_have_attribute("placeholder", "管理番号・問合せ番号（/）")

    # The home page starts in the scan box: the label's barcode opens the envelope.
    scan.scan("E000000001")
    envelope = EnvelopePage(page)
    expect(envelope.control_no).to_have_text("E000000001")
    scan.expect_focused()
    expect(envelope.rows).to_have_count(2)
    expect(envelope.row("肥後 花子")).to_contain_text("保管中")
    expect(envelope.row("肥後 花子")).to_contain_text("ヒゴ ハナコ")  # stored in katakana
    expect(envelope.ticked("E000000001-1")).to_be_checked()  # the household, preselected
    expect(envelope.ticked("E000000001-2")).to_be_checked()

    # The handover form shows only what belongs to the chosen kind of recipient.
    form = envelope.hand_over_selected()
    expect(page.locator("table.data tbody tr")).to_have_count(2)
    form.recipient_is("本人")
    expect(section(page, "任意代理人のとき")).to_be_hidden()
    expect(section(page, "法定代理人のとき")).to_be_hidden()
    expect(page.get_by_label("来所者の氏名（本人以外のとき）")).to_be_hidden()
    form.recipient_is("任意代理人")
    expect(section(page, "任意代理人のとき")).to_be_visible()
    expect(section(page, "法定代理人のとき")).to_be_hidden()
    form.recipient_is("本人")
    form.visitor_showed("運転免許証（A群）")
    form.confirm()

    record = HandoverRecordPage(page)
    record.expect_message("交付しました")
    scan.expect_focused()
    with page.expect_popup() as popup:
        record.print_receipt_link.click()
    receipt = popup.value
    receipt.wait_for_load_state()
    assert receipt.url.endswith("/receipt.pdf")
    receipt.close()
    # The next person: the cursor is in the scan box, ready for their label.
    scan.expect_focused()
    save_final_screen(page, "counter-desk")

    # The shortcut brings it back from anywhere; a full-width item number opens the item.
    page.locator("h1").click()
    expect(scan.box).not_to_be_focused()
    scan.summon()
    scan.scan("Ｅ" + "０" * 8 + "１－２")
    item = ItemPage(page)
    expect(item.name).to_have_text("肥後 花子")
    expect(item.status).to_have_text("交付済")
    assert item.item_id == ids["肥後 花子"]


def test_without_javascript_every_handover_section_shows(browser, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    """Progressive enhancement: with scripts off the form still offers every section."""
    ids = seed(
        live_server,
        [
            f"{tracking_no(16_180_339_887)},R8.9.2,転居先不明,宇土 二郎,熊本市南区2,"
            "宇土 二郎,ウト ジロウ,S41.3.4,世帯主"
        ],
    )
    context = browser.new_context(
        base_url=live_server.url, java_script_enabled=False, locale="ja-JP"
    )
    try:
        page = context.new_page()
        log_in(page, live_server.create_user(Role.CLERK, "clerk1"))
        page.goto(f"/handover?item={ids['宇土 二郎']}")
        expect(section(page, "任意代理人のとき")).to_be_visible()
        expect(section(page, "法定代理人のとき")).to_be_visible()
        expect(page.get_by_label("来所者の氏名（本人以外のとき）")).to_be_visible()
    finally:
        context.close()
