"""``tracker purge`` past the retention of the tracker's own records (issue 16 part 2): each
record class and its boundary (a record anchored exactly on the cutoff keeps its values one
more day), open items untouched, revisions deleted, a second run touching nothing, and a
disposal certificate rebuilt byte for byte after its items were purged."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from tests import factories
from tests.factories import NOW
from tests.factories_contacts import contact
from tests.factories_life import put_in_status, row_of
from tests.factories_purge import (
    CONTACT_NOTE,
    HOLD_REASON,
    LAST4,
    RECIPIENT,
    RESERVATION_NOTE,
    VOID_REASON,
    Person,
    at,
    closed,
    hand_over,
    person,
    purged_then_voided,
)
from tests.services.test_disposal import EXECUTION
from tracker.cli import main
from tracker.db import Database
from tracker.domain.codes import AuditAction, ItemStatus, RecordClass
from tracker.domain.errors import InputError
from tracker.domain.record_retention import PLACEHOLDER, PLACEHOLDER_BIRTH_DATE, PeriodError
from tracker.models import (
    AuditEvent,
    Contact,
    DisposalBatch,
    Envelope,
    Handover,
    HandoverItem,
    Hold,
    Item,
    ItemRevision,
    Reservation,
    ReservationItem,
)
from tracker.services import (
    disposal,
    holds,
    intake,
    lookup,
    purge,
    record_retention,
    stock_checks,
)

AS_OF = date(2031, 1, 1)
#: Five years before AS_OF: an item closed on it is kept through AS_OF, one closed the day
#: before is due.
BOUNDARY = date(2026, 1, 1)
PAST = date(2025, 12, 31)
#: A person's reservation is two days before the day passed to the factory.
TWO_DAYS = timedelta(days=2)


def run(database: Database, as_of: date = AS_OF, *, dry_run: bool = False) -> dict[str, int]:
    with database.session_scope() as session:
        return purge.run(session, actor="cli:t", as_of=as_of, now=at(as_of), dry_run=dry_run).counts


def envelope_row(database: Database, envelope_id: int) -> dict[str, Any]:
    with database.session_scope() as session:
        envelope = session.get(Envelope, envelope_id)
        assert envelope is not None
        return {c.key: getattr(envelope, c.key) for c in Envelope.__table__.columns}


def records_of(database: Database, item_id: int) -> dict[str, Any]:
    """The free text a purge may replace about one item, and its revisions."""
    with database.session_scope() as session:
        item = session.get(Item, item_id)
        assert item is not None
        handover = session.scalar(
            select(Handover).join(HandoverItem).where(HandoverItem.item_id == item_id)
        )
        return {
            "hold": session.scalar(select(Hold.reason).where(Hold.item_id == item_id)),
            "release": session.scalar(select(Hold.release_reason).where(Hold.item_id == item_id)),
            "contact": session.scalar(select(Contact.note).where(Contact.item_id == item_id)),
            "reservation": session.execute(
                select(Reservation.name, Reservation.note)
                .join(ReservationItem)
                .where(ReservationItem.item_id == item_id)
            ).one(),
            "recipient": handover.recipient_name if handover is not None else None,
            "documents": json.loads(handover.documents) if handover is not None else None,
            "revisions": session.scalar(
                select(func.count(ItemRevision.id)).where(
                    ItemRevision.envelope_id == item.envelope_id
                )
            ),
        }


def test_closed_items_past_their_period_become_placeholders(database: Database) -> None:
    past = closed(database, 1, on=PAST)
    boundary = closed(database, 2, on=BOUNDARY)
    still_open = person(database, 3, on=PAST)
    with database.session_scope() as session:
        boundary_before = row_of(session, boundary.item_id)
        open_before = row_of(session, still_open.item_id)
    open_records = records_of(database, still_open.item_id)
    open_envelope = envelope_row(database, still_open.envelope_id)
    assert records_of(database, past.item_id)["revisions"] > 0

    dry = run(database, dry_run=True)
    with database.session_scope() as session:
        assert row_of(session, past.item_id)["name"] == past.name  # a dry run only counts
    counts = run(database)
    assert counts == dry
    assert counts["items"] == 1 and counts["envelopes"] == 1 and counts["handovers"] == 1
    assert counts["item_records"] == 1  # the hold's reasons
    # a reservation and a contact have their own periods: the boundary item's reservation
    # (a year before its handover) and contact went too
    assert counts["reservations"] == 2 and counts["contacts"] == 2

    with database.session_scope() as session:
        row = row_of(session, past.item_id)
    assert (row["name"], row["name_kana"], row["alias"], row["relationship_to_head"]) == (
        PLACEHOLDER,
        PLACEHOLDER,
        PLACEHOLDER,
        PLACEHOLDER,
    )
    assert (row["name_key"], row["kana_key"], row["alias_key"]) == ("", "", None)
    assert row["birth_date"] == PLACEHOLDER_BIRTH_DATE
    assert row["pseudonymised_at"] is not None
    assert row["control_no"] and row["status"] == "handed_over"
    envelope = envelope_row(database, past.envelope_id)
    assert (envelope["addressee"], envelope["address"], envelope["household_code"]) == (
        PLACEHOLDER,
        PLACEHOLDER,
        None,
    )
    assert envelope["pseudonymised_at"] is not None and envelope["tracking_no"]
    assert records_of(database, past.item_id) == {
        "hold": PLACEHOLDER,
        "release": PLACEHOLDER,
        "contact": PLACEHOLDER,
        "reservation": (PLACEHOLDER, PLACEHOLDER),
        "recipient": PLACEHOLDER,
        "documents": [{"code": "passport"}],  # the type stays, the last four characters go
        "revisions": 0,
    }

    # the boundary: closed exactly five years before, kept through AS_OF
    with database.session_scope() as session:
        assert row_of(session, boundary.item_id) == boundary_before
        assert row_of(session, still_open.item_id) == open_before
    kept = records_of(database, boundary.item_id)
    assert kept["hold"] == HOLD_REASON and kept["recipient"] == RECIPIENT
    assert kept["documents"] == [{"code": "passport", "last4": LAST4}]
    assert kept["revisions"] > 0
    assert kept["contact"] == PLACEHOLDER and kept["reservation"][0] == PLACEHOLDER
    assert envelope_row(database, boundary.envelope_id)["pseudonymised_at"] is None

    # open items and everything about them: untouched
    assert records_of(database, still_open.item_id) == open_records
    assert open_records["contact"] == CONTACT_NOTE
    assert open_records["reservation"] == (still_open.name, RESERVATION_NOTE)
    assert envelope_row(database, still_open.envelope_id) == open_envelope

    # the day after, the boundary item goes
    assert run(database, date(2031, 1, 2))["items"] == 1

    # the purge is audited with counts and no personal values
    with database.session_scope() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == AuditAction.PURGE_RUN.value)
        ).all()
    details = json.loads(events[0].details)
    assert details == {"as_of": AS_OF.isoformat(), **counts}


def test_a_second_purge_touches_nothing(database: Database) -> None:
    past = closed(database, 1, on=PAST)
    first = run(database)
    assert first["items"] == 1
    with database.session_scope() as session:
        before = row_of(session, past.item_id)
    again = run(database)
    assert set(again.values()) == {0}
    assert run(database, AS_OF, dry_run=True) == again
    with database.session_scope() as session:
        assert row_of(session, past.item_id) == before


def test_search_never_finds_a_purged_item(database: Database) -> None:
    past = closed(database, 1, on=PAST)
    run(database)
    with database.session_scope() as session:
        for text in (PLACEHOLDER, past.name, "明治32年12月31日", "1899-12-31", "（"):
            try:
                query: lookup.Query | None = lookup.parse_query(text)
            except InputError:  # a query the search refuses finds nothing either
                query = None
            if query is None or query.empty:
                continue
            found = session.scalars(lookup.search_statement(query)).all()
            assert past.item_id not in [item.id for item in found], text


@pytest.mark.parametrize(
    ("record_class", "period", "anchor_past", "anchor_kept"),
    [
        (RecordClass.HANDOVERS, 3, date(2027, 12, 31), date(2028, 1, 1)),
        (RecordClass.CONTACTS, 2, date(2028, 12, 31), date(2029, 1, 1)),
        (RecordClass.RESERVATIONS, 30, date(2030, 12, 1), date(2030, 12, 2)),
    ],
)
def test_each_class_keeps_its_own_period(
    database: Database,
    record_class: RecordClass,
    period: int,
    anchor_past: date,
    anchor_kept: date,
) -> None:
    """Items are kept 30 years here; each class goes by its own period and anchor: the
    handover's day, the contact's day, the slot's day (two days before ``on``)."""
    with database.session_scope() as session:
        record_retention.save(
            session,
            {RecordClass.ITEMS: 30, record_class: period},
            actor="officer",
            now=NOW,
        )
    if record_class is RecordClass.HANDOVERS:
        due, kept = closed(database, 1, on=anchor_past), closed(database, 2, on=anchor_kept)
        key, field = "handovers", "recipient"
    elif record_class is RecordClass.CONTACTS:
        due, kept = closed(database, 1, on=AS_OF), closed(database, 2, on=AS_OF)
        later_contact(database, due.item_id, anchor_past)
        later_contact(database, kept.item_id, anchor_kept)
        key, field = "contacts", "contact"
    else:
        due = closed(database, 1, on=anchor_past + TWO_DAYS)
        kept = closed(database, 2, on=anchor_kept + TWO_DAYS)
        key, field = "reservations", "reservation"
    counts = run(database)
    assert counts[key] == 1 and counts["items"] == 0
    erased, left = (
        records_of(database, due.item_id)[field],
        records_of(database, kept.item_id)[field],
    )
    if field == "reservation":
        erased, left = erased[0], left[0]
    if field == "contact":
        erased, left = (
            _earliest_contact(database, due.item_id),
            _earliest_contact(database, kept.item_id),
        )
    assert erased == PLACEHOLDER and left != PLACEHOLDER


