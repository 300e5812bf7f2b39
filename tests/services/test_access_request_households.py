"""Access requests and households (開示請求, issue 16 item 3, review fixes): a protected
household member's data stays out of another member's export, approval is asked when a 支援措置
is placed after the request was recorded, the envelope a re-mailed item left is disclosed, and
erased birth dates and times of day are printed as such (both databases)."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select, update

from tests.factories import NOW, TODAY
from tests.factories_access import move_house, person, remailed_and_back
from tests.factories_access import request as make_request
from tests.factories_contacts import contact
from tests.factories_protect import ADDRESS, household, protect
from tracker.db import Database
from tracker.domain.codes import AccessRequestStatus, AuditAction
from tracker.domain.disclosure import Disclosure, csv_bundle
from tracker.domain.record_retention import ERASED_LABEL, PLACEHOLDER_BIRTH_DATE
from tracker.models import AccessRequest, AuditEvent, Envelope, Handover, Item
from tracker.pdf.access_request import pdf_value
from tracker.services import access_requests
from tracker.services.protection import MASKED

SISTER = ("佐藤 花子", "サトウ ハナコ", "1980-04-05")
NEW_ADDRESS = "熊本市中央区新町1-1-1"
HOUSEHOLD_NOTE = "世帯主から転居先の連絡"


def _export(database: Database, request_id: int, fmt: str = "csv") -> Disclosure:
    with database.session_scope() as session:
        found = access_requests.load(session, request_id)
        assert found is not None
        return access_requests.export(
            session, actor="officer", request=found, fmt=fmt, now=NOW, today=TODAY
        )


def _approve(database: Database, request_id: int) -> None:
    with database.session_scope() as session:
        found = access_requests.load(session, request_id)
        assert found is not None
        access_requests.approve(session, actor="officer2", request=found, now=NOW)


def _status(database: Database, request_id: int) -> tuple[str, bool]:
    with database.session_scope() as session:
        found = session.get(AccessRequest, request_id)
        assert found is not None
        return found.status, found.requires_approval


def _rows(disclosure: Disclosure) -> dict[str, list[tuple[Any, ...]]]:
    return {s.key: [tuple(r) for r in s.rows] for s in disclosure.sections}


def csv_bundle_text(disclosure: Disclosure) -> str:
    bundle = zipfile.ZipFile(io.BytesIO(csv_bundle(disclosure)))
    return "\n".join(bundle.read(name).decode("utf-8-sig") for name in bundle.namelist())


def _household_with_records(database: Database) -> tuple[int, int]:
    """佐藤一郎 (member) and 佐藤花子 (sister) in one envelope, with a household contact and a
    correction of the envelope's address."""
    member, sister = household(database)
    contact(database, member, household=True, note=HOUSEHOLD_NOTE, actor="clerk")
    move_house(database, member, NEW_ADDRESS)
    return member, sister


def test_a_members_request_needs_approval_when_another_member_is_protected_and_masks_them(
    database: Database,
) -> None:
    member, sister = _household_with_records(database)
    protect(database, sister, whole_envelope=False)
    with database.session_scope() as session:
        query = access_requests.person_query("佐藤 一郎", "1970-02-03")
        found = access_requests.find_person(session, actor="officer", query=query)
        assert found.protected == set() and found.approval == {member}
    request_id = make_request(database, [member])
    assert _status(database, request_id) == (AccessRequestStatus.PENDING_APPROVAL, True)
    _approve(database, request_id)
    disclosure = _export(database, request_id)
    rows = _rows(disclosure)
    [envelope] = rows["envelopes"]
    assert envelope[2] == MASKED and envelope[3] == MASKED
    [note] = [c for c in rows["contacts"] if "（世帯）" in str(c[1])]
    assert note[4] == MASKED
    corrections = [r for r in rows["item_revisions"] if r[2] == "住所"]
    assert corrections and all(r[3] == MASKED and r[4] == MASKED for r in corrections)
    flat = csv_bundle_text(disclosure)
    for value in (*SISTER, ADDRESS, "手取本町", NEW_ADDRESS, "新町", HOUSEHOLD_NOTE):
        assert value not in flat, value
    # the envelope's own events are there (by control number), without any value
    assert "返戻郵便の受付" in {r[2] for r in rows["audit_events"]}
    # her own protection is not among his records
    assert rows["protections"] == []


