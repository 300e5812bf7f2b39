"""Browser journey (issue 13): a records officer reaches the register import from the return
import, checks then imports a CP932 file with 和暦 dates, sees the result on the search results
and the item page, records another result by keyboard (a bad date is refused first), and prints
the 実態調査依頼一覧."""

from __future__ import annotations

import io

from playwright.sync_api import Page, expect
from pypdf import PdfReader

from tests import factories_register
from tests.e2e.conftest import LiveServer
from tests.e2e.pages import ImportPage, SearchPage, log_in, save_final_screen
from tests.e2e.pages_register import InvestigationListPage, RegisterItemPage, RegisterUploadPage
from tracker.domain.codes import Role


def test_an_officer_imports_register_results_and_prints_the_investigation_list(
    page: Page, live_server: LiveServer
) -> None:
    officer = live_server.create_user(Role.RECORDS_OFFICER, "officer1", display_name="記録 一郎")
    ids = factories_register.household(live_server.app)
    numbers = [factories_register.control_no(live_server.app, i) for i in ids]
    content = "\r\n".join(
        [
            "管理番号,異動区分,異動日,備考",
            f"{numbers[0]},死亡,令和5年1月10日,",
            f"{numbers[2]},現住,,実態調査を依頼",
        ]
    ).encode("cp932")

    log_in(page, officer)
    ImportPage(page).open()
    page.get_by_role("link", name="住基照合結果の取込").click()
    upload = RegisterUploadPage(page)
    expect(upload.heading).to_have_text("住基照合結果の取込")
    report = upload.upload("juki.csv", content, commit=False)
    expect(report).to_contain_text("検証のみ（書き込みなし）")
    expect(report).to_contain_text("新規 2件")
    report = upload.upload("juki.csv", content)
    expect(report).to_contain_text("取込が完了しました")

    SearchPage(page).open().search("タカハシ")
    expect(page.get_by_test_id("register-badge")).to_have_count(2)
    expect(page.get_by_test_id("register-badge").first).to_contain_text("死亡")
    save_final_screen(page, "register-search")

    item = RegisterItemPage(page).open_item(ids[1])
    expect(item.result).to_contain_text("まだ登録されていません")
    item.record("転出", "令和2年2月30日")
    expect(item.field_errors).to_contain_text("存在しない日付")
    expect(page.get_by_test_id("register-problem")).to_be_visible()
    item.record("転出", "R2.2.3", "福岡市へ")
    item.expect_message("住基照合の結果を登録しました")
    expect(item.result).to_contain_text("令和2年2月3日 (2020-02-03)")
    expect(item.result).to_contain_text("記録 一郎")
    save_final_screen(page, "register-item")

    listing = InvestigationListPage(page).open()
    expect(listing.rows).to_have_count(1)
    expect(listing.rows.first).to_contain_text("髙橋 次郎")
    pdf = listing.download("PDFを出力")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "実態調査依頼一覧" in text and "髙橋 次郎" in text
    save_final_screen(page, "register-checks")
