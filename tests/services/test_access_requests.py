"""Access requests (開示請求, issue 16 item 3): finding the person, the request, four-eyes
approval for a protected person, and what the export holds (both databases; the approval race
on PostgreSQL)."""

from __future__ import annotations

import csv
import io
import json
import threading
import zipfile
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text, update

from tests import factories
from tests.factories import NOW, TODAY
from tests.factories_access import BORN, FATHER, HOLD_REASON, KANA, NAME, NOTE, TYPO, person
from tests.factories_access import request as make_request
from tests.factories_protect import household, protect
from tracker.db import Database
from tracker.domain.codes import AccessRequestStatus, AuditAction, Role
from tracker.domain.disclosure import csv_bundle
from tracker.models import AccessRequest, AccessRequestItem, AuditEvent, Item
from tracker.services import access_requests
from tracker.services.transitions import Conflict

SECTIONS = [
    "items",
    "envelopes",
    "register_checks",
    "handovers",
    "contacts",
    "reservations",
    "holds",
    "retention_extensions",
    "protections",
    "remailings",
    "loss_reports",
    "item_revisions",
    "audit_events",
]


def _events(database: Database, action: AuditAction) -> list[AuditEvent]:
    with database.session_scope() as session:
        return list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.action == action.value).order_by(AuditEvent.seq)
            )
        )


def _export(database: Database, request_id: int, fmt: str = "pdf", actor: str = "officer"):  # type: ignore[no-untyped-def]
    with database.session_scope() as session:
        found = access_requests.load(session, request_id)
        assert found is not None
        return access_requests.export(
            session, actor=actor, request=found, fmt=fmt, now=NOW, today=TODAY
        )


# --- find --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "born"),
    [
        (NAME, "1984-07-09"),
        ("鳴海静香", "S59.7.9"),
        ("なるみ しずか", "昭和59年7月9日"),
        ("ﾅﾙﾐ", "1984/7/9"),
    ],
)
def test_the_person_is_found_by_name_or_kana_and_birth_date(
    database: Database, name: str, born: str
) -> None:
    who = person(database)
    with database.session_scope() as session:
        query = access_requests.person_query(name, born)
        found = access_requests.find_person(session, actor="officer", query=query)
        assert {item.id for item in found.items} == {who.card, who.notice}
        assert found.protected == set()
    [search] = _events(database, AuditAction.ITEM_SEARCH)
    assert NAME not in search.details and "1984" not in search.details


def test_a_missing_or_unreadable_birth_date_or_name_is_named(database: Database) -> None:
    with pytest.raises(access_requests.AccessRequestError, match="生年月日を入力"):
        access_requests.person_query(NAME, "")
    with pytest.raises(access_requests.AccessRequestError, match="生年月日: "):
        access_requests.person_query(NAME, "S59.13.40")
    with pytest.raises(access_requests.AccessRequestError, match="氏名"):
        access_requests.person_query("  ", "S59.7.9")


# --- create, approve ---------------------------------------------------------------------------


def test_a_request_names_the_items_and_no_personal_value(database: Database) -> None:
    who = person(database)
    request_id = make_request(database, [who.notice, who.card])
    with database.session_scope() as session:
        made = session.get(AccessRequest, request_id)
        assert made is not None
        assert made.status == AccessRequestStatus.READY and not made.requires_approval
        assert made.received_on.isoformat() == "2026-11-20"
        ids = session.scalars(
            select(AccessRequestItem.item_id).where(AccessRequestItem.request_id == request_id)
        ).all()
        assert sorted(ids) == sorted([who.card, who.notice])
    [event] = _events(database, AuditAction.ACCESS_REQUEST_CREATE)
    details = json.loads(event.details)
    assert details["reference_no"] == "R8-開示-0001" and len(details["control_nos"]) == 2
    assert NAME not in event.details and "1984" not in event.details


def test_bad_input_is_refused_and_nothing_is_written(database: Database) -> None:
    who = person(database)
    make_request(database, [who.card])
    cases = [
        ("R8-開示-0001", "R8.11.20", [who.card], "既に登録"),
        ("", "R8.11.20", [who.card], "受付番号を入力"),
        ("R8-2", "", [who.card], "受付日を入力"),
        ("R8-2", "R9.1.1", [who.card], "未来の日付"),
        ("R8-2", "R8.11.20", [], "一つ以上"),
        ("R8-2", "R8.11.20", [999_999], "見つかりません"),
        ("個人番号 123456789018", "R8.11.20", [who.card], "個人番号"),
    ]
    for reference, received, ids, message in cases:
        with database.session_scope() as session:
            with pytest.raises(access_requests.AccessRequestError, match=message):
                access_requests.create(
                    session,
                    actor="officer",
                    reference_no=reference,
                    received_on=received,
                    item_ids=ids,
                    now=NOW,
                    today=TODAY,
                )
            session.rollback()
    with database.session_scope() as session:
        assert len(session.scalars(select(AccessRequest)).all()) == 1


