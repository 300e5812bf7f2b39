"""Re-mailing (再送付, issue 13): a card in custody is mailed again with a new tracking number.

    依頼受付 requested ──(郵送)──→ 再送付中 mailed ──(返戻)──→ 再返戻 returned (保管中 again)
          └─(取消)─→ cancelled                   └─(N日経過)─→ 再送付済 delivered

- **Request**: who asked (本人, 家族 …, free text), why (書面による請求, 居所の届出 …), the kind
  of address and the address. Only an item 保管中, not frozen in an approved disposal batch and
  without a 所在調査中 hold may be re-mailed; the refusal says which of these stands in the way.
- **Mail**: the new お問い合わせ番号 (SPEC §6.3: a wrong check digit is a warning the clerk
  confirms, like intake) must not be any envelope's or re-mailing's number; the item moves to
  再送付中 (``move_item``) in the same transaction as the re-mailing and its audit event.
- **Return**: the post office brings that number back. It is a new return (SPEC §2): a new
  envelope with a new control number and the re-mailing's tracking number now holds the item
  (which keeps its own control number), the item is 保管中 again and the re-mailing points at
  the envelope. The re-mailing's conditional update comes first, so of two clerks receiving
  the same return at once exactly one gets past it; the other gets :class:`Conflict`.
- **Close**: a re-mailing mailed more than ``remail_close_days`` days before today (JST) with
  no return was delivered: the item becomes 再送付済.

Audit events are about the item (``object_type="item"``), so the item's history shows the
whole path; details carry ids, control numbers, codes and the tracking number, never the
name or the address.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from tracker.clock import to_jst
from tracker.domain.codes import (
    AuditAction,
    ItemAction,
    RemailAddressKind,
    RemailStatus,
    ReturnReason,
)
from tracker.domain.control import envelope_control_no
from tracker.domain.errors import InputError
from tracker.domain.lifecycle import IllegalMove, move
from tracker.domain.records import check_free_text
from tracker.domain.tracking import TrackingNumber, format_tracking_no, parse_tracking_no
from tracker.domain.wareki import format_wareki, format_wareki_with_iso
from tracker.models import Envelope, Item, Remailing
from tracker.services import audit, people
from tracker.services.disposal import in_approved_batch
from tracker.services.holds import under_investigation
from tracker.services.intake import active_location, next_envelope_id
from tracker.services.transitions import Conflict, move_item, serialise, transition, when

#: The position of the item in its return envelope (the envelope holds only this card).
RETURN_POSITION = 1


class RemailError(InputError):
    """A refused re-mailing step; the message says what and why, for the clerk."""


# --- who may be re-mailed -------------------------------------------------------------------


def refusal(session: Session, item: Item) -> str | None:
    """Why ``item`` cannot be re-mailed now, or None when it can."""
    try:
        move(item.status, ItemAction.REMAIL)
    except IllegalMove as illegal:
        return str(illegal)
    frozen = session.scalar(select(in_approved_batch(Item.id)).where(Item.id == item.id))
    if frozen:
        return "この通知物は承認済みの廃棄処理に含まれているため、再送付できません"
    investigated = session.scalar(select(under_investigation(item.id)))
    if investigated:
        return (
            "この通知物は所在調査中のため、再送付できません"
            "（所在が確認されてから再送付してください）"
        )
    return None


def _refuse_if_blocked(session: Session, item: Item) -> None:
    reason = refusal(session, item)
    if reason is not None:
        raise RemailError(reason)


def open_remailing(session: Session, item_id: int) -> Remailing | None:
    """The item's re-mailing that is requested or mailed (at most one)."""
    return session.scalar(
        select(Remailing).where(
            Remailing.item_id == item_id,
            Remailing.status.in_([RemailStatus.REQUESTED.value, RemailStatus.MAILED.value]),
        )
    )


def of_item(session: Session, item_id: int) -> list[Remailing]:
    """Every re-mailing of the item, oldest first, with their envelopes."""
    return list(
        session.scalars(
            select(Remailing)
            .where(Remailing.item_id == item_id)
            .options(selectinload(Remailing.from_envelope), selectinload(Remailing.return_envelope))
            .order_by(Remailing.id)
        )
    )