def later_contact(database: Database, item_id: int, day: date) -> None:
    """A contact on ``day`` about an item (before the one the factory made)."""
    contact(database, item_id, note="後日の連絡", occurred_at=at(day), now=at(day))


def _earliest_contact(database: Database, item_id: int) -> str | None:
    with database.session_scope() as session:
        return session.scalar(
            select(Contact.note)
            .where(Contact.item_id == item_id)
            .order_by(Contact.occurred_at)
            .limit(1)
        )


def test_periods_are_settings_validated_and_audited(database: Database) -> None:
    with database.session_scope() as session:
        assert record_retention.load(session) == record_retention.defaults()
        with pytest.raises(PeriodError, match="1〜30年"):
            record_retention.save(session, {RecordClass.ITEMS: 0}, actor="o", now=NOW)
        with pytest.raises(PeriodError, match="数ではありません"):
            record_retention.save(session, {RecordClass.CONTACTS: "五"}, actor="o", now=NOW)
        with pytest.raises(PeriodError, match="1〜3650日"):
            record_retention.save(session, {RecordClass.RESERVATIONS: 4000}, actor="o", now=NOW)
    with database.session_scope() as session:
        changed = record_retention.save(
            session,
            {RecordClass.ITEMS: "7", RecordClass.HANDOVERS: 5},
            actor="officer",
            now=NOW,
        )
        assert changed == [RecordClass.ITEMS]
    with database.session_scope() as session:
        assert record_retention.load(session)[RecordClass.ITEMS] == 7
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == AuditAction.RECORD_RETENTION_CHANGE.value)
        ).one()
        assert json.loads(event.details) == {
            "changed": ["items"],
            "before": {"items": 5},
            "after": {"items": 7},
            "units": {"items": "years"},
        }