def test_the_protected_persons_own_request_shows_her_household(database: Database) -> None:
    _member, sister = _household_with_records(database)
    protect(database, sister, whole_envelope=False)
    request_id = make_request(database, [sister])
    _approve(database, request_id)
    rows = _rows(_export(database, request_id))
    [envelope] = rows["envelopes"]
    assert envelope[3] == NEW_ADDRESS
    assert HOUSEHOLD_NOTE in {c[4] for c in rows["contacts"]}
    assert len(rows["protections"]) == 1


def test_a_protection_placed_after_the_request_sends_it_back_for_approval(
    database: Database,
) -> None:
    member, sister = household(database)
    request_id = make_request(database, [member])
    assert _status(database, request_id) == (AccessRequestStatus.READY, False)
    _export(database, request_id)
    protect(database, sister, whole_envelope=False)
    with database.session_scope() as session:
        found = access_requests.load(session, request_id)
        assert found is not None
        with pytest.raises(access_requests.ApprovalRequired, match="受付の後で支援措置"):
            access_requests.export(
                session, actor="officer", request=found, fmt="pdf", now=NOW, today=TODAY
            )
    assert _status(database, request_id) == (AccessRequestStatus.PENDING_APPROVAL, True)
    with database.session_scope() as session:
        refused = session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == AuditAction.ACCESS_REQUEST_EXPORT.value,
                AuditEvent.outcome == "refused",
            )
        ).all()
    assert [json.loads(e.details)["reason"] for e in refused] == ["protection"]
    with pytest.raises(access_requests.AccessRequestError, match="承認されるまで出力できません"):
        _export(database, request_id)
    _approve(database, request_id)
    rows = _rows(_export(database, request_id))
    assert rows["envelopes"][0][3] == MASKED


def test_the_envelope_a_remailed_item_left_is_disclosed(database: Database) -> None:
    member, sister = _household_with_records(database)
    with database.session_scope() as session:
        first = session.scalar(select(Item.envelope_id).where(Item.id == member))
        first_no = session.scalar(select(Envelope.control_no).where(Envelope.id == first))
    remailed_and_back(database, member)
    request_id = make_request(database, [member])
    assert _status(database, request_id) == (AccessRequestStatus.READY, False)
    rows = _rows(_export(database, request_id))
    numbers = [r[0] for r in rows["envelopes"]]
    assert len(numbers) == 2 and first_no in numbers
    assert HOUSEHOLD_NOTE in {c[4] for c in rows["contacts"]}
    assert NEW_ADDRESS in {r[4] for r in rows["item_revisions"]}
    intakes = [r for r in rows["audit_events"] if r[2] == "返戻郵便の受付"]
    assert {str(first_no)} <= {r[3].split()[-1] for r in intakes}
    # a 支援措置 on the sister, who stayed in the first envelope, now asks for approval
    protect(database, sister, whole_envelope=False)
    later = make_request(database, [member], reference_no="R8-開示-0002")
    assert _status(database, later) == (AccessRequestStatus.PENDING_APPROVAL, True)


def test_a_purged_birth_date_and_erasure_and_void_times_are_printed_with_their_year(
    database: Database,
) -> None:
    who = person(database)
    request_id = make_request(database, [who.card])
    with database.session_scope() as session:
        session.execute(
            update(Item)
            .where(Item.id == who.card)
            .values(
                birth_date=PLACEHOLDER_BIRTH_DATE,
                pseudonymised_at=datetime(2031, 1, 1, tzinfo=UTC),
            )
        )
        session.execute(
            update(Handover).values(
                voided_at=datetime(2026, 11, 28, 3, 0, tzinfo=UTC), voided_by="officer"
            )
        )
    disclosure = _export(database, request_id)
    [item] = _rows(disclosure)["items"]
    [handover] = _rows(disclosure)["handovers"]
    bundle = zipfile.ZipFile(io.BytesIO(csv_bundle(disclosure)))
    items_csv = bundle.read("01_items.csv").decode("utf-8-sig")
    assert ERASED_LABEL in items_csv and "1899" not in items_csv
    assert "（2031-01-01 09:00）" in items_csv
    assert "2026-11-28 12:00" in bundle.read("04_handovers.csv").decode("utf-8-sig")
    printed = [pdf_value(v) for v in item]
    assert ERASED_LABEL in printed and not any("M32" in p for p in printed)
    assert "R13.1.1 09:00" in printed[-1]
    assert pdf_value(handover[-1]).startswith("R8.11.28 12:00")
