"""Access requests (開示請求, issue 16 item 3): find the person, record the request, have a
protected person's request approved by a second records officer, and export everything held.

- **Find** (:func:`find_person`): the name (kanji or kana, any width) and the birth date (ISO
  or 和暦) are matched exactly as the counter's search does (:mod:`tracker.services.lookup`);
  the search is logged as ``item.search`` with the kind of query, never its words.
- **Create** (:func:`create`): the officer ticks the items that are this person's and types
  the office's reference number (受付番号) and the date received. Only the items are stored,
  never the name or birth date. If any item of the ticked items' envelopes (now or before a
  re-mailing) has or had a 支援措置 (active or released), the request waits for approval
  (``pending_approval``), otherwise it is ``ready`` (:func:`needs_approval`).
- **Approve** (:func:`approve`): a different records officer, who has typed their password
  again (the view asks), approves once: a conditional update checked by row count; the loser
  of a race gets :class:`~tracker.services.transitions.Conflict` (409).
- **Export** (:func:`export`): gathers a :class:`~tracker.domain.disclosure.Disclosure` — the
  items, their envelopes, 住基照合, handovers with the document types, contacts, reservations,
  holds, retention extensions, 支援措置, re-mailings, loss reports, corrections
  (``item_revisions``) and the audit events about all of those objects, with actors' display
  names — and writes ``access_request.export`` (reference number, format, counts per section;
  no value) in the same transaction. Repeated exports are allowed and each is audited. A
  request waiting for approval, or cancelled, is refused; one that needs approval now (a
  支援措置 placed since) and was never approved goes back to ``pending_approval``
  (:func:`recheck_approval`). Another household member's protection masks the envelopes'
  addressee, address, corrections and household notes (:func:`masked_envelopes`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, selectinload

from tracker.domain.codes import (
    AUDIT_ACTION_LABELS,
    OBJECT_TYPE_LABELS,
    OUTCOME_LABELS,
    AccessRequestStatus,
    AuditAction,
    ContactKind,
    HoldKind,
    ItemStatus,
    NoticeMethod,
    ObjectType,
    RecipientKind,
    RegisterOutcome,
    RegisterSource,
    RemailAddressKind,
    RemailStatus,
    ReservationStatus,
    ReturnReason,
)
from tracker.domain.disclosure import Disclosure, Section, Stamp, Value
from tracker.domain.errors import InputError
from tracker.domain.identity import AUTHORITY_PROOFS
from tracker.domain.record_retention import ERASED_LABEL, PLACEHOLDER_BIRTH_DATE
from tracker.domain.records import ITEM_KIND_LABELS, check_free_text
from tracker.domain.wareki import format_wareki_with_iso, parse_date
from tracker.models import (
    AccessRequest,
    AccessRequestItem,
    AuditEvent,
    Contact,
    Envelope,
    Handover,
    HandoverItem,
    Hold,
    Item,
    ItemRevision,
    LossReport,
    PickupSlot,
    Protection,
    RegisterResult,
    Remailing,
    Reservation,
    ReservationItem,
    RetentionExtension,
)
from tracker.services import audit, handover_review, lookup, people, protection, settings
from tracker.services.transitions import Conflict, person, serialise, transition, when

#: The longest reference number (受付番号) an office types.
REFERENCE_LIMIT = 40
#: Formats of an export.
FORMATS = ("pdf", "csv")


class AccessRequestError(InputError):
    """Input that cannot be used, or a step not possible now; nothing was written."""


class ApprovalRequired(AccessRequestError):
    """A 支援措置 applies now to a request never approved: it went back to
    ``pending_approval`` (audited) and the export is refused."""


class NotAllowed(AccessRequestError):
    """The creator tried to approve their own request (four eyes)."""


# --- find ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    """Matches of a person search: items with their envelopes, and which are protected."""

    items: list[Item]
    total: int
    #: Items with a 支援措置, active or released (a request for them needs approval).
    protected: set[int]
    #: Envelopes of a person with an active 支援措置: their address is not shown.
    masked_envelopes: set[int]
    #: Items whose request needs approval (:func:`needs_approval`: a 支援措置 in their
    #: household, now or before a re-mailing, theirs or another member's).
    approval: set[int]


def person_query(name: str | None, birth_date: str | None) -> lookup.Query:
    """The counter's query for a name and a birth date, or :class:`AccessRequestError`."""
    typed = (name or "").strip()
    if not typed:
        raise AccessRequestError("氏名（漢字またはフリガナ）を入力してください")
    born = (birth_date or "").strip()
    if not born:
        raise AccessRequestError("生年月日を入力してください（例: S50.1.1、1975-01-01）")
    try:
        birth = parse_date(born)
    except InputError as error:
        raise AccessRequestError(f"生年月日: {error}") from error
    query = lookup.parse_query(typed)
    if not (query.name_prefixes or query.kana_prefixes):
        raise AccessRequestError("氏名（漢字またはフリガナ）を入力してください")
    return lookup.Query(query.name_prefixes, query.kana_prefixes, (birth,))


