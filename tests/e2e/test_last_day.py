"""Journey (issue 13 part 6): on the last day, a resident comes for a card that is in an
approved disposal batch. The clerk is refused; a records officer takes the card out of the
batch with a reason; the clerk hands it over; the batch is executed without it, and the
certificate lists it under 除外."""

from __future__ import annotations

import subprocess
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests import factories
from tests.e2e.pages import (
    ARTIFACTS,
    Destruction,
    HandoverPage,
    HandoverRecordPage,
    log_in,
    save_final_screen,
)
from tests.e2e.pages_life import ExcludingBatchPage
from tests.factories_life import control_nos
from tracker.clock import today_jst
from tracker.domain.codes import Role
from tracker.models import Item

if TYPE_CHECKING:
    from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e

SHOTS = ARTIFACTS / "last-day"


def test_take_a_card_out_of_an_approved_batch_and_hand_it_over(
    page: Page, live_server: LiveServer
) -> None:
    app = live_server.app
    database = app.extensions["tracker.db"]
    clerk = live_server.create_user(Role.CLERK, "clerk1", display_name="窓口 花子")
    officer = live_server.create_user(Role.RECORDS_OFFICER, "officer3", display_name="記録 三郎")
    batch_id = factories.batch(app, 3, approved_by="officer2")
    first, kept, third = control_nos(database, batch_id)
    with database.session_scope() as session:
        item_id = session.scalar(select(Item.id).where(Item.control_no == kept))
    assert item_id is not None

    log_in(page, clerk)
    counter = HandoverPage(page).open_for(item_id)
    counter.recipient_is("本人")
    counter.visitor_showed("運転免許証")
    counter.confirm()
    expect(counter.refusal).to_contain_text("承認済みの廃棄処理")
    expect(counter.refusal).to_contain_text("除外するよう依頼してください")

    counter.log_out().log_in(officer)
    batch = ExcludingBatchPage(page).open_batch(batch_id)
    batch.take_out(kept, "本人から本日来庁の連絡あり")
    expect(batch.excluded).to_have_count(1)
    expect(batch.excluded.first).to_contain_text("本人から本日来庁の連絡あり")
    expect(batch.excluded.first).to_contain_text("記録 三郎")
    expect(batch.exclude_button(kept)).to_have_count(0)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "batch-after-exclusion.png"), full_page=True)

    batch.log_out().log_in(clerk)
    counter = HandoverPage(page).open_for(item_id)
    counter.recipient_is("本人")
    counter.visitor_showed("運転免許証")
    counter.confirm()
    expect(HandoverRecordPage(page).receipt_no).to_be_visible()

    HandoverRecordPage(page).log_out().log_in(
        live_server.create_user(Role.RECORDS_OFFICER, "officer2", display_name="記録 二郎")
    )
    batch = ExcludingBatchPage(page).open_batch(batch_id)
    batch.record_destruction(
        Destruction(
            destroyed_on=today_jst().isoformat(),
            method="裁断",
            place="本庁舎地下 裁断室",
            executor="記録 二郎",
            witness="監査 立会",
        )
    )
    expect(page.get_by_test_id("outcomes")).to_have_text("廃棄 2件、除外 0件")
    expect(page.get_by_test_id("excluded-count")).to_contain_text("1件")
    save_final_screen(page, "last-day")
    pdf = batch.download_certificate()
    path = SHOTS / "certificate.pdf"
    pdf.save_as(path)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    section = text[text.index("除外（執行前に") :]
    assert kept in section and "本人から本日来庁の連絡あり" in section and "記録 三郎" in section
    assert first not in section and third not in section
    with database.session_scope() as session:
        statuses = dict(session.execute(select(Item.control_no, Item.status)).all())
    assert statuses == {first: "destroyed", kept: "handed_over", third: "destroyed"}
