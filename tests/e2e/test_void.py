"""Browser journey (issue 12): a mistaken handover is voided. The clerk hands over, notices the
mistake and asks for a void; a records officer voids it; the items are back in custody (保管中)
and the reprinted receipt says 取消 with the reason."""

from __future__ import annotations

import io

from playwright.sync_api import Page, expect
from pypdf import PdfReader

from tests import factories
from tests.e2e.conftest import LiveServer
from tests.e2e.pages import HandoverPage, ItemPage, log_in, save_final_screen
from tests.e2e.pages_void import VoidableHandoverPage
from tracker.domain.codes import ReturnReason, Role


def test_an_officer_voids_a_handover_and_the_receipt_says_so(
    page: Page, live_server: LiveServer
) -> None:
    clerk = live_server.create_user(Role.CLERK, "clerk1", display_name="窓口 花子")
    officer = live_server.create_user(Role.RECORDS_OFFICER, "officer1", display_name="記録 一郎")
    items = factories.envelope(
        live_server.app,
        1,
        reason=ReturnReason.TENKYO_FUMEI,
        items=[
            factories.item("肥後 太郎", "ヒゴ タロウ"),
            factories.item("肥後 花子", "ヒゴ ハナコ"),
        ],
    )

    # The clerk hands the household over, then notices it was the wrong family.
    log_in(page, clerk)
    form = HandoverPage(page).open_for(*items)
    form.recipient_is("本人")
    form.visitor_showed("旅券（A群）")
    form.confirm()
    record = VoidableHandoverPage(page)
    record.expect_message("交付しました")
    receipt_no = record.receipt_no.inner_text()
    handover_id = record.handover_id
    expect(page.get_by_role("button", name="交付を取り消す")).to_have_count(0)  # clerks ask
    record.ask_for_void("別の世帯の方に誤って交付したため")
    expect(record.pending_request).to_contain_text("別の世帯の方に誤って交付したため")
    expect(record.pending_request).to_contain_text("窓口 花子")
    record.log_out()

    # The records officer sees the request and voids the handover.
    log_in(page, officer)
    record = VoidableHandoverPage(page).open_record(handover_id)
    expect(record.pending_request).to_be_visible()
    expect(record.void_reason_box).to_have_value("別の世帯の方に誤って交付したため")
    record.void()
    expect(record.voided_tag).to_have_text("取消済")
    expect(record.void_record).to_contain_text("記録 一郎")
    expect(record.void_record).to_contain_text("別の世帯の方に誤って交付したため")

    # The items are back in custody, and can be handed over again.
    for item_id in items:
        item = ItemPage(page).open_item(item_id)
        expect(item.status).to_have_text("保管中")
        expect(page.get_by_test_id("voided-handovers")).to_contain_text(receipt_no)
    expect(page.get_by_role("button", name="本人確認と交付へ")).to_be_visible()

    # The reprinted receipt is stamped 取消, with the time and the reason.
    record = VoidableHandoverPage(page).open_record(handover_id)
    pdf = record.receipt_pdf()
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "取消" in text
    assert "この交付は取り消されました（交付取消）。" in text
    assert "取消の理由 別の世帯の方に誤って交付したため" in text
    assert "（宛先）熊本市長" in text and "窓口 花子" in text
    page.reload()
    save_final_screen(page, "void")
