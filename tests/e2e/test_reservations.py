"""Browser journey (issue 15): a records officer opens a Saturday with the seed's weekend
pattern on its page, a clerk books two households by phone into 9:00–9:30 on the Thursday
before, and on the Saturday (the clock patched in JST) 本日の予約 lists them; one is handed over from there, the other marked as
a no-show. The slot's counts on the page and the audit log agree."""

from __future__ import annotations

from datetime import date, datetime, time

import time_machine
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from tests import factories
from tests.e2e.conftest import LiveServer
from tests.e2e.pages import HandoverRecordPage, log_in, save_final_screen
from tests.e2e.pages_pickup import PickupDaysPage
from tests.e2e.pages_reservations import BookingPage, TodayPage
from tracker.clock import JST
from tracker.domain.codes import AuditAction, Role
from tracker.domain.wareki import format_wareki
from tracker.models import AuditEvent, Item

SATURDAY = date(2026, 11, 28)
THURSDAY = date(2026, 11, 26)
WEDNESDAY = date(2026, 11, 25)


def open_saturday(page: Page, server: LiveServer) -> None:
    """The records officer opens the Saturday with the weekend pattern, on the Wednesday before
    (a day in the past cannot be opened), then logs out."""
    officer = server.create_user(Role.RECORDS_OFFICER, "officer1", display_name="記録 一郎")
    with time_machine.travel(datetime.combine(WEDNESDAY, time(9, 0), tzinfo=JST), tick=True):
        log_in(page, officer)
        form = PickupDaysPage(page).open().open_a_day()
        form.fill(format_wareki(SATURDAY))
        expect(form.preview()).to_contain_text("12枠、定員の合計 170人")
        day = form.save()
        expect(day.slots).to_have_count(12)
    page.context.clear_cookies()


def audit_counts(server: LiveServer) -> dict[str, int]:
    with server.app.extensions["tracker.db"].session_scope() as session:
        rows = session.execute(
            select(AuditEvent.action, func.count()).group_by(AuditEvent.action)
        ).all()
    return {action: n for action, n in rows}


def envelope_of(server: LiveServer, item_id: int) -> int:
    with server.app.extensions["tracker.db"].session_scope() as session:
        item = session.get(Item, item_id)
        assert item is not None
        return item.envelope_id


def test_book_by_phone_then_hand_over_and_no_show_on_the_day(
    page: Page, live_server: LiveServer
) -> None:
    clerk = live_server.create_user(Role.CLERK, "clerk1", display_name="窓口 花子")
    yamada = factories.envelope(
        live_server.app, 1,
        items=[factories.item("山田 太郎", "ヤマダ タロウ"), factories.item("山田 花子", "ヤマダ ハナコ")],
    )  # fmt: skip
    (sato,) = factories.envelope(
        live_server.app, 2, addressee="佐藤 一郎", items=[factories.item("佐藤 一郎", "サトウ イチロウ")]
    )  # fmt: skip
    open_saturday(page, live_server)

    with time_machine.travel(datetime.combine(THURSDAY, time(10, 0), tzinfo=JST), tick=True):
        log_in(page, clerk)
        booking = BookingPage(page).from_envelope(envelope_of(live_server, yamada[0]))
        expect(booking.items).to_have_count(2)  # the household, preselected
        booking.choose_slot("9:00–9:30")
        save_final_screen(page, "reservations-booking")  # the form, for the eye test
        first = booking.book(name="山田 花子", phone="090-1111-2222")
        first.expect_message("9:00–9:30")
        expect(first.status).to_have_text("予約中")

        booking = BookingPage(page).from_item(sato)
        expect(page.get_by_label("来庁者の氏名")).to_have_value("佐藤 一郎")
        booking.choose_slot("9:00–9:30")
        second = booking.book(name="佐藤 一郎", phone="(096)328-2111")
        expect(second.status).to_have_text("予約中")

    with time_machine.travel(datetime.combine(SATURDAY, time(9, 5), tzinfo=JST), tick=True):
        log_in(page, clerk)  # two days later: the session has long ended
        today = TodayPage(page).via_menu()
        expect(today.heading).to_contain_text("本日の予約")
        expect(today.slot("9:00–9:30").get_by_test_id("reservation-row")).to_have_count(2)
        expect(today.row("山田 花子")).to_contain_text("090-1111-2222")
        expect(today.counts("9:00–9:30")).to_contain_text("予約 2/15")

        handover = today.hand_over("山田 花子")
        expect(page.locator("form.handover")).to_be_visible()
        handover.recipient_is("本人")
        handover.visitor_showed("介護保険証（B群）", "年金手帳・年金証書（B群）")
        handover.confirm()
        expect(HandoverRecordPage(page).receipt_no).to_be_visible()

        today = TodayPage(page).open()
        expect(today.row("山田 花子")).to_contain_text("来庁済")
        # 9:05: the 9:00–9:30 slot is still running, so nobody can be marked 不来庁 yet
        expect(today.row("佐藤 一郎").get_by_role("button", name="不来庁")).to_have_count(0)

    with time_machine.travel(datetime.combine(SATURDAY, time(9, 45), tzinfo=JST), tick=True):
        log_in(page, clerk)  # forty minutes later: the idle session has ended
        today = TodayPage(page).via_menu()
        today.mark_no_show("佐藤 一郎")
        expect(today.row("山田 花子")).to_contain_text("来庁済")
        expect(today.row("佐藤 一郎")).to_contain_text("不来庁")
        expect(today.counts("9:00–9:30")).to_have_text("予約 2/15・来庁 1・不来庁 1・取消 0")
        save_final_screen(page, "reservations")

    counts = audit_counts(live_server)
    assert counts.get(AuditAction.RESERVATION_CREATE.value) == 2
    assert counts.get(AuditAction.RESERVATION_ATTEND.value) == 1
    assert counts.get(AuditAction.RESERVATION_NO_SHOW.value) == 1
    assert counts.get(AuditAction.RESERVATION_CANCEL.value) is None
    assert counts.get(AuditAction.HANDOVER_CREATE.value) == 1