def find_person(session: Session, *, actor: str, query: lookup.Query) -> Found:
    """Items of the name and birth date (the first page of the counter's search, logged)."""
    results = lookup.search(session, query, actor=actor)
    ids = [item.id for item in results.items]
    return Found(
        results.items,
        results.total,
        ever_protected(session, ids),
        protection.protected_envelope_ids(session, (item.envelope_id for item in results.items)),
        {item_id for item_id in ids if needs_approval(session, [item_id])},
    )


def ever_protected(session: Session, item_ids: Iterable[int]) -> set[int]:
    """Items with a 支援措置, active or released."""
    ids = list(set(item_ids))
    if not ids:
        return set()
    return set(session.scalars(select(Protection.item_id).where(Protection.item_id.in_(ids))))


def envelopes_of(session: Session, item_ids: Iterable[int]) -> set[int]:
    """The items' envelopes: the ones holding them now and the ones they were in before a
    re-mailing (``remailings.from_envelope_id``; a returned re-mailing's envelope holds the item
    now, ``return_envelope_id``)."""
    ids = list(set(item_ids))
    if not ids:
        return set()
    found = set(session.scalars(select(Item.envelope_id).where(Item.id.in_(ids))))
    for row in session.execute(
        select(Remailing.from_envelope_id, Remailing.return_envelope_id).where(
            Remailing.item_id.in_(ids)
        )
    ):
        found.add(row.from_envelope_id)
        if row.return_envelope_id is not None:
            found.add(row.return_envelope_id)
    return found


def members_of(session: Session, envelope_ids: Iterable[int]) -> dict[int, set[int]]:
    """The items that are or were in each envelope (a re-mailed item has moved on)."""
    ids = list(set(envelope_ids))
    members: dict[int, set[int]] = {envelope_id: set() for envelope_id in ids}
    if not ids:
        return members
    for envelope_id, item_id in session.execute(
        select(Item.envelope_id, Item.id).where(Item.envelope_id.in_(ids))
    ):
        members[envelope_id].add(item_id)
    for column in (Remailing.from_envelope_id, Remailing.return_envelope_id):
        for row in session.execute(select(column, Remailing.item_id).where(column.in_(ids))):
            if row[0] is not None:
                members[row[0]].add(row[1])
    return members


def needs_approval(session: Session, item_ids: Iterable[int]) -> bool:
    """A request needs a second officer's approval when any item of the ticked items'
    envelopes (now or before a re-mailing) has or had a 支援措置: the household's address and
    records are the protected person's too, and the request may come from the one they are
    protected from."""
    ids = set(item_ids)
    everyone = set(ids)
    for members in members_of(session, envelopes_of(session, ids)).values():
        everyone |= members
    return bool(ever_protected(session, everyone))


def masked_envelopes(session: Session, item_ids: Iterable[int]) -> set[int]:
    """Envelopes of the request holding (now or before) an item that is not the requester's
    and has or had a 支援措置: their addressee, address, envelope-level corrections and
    household contacts' notes are masked in the export (:data:`protection.MASKED`)."""
    ids = set(item_ids)
    members = members_of(session, envelopes_of(session, ids))
    held_ever: set[int] = set()
    for held in members.values():
        held_ever |= held
    others = ever_protected(session, held_ever - ids)
    return {envelope_id for envelope_id, held in members.items() if held & others}


# --- create, approve, cancel ---------------------------------------------------------------------


def check_reference(value: str | None) -> str:
    try:
        text = check_free_text(value, "label", required=True, label="受付番号")
    except InputError as error:
        raise AccessRequestError(str(error)) from error
    if len(text) > REFERENCE_LIMIT:
        raise AccessRequestError(f"受付番号は{REFERENCE_LIMIT}文字以内で入力してください")
    return text


def check_received_on(value: str | None, today: date) -> date:
    text = (value or "").strip()
    if not text:
        raise AccessRequestError("受付日を入力してください")
    try:
        received = parse_date(text)
    except InputError as error:
        raise AccessRequestError(f"受付日: {error}") from error
    if received > today:
        raise AccessRequestError(f"受付日 {format_wareki_with_iso(received)} は未来の日付です")
    return received