def from_envelope(session: Session, envelope_id: int) -> list[Remailing]:
    """Re-mailings of cards that were in this envelope (where the card went)."""
    return list(
        session.scalars(
            select(Remailing)
            .where(Remailing.from_envelope_id == envelope_id)
            .options(selectinload(Remailing.item), selectinload(Remailing.return_envelope))
            .order_by(Remailing.id)
        )
    )


def returned_in(session: Session, envelope_id: int) -> Remailing | None:
    """The re-mailing whose return this envelope is, if any."""
    return session.scalar(
        select(Remailing)
        .where(Remailing.return_envelope_id == envelope_id)
        .options(selectinload(Remailing.from_envelope))
    )


def _details(item: Item, remailing: Remailing, **more: object) -> dict[str, object]:
    return {"control_no": item.control_no, "remailing": remailing.id, **more}


# --- request and cancel ---------------------------------------------------------------------


@dataclass(frozen=True)
class RequestFields:
    """A re-mailing request as the clerk typed it (checked by :func:`check_request`)."""

    requested_by_whom: str
    reason: str
    address_kind: RemailAddressKind
    address: str


def check_request(
    requested_by_whom: str | None, reason: str | None, address_kind: str | None, address: str | None
) -> RequestFields:
    """The request's fields, or :class:`RemailError` naming the first bad one."""
    try:
        whom = check_free_text(requested_by_whom, "person", required=True, label="依頼者")
        why = check_free_text(reason, "reason", required=True, label="再送付の理由")
        where = check_free_text(address, "address", required=True, label="送付先住所")
    except InputError as error:
        raise RemailError(str(error)) from None
    try:
        kind = RemailAddressKind(address_kind or "")
    except ValueError:
        raise RemailError("送付先の種類（住民票住所・居所・転居先）を選んでください") from None
    return RequestFields(whom, why, kind, where)


def request(
    session: Session, *, actor: str, item: Item, fields: RequestFields, now: datetime
) -> Remailing:
    """Record a request to mail ``item`` again; the item stays 保管中 until it is mailed.

    One request at a time per item: two clerks clicking at once would each find no open
    re-mailing and each insert one, so the check and the insert run under a lock on the item.
    """
    serialise(session, f"remail:{item.id}")
    _refuse_if_blocked(session, item)
    pending = open_remailing(session, item.id)
    if pending is not None:
        raise RemailError(
            f"この通知物には既に再送付（{RemailStatus(pending.status).label}）があります。"
            "取り消すか、完了してから依頼してください"
        )
    remailing = Remailing(
        item_id=item.id,
        from_envelope_id=item.envelope_id,
        status=RemailStatus.REQUESTED.value,
        requested_by_whom=fields.requested_by_whom,
        request_reason=fields.reason,
        address_kind=fields.address_kind.value,
        address=fields.address,
        recorded_by=actor,
        recorded_at=now,
    )
    session.add(remailing)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=AuditAction.REMAIL_REQUEST,
        object_type="item",
        object_id=item.id,
        details=_details(item, remailing, address_kind=remailing.address_kind),
    )
    return remailing


def _already(session: Session, current: Remailing) -> str:
    """The conflict message: what the re-mailing became, when and by whom."""
    status = RemailStatus(current.status)
    if current.closed_at is not None:
        who = people.name_of(session, current.closed_by or current.recorded_by)
        done = f"{when(current.closed_at)}、{who}"
    elif current.mailed_on is not None:  # mailed: the day it went out, not the request's time
        who = people.name_of(session, current.mailed_by or current.recorded_by)
        done = f"{format_wareki(current.mailed_on)}郵送、{who}"
    else:
        done = f"{when(current.recorded_at)}、{people.name_of(session, current.recorded_by)}"
    return f"この再送付は既に「{status.label}」です（{done}）。画面を開き直してください"


