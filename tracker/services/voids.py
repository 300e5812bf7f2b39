"""交付取消 (void of a handover, SPEC §2): 交付済 → 保管中, only this way, exactly once.

A records officer voids a handover with a reason. The clerk who made it may *ask* for a void
on the same day (in Japan time): a mistaken handover is usually noticed at once, and the
request shows the officers what to look at; the officer still decides and gives the reason.

One transaction does the whole void, in this order:

1. the handover is claimed with a conditional ``UPDATE … WHERE voided_at IS NULL``
   (`transitions.transition`): of two officers voiding at the same moment, the second one's
   update waits, matches no row and gets a :class:`~tracker.services.transitions.Conflict`
   that says who voided it and when, before it has written anything;
2. its items go back ``handed_over → in_custody``, and the number of rows changed must equal
   the number of items (no other move leaves 交付済, so a mismatch means the data is not what
   the handover says and nothing is kept);
3. its ``handover_items`` rows are marked ``voided``: they stay as the record of what happened,
   and the partial unique index lets each item be handed over again;
4. the audit event ``handover.void``.

The receipt of a voided handover reprints stamped 取消 with the time and reason.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tracker.clock import to_jst
from tracker.domain.codes import AuditAction, ItemAction
from tracker.domain.errors import InputError
from tracker.domain.records import check_free_text
from tracker.models import Handover, HandoverItem
from tracker.services import audit
from tracker.services.transitions import move_items, person, transition, when


class VoidError(ValueError):
    """A refused void or void request; the message says why, for the person at the screen."""


class ReasonError(VoidError):
    """The reason given cannot be kept (missing, too long, or it holds an individual number)."""


def _reason(text: str | None) -> str:
    """Required free text, checked like any other (length, control characters, and never an
    individual number: SPEC §2)."""
    try:
        return check_free_text(text, "reason", required=True, label="取消の理由")
    except InputError as error:
        raise ReasonError(str(error)) from None


def _already(session: Session, current: Handover) -> str:
    """The conflict message, from the handover as the faster colleague left it."""
    if current.voided_at is not None:
        return (
            f"交付 {current.receipt_no} は既に取り消されています"
            f"（{when(current.voided_at)}、{person(session, current.voided_by)}）"
        )
    return (
        f"交付 {current.receipt_no} の取消は既に依頼されています"
        f"（{when(current.void_requested_at)}、{person(session, current.void_requested_by)}）"
    )


def may_request(handover: Handover, *, actor: str, now: datetime) -> bool:
    """Whether ``actor`` may ask for a void of ``handover`` now: the clerk who made it, on the
    same day in Japan, while it stands and nothing is asked yet."""
    return (
        handover.voided_at is None
        and handover.void_requested_at is None
        and handover.clerk == actor
        and to_jst(handover.handed_over_at).date() == to_jst(now).date()
    )


def request_void(
    session: Session, *, actor: str, handover: Handover, reason: str | None, now: datetime
) -> Handover:
    """The clerk who made ``handover`` asks a records officer to void it (same JST day)."""
    text = _reason(reason)
    if handover.clerk != actor:
        raise VoidError("取消の依頼は、その交付をした担当者だけができます")
    if to_jst(handover.handed_over_at).date() != to_jst(now).date():
        raise VoidError(
            "取消の依頼は交付した当日だけできます。記録管理担当に取消を依頼してください"
        )
    transition(
        session,
        Handover,
        handover.id,
        expected=Handover.voided_at.is_(None) & Handover.void_requested_at.is_(None),
        values={
            "void_requested_at": now,
            "void_requested_by": actor,
            "void_request_reason": text,
        },
        conflict=lambda current: _already(session, current),
    )
    audit.record(
        session,
        actor=actor,
        action=AuditAction.HANDOVER_VOID_REQUEST,
        object_type="handover",
        object_id=handover.id,
        details={"receipt_no": handover.receipt_no},
    )
    return handover


def void(
    session: Session, *, actor: str, handover: Handover, reason: str | None, now: datetime
) -> Handover:
    """Void ``handover``: its items are back in custody, and can be handed over again.

    Raises :class:`VoidError` (bad reason, or items not as the handover says) or
    :class:`~tracker.services.transitions.Conflict` (voided by someone else first); the caller
    rolls back, so a refused void changes nothing.
    """
    text = _reason(reason)
    transition(
        session,
        Handover,
        handover.id,
        expected=Handover.voided_at.is_(None),
        values={"voided_at": now, "voided_by": actor, "void_reason": text},
        conflict=lambda current: _already(session, current),
    )
    ids = list(
        session.scalars(
            select(HandoverItem.item_id)
            .where(HandoverItem.handover_id == handover.id, HandoverItem.voided.is_(False))
            .order_by(HandoverItem.item_id)
        )
    )
    returned = move_items(session, ids, ItemAction.VOID_HANDOVER, now=now)
    if not ids or returned != len(ids):
        raise VoidError(
            f"交付 {handover.receipt_no} の通知物の一部が交付済みではないため、取り消せません"
        )
    marked: int = session.execute(  # type: ignore[attr-defined]  # a CursorResult
        update(HandoverItem)
        .where(HandoverItem.handover_id == handover.id, HandoverItem.voided.is_(False))
        .values(voided=True)
        .execution_options(synchronize_session=False)
    ).rowcount
    if marked != len(ids):
        raise VoidError(f"交付 {handover.receipt_no} を取り消せませんでした。開き直してください")
    session.flush()
    session.refresh(handover)
    for entry in handover.items:
        session.refresh(entry)
        session.refresh(entry.item)
    controls = sorted(entry.item.control_no for entry in handover.items)
    audit.record(
        session,
        actor=actor,
        action=AuditAction.HANDOVER_VOID,
        object_type="handover",
        object_id=handover.id,
        details={
            "receipt_no": handover.receipt_no,
            "items": controls,
            "requested_by": handover.void_requested_by,
        },
    )
    return handover


def standing_handover(session: Session, item_id: int) -> Handover | None:
    """The handover that holds ``item_id`` now (at most one: voided ones do not count)."""
    return session.scalar(
        select(Handover)
        .join(HandoverItem, HandoverItem.handover_id == Handover.id)
        .where(HandoverItem.item_id == item_id, HandoverItem.voided.is_(False))
    )


def handovers_of(session: Session, item_id: int) -> list[Handover]:
    """Every handover of ``item_id``, voided ones included, oldest first."""
    return list(
        session.scalars(
            select(Handover)
            .join(HandoverItem, HandoverItem.handover_id == Handover.id)
            .where(HandoverItem.item_id == item_id)
            .order_by(Handover.handed_over_at, Handover.id)
        )
    )
