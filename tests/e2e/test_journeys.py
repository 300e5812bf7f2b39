"""The five journeys of issue 7, the way each role meets the product in a real browser.

SQLite only (see conftest.py). Each journey ends by saving its final screen to
/tmp/tracker-e2e/final-<journey>.png for the eye test.
"""

from __future__ import annotations

import hashlib
import io
import re
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader
from sqlalchemy import select

from tests.e2e.pages import (
    AdminUsersPage,
    AuditPage,
    Card,
    Destruction,
    DisposalBatchesPage,
    DisposalBatchPage,
    DisposalListPage,
    HandoverPage,
    HandoverRecordPage,
    HandoverReviewPage,
    ImportPage,
    IntakePage,
    ItemPage,
    LoginPage,
    Screen,
    SearchPage,
    log_in,
    save_final_screen,
)
from tests.helpers import PASSWORD, Account
from tracker.clock import now_utc, today_jst
from tracker.domain.codes import Role
from tracker.domain.identity import Evidence, RecipientKind
from tracker.models import Item
from tracker.services import handover, importer

if TYPE_CHECKING:
    from tests.e2e.conftest import LiveServer

# one worker runs these in order: the last one scans the logs the others left (pytest-xdist
# --dist loadgroup, scripts/test)
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("journeys")]


def tracking_no(serial: int) -> str:
    """A domestic tracking number with a correct check digit (SPEC §6.3)."""
    first11 = f"{serial:011d}"
    return first11 + str(int(first11) % 7)


SEED_HEADER = "お問い合わせ番号,返戻日,還付事由,宛名,住所,氏名,フリガナ,生年月日,続柄"


def seed(live: LiveServer, rows: list[str]) -> dict[str, int]:
    """Put items in custody through the importer (not what the journey is about); returns
    item ids by name."""
    content = "\n".join([SEED_HEADER, *rows]) + "\n"
    db = live.app.extensions["tracker.db"]
    with tempfile.TemporaryDirectory(prefix="tracker-e2e-seed-") as folder:
        path = Path(folder) / "seed.csv"
        path.write_text(content, encoding="utf-8")
        with db.session_scope() as session:
            report = importer.run_import(
                session, path, actor="cli:test", today=today_jst(), now=now_utc()
            )
            assert report.ok and report.committed, report.errors
    with db.session_scope() as session:
        return {item.name: item.id for item in session.scalars(select(Item))}


# --- 1. clerk --------------------------------------------------------------------------------


