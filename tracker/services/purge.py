"""Erasing personal data past its keeping time (``tracker purge``, SPEC §7), as a list of steps.

Each :class:`Step` counts what it would erase as of a day and erases it; :func:`run` runs them
all in one transaction and writes one ``PURGE_RUN`` audit event with the counts (a dry run
counts and writes nothing). Issue 15 brings the first step; issue 16 (pseudonymising closed
records past their retention) adds its steps to :data:`STEPS` — nothing else has to change.

Steps:
- ``reservation_phones``: a reservation's call-back number is kept until the day after its
  slot (a clerk may need to call back about a missed visit), then erased: ``phone`` becomes
  empty and ``phone_erased_at`` says when. The reservation, its status and the slot's counts
  stay. As of D, the numbers of slots on days before D − 1 go.

Issue 16 part 2 (retention of the tracker's own records, docs/record-retention.md): the
periods are settings per record class (:mod:`tracker.services.record_retention`); personal
values of records past theirs are replaced by :data:`~tracker.domain.record_retention.PLACEHOLDER`
(birth dates by ``PLACEHOLDER_BIRTH_DATE``), in this order, so that a later step sees what an
earlier one did in the same transaction:

- ``items``: closed items (交付済・再送付済・廃棄済・紛失, not on hold) whose status changed
  before the cutoff: name, kana, alias, relationship, birth date and the search keys;
  ``pseudonymised_at`` is set.
- ``envelopes``: once every item that was ever in the envelope is pseudonymised (or is in this
  run): addressee and address replaced, household code emptied.
- ``item_records``: the free text of records about those items — holds, retention
  extensions, protections, register results' notes, re-mailings' address, who asked and
  reasons, loss reports.
- ``item_revisions``: the old and new values of the items' and envelopes' edits are deleted.
- ``handovers``: recipient name, void reasons and the documents' last four characters
  (末尾4桁; the document types stay) of handovers made before the cutoff whose items are all
  closed.
- ``reservations``: name, note and cancel reason of reservations whose slot's day is before
  the cutoff and whose items are all closed.
- ``contacts``: the note of contacts before the cutoff about closed items only.

Each step is one conditional UPDATE (or DELETE) per table whose condition excludes what is
already erased, so a second run touches nothing; open items (保管中, 再送付中, on hold) and
every record about them are never touched — also an item pseudonymised earlier and brought
back into custody since (found after a loss, a handover voided): see :func:`_gone`. The
``items`` UPDATE checks the item's status in the same statement, so a void that commits before
it wins; one that commits after it brings back a pseudonymised item, whose values are
re-entered through the item edit (:func:`tracker.services.intake.edit_item`). Control
numbers, dates, statuses, counts, rules, disposal batches (and everything a certificate is
rebuilt from) and the audit chain stay.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Delete,
    Update,
    and_,
    case,
    delete,
    exists,
    func,
    not_,
    or_,
    select,
    update,
)
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased

from tracker.clock import JST, to_jst
from tracker.domain.chain import canonical_json
from tracker.domain.codes import AuditAction, ItemStatus, RecordClass
from tracker.domain.record_retention import PLACEHOLDER, PLACEHOLDER_BIRTH_DATE, cutoff
from tracker.models import (
    Contact,
    Envelope,
    Handover,
    HandoverItem,
    Hold,
    Item,
    ItemRevision,
    LossReport,
    PickupDay,
    PickupSlot,
    Protection,
    RegisterResult,
    Remailing,
    Reservation,
    ReservationItem,
    RetentionExtension,
)
from tracker.services import audit, record_retention
from tracker.services.transitions import Conflict

#: Days a call-back number is kept after the slot's day.
PHONE_KEPT_DAYS = 1


@dataclass(frozen=True)
class Step:
    """One kind of data to erase: ``count(session, as_of)`` and ``erase(session, as_of, now)``
    (returns the rows changed). ``name`` is the key of its count on the counts line.
    ``oldest(session, as_of)``, when given, is the oldest anchor date among what is due (for
    the preview page)."""

    name: str
    count: Callable[[Session, date], int]
    erase: Callable[[Session, date, datetime], int]
    oldest: Callable[[Session, date], date | None] | None = None


def _phones_due(as_of: date) -> ColumnElement[bool]:
    cutoff = as_of - timedelta(days=PHONE_KEPT_DAYS)
    past_slots = (select(PickupSlot.id).join(PickupDay, PickupSlot.day_id == PickupDay.id)).where(
        PickupDay.day < cutoff
    )
    return and_(Reservation.phone.is_not(None), Reservation.slot_id.in_(past_slots))


def _count_phones(session: Session, as_of: date) -> int:
    return int(session.scalar(select(func.count(Reservation.id)).where(_phones_due(as_of))) or 0)


def _erase_phones(session: Session, as_of: date, now: datetime) -> int:
    erased: int = session.execute(  # type: ignore[attr-defined]  # a CursorResult
        update(Reservation)
        .where(_phones_due(as_of))
        .values(phone=None, phone_erased_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    return erased


# --- issue 16 part 2: the tracker's own records past their retention ----------------------

#: The statuses of a closed item (its record may be pseudonymised after its period).
CLOSED = (
    ItemStatus.HANDED_OVER.value,
    ItemStatus.REDELIVERED.value,
    ItemStatus.DESTROYED.value,
    ItemStatus.LOST.value,
)


def _cutoff_day(session: Session, record_class: RecordClass, as_of: date) -> date:
    return cutoff(record_class, record_retention.load(session)[record_class], as_of)


def _start_of(day: date) -> datetime:
    """Midnight in Japan of ``day``, as a UTC instant: anchors are dates in JST."""
    return datetime.combine(day, time(0), JST).astimezone(UTC)


def _open(item: Any) -> ColumnElement[bool]:
    """SQL: ``item`` (the Item entity or an alias of it) is open — 保管中, 再送付中 or on
    hold. Holds are aliased so this may sit inside an UPDATE of ``holds``."""
    hold = aliased(Hold)
    return or_(
        item.status.not_in(CLOSED),
        exists().where(hold.item_id == item.id, hold.released_at.is_(None)),
    )


def _due(item: Any, cut: date) -> ColumnElement[bool]:
    """SQL: ``item`` (Item or an alias) is to be pseudonymised as of the cutoff ``cut``."""
    return and_(
        item.pseudonymised_at.is_(None),
        item.status_changed_at < _start_of(cut),
        not_(_open(item)),
    )


def _gone(item: Any, cut: date) -> ColumnElement[bool]:
    """SQL: ``item``'s records may go: it is not open, and it is due now or was pseudonymised
    since its last status change. An item pseudonymised and then brought back into custody
    (found after a loss, a handover voided) is open, so nothing about it is gone; closed again,
    its records wait for its new period (``status_changed_at`` is after ``pseudonymised_at``).
    A predicate on the row itself (not a NOT IN over a subquery), so that the per-envelope
    checks stay index lookups."""
    return and_(
        not_(_open(item)),
        or_(
            item.status_changed_at < _start_of(cut),
            and_(
                item.pseudonymised_at.is_not(None),
                item.pseudonymised_at >= item.status_changed_at,
            ),
        ),
    )


def _item_due(cut: date) -> ColumnElement[bool]:
    """SQL: an item of the target ``Item`` to pseudonymise as of the cutoff ``cut``."""
    return _due(Item, cut)


def _items_gone(session: Session, as_of: date) -> Any:
    """The ids of items whose records may go (:func:`_gone`; a subquery of an aliased Item, so
    that it may be used inside an UPDATE of ``items``)."""
    cut = _cutoff_day(session, RecordClass.ITEMS, as_of)
    item = aliased(Item)
    return select(item.id).where(_gone(item, cut))


def _count(session: Session, statement: Any) -> int:
    return int(session.scalar(statement) or 0)


def _run(session: Session, statement: Update | Delete) -> int:
    changed: int = session.execute(  # type: ignore[attr-defined]  # a CursorResult
        statement.execution_options(synchronize_session=False)
    ).rowcount
    return changed


def _erased(column: Any) -> Any:
    """The placeholder where the column holds a value; empty stays empty."""
    return case((column.is_(None), None), else_=PLACEHOLDER)


def _holds_value(column: Any) -> ColumnElement[bool]:
    """SQL: the column holds a value not yet erased."""
    return and_(column.is_not(None), column != PLACEHOLDER)


# items


def _count_items(session: Session, as_of: date) -> int:
    cut = _cutoff_day(session, RecordClass.ITEMS, as_of)
    return _count(session, select(func.count(Item.id)).where(_item_due(cut)))


def _oldest_item(session: Session, as_of: date) -> date | None:
    cut = _cutoff_day(session, RecordClass.ITEMS, as_of)
    first = session.scalar(select(func.min(Item.status_changed_at)).where(_item_due(cut)))
    return to_jst(first).date() if first is not None else None


def _erase_items(session: Session, as_of: date, now: datetime) -> int:
    cut = _cutoff_day(session, RecordClass.ITEMS, as_of)
    return _run(
        session,
        update(Item)
        .where(_item_due(cut))
        .values(
            name=PLACEHOLDER,
            name_kana=PLACEHOLDER,
            # the search keys hold the normalised name: emptied, so no search finds them
            name_key="",
            kana_key="",
            alias=_erased(Item.alias),
            alias_key=None,
            relationship_to_head=_erased(Item.relationship_to_head),
            birth_date=PLACEHOLDER_BIRTH_DATE,
            pseudonymised_at=now,
        ),
    )


# envelopes: once every item that was ever in them is pseudonymised


def _envelope_due(session: Session, as_of: date) -> ColumnElement[bool]:
    """SQL: an envelope not yet pseudonymised that held items, all of them gone (none open):
    those in it now, and those re-mailed from it that sit in a return envelope. Each check is
    a separate correlated EXISTS, answered from the indexes on ``items.envelope_id`` and
    ``remailings.from_envelope_id``."""
    cut = _cutoff_day(session, RecordClass.ITEMS, as_of)
    inside, moved = aliased(Item), aliased(Item)
    remailing = aliased(Remailing)
    moved_out = and_(
        remailing.from_envelope_id == Envelope.id,
        moved.id == remailing.item_id,
        moved.envelope_id != Envelope.id,
    )
    return and_(
        Envelope.pseudonymised_at.is_(None),
        or_(exists().where(inside.envelope_id == Envelope.id), exists().where(moved_out)),
        not_(exists().where(inside.envelope_id == Envelope.id, not_(_gone(inside, cut)))),
        not_(exists().where(moved_out, not_(_gone(moved, cut)))),
    )


def _count_envelopes(session: Session, as_of: date) -> int:
    return _count(session, select(func.count(Envelope.id)).where(_envelope_due(session, as_of)))


def _erase_envelopes(session: Session, as_of: date, now: datetime) -> int:
    return _run(
        session,
        update(Envelope)
        .where(_envelope_due(session, as_of))
        .values(
            addressee=PLACEHOLDER,
            address=PLACEHOLDER,
            household_code=None,
            pseudonymised_at=now,
        ),
    )


def _envelopes_gone(session: Session, as_of: date) -> Any:
    return select(Envelope.id).where(
        or_(Envelope.pseudonymised_at.is_not(None), _envelope_due(session, as_of))
    )


# free text of the records about those items

#: table → its free-text columns (each replaced where it holds a value).
ITEM_TEXTS: tuple[tuple[Any, tuple[InstrumentedAttribute[Any], ...]], ...] = (
    (Hold, (Hold.reason, Hold.release_reason)),
    (RetentionExtension, (RetentionExtension.reason,)),
    (Protection, (Protection.reason, Protection.release_reason)),
    (RegisterResult, (RegisterResult.note,)),
    (
        Remailing,
        (
            Remailing.address,
            Remailing.requested_by_whom,
            Remailing.request_reason,
            Remailing.cancel_reason,
        ),
    ),
    (LossReport, (LossReport.circumstances, LossReport.found_note)),
)


def _texts_due(session: Session, as_of: date, table: Any, columns: Any) -> ColumnElement[bool]:
    return and_(
        table.item_id.in_(_items_gone(session, as_of)),
        or_(*[_holds_value(column) for column in columns]),
    )


def _count_item_records(session: Session, as_of: date) -> int:
    return sum(
        _count(
            session,
            select(func.count()).select_from(table).where(_texts_due(session, as_of, table, cols)),
        )
        for table, cols in ITEM_TEXTS
    )


def _erase_item_records(session: Session, as_of: date, now: datetime) -> int:
    return sum(
        _run(
            session,
            update(table)
            .where(_texts_due(session, as_of, table, cols))
            .values({column.key: _erased(column) for column in cols}),
        )
        for table, cols in ITEM_TEXTS
    )


# revisions (the old and new values of edits)


def _revisions_due(session: Session, as_of: date) -> ColumnElement[bool]:
    return or_(
        ItemRevision.item_id.in_(_items_gone(session, as_of)),
        and_(
            ItemRevision.item_id.is_(None),
            ItemRevision.envelope_id.in_(_envelopes_gone(session, as_of)),
        ),
    )


def _count_revisions(session: Session, as_of: date) -> int:
    return _count(
        session, select(func.count(ItemRevision.id)).where(_revisions_due(session, as_of))
    )


def _erase_revisions(session: Session, as_of: date, now: datetime) -> int:
    return _run(session, delete(ItemRevision).where(_revisions_due(session, as_of)))


# handovers and their receipts

#: How a document's last four characters appear in a handover's documents JSON.
LAST4 = '"last4"'


def _handover_due(session: Session, as_of: date) -> ColumnElement[bool]:
    cut = _cutoff_day(session, RecordClass.HANDOVERS, as_of)
    item = aliased(Item)
    return and_(
        Handover.handed_over_at < _start_of(cut),
        or_(
            _holds_value(Handover.recipient_name),
            _holds_value(Handover.void_reason),
            _holds_value(Handover.void_request_reason),
            Handover.documents.contains(LAST4),
            Handover.principal_documents.contains(LAST4),
        ),
        not_(
            exists().where(
                HandoverItem.handover_id == Handover.id,
                HandoverItem.item_id == item.id,
                _open(item),
            )
        ),
    )


def _count_handovers(session: Session, as_of: date) -> int:
    return _count(session, select(func.count(Handover.id)).where(_handover_due(session, as_of)))


def _oldest_handover(session: Session, as_of: date) -> date | None:
    first = session.scalar(
        select(func.min(Handover.handed_over_at)).where(_handover_due(session, as_of))
    )
    return to_jst(first).date() if first is not None else None


def _without_last4(documents: str | None) -> str | None:
    """The documents' JSON without the last four characters of their numbers (types, issue
    and expiry dates stay)."""
    if documents is None:
        return None
    entries = [
        {key: value for key, value in entry.items() if key != "last4"}
        for entry in json.loads(documents)
    ]
    return canonical_json(entries)


def _erase_handovers(session: Session, as_of: date, now: datetime) -> int:
    # The documents' last four characters (末尾4桁) sit inside the JSON: the rows are read
    # first, then the names go in one statement (every due row, so its count is the step's),
    # then each JSON is rewritten by an UPDATE conditional on the JSON that was read.
    due = _handover_due(session, as_of)
    with_last4 = session.execute(
        select(Handover.id, Handover.documents, Handover.principal_documents).where(
            due,
            or_(Handover.documents.contains(LAST4), Handover.principal_documents.contains(LAST4)),
        )
    ).all()
    erased = _run(
        session,
        update(Handover)
        .where(due)
        .values(
            recipient_name=_erased(Handover.recipient_name),
            void_reason=_erased(Handover.void_reason),
            void_request_reason=_erased(Handover.void_request_reason),
        ),
    )
    for handover_id, documents, principal in with_last4:
        rewritten = _run(
            session,
            update(Handover)
            .where(
                Handover.id == handover_id,
                Handover.documents == documents,
                Handover.principal_documents.is_(None)
                if principal is None
                else Handover.principal_documents == principal,
            )
            .values(
                documents=_without_last4(documents),
                principal_documents=_without_last4(principal),
            ),
        )
        if rewritten != 1:  # documents never change after a handover: someone else purged
            raise Conflict(f"交付記録 {handover_id} は別の処理が先に変更しました")
    return erased


# reservations


def _reservation_due(session: Session, as_of: date) -> ColumnElement[bool]:
    cut = _cutoff_day(session, RecordClass.RESERVATIONS, as_of)
    item = aliased(Item)
    past = select(PickupSlot.id).join(PickupDay, PickupSlot.day_id == PickupDay.id)
    return and_(
        Reservation.slot_id.in_(past.where(PickupDay.day < cut)),
        or_(
            _holds_value(Reservation.name),
            _holds_value(Reservation.note),
            _holds_value(Reservation.cancel_reason),
        ),
        not_(
            exists().where(
                ReservationItem.reservation_id == Reservation.id,
                ReservationItem.item_id == item.id,
                _open(item),
            )
        ),
    )


def _count_reservations(session: Session, as_of: date) -> int:
    return _count(
        session, select(func.count(Reservation.id)).where(_reservation_due(session, as_of))
    )


def _oldest_reservation(session: Session, as_of: date) -> date | None:
    first: date | None = session.scalar(
        select(func.min(PickupDay.day))
        .join(PickupSlot, PickupSlot.day_id == PickupDay.id)
        .join(Reservation, Reservation.slot_id == PickupSlot.id)
        .where(_reservation_due(session, as_of))
    )
    return first


def _erase_reservations(session: Session, as_of: date, now: datetime) -> int:
    return _run(
        session,
        update(Reservation)
        .where(_reservation_due(session, as_of))
        .values(
            name=PLACEHOLDER,
            note=_erased(Reservation.note),
            cancel_reason=_erased(Reservation.cancel_reason),
        ),
    )


# contacts


def _contact_due(session: Session, as_of: date) -> ColumnElement[bool]:
    """SQL: a contact before the cutoff with a note, whose item is closed (a household
    contact: every item of its envelope)."""
    cut = _cutoff_day(session, RecordClass.CONTACTS, as_of)
    item = aliased(Item)
    return and_(
        Contact.occurred_at < _start_of(cut),
        _holds_value(Contact.note),
        or_(
            and_(
                Contact.item_id.is_not(None),
                not_(exists().where(item.id == Contact.item_id, _open(item))),
            ),
            and_(
                Contact.item_id.is_(None),
                not_(exists().where(item.envelope_id == Contact.envelope_id, _open(item))),
            ),
        ),
    )


def _count_contacts(session: Session, as_of: date) -> int:
    return _count(session, select(func.count(Contact.id)).where(_contact_due(session, as_of)))


def _oldest_contact(session: Session, as_of: date) -> date | None:
    first = session.scalar(
        select(func.min(Contact.occurred_at)).where(_contact_due(session, as_of))
    )
    return to_jst(first).date() if first is not None else None


def _erase_contacts(session: Session, as_of: date, now: datetime) -> int:
    return _run(
        session, update(Contact).where(_contact_due(session, as_of)).values(note=PLACEHOLDER)
    )


STEPS: tuple[Step, ...] = (
    Step("reservation_phones", _count_phones, _erase_phones),
    Step("items", _count_items, _erase_items, _oldest_item),
    Step("envelopes", _count_envelopes, _erase_envelopes),
    Step("item_records", _count_item_records, _erase_item_records),
    Step("item_revisions", _count_revisions, _erase_revisions),
    Step("handovers", _count_handovers, _erase_handovers, _oldest_handover),
    Step("reservations", _count_reservations, _erase_reservations, _oldest_reservation),
    Step("contacts", _count_contacts, _erase_contacts, _oldest_contact),
)


@dataclass(frozen=True)
class PreviewRow:
    """What a purge as of a day would touch in one step: how many rows, the oldest anchor."""

    name: str
    count: int
    oldest: date | None


def preview(session: Session, as_of: date) -> list[PreviewRow]:
    """Counts (and oldest anchor dates) of what :func:`run` would change as of ``as_of``;
    reads only, names nothing."""
    return [
        PreviewRow(
            step.name,
            step.count(session, as_of),
            step.oldest(session, as_of) if step.oldest is not None else None,
        )
        for step in STEPS
    ]


#: ``observe(index, step_name, counts_of_the_steps_before)`` (see :func:`run`).
StepObserver = Callable[[int, str, dict[str, int]], None]


@dataclass(frozen=True)
class Summary:
    as_of: date
    counts: dict[str, int]
    dry_run: bool

    def line(self) -> str:
        """The counts line the command prints: ``as_of=… reservation_phones=N [dry_run]``."""
        counts = " ".join(f"{name}={n}" for name, n in self.counts.items())
        return f"as_of={self.as_of.isoformat()} {counts}{' dry_run' if self.dry_run else ''}"


def run(
    session: Session,
    *,
    actor: str,
    as_of: date,
    now: datetime,
    dry_run: bool = False,
    steps: tuple[Step, ...] = STEPS,
    observe: StepObserver | None = None,
) -> Summary:
    """Run every step as of ``as_of``; flushes, never commits. A dry run only counts.

    ``observe(index, name, counts_so_far)`` is told before each step (a background job's
    progress, issue 17); on SQLite the first erase takes the write lock."""
    counts: dict[str, int] = {}
    for index, step in enumerate(steps):
        if observe is not None:
            observe(index, step.name, dict(counts))
        counts[step.name] = (
            step.count(session, as_of) if dry_run else step.erase(session, as_of, now)
        )
    if dry_run:
        return Summary(as_of, counts, True)
    audit.record(
        session,
        actor=actor,
        action=AuditAction.PURGE_RUN,
        details={"as_of": as_of.isoformat(), **counts},
    )
    return Summary(as_of, counts, False)
