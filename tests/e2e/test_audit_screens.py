"""Browser journey (issue 12): an auditor reads the audit log and an item's history in words,
at 1366×768, with no raw action code, outcome or JSON on the screen; the raw record is one
click away."""

from __future__ import annotations

import re
from datetime import date

from playwright.sync_api import Page, expect

from tests import factories
from tests.e2e.conftest import LiveServer
from tests.e2e.pages import ARTIFACTS, LoginPage, log_in, save_final_screen
from tests.e2e.pages_audit import ItemHistoryPage, ReadableAuditPage
from tests.helpers import Account
from tracker.clock import now_utc, today_jst
from tracker.domain.codes import AuditAction, Role
from tracker.domain.identity import Evidence, RecipientKind, decide
from tracker.services import handover
from tracker.services.disposal import Execution

#: A stored code such as ``handover.create``: none may be visible outside the raw records.
RAW_CODE = re.compile(r"[a-z_]+\.[a-z_]+")


def shot(page: Page, name: str, *, full_page: bool) -> None:
    """A 1366×768 screenshot for the eye test (layout: no wraps, nothing cut off)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"audit-screens-{name}.png"), full_page=full_page)


def a_day_at_the_office(live: LiveServer) -> dict[str, int]:
    """Intake, a refused and a successful handover, a disposal batch run to the end."""
    app = live.app
    refused, handed = factories.envelope(
        app,
        1,
        series=6,
        returned_on=date(2026, 11, 2),
        items=[factories.item("山田 花子", "ヤマダ ハナコ"), factories.item("山田 太郎")],
        actor="clerk1",
    )
    db = app.extensions["tracker.db"]
    with db.session_scope() as session:
        policy = handover.current_policy(session)
        missing = Evidence(RecipientKind.SELF, documents=("health_insurance_card",))
        reasons = decide(missing, policy, today_jst()).reasons
        handover.record_refusal(session, actor="clerk1", item_ids=[refused], reasons=reasons)
    with db.session_scope() as session:
        handover.hand_over(
            session,
            actor="clerk1",
            item_ids=[handed],
            evidence=Evidence(RecipientKind.SELF, documents=("drivers_license",)),
            now=now_utc(),
            today=today_jst(),
        )
    factories.batch(
        app,
        2,
        actor="officer1",
        approved_by="officer2",
        executed=Execution(
            destroyed_on=factories.TODAY,
            method="shredding",
            place="本庁舎 裁断室",
            executor="記録 二郎",
            witness="記録 一郎",
        ),
    )
    return {"refused": refused, "handed": handed}


def test_auditor_reads_the_audit_log_and_an_item_history_in_words(
    page: Page, live_server: LiveServer
) -> None:
    page.set_viewport_size({"width": 1366, "height": 768})
    clerk = live_server.create_user(Role.CLERK, "clerk1", display_name="窓口 花子")
    live_server.create_user(Role.RECORDS_OFFICER, "officer1", display_name="記録 一郎")
    live_server.create_user(Role.RECORDS_OFFICER, "officer2", display_name="記録 二郎")
    auditor = live_server.create_user(Role.AUDITOR, "auditor1", display_name="監査 三郎")
    items = a_day_at_the_office(live_server)
    login = LoginPage(page).open()  # a mistyped password: a failed login in the log
    page.get_by_label("ユーザー名").fill(clerk.username)
    page.get_by_label("パスワード").fill("not the password")
    page.get_by_role("button", name="ログイン").click()
    expect(login.heading).to_be_visible()
    log_in(page, Account(auditor.username, auditor.password, auditor.role))

    audit = ReadableAuditPage(page)
    audit.open()
    shown = audit.text_outside_raw_records()
    assert RAW_CODE.findall(shown) == []
    for code in ("ok", "refused", "handover:", "drivers_license", '{"'):
        assert code not in shown, code
    for label in ("ログイン失敗", "返戻郵便の受付", "交付の拒否", "廃棄の実行", "成功", "拒否"):
        assert label in shown, label
    lines = audit.header_lines()
    assert set(lines) >= {"日時", "操作者", "操作", "対象", "結果", "詳細"}
    assert set(lines.values()) == {1}, lines  # no 結/果 on two lines
    shot(page, "audit-log", full_page=False)

    # A handover: its object linked, its details labelled and named, its raw record a click away.
    row = audit.row("交付 H000000001")
    expect(row).to_contain_text("窓口 花子")
    expect(row).to_contain_text("運転免許証")
    expect(row).to_contain_text(re.compile(r"第2版（令和\d+年\d+月\d+日〜）"))
    raw = audit.open_raw_record(row)
    expect(raw).to_contain_text('"documents": [')
    shot(page, "audit-log-raw-open", full_page=False)
    row.get_by_role("link", name="交付 H000000001").click()
    expect(page).to_have_url(re.compile(r"/handovers/1$"))

    # The action filter: labelled choices, one area at a time.
    audit.open().filter_by_label("廃棄（すべて）")
    expect(audit.events).to_have_count(3)
    expect(audit.events.first).to_contain_text("廃棄の実行")
    audit.filter_by_label(str(AuditAction.HANDOVER_REFUSED.label))
    expect(audit.events).to_have_count(1)
    shot(page, "audit-log-filtered", full_page=True)

    history = ItemHistoryPage(page).open_item(items["refused"])
    refused = history.lines.filter(has_text="交付を拒否")
    # policy version 2 (issue 14): the lapsed 健康保険証 is named first
    expect(refused).to_contain_text("交付を拒否: 健康保険証は令和7年12月1日で使えなくなりました")
    expect(refused).to_contain_text("本人確認書類が不足しています")
    expect(refused).to_contain_text("窓口 花子")
    assert RAW_CODE.findall(page.locator("main").inner_text()) == []
    shot(page, "item-history", full_page=True)

    page.goto(f"/handovers/review?since={today_jst()}&until={today_jst()}")
    expect(page.get_by_test_id("handover-review")).to_contain_text("運転免許証")
    shot(page, "handover-review", full_page=True)
    save_final_screen(page, "audit-screens")