def test_clerk_intakes_by_keyboard_finds_by_kana_and_hands_over_once(
    page: Page, live_server: LiveServer
) -> None:
    clerk = live_server.create_user(Role.CLERK, "clerk1", display_name="窓口 一子")
    log_in(page, clerk)

    # Intake by keyboard only: the scanner's Enter moves on, it does not submit.
    intake = IntakePage(page)
    intake.open()
    number = tracking_no(31_415_926_535)
    intake.scan(number)
    expect(intake.field("返戻日")).to_be_focused()
    expect(intake.messages).to_have_count(0)  # nothing was submitted
    intake.replace_and_tab("R8.10.1")
    intake.choose_by_arrows(2)  # あて所に尋ねあたりません → あて名不完全 → 転居先不明
    expect(intake.field("還付事由")).to_have_value("TENKYO_FUMEI")
    intake.type_and_tab("肥後 太郎")  # 宛名（世帯主）
    intake.type_and_tab("熊本市中央区手取本町1-1")  # 住所
    intake.page.keyboard.press("Tab")  # 世帯番号（任意）: none
    intake.page.keyboard.press("Tab")  # 保管場所: the default
    intake.type_and_tab("R8-10-A001")  # 保管位置
    expect(intake.row_field("氏名", 1)).to_be_focused()
    intake.type_card(Card("肥後 太郎", "ヒゴ タロウ", "S50.1.1", "世帯主"))
    intake.page.keyboard.press("Tab")  # from 種別 1 to the only button of the row table
    expect(page.get_by_role("button", name="＋ 世帯員を追加")).to_be_focused()
    intake.add_household_member()
    intake.row_field("氏名", 2).focus()
    intake.type_card(Card("肥後 花子", "ひご はなこ", "昭和52年4月5日", "妻"))
    intake.add_household_member()
    intake.row_field("氏名", 3).focus()
    intake.type_card(Card("肥後 健太", "ヒゴ ケンタ", "H20.7.7", "子"))
    # The rows typed before each 「＋」 survived the round trip.
    expect(intake.row_field("氏名", 1)).to_have_value("肥後 太郎")
    expect(intake.row_field("フリガナ", 2)).to_have_value("ひご はなこ")
    expect(intake.tracking_number).to_have_value(number)
    message = intake.register()
    assert "（3件）" in message

    # The lookup: half-width kana finds the card typed in hiragana.
    search = SearchPage(page)
    search.open()
    search.search("ﾋｺﾞ ﾊﾅｺ")
    expect(search.result_count).to_have_text("1件")
    item = search.open_item("肥後 花子")
    expect(item.name).to_have_text("肥後 花子")
    expect(item.status).to_have_text("保管中")
    item_id = item.item_id

    # Handover to the person herself with two group-B documents (policy version 2: not the
    # 健康保険証, which lapsed on 2025-12-01).
    form = item.start_handover()
    form.recipient_is("本人")
    form.visitor_showed("介護保険証（B群）", "年金手帳・年金証書（B群）")
    form.confirm()
    record = HandoverRecordPage(page)
    record.expect_message("交付しました")
    expect(record.receipt_no).to_have_text(re.compile(r"\S+"))

    # The receipt opens in a new tab and is a PDF.
    with (
        page.context.expect_event(
            "response", predicate=lambda r: r.url.endswith("/receipt.pdf")
        ) as receipt_response,
        page.expect_popup() as popup,
    ):
        record.print_receipt_link.click()
    response = receipt_response.value
    assert response.status == 200
    assert response.header_value("content-type") == "application/pdf"
    assert popup.value.url.endswith("/receipt.pdf")
    popup.value.close()

    # The same card again (the clerk's form from before, via Back): refused, clearly.
    page.go_back()
    form = HandoverPage(page)
    expect(form.heading).to_have_text("本人確認・交付")
    form.recipient_is("本人")
    form.visitor_showed("介護保険証（B群）", "年金手帳・年金証書（B群）")
    form.confirm()
    expect(form.refusal).to_contain_text("交付できません")
    expect(form.refusal).to_contain_text("交付済みです")
    ItemPage(page).open_item(item_id)
    expect(page.get_by_role("button", name="本人確認と交付へ")).to_have_count(0)
    expect(ItemPage(page).status).to_have_text("交付済")
    form.open_for(item_id)
    form.visitor_showed("介護保険証（B群）", "年金手帳・年金証書（B群）")
    form.confirm()
    expect(form.refusal).to_contain_text("交付済みです")
    save_final_screen(page, "clerk")


# --- 2. proxy --------------------------------------------------------------------------------


def test_proxy_with_letter_of_attorney_and_refusal_without_it(
    page: Page, live_server: LiveServer
) -> None:
    ids = seed(
        live_server,
        [
            f"{tracking_no(27_182_818_284)},R8.9.1,転居先不明,菊池 一郎,熊本市東区1,"
            "菊池 一郎,キクチ イチロウ,S40.2.3,世帯主",
            f"{tracking_no(16_180_339_887)},R8.9.2,転居先不明,宇土 二郎,熊本市南区2,"
            "宇土 二郎,ウト ジロウ,S41.3.4,世帯主",
        ],
    )
    log_in(page, live_server.create_user(Role.CLERK, "clerk1"))
    written = today_jst() - timedelta(days=20)  # within the 3 months a 委任状 is valid

    form = HandoverPage(page).open_for(ids["菊池 一郎"])
    form.recipient_is("任意代理人", name="代理 春子")
    form.letter_of_attorney_dated(written.isoformat())
    form.visitor_showed("運転免許証（A群）")
    form.principal_showed("旅券（A群）")  # v2: a マイナンバーカード needs its expiry date
    form.confirm()
    record = HandoverRecordPage(page)
    record.expect_message("交付しました")
    expect(page.locator("dl.facts")).to_contain_text("任意代理人（代理 春子）")

    # Another card, the same proxy, no 委任状: refused, with the reason, nothing handed over.
    form = HandoverPage(page).open_for(ids["宇土 二郎"])
    form.recipient_is("任意代理人", name="代理 春子")
    form.visitor_showed("運転免許証（A群）")
    form.principal_showed("旅券（A群）")  # v2: a マイナンバーカード needs its expiry date
    form.confirm()
    expect(form.refusal).to_contain_text("交付できません")
    expect(form.refusal).to_contain_text("委任状")
    expect(page.locator("table.data .status")).to_have_text("保管中")
    save_final_screen(page, "proxy")