def create(
    session: Session,
    *,
    actor: str,
    reference_no: str | None,
    received_on: str | None,
    item_ids: Sequence[int],
    now: datetime,
    today: date,
) -> AccessRequest:
    """Record a request for the ticked items; :class:`AccessRequestError` names what is wrong."""
    reference = check_reference(reference_no)
    received = check_received_on(received_on, today)
    ids = sorted(set(item_ids))
    if not ids:
        raise AccessRequestError("この方の通知物を一つ以上選んでください")
    items = session.scalars(select(Item).where(Item.id.in_(ids)).order_by(Item.id)).all()
    if len(items) != len(ids):
        raise AccessRequestError("選んだ通知物が見つかりません。もう一度検索してください")
    # Two officers typing the same reference number: one request (the other is told).
    serialise(session, "access_request.create")
    if session.scalar(select(AccessRequest.id).where(AccessRequest.reference_no == reference)):
        raise AccessRequestError(f"受付番号「{reference}」の開示請求は既に登録されています")
    approval = needs_approval(session, ids)
    request = AccessRequest(
        reference_no=reference,
        received_on=received,
        status=(
            AccessRequestStatus.PENDING_APPROVAL if approval else AccessRequestStatus.READY
        ).value,
        requires_approval=approval,
        created_by=actor,
        created_at=now,
        export_count=0,
    )
    session.add(request)
    session.flush()
    session.add_all(AccessRequestItem(request_id=request.id, item_id=i) for i in ids)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=AuditAction.ACCESS_REQUEST_CREATE,
        object_type="access_request",
        object_id=request.id,
        details={
            "reference_no": reference,
            "control_nos": [item.control_no for item in items],
            "requires_approval": approval,
        },
    )
    return request


def load(session: Session, request_id: int) -> AccessRequest | None:
    return session.scalar(
        select(AccessRequest)
        .where(AccessRequest.id == request_id)
        .options(
            selectinload(AccessRequest.items)
            .selectinload(AccessRequestItem.item)
            .selectinload(Item.envelope)
        )
    )


def lock(session: Session, request_id: int) -> None:
    """Take the request's row lock now (before anything takes the audit chain's lock)."""
    session.execute(
        select(AccessRequest.id).where(AccessRequest.id == request_id).with_for_update()
    )


def _taken(session: Session, request: AccessRequest, wanted: str) -> str:
    """Why ``wanted`` is no longer possible: who changed the request first, and when."""
    by = {
        AccessRequestStatus.CANCELLED.value: (
            "既に取り消されています",
            request.cancelled_at,
            request.cancelled_by,
        ),
        AccessRequestStatus.EXPORTED.value: (
            "既に出力されています",
            request.exported_at,
            request.exported_by,
        ),
        AccessRequestStatus.READY.value: (
            "既に承認されています",
            request.approved_at,
            request.approved_by,
        ),
    }
    if request.status in by:
        what, at, who = by[request.status]
        done = f"{what}（{when(at)}、{person(session, who)}）"
    else:
        done = "まだ承認されていません"
    return f"開示請求 {request.reference_no} は{done}。{wanted}できません"


def approve(session: Session, *, actor: str, request: AccessRequest, now: datetime) -> None:
    """Four eyes: a records officer other than the creator approves, exactly once. The caller
    has asked for the approver's password again."""
    if actor == request.created_by:
        raise NotAllowed("受け付けた本人は承認できません。別の記録管理担当者が承認してください")
    transition(
        session,
        AccessRequest,
        request.id,
        expected=(AccessRequest.status == AccessRequestStatus.PENDING_APPROVAL.value)
        & (AccessRequest.created_by != actor),
        values={
            "status": AccessRequestStatus.READY.value,
            "approved_by": actor,
            "approved_at": now,
        },
        conflict=lambda current: _taken(session, current, "承認"),
    )
    audit.record(
        session,
        actor=actor,
        action=AuditAction.ACCESS_REQUEST_APPROVE,
        object_type="access_request",
        object_id=request.id,
        details={"reference_no": request.reference_no},
    )


def record_refused_approval(session: Session, *, actor: str, request: AccessRequest) -> None:
    """The approver's password was wrong (or the account locked): audited, nothing changed."""
    audit.record(
        session,
        actor=actor,
        action=AuditAction.ACCESS_REQUEST_APPROVE,
        object_type="access_request",
        object_id=request.id,
        outcome="refused",
        details={"reference_no": request.reference_no, "reason": "password"},
    )


def cancel(session: Session, *, actor: str, request: AccessRequest, now: datetime) -> None:
    """A request entered by mistake (wrong items, a duplicate), before it was exported."""
    transition(
        session,
        AccessRequest,
        request.id,
        expected=AccessRequest.status.in_(
            [AccessRequestStatus.PENDING_APPROVAL.value, AccessRequestStatus.READY.value]
        ),
        values={
            "status": AccessRequestStatus.CANCELLED.value,
            "cancelled_by": actor,
            "cancelled_at": now,
        },
        conflict=lambda current: _taken(session, current, "取消"),
    )
    audit.record(
        session,
        actor=actor,
        action=AuditAction.ACCESS_REQUEST_CANCEL,
        object_type="access_request",
        object_id=request.id,
        details={"reference_no": request.reference_no},
    )


