"""Browser journey (issue 15): a records officer opens a Saturday with the seed's weekend
pattern from the 受取予約枠 menu, checks the preview, saves, and sees 12 slots of 15 with 10 in
the last slot before lunch and the last of the day; the list and the dashboard show 0/170."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer
from tests.e2e.pages import log_in, save_final_screen
from tests.e2e.pages_pickup import PickupDaysPage
from tracker.clock import today_jst
from tracker.domain.codes import Role
from tracker.domain.wareki import format_wareki


def test_an_officer_opens_a_saturday_with_the_weekend_pattern(
    page: Page, live_server: LiveServer
) -> None:
    officer = live_server.create_user(Role.RECORDS_OFFICER, "officer1", display_name="記録 一郎")
    today = today_jst()
    saturday = today + timedelta(days=(5 - today.weekday()) % 7 + 7)  # a Saturday to come

    screen = log_in(page, officer)
    screen.menu.get_by_role("link", name="受取予約枠").click()
    days = PickupDaysPage(page)
    expect(days.heading).to_have_text("受取予約枠")
    expect(page.get_by_test_id("pickup-days-empty")).to_be_visible()

    form = days.open_a_day()
    form.fill(format_wareki(saturday))  # 和暦, as the office writes it
    preview = form.preview()
    expect(preview).to_contain_text("12枠、定員の合計 170人")
    day = form.save()
    day.expect_message(f"{format_wareki(saturday)}を受取予約日にしました（12枠、170人）")
    expect(day.slots).to_have_count(12)
    assert day.capacities() == [15, 15, 15, 15, 15, 10, 15, 15, 15, 15, 15, 10]
    assert day.spans()[5] == "11:30–12:00" and day.spans()[6] == "13:00–13:30"
    expect(page.get_by_test_id("day-capacity")).to_have_text("170")
    save_final_screen(page, "pickup-day")

    days.open()
    expect(days.days).to_have_count(1)
    expect(days.days.first).to_contain_text("0/170")