# --- 3. records officer ----------------------------------------------------------------------

IMPORT_CSV = (
    "お問い合わせ番号,返戻日,還付事由,宛名,住所,世帯番号,氏名,フリガナ,生年月日,続柄,保管位置\r\n"
    f"{tracking_no(11_111_111_111)},平成30年6月12日,転居先不明,熊本 一郎,熊本市中央区花畑町1-1,"
    "100001,熊本 一郎,ｸﾏﾓﾄ ｲﾁﾛｳ,S45.3.3,世帯主,H30-06-A001\r\n"
    f"{tracking_no(11_111_111_111)},平成30年6月12日,転居先不明,熊本 一郎,熊本市中央区花畑町1-1,"
    "100001,熊本 花子,ｸﾏﾓﾄ ﾊﾅｺ,昭和47年8月15日,妻,H30-06-A001\r\n"
    f"{tracking_no(22_222_222_222)},H31.2.28,あて所に尋ねあたりません,阿蘇 健太,熊本市北区植木町2-2,"
    ",阿蘇 健太,ｱｿ ｹﾝﾀ,H2.11.20,,H31-02-B002\r\n"
).encode("cp932")


def test_records_officers_import_list_batch_approve_execute_and_certify(
    page: Page, live_server: LiveServer
) -> None:
    first = live_server.create_user(Role.RECORDS_OFFICER, "officer1", display_name="記録 一")
    second = live_server.create_user(Role.RECORDS_OFFICER, "officer2", display_name="記録 二")
    log_in(page, first)

    result = ImportPage(page).open().upload("返戻分_H30.csv", IMPORT_CSV)
    expect(result).to_contain_text("取込が完了しました")
    expect(result).to_contain_text("通知物 3件、封筒 2件、重複 0件")
    expect(result).to_contain_text("cp932")

    listing = DisposalListPage(page)
    listing.open()
    listing.as_of("2020-04-01")
    expect(listing.total).to_contain_text("廃棄可能: 3件")
    for name in ("熊本 一郎", "熊本 花子", "阿蘇 健太"):
        expect(listing.rows.filter(has_text=name)).to_have_count(1)
    expect(listing.rows.first).to_contain_text("平成30年度返戻分")

    batches = DisposalBatchesPage(page)
    batches.open()
    batch = batches.create_batch("2020-04-01")
    expect(batch.status).to_have_text("作成済（承認待ち）")
    expect(page.get_by_text("作成した本人は承認できません")).to_be_visible()
    batch_url = page.url
    certificate_no = batch.certificate_no

    # Four eyes: the second officer approves, typing the password again.
    batch.log_out().log_in(second)
    page.goto(batch_url)
    batch = DisposalBatchPage(page)
    batch.approve(PASSWORD)
    expect(batch.status).to_have_text("承認済（廃棄待ち）")
    batch.record_destruction(
        Destruction(
            destroyed_on=today_jst().isoformat(),
            method="溶解",
            place="熊本市東部環境工場",
            executor="記録 二",
            witness="監査 立会",
        )
    )
    expect(batch.status).to_have_text("廃棄済")
    expect(page.get_by_test_id("outcomes")).to_have_text("廃棄 3件、除外 0件")

    download = batch.download_certificate()
    assert download.suggested_filename == f"{certificate_no}.pdf"
    data = Path(download.path()).read_bytes()
    assert data.startswith(b"%PDF")
    expect(page.get_by_test_id("certificate-sha256")).to_have_text(hashlib.sha256(data).hexdigest())
    text = "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages)
    compact = re.sub(r"\s+", "", text)
    assert certificate_no in compact
    assert "熊本○○" in compact and "阿蘇○○" in compact
    for given_name in ("一郎", "花子", "健太"):  # masked: never the given name
        assert given_name not in compact
    save_final_screen(page, "records-officer")


