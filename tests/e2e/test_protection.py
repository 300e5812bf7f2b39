"""Browser journey (issue 14, 支援措置): a records officer flags a person as protected; a clerk
then cannot hand the card to a proxy (the reason is on the screen), sees the address masked on
the envelope page (the label has no address at all), must give a purpose before the item page
opens, and the audit event of that opening holds the purpose."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests import factories_protect
from tests.e2e.conftest import LiveServer
from tests.e2e.pages import HandoverPage, SearchPage, log_in, save_final_screen
from tests.e2e.pages_protect import EnvelopePage, ProtectedItemPage, ProtectionsPage
from tracker.domain.codes import Role
from tracker.models import AuditEvent, Envelope, Item
from tracker.services import audit

MASKED = "支援措置のため表示しません"


def test_a_protected_person_is_handed_over_only_to_herself_and_masked(
    page: Page, live_server: LiveServer, tmp_path: Path
) -> None:
    officer = live_server.create_user(Role.RECORDS_OFFICER, "officer1", display_name="記録 一郎")
    clerk = live_server.create_user(Role.CLERK, "clerk1", display_name="窓口 花子")
    ids = factories_protect.household(live_server.app)
    hanako = ids[1]

    # 1. the records officer flags 佐藤 花子 (and, by default, the rest of her envelope)
    screen = log_in(page, officer)
    item = ProtectedItemPage(page).open_item(hanako)
    expect(item.name).to_have_text("佐藤 花子")
    item.place_flag("DV等支援措置の申出あり", "2099-03-31")
    item.expect_message("支援措置を設定しました（2件）")
    expect(item.purpose_form).to_be_visible()
    ProtectionsPage(page).open()
    expect(ProtectionsPage(page).rows).to_have_count(2)
    save_final_screen(page, "protection-list")
    screen.log_out()

    # 2. at the counter: a proxy with a valid 委任状 is refused, nothing is handed over
    log_in(page, clerk)
    page.goto(f"/handover?item={hanako}")  # the handover form shows her name: asked first
    ProtectedItemPage(page).give_purpose("代理人の来庁")
    form = HandoverPage(page)
    expect(form.heading).to_have_text("本人確認・交付")
    form.recipient_is("任意代理人", name="代理 春子")
    form.visitor_showed("運転免許証")
    form.letter_of_attorney_dated("2099-01-01")
    form.principal_showed("マイナンバーカード")
    form.confirm()
    expect(form.refusal).to_contain_text(
        "支援措置の対象のため、本人以外（任意代理人）には交付できません"
    )

    # 3. the search shows the badge, the envelope page masks the address and the addressee
    results = SearchPage(page).open().search("サトウ")
    expect(page.get_by_test_id("protection-badge")).to_have_count(2)
    expect(page.get_by_test_id("masked-address").first).to_have_text(MASKED)
    with live_server.app.extensions["tracker.db"].session_scope() as session:
        envelope = session.get(Envelope, session.get(Item, hanako).envelope_id)  # type: ignore[union-attr]
        assert envelope is not None
        envelope_id, envelope_no = envelope.id, envelope.control_no
    envelope_page = EnvelopePage(page).open_envelope(envelope_id)
    expect(envelope_page.address).to_have_text(MASKED)
    expect(envelope_page.addressee).to_have_text(MASKED)
    expect(page.get_by_text(factories_protect.ADDRESS)).to_have_count(0)
    save_final_screen(page, "protection-envelope")
    label = page.context.request.get(f"{live_server.url}/labels.pdf?id={envelope_id}")
    assert label.ok
    pdf = tmp_path / "label.pdf"
    pdf.write_bytes(label.body())
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert envelope_no in text and "手取本町" not in text and "佐藤" not in text
    assert results is not None

    # 4. in a new visit (the purpose given above is remembered only for this login, at most
    # 15 minutes) the item page asks for a purpose first: empty is refused, nothing shown
    results.log_out()
    log_in(page, clerk)
    item = ProtectedItemPage(page).open_item(hanako)
    expect(item.purpose_form).to_be_visible()
    expect(page.get_by_text("佐藤 花子")).to_have_count(0)
    item.give_purpose("")
    expect(item.purpose_error).to_contain_text("閲覧の目的を入力してください")
    expect(page.get_by_text("佐藤 花子")).to_have_count(0)
    item.give_purpose("本人来庁のため交付準備")
    expect(item.name).to_have_text("佐藤 花子")
    expect(item.badge).to_be_visible()
    save_final_screen(page, "protection")

    # 5. the audit event of that opening holds the purpose's digest (issue 16: never the typed
    # text, and never the flag's reason)
    with live_server.app.extensions["tracker.db"].session_scope() as session:
        views = [
            json.loads(d)
            for d in session.scalars(
                select(AuditEvent.details).where(
                    AuditEvent.action == "item.view", AuditEvent.actor == "clerk1"
                )
            )
        ]
        refusals = list(
            session.scalars(
                select(AuditEvent.details).where(AuditEvent.action == "handover.refused")
            )
        )
        everything = " ".join(session.scalars(select(AuditEvent.details)))
    assert views == [
        {
            "control_no": views[0]["control_no"],
            "purpose_digest": audit.digest("本人来庁のため交付準備"),
        }
    ]
    assert "本人来庁のため交付準備" not in everything
    assert len(refusals) == 1 and "任意代理人" in refusals[0]
    assert "DV等支援措置の申出あり" not in everything