def cancel(
    session: Session, *, actor: str, remailing: Remailing, reason: str | None, now: datetime
) -> None:
    """Cancel a request that has not been mailed (the item never left custody)."""
    try:
        why = check_free_text(reason, "reason", required=True, label="取消の理由")
    except InputError as error:
        raise RemailError(str(error)) from None
    transition(
        session,
        Remailing,
        remailing.id,
        expected=Remailing.status == RemailStatus.REQUESTED.value,
        values={
            "status": RemailStatus.CANCELLED.value,
            "closed_by": actor,
            "closed_at": now,
            "cancel_reason": why,
        },
        conflict=lambda current: _already(session, current),
    )
    audit.record(
        session,
        actor=actor,
        action=AuditAction.REMAIL_CANCEL,
        object_type="item",
        object_id=remailing.item_id,
        details=_details(remailing.item, remailing),
    )


# --- mail -----------------------------------------------------------------------------------


def check_new_tracking_no(session: Session, text: str | None) -> TrackingNumber:
    """The re-mail's tracking number, normalised (SPEC §6.3), with any check-digit warning.

    Refused when it is empty or unreadable, or already used by an envelope or a re-mailing.
    """
    try:
        number = parse_tracking_no(text or "")
    except InputError as error:
        raise RemailError(str(error)) from None
    envelope = session.scalar(select(Envelope).where(Envelope.tracking_no == number.digits))
    if envelope is not None:
        raise RemailError(
            f"お問い合わせ番号 {number.display} は返戻郵便（管理番号 {envelope.control_no}）"
            "の番号です。再送付の新しい番号を入力してください"
        )
    used = session.scalar(select(Remailing).where(Remailing.tracking_no == number.digits))
    if used is not None:
        raise RemailError(
            f"お問い合わせ番号 {number.display} は別の再送付（通知物 {used.item.control_no}）で"
            "使われています"
        )
    return number


def mail(
    session: Session,
    *,
    actor: str,
    remailing: Remailing,
    tracking_no: str,
    mailed_on: date,
    now: datetime,
    today: date,
) -> Item:
    """Record that the card went out with ``tracking_no`` (digits, from
    :func:`check_new_tracking_no`) on ``mailed_on``: the item is 再送付中."""
    if mailed_on > today:
        raise RemailError(f"郵送日 {format_wareki_with_iso(mailed_on)} は未来の日付です")
    requested_on = to_jst(remailing.recorded_at).date()
    if mailed_on < requested_on:
        raise RemailError(
            f"郵送日 {format_wareki_with_iso(mailed_on)} は再送付の依頼日"
            f"（{format_wareki_with_iso(requested_on)}）より前です"
        )
    item = remailing.item
    _refuse_if_blocked(session, item)
    number = check_new_tracking_no(session, tracking_no)
    try:
        # a savepoint: another clerk may mail another card with this number at this moment
        with session.begin_nested():
            transition(
                session,
                Remailing,
                remailing.id,
                expected=Remailing.status == RemailStatus.REQUESTED.value,
                values={
                    "status": RemailStatus.MAILED.value,
                    "tracking_no": number.digits,
                    "mailed_on": mailed_on,
                    "mailed_by": actor,
                },
                conflict=lambda current: _already(session, current),
            )
    except IntegrityError:
        raise RemailError(
            f"お問い合わせ番号 {number.display} は、たった今ほかの再送付で使われました"
        ) from None
    # The checks above give the clear messages; these conditions close the gap to a batch
    # approved or a stock check closed at this moment.
    moved = move_item(
        session,
        item.id,
        ItemAction.REMAIL,
        now=now,
        where=[~in_approved_batch(Item.id), ~under_investigation(Item.id)],
        conflict=lambda current: (
            refusal(session, current)
            or "この通知物は他の操作で変更されました。画面を開き直してください"
        ),
    )
    audit.record(
        session,
        actor=actor,
        action=AuditAction.REMAIL_MAIL,
        object_type="item",
        object_id=item.id,
        details=_details(
            item, remailing, tracking_no=number.digits, mailed_on=mailed_on.isoformat()
        ),
    )
    return moved


# --- return ---------------------------------------------------------------------------------


