"""A clerk hands a card over under identity policy version 2 (issue 14), in a real browser."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.pages import ARTIFACTS, HandoverRecordPage, log_in, save_final_screen
from tests.e2e.pages_idp import PolicyV2HandoverPage
from tests.e2e.test_journeys import seed, tracking_no
from tracker.domain.codes import Role

if TYPE_CHECKING:
    from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e


def test_the_form_asks_for_dates_refuses_in_words_and_never_takes_a_card_number(
    page: Page, live_server: LiveServer
) -> None:
    ids = seed(
        live_server,
        [
            f"{tracking_no(14_142_135_623)},R8.9.1,転居先不明,天草 四郎,熊本市西区4,"
            "天草 四郎,アマクサ シロウ,S52.5.6,世帯主"
        ],
    )
    log_in(page, live_server.create_user(Role.CLERK, "clerk1"))
    form = PolicyV2HandoverPage(page).open_for(ids["天草 四郎"])
    expect(form.rule).to_have_text(
        "基準（第2版）: A群1点、またはB群2点。原本で、有効期限内であることを確認してください。"
        "番号は末尾4桁まで（任意）。"
    )
    expect(form.last4_of("マイナンバーカード")).to_have_count(0)  # never_record_number
    expect(form.last4_of("旅券")).to_have_count(1)
    expect(form.expiry_of("旅券")).to_have_count(0)  # passports: the clerk checks, as before
    page.screenshot(path=ARTIFACTS / "handover-policy-v2-form.png", full_page=True)

    # A 運転経歴証明書 issued before 2012-04-01 does not count.
    form.recipient_is("本人")
    form.visitor_showed("運転経歴証明書（A群）")
    form.issue_date_of("運転経歴証明書").fill("H23.6.1")
    form.confirm()
    expect(form.refusal).to_contain_text(
        "運転経歴証明書は平成24年4月1日以降に交付されたものに限ります"
    )

    # The マイナンバーカード with the expiry date printed on it: handed over, version 2.
    form.open_for(ids["天草 四郎"])
    form.visitor_showed("マイナンバーカード（A群）")
    form.expiry_of("マイナンバーカード").fill("R15.5.6")
    form.confirm()
    record = HandoverRecordPage(page)
    record.expect_message("交付しました")
    expect(page.locator("dl.facts")).to_contain_text("マイナンバーカード")
    save_final_screen(page, "handover-policy-v2")

    # The clerk can read the rule per item kind and recipient kind, and each document's condition.
    page.goto("/identity-policy")
    rules = page.get_by_test_id("rules")
    expect(rules).to_contain_text("未受領のマイナンバーカード")
    expect(rules).to_contain_text("平成24年4月1日以降の交付に限る")
    page.screenshot(path=ARTIFACTS / "identity-policy-v2.png", full_page=True)
