"""Audit events hold no personal values (issue 16, Must show 1).

A scripted flow with distinctive marker values — intake, a name and an address corrected, a
handover to a household member named at the counter, a hold with a reason, a contact with a
note — leaves none of the markers in any event's details; the digest of the old name is the
HMAC of it under the installation's key; ``item_revisions`` holds the old and new values. The
write-time guard refuses details that would put such a value into the chain.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import func, select

from tests import factories
from tests.conftest import TEST_DIGEST_KEY
from tests.factories import NOW, TODAY
from tracker.db import Database
from tracker.domain import digests
from tracker.domain.codes import AuditAction, ContactKind, RecipientKind, ReturnReason
from tracker.domain.identity import Evidence
from tracker.domain.records import EnvelopeFields
from tracker.models import AuditEvent, Envelope, Item, ItemRevision
from tracker.services import audit, contacts, handover, holds, intake

OLD_NAME = "標識 旧太郎"
NEW_NAME = "標識 新太郎"
OLD_ADDRESS = "熊本市中央区標識町1-1-1"
NEW_ADDRESS = "熊本市中央区標識町9-9-9"
OLD_BIRTH = date(1961, 2, 3)
NEW_BIRTH = date(1961, 3, 2)
MEMBER = "標識 受取花子"
HOLD_REASON = "標識理由 本人から電話"
CONTACT_NOTE = "標識備考 折り返し希望"
MARKERS = (OLD_NAME, NEW_NAME, OLD_ADDRESS, NEW_ADDRESS, MEMBER, HOLD_REASON, CONTACT_NOTE)


def _flow(database: Database) -> tuple[int, int]:
    person = factories.item(OLD_NAME, "ヒョウシキ キュウタロウ", birth_date=OLD_BIRTH)
    other = factories.item("標識 次郎", "ヒョウシキ ジロウ", birth_date=date(1963, 4, 5))
    [first, second] = factories.envelope(
        database, 16, address=OLD_ADDRESS, addressee=OLD_NAME, items=[person, other]
    )
    with database.session_scope() as session:
        item = session.get(Item, first)
        assert item is not None
        envelope = item.envelope
        intake.edit_item(
            session,
            actor="officer",
            item=item,
            fields=replace(factories.item(NEW_NAME, "ヒョウシキ シンタロウ", birth_date=NEW_BIRTH)),
        )
        intake.edit_envelope(
            session,
            actor="officer",
            envelope=envelope,
            fields=EnvelopeFields(
                envelope.tracking_no,
                envelope.returned_on,
                ReturnReason(envelope.return_reason),
                envelope.addressee,
                NEW_ADDRESS,
                envelope.household_code,
                "",
                envelope.slot,
            ),
        )
        holds.place(session, actor="officer", item=item, reason=HOLD_REASON, now=NOW)
        contacts.record(
            session,
            actor="clerk",
            envelope=envelope,
            item=item,
            kind=ContactKind.PHONE,
            occurred_at=NOW,
            note=CONTACT_NOTE,
            now=NOW,
        )
    with database.session_scope() as session:
        handover.hand_over(
            session,
            actor="clerk",
            item_ids=[second],
            evidence=Evidence(
                recipient_kind=RecipientKind.HOUSEHOLD,
                recipient_name=MEMBER,
                documents=("passport",),
            ),
            now=NOW,
            today=TODAY,
        )
    return first, envelope.id


def test_no_event_holds_a_marker_and_the_digests_and_revisions_fit(database: Database) -> None:
    item_id, envelope_id = _flow(database)
    with database.session_scope() as session:
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
        actions = {event.action for event in events}
        assert {
            AuditAction.ENVELOPE_INTAKE,
            AuditAction.ITEM_EDIT,
            AuditAction.ENVELOPE_EDIT,
            AuditAction.HOLD_PLACE,
            AuditAction.CONTACT_RECORD,
            AuditAction.HANDOVER_CREATE,
        } <= actions
        for event in events:
            for marker in MARKERS:
                assert marker not in event.details, (event.action, marker)
            assert "1961-02-03" not in event.details and "1961-03-02" not in event.details

        [item_edit] = [e for e in events if e.action == AuditAction.ITEM_EDIT]
        changes = json.loads(item_edit.details)["changes"]
        expected = hmac.new(TEST_DIGEST_KEY, OLD_NAME.encode(), hashlib.sha256).hexdigest()
        assert changes["name"]["old_digest"] == expected
        assert digests.matches(TEST_DIGEST_KEY, changes["name"]["new_digest"], NEW_NAME)
        assert changes["birth_date"]["old_digest"] == audit.digest(OLD_BIRTH)
        assert not audit.digest_matches(changes["name"]["old_digest"], NEW_NAME)

        revisions = session.scalars(select(ItemRevision).order_by(ItemRevision.id)).all()
        found = {(r.item_id, r.field): (r.old_value, r.new_value) for r in revisions}
        assert found[(item_id, "name")] == (OLD_NAME, NEW_NAME)
        assert found[(item_id, "birth_date")] == ("1961-02-03", "1961-03-02")
        assert found[(None, "address")] == (OLD_ADDRESS, NEW_ADDRESS)
        assert all(r.envelope_id == envelope_id for r in revisions)
        assert {r.audit_seq for r in revisions if r.item_id} == {item_edit.seq}
        assert {r.changed_by for r in revisions} == {"officer"}
        stored = session.get(Envelope, envelope_id)
        assert stored is not None and stored.address == NEW_ADDRESS


@pytest.mark.parametrize(
    "details",
    [
        {"name": "山田 太郎"},
        {"changes": {"address": ["熊本市1-1", "熊本市2-2"]}},
        {"before": {"birth_date": "1975-01-01"}},
        {"rows": [{"recipient_name": "代理 人"}]},
        {"purpose": "窓口での交付"},
        {"reason": "本人から電話"},
        {"purpose_digest": "本人から電話"},
        {"name": {"old_digest": "x"}},
    ],
)
def test_the_guard_refuses_personal_values(database: Database, details: dict[str, object]) -> None:
    with database.session_scope() as session:
        before = session.scalar(select(func.count()).select_from(AuditEvent))
    with database.session_scope() as session, pytest.raises(audit.PersonalDetails):
        audit.record(session, actor="t", action=AuditAction.ITEM_EDIT, details=details)
    with database.session_scope() as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == before


def test_the_guard_lets_digests_codes_and_office_names_through(database: Database) -> None:
    with database.session_scope() as session:
        for action, details in [
            (AuditAction.ITEM_EDIT, {"changes": {"name": {"old_digest": audit.digest("甲")}}}),
            (AuditAction.ITEM_EDIT, {"changes": {"address": None}}),
            (AuditAction.ITEM_VIEW, {"purpose_digest": audit.digest("交付")}),
            (AuditAction.AUTH_LOGIN_FAILED, {"reason": "wrong_password"}),
            (AuditAction.LOCATION_CREATE, {"code": "EAST", "name": "東区役所"}),
        ]:
            audit.record(session, actor="t", action=action, details=details)
    with database.read_session() as session:
        assert audit.verify_chain(session).ok


def test_canonical_text_of_values() -> None:
    assert digests.canonical(date(2018, 4, 1)) == "2018-04-01"
    assert digests.canonical(None) == digests.canonical("") == ""
    assert digests.canonical(7) == "7"
    key = b"k" * 32
    assert digests.keyed_digest(key, "髙橋") != digests.keyed_digest(key, "高橋")  # as stored
    assert digests.keyed_digest(key, "甲") != digests.keyed_digest(b"j" * 32, "甲")