def find_mailed(session: Session, digits: str) -> Remailing | None:
    """The re-mailing out in the post under this tracking number (digits), if any."""
    if not digits:
        return None
    return session.scalar(
        select(Remailing).where(
            Remailing.tracking_no == digits, Remailing.status == RemailStatus.MAILED.value
        )
    )


def find_by_tracking_no(session: Session, digits: str) -> Remailing | None:
    """The re-mailing that used this tracking number (any status), if any."""
    if not digits:
        return None
    return session.scalar(select(Remailing).where(Remailing.tracking_no == digits))


def record_return(
    session: Session,
    *,
    actor: str,
    remailing: Remailing,
    returned_on: date,
    return_reason: ReturnReason,
    location_id: int,
    slot: str | None,
    now: datetime,
) -> Envelope:
    """The re-mailed card came back: a new envelope holds it, and it is 保管中 again.

    ``returned_on`` is checked by the caller like any return date (not in the future); it may
    not be before the mailing date.
    """
    if remailing.mailed_on is not None and returned_on < remailing.mailed_on:
        raise RemailError(
            f"返戻日 {format_wareki_with_iso(returned_on)} は再送付の郵送日"
            f"（{format_wareki_with_iso(remailing.mailed_on)}）より前です"
        )
    location = active_location(session, location_id)
    # First the re-mailing's conditional update: of two clerks receiving the same return, the
    # second waits here for the first to commit and then matches no row (Conflict).
    transition(
        session,
        Remailing,
        remailing.id,
        expected=Remailing.status == RemailStatus.MAILED.value,
        values={"status": RemailStatus.RETURNED.value, "closed_by": actor, "closed_at": now},
        conflict=lambda current: _already(session, current),
    )
    item = remailing.item
    previous = remailing.from_envelope
    envelope_id = next_envelope_id(session)
    envelope = Envelope(
        id=envelope_id,
        control_no=envelope_control_no(envelope_id),
        tracking_no=remailing.tracking_no,
        addressee=item.name,
        address=remailing.address or previous.address,
        household_code=previous.household_code,
        returned_on=returned_on,
        return_reason=return_reason.value,
        location_id=location.id,
        slot=slot or None,
        intake_by=actor,
        intake_at=now,
    )
    session.add(envelope)
    session.flush()
    move_item(
        session,
        item.id,
        ItemAction.RETURN_REMAILED,
        now=now,
        values={"envelope_id": envelope.id, "position": RETURN_POSITION},
    )
    session.execute(
        update(Remailing)
        .where(Remailing.id == remailing.id)
        .values(return_envelope_id=envelope.id)
        .execution_options(synchronize_session=False)
    )
    session.refresh(remailing)
    session.refresh(item)
    audit.record(
        session,
        actor=actor,
        action=AuditAction.REMAIL_RETURN,
        object_type="item",
        object_id=item.id,
        details=_details(
            item,
            remailing,
            envelope=envelope.control_no,
            from_envelope=previous.control_no,
            returned_on=returned_on.isoformat(),
            location=location.code,
        ),
    )
    return envelope


def matches_person(item: Item, name_key: str, birth_date: date) -> bool:
    """Whether an import row names this item's person (normalised name key + birth date)."""
    return item.name_key == name_key and item.birth_date == birth_date


# --- close ----------------------------------------------------------------------------------


def due_before(as_of: date, days: int) -> date:
    """Re-mailings mailed before this day are past the ``days`` without a return."""
    return as_of - timedelta(days=days)


def due(session: Session, *, as_of: date, days: int) -> list[Remailing]:
    """Mailed re-mailings more than ``days`` days before ``as_of`` with no return."""
    return list(
        session.scalars(
            select(Remailing)
            .where(
                Remailing.status == RemailStatus.MAILED.value,
                Remailing.mailed_on < due_before(as_of, days),
            )
            .options(selectinload(Remailing.item))
            .order_by(Remailing.mailed_on, Remailing.id)
        )
    )


def due_count(session: Session, *, as_of: date, days: int) -> int:
    return int(
        session.scalar(
            select(func.count(Remailing.id)).where(
                Remailing.status == RemailStatus.MAILED.value,
                Remailing.mailed_on < due_before(as_of, days),
            )
        )
        or 0
    )