def test_a_certificate_rebuilds_byte_for_byte_after_its_items_are_purged(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    batch_id = factories.batch(database, 2, approved_by="officer2", executed=EXECUTION)
    with database.session_scope() as session:
        batch = session.get(DisposalBatch, batch_id)
        assert batch is not None
        before = disposal.certificate_pdf(session, batch)
    issued = tmp_path / "certificate.pdf"
    issued.write_bytes(before)

    counts = run(database, date(2032, 1, 1))  # destroyed on NOW (2026): past five years
    assert counts["items"] == 2 and counts["envelopes"] == 2
    with database.session_scope() as session:
        names = session.scalars(select(Item.name)).all()
        assert set(names) == {PLACEHOLDER}
        batch = session.get(DisposalBatch, batch_id)
        assert batch is not None
        assert disposal.certificate_pdf(session, batch) == before

    env = {"TRACKER_DATABASE_URL": database_url}
    verified = CliRunner().invoke(main, ["certificate-verify", str(issued)], env=env)
    assert verified.exit_code == 0, verified.output
    chain = CliRunner().invoke(main, ["audit-verify"], env=env)
    assert chain.exit_code == 0, chain.output


def test_every_closed_status_is_purged_and_an_item_being_remailed_is_not(
    database: Database,
) -> None:
    lost = person(database, 1, on=PAST)
    delivered = person(database, 2, on=PAST)
    remailed = person(database, 3, on=PAST)
    with database.session_scope() as session:
        put_in_status(session, lost.item_id, ItemStatus.LOST, at(PAST))
        put_in_status(session, delivered.item_id, ItemStatus.REDELIVERED, at(PAST))
        put_in_status(session, remailed.item_id, ItemStatus.REMAILED, at(date(2020, 1, 1)))
    with database.session_scope() as session:
        open_before = row_of(session, remailed.item_id)
    open_records = records_of(database, remailed.item_id)
    assert run(database)["items"] == 2
    with database.session_scope() as session:
        assert row_of(session, lost.item_id)["name"] == PLACEHOLDER
        assert row_of(session, delivered.item_id)["birth_date"] == PLACEHOLDER_BIRTH_DATE
        assert row_of(session, remailed.item_id) == open_before
    assert records_of(database, remailed.item_id) == open_records


def test_an_item_back_in_custody_after_its_purge_keeps_its_envelope_and_records(
    database: Database,
) -> None:
    """The review's run: item A lost in 2020 and purged, then found; a hold placed and released
    on it; its sibling B handed over in 2020; purge again — A is open, so its envelope and
    its records stay, while B's own record goes."""
    a_id, b_id = factories.envelope(
        database,
        1,
        series=8,
        addressee="世帯主 一郎",
        address="熊本市中央区手取本町1番",
        items=[
            factories.item("兄 一郎", "アニ イチロウ", birth_date=date(1960, 1, 1)),
            factories.item("妹 花子", "イモウト ハナコ", birth_date=date(1962, 2, 2)),
        ],
        now=at(date(2020, 1, 10)),
    )
    with database.session_scope() as session:
        put_in_status(session, a_id, ItemStatus.LOST, at(date(2020, 3, 1)))
    first = date(2026, 1, 1)
    assert run(database, first)["items"] == 1
    with database.session_scope() as session:
        envelope_id = row_of(session, a_id)["envelope_id"]
        item_a = session.get(Item, a_id)
        assert item_a is not None and item_a.pseudonymised_at is not None
        stock_checks.found_lost(
            session,
            actor="officer",
            item=item_a,
            note=None,
            location_id=None,
            slot=None,
            now=at(date(2026, 1, 2)),
        )
        hold = holds.place(
            session, actor="officer", item=item_a, reason=HOLD_REASON, now=at(date(2026, 1, 3))
        )
        holds.release(
            session, actor="officer", hold=hold, reason="連絡あり", now=at(date(2026, 1, 3))
        )
    hand_over(database, Person(b_id, envelope_id, "妹 花子", date(1962, 2, 2)), on=date(2020, 6, 1))

    counts = run(database, date(2026, 1, 4))
    assert (counts["items"], counts["envelopes"], counts["item_records"]) == (1, 0, 0)
    envelope = envelope_row(database, envelope_id)
    assert (envelope["addressee"], envelope["address"], envelope["pseudonymised_at"]) == (
        "世帯主 一郎",
        "熊本市中央区手取本町1番",
        None,
    )
    with database.session_scope() as session:
        assert session.execute(
            select(Hold.reason, Hold.release_reason).where(Hold.item_id == a_id)
        ).one() == (HOLD_REASON, "連絡あり")
        assert row_of(session, a_id)["status"] == ItemStatus.IN_CUSTODY.value
        assert row_of(session, b_id)["name"] == PLACEHOLDER  # B's own record went

    # closed again (handed over without re-entering it): its records wait for its new period
    hand_over(
        database, Person(a_id, envelope_id, PLACEHOLDER, date(1962, 2, 2)), on=date(2026, 2, 1)
    )
    assert run(database, date(2026, 2, 2))["envelopes"] == 0
    assert envelope_row(database, envelope_id)["addressee"] == "世帯主 一郎"
    later = run(database, date(2031, 2, 2))
    assert (later["items"], later["envelopes"]) == (0, 1)  # A's values were placeholders already
    with database.session_scope() as session:
        assert session.scalar(select(Hold.reason).where(Hold.item_id == a_id)) == PLACEHOLDER


def test_an_item_voided_after_its_purge_is_re_entered_and_found_again(
    database: Database,
) -> None:
    """A handover voided after the purge brings back a pseudonymised item: its values are
    re-entered through the item edit (placeholders refused), which clears the mark, so search
    finds it again; while it is open no purge touches it or its records."""
    who = purged_then_voided(database, 1)
    with database.session_scope() as session:
        item = session.get(Item, who.item_id)
        assert item is not None and item.pseudonymised_at is not None
        fields = factories.item(who.name, "ショウキョ タイショウイチ", birth_date=who.birth_date)
        for left in (
            dataclasses.replace(fields, name=PLACEHOLDER),
            dataclasses.replace(fields, birth_date=PLACEHOLDER_BIRTH_DATE),
            dataclasses.replace(fields, relationship=PLACEHOLDER),
        ):
            with pytest.raises(intake.IntakeError, match="入力し直してください"):
                intake.edit_item(session, actor="officer", item=item, fields=left)
        assert item.pseudonymised_at is not None and item.name == PLACEHOLDER
        intake.edit_item(session, actor="officer", item=item, fields=fields)
    with database.session_scope() as session:
        row = row_of(session, who.item_id)
        assert (row["name"], row["birth_date"], row["pseudonymised_at"]) == (
            who.name,
            who.birth_date,
            None,
        )
        query = lookup.parse_query(who.name)
        assert query is not None
        assert who.item_id in [i.id for i in session.scalars(lookup.search_statement(query))]

    counts = run(database, date(2026, 1, 5))
    assert (counts["items"], counts["item_revisions"], counts["handovers"]) == (0, 0, 0)
    with database.session_scope() as session:
        assert row_of(session, who.item_id)["name"] == who.name
        assert session.scalar(
            select(func.count(ItemRevision.id)).where(ItemRevision.item_id == who.item_id)
        )
        assert (
            session.scalar(
                select(Handover.void_reason)
                .join(HandoverItem)
                .where(HandoverItem.item_id == who.item_id)
            )
            == VOID_REASON
        )