def record_view(session: Session, *, actor: str, request: AccessRequest) -> None:
    """The request's page lists the items' control numbers and statuses: a view, logged."""
    audit.record(
        session,
        actor=actor,
        action=AuditAction.ACCESS_REQUEST_VIEW,
        object_type="access_request",
        object_id=request.id,
        details={"reference_no": request.reference_no, "items": len(request.items)},
    )


# --- export --------------------------------------------------------------------------------------


def export(
    session: Session,
    *,
    actor: str,
    request: AccessRequest,
    fmt: str,
    now: datetime,
    today: date,
) -> Disclosure:
    """Everything held about the request's person, as plain data; the export is audited."""
    if fmt not in FORMATS:
        raise AccessRequestError(f"出力形式「{fmt}」は選べません（PDFまたはCSV）")
    if recheck_approval(session, actor=actor, request=request, fmt=fmt, now=now):
        raise ApprovalRequired(approval_now_needed(request))
    if request.status == AccessRequestStatus.PENDING_APPROVAL.value:
        raise AccessRequestError(
            f"開示請求 {request.reference_no} は支援措置の記録がある方のため、別の記録管理担当者の"
            "承認が必要です。承認されるまで出力できません"
        )
    if request.status == AccessRequestStatus.CANCELLED.value:
        raise AccessRequestError(f"開示請求 {request.reference_no} は取り消されています")
    transition(
        session,
        AccessRequest,
        request.id,
        expected=AccessRequest.status.in_(
            [AccessRequestStatus.READY.value, AccessRequestStatus.EXPORTED.value]
        ),
        values={
            "status": AccessRequestStatus.EXPORTED.value,
            "exported_by": actor,
            "exported_at": now,
            "export_count": AccessRequest.export_count + 1,
        },
        conflict=lambda current: _taken(session, current, "出力"),
    )
    disclosure = gather(session, request, made_by=actor, today=today)
    audit.record(
        session,
        actor=actor,
        action=AuditAction.ACCESS_REQUEST_EXPORT,
        object_type="access_request",
        object_id=request.id,
        details={
            "reference_no": request.reference_no,
            "format": fmt,
            "control_nos": list(disclosure.control_nos),
            "sections": disclosure.counts(),
        },
    )
    return disclosure


def approval_now_needed(request: AccessRequest) -> str:
    return (
        f"開示請求 {request.reference_no} の通知物またはその世帯に、受付の後で支援措置が"
        "設定されました。別の記録管理担当者の承認が必要です。承認されるまで出力できません"
    )


def recheck_approval(
    session: Session, *, actor: str, request: AccessRequest, fmt: str, now: datetime
) -> bool:
    """Whether approval became necessary since the request was recorded (a 支援措置 placed
    later on one of its households) and nobody has approved it: then the request goes back to
    ``pending_approval`` — a conditional update checked by row count, audited as a refused
    ``access_request.export`` with ``reason: protection`` — and True is returned. The caller
    commits this even though the export is refused (the web view calls it outside the
    export's savepoint; :func:`export` calls it too and raises :class:`ApprovalRequired`)."""
    open_states = [AccessRequestStatus.READY.value, AccessRequestStatus.EXPORTED.value]
    if request.approved_by is not None or request.status not in open_states:
        return False
    if not needs_approval(session, [link.item_id for link in request.items]):
        return False
    transition(
        session,
        AccessRequest,
        request.id,
        expected=AccessRequest.status.in_(open_states) & AccessRequest.approved_by.is_(None),
        values={
            "status": AccessRequestStatus.PENDING_APPROVAL.value,
            "requires_approval": True,
        },
        conflict=lambda current: _taken(session, current, "出力"),
    )
    audit.record(
        session,
        actor=actor,
        action=AuditAction.ACCESS_REQUEST_EXPORT,
        object_type="access_request",
        object_id=request.id,
        outcome="refused",
        details={
            "reference_no": request.reference_no,
            "format": fmt,
            "status": AccessRequestStatus.PENDING_APPROVAL.value,
            "reason": "protection",
        },
    )
    return True


def record_refused_export(
    session: Session, *, actor: str, request: AccessRequest, fmt: str
) -> None:
    audit.record(
        session,
        actor=actor,
        action=AuditAction.ACCESS_REQUEST_EXPORT,
        object_type="access_request",
        object_id=request.id,
        outcome="refused",
        details={"reference_no": request.reference_no, "format": fmt, "status": request.status},
    )


PROTECTION_NOTE = (
    "支援措置（DV・ストーカー行為等の被害者の保護）の記録は、ご本人に関する情報として"
    "開示の対象に含めています。"
)
ERASED = "保存期間経過により消去済み"
MASKED = protection.MASKED


def _label(table: Mapping[Any, str], code: str | None) -> str:
    """The Japanese label of a stored code (the code itself if it has none)."""
    if code is None:
        return ""
    return next((label for key, label in table.items() if key == code), code)


def _coded(codes: type[StrEnum], code: str | None) -> str:
    return _label({member: member.label for member in codes}, code)  # type: ignore[attr-defined]


