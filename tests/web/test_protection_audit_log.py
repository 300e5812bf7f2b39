"""The audit log never shows a protected person's address (issue 14 review): intake and
envelope-edit events record the address (and a correction's before/after); while the household
is protected, the auditor's pages and the CSV export show 「支援措置のため表示しません」.
Since issue 16 new events hold no address at all (keyed digests of a correction's values), so
an unprotected household's correction reads 「変更（照合用ダイジェストあり）」."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from tests import factories, factories_protect
from tests.factories import NOW
from tracker.domain.codes import ReturnReason, Role
from tracker.domain.records import EnvelopeFields
from tracker.models import Envelope, Item
from tracker.services import intake, protection

NEW_ADDRESS = "熊本市北区植木町9-8-7"


def _move_house(app: Flask, item_id: int, new_address: str = NEW_ADDRESS) -> None:
    """A records officer corrects the envelope's address (before/after in the event)."""
    with app.extensions["tracker.db"].session_scope() as session:
        envelope = session.scalar(
            select(Envelope).join(Item, Item.envelope_id == Envelope.id).where(Item.id == item_id)
        )
        assert envelope is not None
        fields = EnvelopeFields(
            envelope.tracking_no,
            envelope.returned_on,
            ReturnReason(envelope.return_reason),
            envelope.addressee,
            new_address,
            envelope.household_code,
            "",
            envelope.slot,
        )
        intake.edit_envelope(session, actor="officer", envelope=envelope, fields=fields)


def test_the_audit_log_masks_a_protected_households_addresses(
    app: Flask, logged_in, make_user
) -> None:
    ids = factories_protect.household(app)
    other = factories.envelope(app, 2, addressee="山田 太郎", address="熊本市東区1-1")
    _move_house(app, ids[0])
    _move_house(app, other[0], "熊本市東区2-2")  # an unprotected household, for comparison
    factories_protect.protect(app, ids[0])
    auditor = logged_in(Role.AUDITOR)

    page = auditor.get("/audit").get_data(as_text=True)
    for secret in (factories_protect.ADDRESS, NEW_ADDRESS, factories_protect.ADDRESSEE):
        assert secret not in page
    assert protection.MASKED in page
    # another household's correction: the field changed, its values are not in the log
    assert "熊本市東区1-1" not in page and "熊本市東区2-2" not in page
    assert "変更（照合用ダイジェストあり）" in page

    for encoding in ("utf-8-sig", "cp932"):
        export = auditor.get(f"/audit/export.csv?encoding={encoding}").data.decode(
            "utf-8-sig" if encoding == "utf-8-sig" else "cp932"
        )
        for secret in (factories_protect.ADDRESS, NEW_ADDRESS):
            assert secret not in export
        assert protection.MASKED in export and "熊本市東区2-2" not in export


def test_released_protection_shows_the_address_again(app: Flask, logged_in, make_user) -> None:
    ids = factories_protect.household(app)
    _move_house(app, ids[0])
    flags = factories_protect.protect(app, ids[0])
    with app.extensions["tracker.db"].session_scope() as session:
        for flag_id in flags:
            protection.release(
                session, actor="officer", protection_id=flag_id, reason="支援措置の終了", now=NOW
            )
    page = logged_in(Role.AUDITOR).get("/audit").get_data(as_text=True)
    # unmasked again, and still no address: the event holds digests only (issue 16)
    assert protection.MASKED not in page and "変更（照合用ダイジェストあり）" in page
    assert factories_protect.ADDRESS not in page and NEW_ADDRESS not in page
