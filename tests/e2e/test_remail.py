"""Browser journey (issue 13): a card is mailed again, comes back, and the clerk scans the new
tracking number at intake: the return form opens by itself, and after it the card is in custody
in a new envelope with both returns in its history."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests import factories
from tests.e2e.conftest import LiveServer
from tests.e2e.pages import log_in, save_final_screen
from tests.e2e.pages_remail import RemailIntakePage, RemailItemPage, RemailListPage
from tests.factories_remail import remail_no
from tracker.clock import today_jst
from tracker.domain.codes import ReturnReason, Role


def test_remail_then_the_return_is_scanned_at_intake(page: Page, live_server: LiveServer) -> None:
    clerk = live_server.create_user(Role.CLERK, "clerk1", display_name="窓口 花子")
    (item_id,) = factories.envelope(
        live_server.app,
        1,
        reason=ReturnReason.TENKYO_FUMEI,
        items=[factories.item("肥後 太郎", "ヒゴ タロウ")],
    )
    log_in(page, clerk)
    item = RemailItemPage(page).open_item(item_id)
    control_no = page.locator("h1 .mono").inner_text()  # E000000001-1
    first_envelope = control_no.rsplit("-", 1)[0]
    item.request_remailing(
        who="本人", reason="書面による請求", kind="居所", address="熊本市東区2-2 サンプル荘101"
    )
    # requested through the app, so mailed on the app's today (the pinned test clock)
    item.record_mailing(remail_no(1), today_jst().isoformat())
    expect(item.status).to_have_text("再送付中")
    expect(item.handover_button).to_have_count(0)  # it is in the post, not on the shelf

    listing = RemailListPage(page).open()
    expect(listing.rows).to_have_count(1)
    expect(listing.rows.first).to_contain_text("再送付中")

    # The post office brings it back: the clerk scans the new number on the intake screen.
    returned = RemailIntakePage(page).open().scan_remailed(remail_no(1))
    expect(returned.facts).to_contain_text("肥後 太郎")
    item = returned.receive(returned_on=today_jst().isoformat(), slot="R-01")
    expect(item.status).to_have_text("保管中")
    expect(item.returns).to_have_count(2)
    expect(item.returns.first).to_contain_text(first_envelope)
    expect(item.returns.nth(1)).to_contain_text(remail_no(1)[:4])
    expect(item.timeline).to_contain_text("再返戻")
    expect(page.locator("h1 .mono")).to_have_text(control_no)  # it keeps its control number
    expect(page.get_by_role("button", name="本人確認と交付へ")).to_be_visible()
    save_final_screen(page, "remail")