def _documents(raw: str | None, names: dict[str, str]) -> str:
    if not raw:
        return ""
    shown = []
    for entry in json.loads(raw):
        name = names.get(entry.get("code", ""), entry.get("code", ""))
        if entry.get("last4"):
            name += f"（番号末尾 {entry['last4']}）"
        shown.append(name)
    return "、".join(shown)


def gather(session: Session, request: AccessRequest, *, made_by: str, today: date) -> Disclosure:
    """The disclosure of ``request``: every section, in a fixed order (read only)."""
    items = list(
        session.scalars(
            select(Item)
            .join(AccessRequestItem, AccessRequestItem.item_id == Item.id)
            .where(AccessRequestItem.request_id == request.id)
            .options(selectinload(Item.envelope).selectinload(Envelope.location))
            .order_by(Item.control_no)
        )
    )
    item_ids = [item.id for item in items]
    control = {item.id: item.control_no for item in items}
    # Their envelopes now and before a re-mailing; those of another household member who has
    # or had a 支援措置 show no address, addressee, correction or household note.
    envelope_ids = sorted(envelopes_of(session, item_ids))
    masked = masked_envelopes(session, item_ids)
    envelopes = list(
        session.scalars(
            select(Envelope)
            .where(Envelope.id.in_(envelope_ids))
            .options(selectinload(Envelope.location))
            .order_by(Envelope.id)
        )
    )
    envelope_control = {envelope.id: envelope.control_no for envelope in envelopes}

    handovers = list(
        session.scalars(
            select(Handover)
            .where(
                Handover.id.in_(
                    select(HandoverItem.handover_id).where(HandoverItem.item_id.in_(item_ids))
                )
            )
            .options(selectinload(Handover.items))
            .order_by(Handover.handed_over_at, Handover.id)
        )
    )
    reservations = list(
        session.scalars(
            select(Reservation)
            .where(
                Reservation.id.in_(
                    select(ReservationItem.reservation_id).where(
                        ReservationItem.item_id.in_(item_ids)
                    )
                )
            )
            .options(
                selectinload(Reservation.items),
                selectinload(Reservation.slot).selectinload(PickupSlot.day),
            )
            .order_by(Reservation.id)
        )
    )
    remailings = list(
        session.scalars(
            select(Remailing).where(Remailing.item_id.in_(item_ids)).order_by(Remailing.id)
        )
    )
    contacts = list(
        session.scalars(
            select(Contact)
            .where(
                or_(
                    Contact.item_id.in_(item_ids),
                    and_(Contact.item_id.is_(None), Contact.envelope_id.in_(envelope_ids)),
                )
            )
            .order_by(Contact.occurred_at, Contact.id)
        )
    )
    holds = list(
        session.scalars(
            select(Hold).where(Hold.item_id.in_(item_ids)).order_by(Hold.placed_at, Hold.id)
        )
    )
    extensions = list(
        session.scalars(
            select(RetentionExtension)
            .where(RetentionExtension.item_id.in_(item_ids))
            .order_by(RetentionExtension.created_at, RetentionExtension.id)
        )
    )
    protections = list(
        session.scalars(
            select(Protection)
            .where(Protection.item_id.in_(item_ids))
            .order_by(Protection.placed_at, Protection.id)
        )
    )
    results = list(
        session.scalars(
            select(RegisterResult)
            .where(RegisterResult.item_id.in_(item_ids))
            .order_by(RegisterResult.item_id)
        )
    )
    losses = list(
        session.scalars(
            select(LossReport).where(LossReport.item_id.in_(item_ids)).order_by(LossReport.id)
        )
    )
    revisions = list(
        session.scalars(
            select(ItemRevision)
            .where(
                or_(
                    ItemRevision.item_id.in_(item_ids),
                    and_(
                        ItemRevision.item_id.is_(None),
                        ItemRevision.envelope_id.in_(envelope_ids),
                    ),
                )
            )
            .order_by(ItemRevision.changed_at, ItemRevision.id)
        )
    )
    objects: dict[str, dict[int, str]] = {
        ObjectType.ITEM.value: control,
        ObjectType.ENVELOPE.value: envelope_control,
        ObjectType.HANDOVER.value: {h.id: h.receipt_no for h in handovers},
        ObjectType.RESERVATION.value: {r.id: r.reservation_no for r in reservations},
    }
    request_refs = {
        row.id: row.reference_no
        for row in session.execute(
            select(AccessRequest.id, AccessRequest.reference_no).where(
                AccessRequest.id.in_(
                    select(AccessRequestItem.request_id).where(
                        AccessRequestItem.item_id.in_(item_ids)
                    )
                )
            )
        )
    }
    objects[ObjectType.ACCESS_REQUEST.value] = request_refs
    events = list(
        session.scalars(
            select(AuditEvent)
            .where(
                or_(
                    *(
                        and_(
                            AuditEvent.object_type == kind,
                            AuditEvent.object_id.in_([str(key) for key in ids]),
                        )
                        for kind, ids in objects.items()
                        if ids
                    )
                )
            )
            .order_by(AuditEvent.seq)
        )
    )

    actors: set[str | None] = {made_by}
    actors |= {envelope.intake_by for envelope in envelopes}
    actors |= {h.clerk for h in handovers} | {h.voided_by for h in handovers}
    actors |= {c.recorded_by for c in contacts}
    actors |= {r.created_by for r in reservations} | {r.closed_by for r in reservations}
    actors |= {h.placed_by for h in holds} | {h.released_by for h in holds}
    actors |= {e.created_by for e in extensions}
    actors |= {p.placed_by for p in protections} | {p.released_by for p in protections}
    actors |= {r.checked_by for r in results}
    actors |= {r.recorded_by for r in remailings} | {r.mailed_by for r in remailings}
    actors |= {r.closed_by for r in remailings}
    actors |= {loss.confirmed_by for loss in losses} | {loss.found_by for loss in losses}
    actors |= {r.changed_by for r in revisions} | {e.actor for e in events}
    known = people.display_names(session, actors)

    def who(actor: str | None) -> str | None:
        return people.shown_name(actor, known) if actor else None

    documents = handover_review.document_names(session)
    words = dict(CODE_WORDS)
    for names in documents.values():
        words.update(names)
    proofs = {proof.code: proof.name for proof in AUTHORITY_PROOFS}
    office = settings.load(session)

    sections = [
        Section(
            "items",
            "通知物",
            (
                "管理番号",
                "種類",
                "氏名",
                "フリガナ",
                "通称",
                "生年月日",
                "続柄",
                "状態",
                "状態の変更",
                "消去",
            ),
            [
                (
                    item.control_no,
                    _label(ITEM_KIND_LABELS, item.kind),
                    item.name,
                    item.name_kana,
                    item.alias,
                    (
                        ERASED_LABEL
                        if item.birth_date == PLACEHOLDER_BIRTH_DATE
                        else item.birth_date
                    ),
                    item.relationship_to_head,
                    _coded(ItemStatus, item.status),
                    item.status_changed_at,
                    _erased(item.pseudonymised_at),
                )
                for item in items
            ],
            note=(
                "保存期間が過ぎた記録は、氏名・生年月日等を消去し、管理番号・日付・状態のみを"
                "保存しています（「消去」欄）。"
                if any(item.pseudonymised_at for item in items)
                else ""
            ),
        ),
        Section(
            "envelopes",
            "返戻郵便",
            (
                "管理番号",
                "お問い合わせ番号",
                "宛名",
                "返戻時の住所",
                "世帯番号",
                "返戻日",
                "還付事由",
                "保管場所",
                "受付日時",
                "受付者",
                "消去",
            ),
            [
                (
                    envelope.control_no,
                    envelope.tracking_no,
                    MASKED if envelope.id in masked else envelope.addressee,
                    MASKED if envelope.id in masked else envelope.address,
                    envelope.household_code,
                    envelope.returned_on,
                    _coded(ReturnReason, envelope.return_reason),
                    envelope.location.name,
                    envelope.intake_at,
                    who(envelope.intake_by),
                    _erased(envelope.pseudonymised_at),
                )
                for envelope in envelopes
            ],
        ),
        Section(
            "register_checks",
            "住基照合",
            ("管理番号", "異動区分", "異動日", "照合日", "照合者", "取得元", "備考"),
            [
                (
                    control[r.item_id],
                    _coded(RegisterOutcome, r.outcome),
                    r.event_on,
                    r.checked_on,
                    who(r.checked_by),
                    _coded(RegisterSource, r.source),
                    r.note,
                )
                for r in results
            ],
        ),
        Section(
            "handovers",
            "交付（本人確認書類）",
            (
                "受領書番号",
                "交付日時",
                "管理番号",
                "受け取った人",
                "来所者の氏名",
                "本人確認書類",
                "委任者の本人確認書類",
                "委任状の作成日",
                "法定代理人の資格を証する書類",
                "担当者",
                "交付取消",
            ),
            [
                (
                    h.receipt_no,
                    h.handed_over_at,
                    "、".join(control[i.item_id] for i in h.items if i.item_id in control),
                    _coded(RecipientKind, h.recipient_kind),
                    h.recipient_name,
                    _documents(h.documents, documents.get(h.policy_version, {})),
                    _documents(h.principal_documents, documents.get(h.policy_version, {})),
                    h.letter_of_attorney_date,
                    proofs.get(h.authority_proof or "", h.authority_proof),
                    who(h.clerk),
                    (Stamp("", h.voided_at, f" {who(h.voided_by)}") if h.voided_at else None),
                )
                for h in handovers
            ],
        ),
        Section(
            "contacts",
            "接触記録",
            ("日時", "管理番号", "種類", "郵送方法", "備考", "記録者"),
            [
                (
                    c.occurred_at,
                    control[c.item_id]
                    if c.item_id in control
                    else f"{envelope_control.get(c.envelope_id, '')}（世帯）",
                    _coded(ContactKind, c.kind),
                    _coded(NoticeMethod, c.method),
                    (
                        MASKED
                        if c.item_id not in control and c.envelope_id in masked and c.note
                        else c.note
                    ),
                    who(c.recorded_by),
                )
                for c in contacts
            ],
        ),
        Section(
            "reservations",
            "受取予約",
            (
                "予約番号",
                "予約日",
                "時間",
                "状態",
                "来庁予定者の氏名",
                "折り返し電話番号",
                "管理番号",
                "備考",
                "受付者",
                "受付日時",
            ),
            [
                (
                    r.reservation_no,
                    r.slot.day.day,
                    f"{r.slot.starts_at:%H:%M}–{r.slot.ends_at:%H:%M}",
                    _coded(ReservationStatus, r.status),
                    r.name,
                    r.phone if r.phone else ("消去済み" if r.phone_erased_at else None),
                    "、".join(control[i.item_id] for i in r.items if i.item_id in control),
                    r.note,
                    who(r.created_by),
                    r.created_at,
                )
                for r in reservations
            ],
        ),
        Section(
            "holds",
            "保留",
            ("管理番号", "種類", "理由", "設定日時", "設定者", "解除日時", "解除者", "解除の理由"),
            [
                (
                    control[h.item_id],
                    _coded(HoldKind, h.kind),
                    h.reason,
                    h.placed_at,
                    who(h.placed_by),
                    h.released_at,
                    who(h.released_by),
                    h.release_reason,
                )
                for h in holds
            ],
        ),
        Section(
            "retention_extensions",
            "保管期限の延長",
            ("管理番号", "保管期限", "理由", "記録日時", "記録者"),
            [
                (control[e.item_id], e.retain_until, e.reason, e.created_at, who(e.created_by))
                for e in extensions
            ],
        ),
        Section(
            "protections",
            "支援措置",
            (
                "管理番号",
                "理由",
                "見直し日",
                "設定日時",
                "設定者",
                "解除日時",
                "解除者",
                "解除の理由",
            ),
            [
                (
                    control[p.item_id],
                    p.reason,
                    p.review_on,
                    p.placed_at,
                    who(p.placed_by),
                    p.released_at,
                    who(p.released_by),
                    p.release_reason,
                )
                for p in protections
            ],
            note=PROTECTION_NOTE if protections else "",
        ),
        Section(
            "remailings",
            "再送付",
            (
                "管理番号",
                "状態",
                "依頼者",
                "依頼の理由",
                "送付先",
                "送付先住所",
                "お問い合わせ番号",
                "発送日",
                "記録者",
                "記録日時",
            ),
            [
                (
                    control[r.item_id],
                    _coded(RemailStatus, r.status),
                    r.requested_by_whom,
                    r.request_reason,
                    _coded(RemailAddressKind, r.address_kind),
                    r.address,
                    r.tracking_no,
                    r.mailed_on,
                    who(r.recorded_by),
                    r.recorded_at,
                )
                for r in remailings
            ],
        ),
        Section(
            "loss_reports",
            "紛失報告",
            (
                "報告番号",
                "管理番号",
                "状況",
                "確定日時",
                "確定者",
                "発見日時",
                "発見者",
                "発見時の記録",
            ),
            [
                (
                    loss.report_no,
                    control[loss.item_id],
                    loss.circumstances,
                    loss.confirmed_at,
                    who(loss.confirmed_by),
                    loss.found_at,
                    who(loss.found_by),
                    loss.found_note,
                )
                for loss in losses
            ],
        ),
        Section(
            "item_revisions",
            "修正履歴",
            ("日時", "管理番号", "項目", "修正前", "修正後", "修正者"),
            [
                (
                    r.changed_at,
                    control.get(r.item_id or 0) or envelope_control.get(r.envelope_id, ""),
                    FIELD_LABELS.get(r.field, r.field),
                    *(
                        (MASKED, MASKED)
                        if r.item_id is None and r.envelope_id in masked
                        else (r.old_value, r.new_value)
                    ),
                    who(r.changed_by),
                )
                for r in revisions
            ],
        ),
        Section(
            "audit_events",
            "操作記録（監査ログ）",
            ("番号", "日時", "操作", "対象", "結果", "操作者", "内容"),
            [
                (
                    event.seq,
                    event.occurred_at,
                    _label(AUDIT_ACTION_LABELS, event.action),
                    _object(event, objects),
                    _label(OUTCOME_LABELS, event.outcome),
                    who(event.actor),
                    _details(event.details, words, masked=_about(event, masked)),
                )
                for event in events
            ],
            note="この方の通知物・返戻郵便・交付・受取予約・開示請求についての操作の記録です。",
        ),
    ]
    return Disclosure(
        reference_no=request.reference_no,
        received_on=request.received_on,
        made_on=today,
        municipality=office.municipality,
        office=office.office,
        made_by=who(made_by) or made_by,
        control_nos=tuple(item.control_no for item in items),
        sections=sections,
    )