# --- 4. auditor ------------------------------------------------------------------------------


def test_auditor_reviews_the_handover_verifies_the_chain_and_changes_nothing(
    page: Page, live_server: LiveServer
) -> None:
    ids = seed(
        live_server,
        [
            f"{tracking_no(14_142_135_623)},R8.8.8,受取拒絶,玉名 三郎,熊本市西区3,"
            "玉名 三郎,タマナ サブロウ,S60.6.6,世帯主",
            f"{tracking_no(14_142_135_623)},R8.8.8,受取拒絶,玉名 三郎,熊本市西区3,"
            "玉名 春香,タマナ ハルカ,S62.7.7,妻",
        ],
    )
    live_server.create_user(Role.CLERK, "clerk1")
    db = live_server.app.extensions["tracker.db"]
    with db.session_scope() as session:
        done = handover.hand_over(
            session,
            actor="clerk1",
            item_ids=[ids["玉名 三郎"]],
            evidence=Evidence(
                RecipientKind.SELF,
                documents=("mynumber_card",),
                expires_on={"mynumber_card": today_jst() + timedelta(days=365)},  # policy v2
            ),
            now=now_utc(),
            today=today_jst(),
        )
        receipt_no = done.receipt_no
    log_in(page, live_server.create_user(Role.AUDITOR, "auditor1", display_name="監査 一"))

    review = HandoverReviewPage(page)
    review.open()
    row = review.table.locator("tbody tr").filter(has_text=receipt_no)
    expect(row).to_contain_text("clerk1")
    expect(row).to_contain_text("本人")
    row.get_by_role("link", name=receipt_no).click()
    expect(HandoverRecordPage(page).receipt_no).to_have_text(receipt_no)
    expect(page.get_by_role("link", name=re.compile("受領書を"))).to_have_count(0)

    audit = AuditPage(page)
    audit.open()
    audit.filter_action("handover.create")
    expect(audit.events).to_have_count(1)
    expect(audit.events.first).to_contain_text("clerk1")

    # Nothing to change: no edit entries in the menu, no create form, no handover button…
    for entry in ("受付", "一括取込", "ユーザー管理"):
        expect(audit.menu.get_by_role("link", name=entry, exact=True)).to_have_count(0)
    DisposalBatchesPage(page).open()
    expect(DisposalBatchesPage(page).create_form).to_have_count(0)
    item = ItemPage(page).open_item(ids["玉名 春香"])  # still in custody
    expect(item.status).to_have_text("保管中")
    expect(page.get_by_role("button", name="本人確認と交付へ")).to_have_count(0)
    expect(page.get_by_role("button", name="保留にする")).to_have_count(0)
    # only logout and language (the scan box posts too since issue 16, but changes nothing)
    expect(page.locator("form[method=post]:not([role=search])")).to_have_count(2)
    # … and typing the address of an edit page gives the 403 page.
    for path in (
        "/envelopes/new",
        "/imports",
        f"/items/{ids['玉名 春香']}/edit",
        f"/handover?item={ids['玉名 春香']}",
        "/admin/users/new",
    ):
        page.goto(path)
        Screen(page).expect_forbidden()

    expect(AuditPage(page).open().verify_chain()).to_contain_text("改ざんはありません")
    save_final_screen(page, "auditor")


# --- 5. admin --------------------------------------------------------------------------------


def test_admin_creates_a_clerk_and_cannot_open_an_item(page: Page, live_server: LiveServer) -> None:
    ids = seed(
        live_server,
        [
            f"{tracking_no(17_320_508_075)},R8.7.7,その他,山鹿 四郎,熊本市北区4,"
            "山鹿 四郎,ヤマガ シロウ,S55.5.5,世帯主"
        ],
    )
    admin = live_server.create_user(Role.ADMIN, "admin1", display_name="管理 一")
    log_in(page, admin)
    users = AdminUsersPage(page)
    users.open()
    new_password = "counter-clerk-2026"
    users.add_user("clerk-new", "窓口 新人", "窓口担当", new_password)
    expect(users.row("clerk-new")).to_contain_text("窓口担当")
    expect(users.row("clerk-new")).to_contain_text("有効")
    expect(users.menu.get_by_role("link", name="検索", exact=True)).to_have_count(0)

    # The new clerk can log in at once.
    login = users.log_out()
    login.log_in(Account("clerk-new", new_password, Role.CLERK))
    expect(page.get_by_test_id("current-role")).to_have_text("窓口担当")
    Screen(page).log_out()

    # The administrator sees no personal data: an item page is refused.
    LoginPage(page).log_in(admin)
    page.goto(f"/items/{ids['山鹿 四郎']}")
    Screen(page).expect_forbidden()
    expect(page.get_by_text("山鹿")).to_have_count(0)
    save_final_screen(page, "admin")


