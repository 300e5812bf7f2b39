"""Journey (issue 12): a records officer disposes of 平成30年度返戻分 only, while older cohorts
are eligible on the same day; a second officer approves, and execution is recorded only once
the number of cards has been typed again on the confirmation page."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests import factories
from tests.e2e.pages import ARTIFACTS, Destruction, DisposalBatchPage, log_in, save_final_screen
from tests.e2e.pages_disposal import CohortListPage, ExecutionConfirmPage
from tests.helpers import PASSWORD
from tracker.clock import today_jst
from tracker.domain.codes import ItemStatus, Role
from tracker.models import Envelope, Item
from tracker.services import demo

if TYPE_CHECKING:
    from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e

SHOTS = ARTIFACTS / "disposal-desk"


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_an_officer_disposes_of_one_cohort_after_confirming_the_count(
    page: Page, live_server: LiveServer
) -> None:
    app = live_server.app
    with app.extensions["tracker.db"].session_scope() as session:
        demo.create_demo_rules(session, actor="cli:test")  # 平成27・28・29年度 … as in the demo
    for n, (first_day, count) in enumerate(
        ((date(2015, 7, 1), 2), (date(2017, 9, 1), 2), (date(2018, 6, 1), 3))
    ):
        for i in range(count):
            factories.envelope(
                app,
                n * 10 + i,
                returned_on=first_day + timedelta(days=i),
                addressee=f"返戻 {n}{i}",
            )
    first = live_server.create_user(Role.RECORDS_OFFICER, "officer1", display_name="記録 一")
    second = live_server.create_user(Role.RECORDS_OFFICER, "officer2", display_name="記録 二")

    log_in(page, first)
    listing = CohortListPage(page).open()
    listing.as_of("2020-04-01")
    expect(listing.total).to_contain_text("廃棄可能: 7件")  # every cohort, on that day
    listing.show("2020-04-01", "平成30年度返戻分")
    expect(listing.total).to_contain_text("廃棄可能: 3件")
    expect(listing.rows).to_have_count(3)
    for row in listing.rows.all():
        expect(row).to_contain_text("平成30年度返戻分")
    shot(page, "disposal-list-h30")
    batch = listing.create_batch_from_this_list()
    expect(batch.status).to_have_text("作成済（承認待ち）")
    expect(page.get_by_text("平成30年度返戻分: 3")).to_be_visible()
    expect(page.get_by_text("平成27年度返戻分")).to_have_count(0)
    expect(page.get_by_text("平成29年度返戻分")).to_have_count(0)
    batch_url = page.url

    batch.log_out().log_in(second)
    page.goto(batch_url)
    batch = DisposalBatchPage(page)
    batch.approve(PASSWORD)
    expect(batch.status).to_have_text("承認済（廃棄待ち）")

    confirm = ExecutionConfirmPage.after_filling(
        batch,
        Destruction(
            destroyed_on=today_jst().isoformat(),
            method="裁断",
            place="本庁舎地下 裁断室",
            executor="記録 二",
            witness="監査 立会",
        ),
    )
    expect(confirm.cohorts).to_have_count(1)
    expect(confirm.cohorts.first).to_contain_text("平成30年度返戻分")
    expect(confirm.cards_to_destroy).to_have_text("3")
    shot(page, "disposal-confirm")
    confirm.record_with_count("2")  # miscounted
    expect(confirm.error).to_contain_text("一致しません")
    expect(confirm.error).to_contain_text("廃棄は記録していません")
    shot(page, "disposal-confirm-mismatch")
    with app.extensions["tracker.db"].session_scope() as session:
        assert ItemStatus.DESTROYED.value not in set(session.scalars(select(Item.status)))

    confirm.record_with_count("3")
    batch.expect_message("廃棄証明書を発行しました")
    expect(batch.status).to_have_text("廃棄済")
    expect(page.get_by_test_id("outcomes")).to_have_text("廃棄 3件、除外 0件")
    shot(page, "disposal-batch-executed")
    save_final_screen(page, "disposal-desk")
    with app.extensions["tracker.db"].session_scope() as session:
        by_year = {
            (returned_on.year, status)
            for returned_on, status in session.execute(
                select(Envelope.returned_on, Item.status).join(Item.envelope)
            )
        }
    assert by_year == {
        (2015, ItemStatus.IN_CUSTODY.value),
        (2017, ItemStatus.IN_CUSTODY.value),
        (2018, ItemStatus.DESTROYED.value),
    }