#: Labels of the fields a correction names (``item_revisions.field``).
FIELD_LABELS = {
    "name": "氏名",
    "name_kana": "フリガナ",
    "alias": "通称",
    "birth_date": "生年月日",
    "relationship_to_head": "続柄",
    "addressee": "宛名",
    "address": "住所",
    "household_code": "世帯番号",
}


def _erased(moment: datetime | None) -> Stamp | None:
    return Stamp(f"{ERASED}（", moment, "）") if moment is not None else None


def _about(event: AuditEvent, envelope_ids: set[int]) -> bool:
    """The event is about one of ``envelope_ids`` (its addresses are masked)."""
    return (
        event.object_type == ObjectType.ENVELOPE.value
        and (event.object_id or "").isdigit()
        and int(event.object_id or 0) in envelope_ids
    )


def _object(event: AuditEvent, objects: dict[str, dict[int, str]]) -> str:
    kind = event.object_type or ""
    label = _label(OBJECT_TYPE_LABELS, kind) if kind else ""
    number = (
        objects.get(kind, {}).get(int(event.object_id))
        if event.object_id and event.object_id.isdigit()
        else None
    )
    return f"{label} {number or event.object_id or ''}".strip()


#: Words for the keys an event's details hold most often (others are shown as stored).
DETAIL_WORDS = {
    "control_no": "管理番号",
    "control_nos": "管理番号",
    "items": "通知物",
    "receipt_no": "受領書番号",
    "reservation_no": "予約番号",
    "reference_no": "受付番号",
    "hold": "保留番号",
    "contact": "接触記録番号",
    "kind": "種類",
    "documents": "本人確認書類",
    "principal_documents": "委任者の本人確認書類",
    "recipient_kind": "受け取った人",
    "policy_version": "本人確認基準",
    "location": "保管場所",
    "changes": "変更した項目",
    "day": "日付",
    "slot_time": "時間",
    "count": "件数",
    "format": "形式",
    "sections": "件数",
    "requires_approval": "承認が必要",
    "register_outcome": "異動区分",
    "occurred_at": "日時",
    "purpose_digest": "閲覧目的（ダイジェスト）",
    "reason": "理由",
    "outcome": "結果",
}