# --- findings of the first e2e run (fixed; kept as regression tests) --------------------------


def test_intake_rows_are_labelled_by_row(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server.create_user(Role.CLERK, "clerk1"))
    intake = IntakePage(page)
    intake.open()
    intake.add_household_member()
    expect(page.get_by_label("氏名 2", exact=True)).to_have_count(1)
    expect(page.get_by_label("フリガナ 2", exact=True)).to_have_count(1)


def test_enter_in_a_card_field_does_not_delete_a_card(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server.create_user(Role.CLERK, "clerk1"))
    intake = IntakePage(page)
    intake.open()
    intake.row_field("氏名", 1).fill("肥後 太郎")
    intake.add_household_member()
    intake.row_field("氏名", 2).fill("肥後 花子")
    intake.row_field("氏名", 2).press("Enter")
    page.wait_for_load_state()
    names = page.locator("table.items-entry input[name$='-name']")
    expect(names).to_have_count(2, timeout=2_000)
    expect(names.first).to_have_value("肥後 太郎", timeout=2_000)


def test_principal_document_names_sit_beside_their_checkboxes(
    page: Page, live_server: LiveServer
) -> None:
    ids = seed(
        live_server,
        [
            f"{tracking_no(27_182_818_284)},R8.9.1,転居先不明,菊池 一郎,熊本市東区1,"
            "菊池 一郎,キクチ イチロウ,S40.2.3,世帯主"
        ],
    )
    log_in(page, live_server.create_user(Role.CLERK, "clerk1"))
    HandoverPage(page).open_for(ids["菊池 一郎"])
    gaps = page.eval_on_selector_all(
        "fieldset label.doc",
        """labels => labels.map(label => {
            const box = label.querySelector('input').getBoundingClientRect();
            const text = document.createRange();
            text.selectNodeContents(label);
            text.setStartAfter(label.querySelector('input'));
            return text.getBoundingClientRect().left - box.right;
        })""",
    )
    assert gaps, "no principal document checkboxes found"
    assert max(gaps) < 24, f"gap between checkbox and its name: up to {max(gaps):.0f}px"


# --- after the journeys -----------------------------------------------------------------------

#: Every person named in the journeys above, as typed (names and kana).
JOURNEY_PEOPLE = (
    "肥後 太郎",
    "肥後 花子",
    "肥後 健太",
    "ヒゴ タロウ",
    "ひご はなこ",
    "ヒゴ ケンタ",
    "ﾋｺﾞ ﾊﾅｺ",
    "熊本 一郎",
    "熊本 花子",
    "菊池 一郎",
    "阿蘇 健太",
    "宇土 二郎",
    "玉名 三郎",
    "玉名 春香",
    "代理 春子",
)


def test_logs_hold_no_personal_data(collect_logs) -> None:  # type: ignore[no-untyped-def]
    """Runs last: what the application logged during all the journeys (every logger, DEBUG)
    holds no name, kana, individual number or password (SPEC §8: logs never hold them)."""
    from urllib.parse import unquote

    from tracker.domain.mynumber import find_individual_numbers

    # the import timing lines at least (request lines carry no query string since issue 16)
    assert len(collect_logs.lines) >= 5, "the journeys should have left log records to scan"
    text = unquote("\n".join(collect_logs.lines))
    forbidden = [PASSWORD, "counter-clerk-2026"]
    for person in JOURNEY_PEOPLE:
        forbidden.append(person)
        forbidden.extend(part for part in person.replace("\u3000", " ").split() if len(part) > 1)
    found = sorted({word for word in forbidden if word in text})
    assert found == [], f"personal data or secrets in the logs: {found}"
    assert find_individual_numbers(text) == []