def test_a_protected_persons_request_waits_for_another_officers_approval(
    database: Database,
) -> None:
    member, _other = household(database)
    protect(database, member, whole_envelope=False)
    request_id = make_request(database, [member])
    with database.session_scope() as session:
        made = access_requests.load(session, request_id)
        assert made is not None
        assert made.status == AccessRequestStatus.PENDING_APPROVAL and made.requires_approval
        with pytest.raises(
            access_requests.AccessRequestError, match="承認されるまで出力できません"
        ):
            access_requests.export(
                session, actor="officer2", request=made, fmt="pdf", now=NOW, today=TODAY
            )
        with pytest.raises(access_requests.NotAllowed, match="別の記録管理担当者"):
            access_requests.approve(session, actor="officer", request=made, now=NOW)
    with database.session_scope() as session:
        made = access_requests.load(session, request_id)
        assert made is not None
        access_requests.approve(session, actor="officer2", request=made, now=NOW)
    with database.session_scope() as session:
        made = access_requests.load(session, request_id)
        assert made is not None and made.status == AccessRequestStatus.READY
        assert made.approved_by == "officer2"
        with pytest.raises(Conflict, match="既に承認されています"):
            access_requests.approve(session, actor="officer3", request=made, now=NOW)
    disclosure = _export(database, request_id)
    protections = next(s for s in disclosure.sections if s.key == "protections")
    assert len(protections.rows) == 1 and "ご本人に関する情報" in protections.note
    [approved] = _events(database, AuditAction.ACCESS_REQUEST_APPROVE)
    assert approved.actor == "officer2" and approved.outcome == "ok"


def test_a_released_protection_still_asks_for_approval(database: Database) -> None:
    member, _other = household(database)
    [flag] = protect(database, member, whole_envelope=False)
    from tracker.services import protection

    with database.session_scope() as session:
        protection.release(session, actor="officer", protection_id=flag, reason="期間満了", now=NOW)
    request_id = make_request(database, [member])
    with database.session_scope() as session:
        made = session.get(AccessRequest, request_id)
        assert made is not None and made.status == AccessRequestStatus.PENDING_APPROVAL