#: Keys whose values are codes, shown by their labels (documents by their names).
CODED_KEYS = {
    "kind",
    "recipient_kind",
    "register_outcome",
    "register_source",
    "documents",
    "principal_documents",
    "status",
    "method",
}
CODE_WORDS: dict[str, str] = {
    member.value: member.label
    for codes in (
        ContactKind,
        RecipientKind,
        RegisterOutcome,
        RegisterSource,
        HoldKind,
        ReservationStatus,
        NoticeMethod,
        AccessRequestStatus,
    )
    for member in codes
}


def _details(raw: str, words: Mapping[str, str], *, masked: bool = False) -> str:
    """An event's details in words: ``管理番号 E000000001-1、保留番号 1``. A changed personal
    field (stored as keyed digests, issue 16) is named, never its digest: the values
    themselves are in the corrections section. ``words``: codes → labels. ``masked``: every
    address and addressee is :data:`protection.MASKED`."""
    try:
        details = json.loads(raw)
    except ValueError:
        return protection.MASKED if masked else raw
    if masked:
        details = protection.mask_addresses(details)
    if not isinstance(details, dict):
        return str(details)
    return "、".join(
        f"{DETAIL_WORDS.get(key, key)} {_value(value, words if key in CODED_KEYS else {})}"
        for key, value in details.items()
    )


def _value(value: Any, words: Mapping[str, str]) -> str:
    if isinstance(value, bool):
        return "あり" if value else "なし"
    if isinstance(value, list):
        return "・".join(_value(each, words) for each in value) if value else "なし"
    if isinstance(value, dict):
        if value and all(str(key).endswith("_digest") for key in value):
            return "（変更）"
        inner = "、".join(
            f"{FIELD_LABELS.get(k, DETAIL_WORDS.get(k, k))} {_value(v, {})}"
            for k, v in value.items()
        )
        return f"（{inner}）"
    if value is None:
        return "—"
    return words.get(str(value), str(value))


__all__ = [
    "FORMATS",
    "AccessRequestError",
    "ApprovalRequired",
    "Conflict",
    "Found",
    "NotAllowed",
    "Value",
    "approve",
    "cancel",
    "create",
    "export",
    "find_person",
    "gather",
    "person_query",
]