@dataclass(frozen=True)
class CloseSummary:
    as_of: date
    days: int
    due: int
    closed: int


def close_due(
    session: Session, *, actor: str, as_of: date, days: int, now: datetime, dry_run: bool = False
) -> CloseSummary:
    """Close every re-mailing past ``days`` days as delivered (再送付済). Idempotent: a closed
    one is not due any more. A re-mailing a colleague just closed or received raises
    :class:`Conflict` (nothing is written; run it again)."""
    rows = due(session, as_of=as_of, days=days)
    if dry_run:
        return CloseSummary(as_of, days, len(rows), 0)
    for remailing in rows:
        transition(
            session,
            Remailing,
            remailing.id,
            expected=Remailing.status == RemailStatus.MAILED.value,
            values={"status": RemailStatus.DELIVERED.value, "closed_by": actor, "closed_at": now},
            conflict=lambda current: _already(session, current),
        )
        move_item(session, remailing.item_id, ItemAction.CLOSE_REMAILED, now=now)
        audit.record(
            session,
            actor=actor,
            action=AuditAction.REMAIL_CLOSE,
            object_type="item",
            object_id=remailing.item_id,
            details=_details(remailing.item, remailing, as_of=as_of.isoformat(), days=days),
        )
    return CloseSummary(as_of, days, len(rows), len(rows))


# --- the list ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListFilter:
    status: RemailStatus | None = None
    mailed_from: date | None = None
    mailed_to: date | None = None


LIST_LIMIT = 500


def listing(session: Session, f: ListFilter) -> list[Remailing]:
    """Re-mailings, newest first (at most :data:`LIST_LIMIT`)."""
    query = select(Remailing).options(
        selectinload(Remailing.item), selectinload(Remailing.return_envelope)
    )
    if f.status is not None:
        query = query.where(Remailing.status == f.status.value)
    if f.mailed_from is not None:
        query = query.where(Remailing.mailed_on >= f.mailed_from)
    if f.mailed_to is not None:
        query = query.where(Remailing.mailed_on <= f.mailed_to)
    return list(session.scalars(query.order_by(Remailing.id.desc()).limit(LIST_LIMIT)))


@dataclass(frozen=True)
class MailingRow:
    """One line of the 差出票: what the post office counter needs, and no more."""

    number: int
    tracking_no: str
    addressee: str
    address_kind: RemailAddressKind
    control_no: str

    @property
    def tracking_display(self) -> str:
        return format_tracking_no(self.tracking_no)


def mailing_rows(session: Session, mailed_on: date) -> list[MailingRow]:
    """The cards mailed on ``mailed_on`` (whatever happened to them since), in mailing order."""
    rows = session.scalars(
        select(Remailing)
        .where(Remailing.mailed_on == mailed_on, Remailing.tracking_no.is_not(None))
        .options(selectinload(Remailing.item))
        .order_by(Remailing.id)
    )
    return [
        MailingRow(
            n,
            r.tracking_no or "",
            r.item.name,
            RemailAddressKind(r.address_kind),
            r.item.control_no,
        )
        for n, r in enumerate(rows, start=1)
    ]


def record_list_export(
    session: Session, *, actor: str, mailed_on: date, rows: Sequence[MailingRow], file_format: str
) -> None:
    audit.record(
        session,
        actor=actor,
        action=AuditAction.REMAIL_LIST_EXPORT,
        details={"mailed_on": mailed_on.isoformat(), "items": len(rows), "format": file_format},
    )


__all__ = [
    "CloseSummary",
    "Conflict",
    "ListFilter",
    "MailingRow",
    "RemailError",
    "RequestFields",
    "cancel",
    "check_new_tracking_no",
    "check_request",
    "close_due",
    "due",
    "due_count",
    "find_by_tracking_no",
    "find_mailed",
    "from_envelope",
    "listing",
    "mail",
    "mailing_rows",
    "of_item",
    "record_list_export",
    "record_return",
    "refusal",
    "request",
    "returned_in",
]