def test_approval_race_one_officer_wins(postgres_url: str) -> None:
    database = Database(postgres_url)
    try:
        member, _other = household(database)
        protect(database, member, whole_envelope=False)
        request_id = make_request(database, [member])
        barrier = threading.Barrier(2)
        outcomes: list[str] = []
        lock = threading.Lock()

        def officer(name: str) -> None:
            session = database.new_session()
            try:
                session.execute(text("SELECT 1"))
                found = access_requests.load(session, request_id)
                assert found is not None
                barrier.wait(timeout=30)
                access_requests.approve(session, actor=name, request=found, now=NOW)
                session.commit()
                result = "ok"
            except Conflict as conflict:
                session.rollback()
                result = "conflict" if "既に承認されています" in str(conflict) else str(conflict)
            except Exception as error:  # noqa: BLE001 — reported in the assertion below
                session.rollback()
                result = f"error: {type(error).__name__}: {error}"
            finally:
                session.close()
            with lock:
                outcomes.append(result)

        threads = [threading.Thread(target=officer, args=(n,)) for n in ("officer2", "officer3")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(outcomes) == ["conflict", "ok"], outcomes
        assert len(_events(database, AuditAction.ACCESS_REQUEST_APPROVE)) == 1
    finally:
        database.dispose()


def test_a_cancelled_request_cannot_be_exported(database: Database) -> None:
    who = person(database)
    request_id = make_request(database, [who.card])
    with database.session_scope() as session:
        made = access_requests.load(session, request_id)
        assert made is not None
        access_requests.cancel(session, actor="officer", request=made, now=NOW)
    with database.session_scope() as session:
        made = access_requests.load(session, request_id)
        assert made is not None
        with pytest.raises(access_requests.AccessRequestError, match="取り消されています"):
            access_requests.export(
                session, actor="officer", request=made, fmt="csv", now=NOW, today=TODAY
            )


# --- export ------------------------------------------------------------------------------------


def test_the_export_holds_every_section_and_is_audited_without_values(
    database: Database,
) -> None:
    factories.user(database, Role.RECORDS_OFFICER, "officer", display_name="記録 一郎")
    factories.user(database, Role.CLERK, "clerk", display_name="窓口 花子")
    who = person(database)
    request_id = make_request(database, [who.card, who.notice])
    disclosure = _export(database, request_id, "csv")
    assert [s.key for s in disclosure.sections] == SECTIONS
    rows = {s.key: s.rows for s in disclosure.sections}
    counts = disclosure.counts()
    assert counts["items"] == 2 and counts["envelopes"] == 2
    assert counts["handovers"] == 1 and counts["contacts"] == 1 and counts["holds"] == 2
    assert counts["reservations"] == 1 and counts["register_checks"] == 1
    assert counts["item_revisions"] >= 1 and counts["protections"] == 0
    flat = json.dumps([list(map(str, r)) for rs in rows.values() for r in rs], ensure_ascii=False)
    assert NAME in flat and KANA in flat and "1984-07-09" in flat
    assert HOLD_REASON in flat and NOTE in flat and "運転免許証" in flat and TYPO in flat
    # the father's card is in her envelope but not in her disclosure
    assert FATHER not in {r[2] for r in rows["items"]}
    item_numbers = {r[0] for r in rows["items"]}
    with database.session_scope() as session:
        father = session.get(Item, who.father)
        assert father is not None and father.control_no not in item_numbers
    # the audit events name the actors by display name and the actions in Japanese
    events = rows["audit_events"]
    actions = {r[2] for r in events}
    assert {"返戻郵便の受付", "交付", "保留", "接触記録", "受取予約", "開示請求の受付"} <= actions
    assert "窓口 花子" in {r[5] for r in events} and "clerk" not in {r[5] for r in events}
    # one audited export, with counts and the reference number, no personal value
    [event] = _events(database, AuditAction.ACCESS_REQUEST_EXPORT)
    details = json.loads(event.details)
    assert details["reference_no"] == "R8-開示-0001" and details["format"] == "csv"
    assert details["sections"] == counts
    for value in (NAME, KANA, "1984-07-09", HOLD_REASON, NOTE, "水前寺"):
        assert value not in event.details
    # exports may be repeated; each is audited
    _export(database, request_id, "pdf")
    assert len(_events(database, AuditAction.ACCESS_REQUEST_EXPORT)) == 2
    with database.session_scope() as session:
        made = session.get(AccessRequest, request_id)
        assert made is not None
        assert made.status == AccessRequestStatus.EXPORTED and made.export_count == 2


def test_the_csv_bundle_has_a_file_per_section_with_bom_and_no_formulas(
    database: Database,
) -> None:
    who = person(database)
    request_id = make_request(database, [who.card, who.notice], reference_no="=HYPERLINK(1)")
    disclosure = _export(database, request_id, "csv")
    bundle = zipfile.ZipFile(io.BytesIO(csv_bundle(disclosure)))
    names = bundle.namelist()
    assert names == ["00_request.csv"] + [f"{n:02d}_{k}.csv" for n, k in enumerate(SECTIONS, 1)]
    for name in names:
        assert bundle.read(name).startswith(b"\xef\xbb\xbf"), name
    heading = list(csv.reader(io.StringIO(bundle.read("00_request.csv").decode("utf-8-sig"))))
    assert ["受付番号", "'=HYPERLINK(1)"] in heading
    items = list(csv.reader(io.StringIO(bundle.read("01_items.csv").decode("utf-8-sig"))))
    assert items[0][:3] == ["管理番号", "種類", "氏名"] and len(items) == 3
    assert {row[2] for row in items[1:]} == {NAME} and {row[5] for row in items[1:]} == {
        BORN.isoformat()
    }
    handovers = bundle.read("04_handovers.csv").decode("utf-8-sig")
    assert "運転免許証" in handovers and "本人" in handovers


def test_an_erased_item_shows_what_remains_and_says_so(database: Database) -> None:
    who = person(database)
    request_id = make_request(database, [who.card])
    with database.session_scope() as session:
        session.execute(
            update(Item)
            .where(Item.id == who.card)
            .values(
                name="（消去済み）",
                name_kana="（消去済み）",
                pseudonymised_at=datetime(2031, 1, 1, tzinfo=UTC),
            )
        )
    disclosure = _export(database, request_id)
    items = next(s for s in disclosure.sections if s.key == "items")
    [row] = items.rows
    assert row[2] == "（消去済み）" and "保存期間経過により消去済み" in str(row[-1])
    assert "消去" in items.note
