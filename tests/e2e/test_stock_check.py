"""Browser journey (issue 13): a stock check (棚卸) of one location. A clerk scans every label
but one, plus an envelope the ledger places in another location, and closes the check; a
records officer signs it off. The record PDF lists one missing and one found elsewhere, and
the missing card is held (所在調査中) and cannot be handed over."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer
from tests.e2e.pages import ARTIFACTS, ItemPage, log_in, save_final_screen
from tests.e2e.pages_stock import MissingItemsPage, StockCheckPage, StockChecksPage
from tests.factories_stock import item_of, shelf
from tracker.domain.codes import Role

CHUO = "中央区役所1階 熊本市マイナンバーセンター"


def test_stock_check_finds_a_missing_card_and_holds_it(
    page: Page, live_server: LiveServer, tmp_path: Path
) -> None:
    clerk = live_server.create_user(Role.CLERK, "clerk1", display_name="窓口 花子")
    officer = live_server.create_user(Role.RECORDS_OFFICER, "officer1", display_name="記録 一郎")
    on_shelf = shelf(live_server.app, 1, 4, slot="A-01")
    (elsewhere,) = shelf(live_server.app, 10, 1, location="HIGASHI", slot="B-02")
    *scanned, lost = on_shelf

    # The clerk starts the check and scans the shelf: every label but one, and a stray.
    log_in(page, clerk)
    check = StockChecksPage(page).open().start_check(CHUO)
    expect(check.count("expected")).to_have_text("4")
    for code in [*scanned, elsewhere]:
        check.scan(code)
    check.scan(scanned[0].lower())  # read twice: harmless
    check.expect_message("読取済み")
    expect(check.count("found")).to_have_text("3")
    expect(check.count("remaining")).to_have_text("1")
    expect(check.count("found-elsewhere")).to_have_text("1")
    expect(check.remaining).to_contain_text(lost)
    expect(check.exceptions).to_contain_text(elsewhere)
    expect(check.exceptions).to_contain_text("他の場所で発見")
    expect(check.scan_box).to_be_focused()  # ready for the next label
    save_final_screen(page, "stock-check-scan")
    check.close_check()
    expect(check.count("missing")).to_have_text("1")
    expect(check.status).to_have_text("確認待ち")
    check_id = check.check_id
    check.log_out()

    # A records officer signs it off and downloads the record.
    log_in(page, officer)
    check = StockCheckPage(page).open_check(check_id)
    check.sign_off()
    expect(check.status).to_have_text("完了")
    download = check.download_record()
    path = tmp_path / "record.pdf"
    download.save_as(path)
    download.save_as(ARTIFACTS / "stock-check-record.pdf")
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "棚卸記録" in text
    assert re.search(r"所在不明\s+1件", text) and re.search(r"他の場所で発見\s+1件", text)
    lines = [line for line in text.splitlines() if lost in line or elsewhere in line]
    assert any(lost in line and "所在不明" in line for line in lines), lines
    assert any(elsewhere in line and "他の場所で発見" in line for line in lines), lines
    assert sum("所在不明" in line for line in text.splitlines() if "E0000" in line) == 1
    assert "窓口 花子" in text and "記録 一郎" in text

    # The missing card is held for investigation and the counter cannot hand it over.
    missing = MissingItemsPage(page).open()
    expect(missing.row(f"{lost}-1")).to_contain_text("所在調査中")
    handover = ItemPage(page).open_item(item_of(live_server.app, lost)).start_handover()
    handover.recipient_is("本人")
    handover.visitor_showed("旅券（A群）")
    handover.confirm()
    expect(handover.refusal).to_contain_text("所在調査中のため交付できません")
    save_final_screen(page, "stock-check")
    MissingItemsPage(page).open()
    save_final_screen(page, "stock-missing")
