"""Holds (保留) and retention extensions (保管延長), placed by records officers (SPEC §2, §3).

A held item is never disposal-eligible; an extension moves an item's retain-until later.
Both keep their history and are audited; reasons are free text, checked like any other.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.orm import Session

from tracker.domain.codes import AuditAction, HoldKind, ItemStatus
from tracker.domain.errors import InputError
from tracker.domain.records import check_free_text
from tracker.domain.wareki import format_wareki
from tracker.models import Hold, Item, RetentionExtension
from tracker.services import audit
from tracker.services.transitions import person, transition, when


class HoldError(ValueError):
    """A refused hold or extension; the message is for the records officer."""


def _reason(text: str | None) -> str:
    try:
        return check_free_text(text, "reason", required=True, label="理由")
    except InputError as error:
        raise HoldError(str(error)) from None


def under_investigation(item_id_column: Any) -> ColumnElement[bool]:
    """SQL: the item has an active 所在調査中 hold (a stock check could not find it). Used in
    the conditional updates that must not move such an item (handover, re-mailing)."""
    return exists().where(
        Hold.item_id == item_id_column,
        Hold.kind == HoldKind.INVESTIGATION.value,
        Hold.released_at.is_(None),
    )


def active_hold(session: Session, item: Item) -> Hold | None:
    return session.scalar(select(Hold).where(Hold.item_id == item.id, Hold.released_at.is_(None)))


def _lock_item(session: Session, item: Item) -> None:
    """Take the item's row lock before checking its holds and extensions, so that two
    officers acting on one item at the same moment are served one after the other."""
    session.execute(select(Item.id).where(Item.id == item.id).with_for_update())
    session.refresh(item)


def place(session: Session, *, actor: str, item: Item, reason: str | None, now: datetime) -> Hold:
    _lock_item(session, item)
    if item.status != ItemStatus.IN_CUSTODY.value:
        raise HoldError("保管中の通知物だけを保留にできます")
    if active_hold(session, item) is not None:
        raise HoldError("この通知物は既に保留中です")
    hold = Hold(item_id=item.id, reason=_reason(reason), placed_by=actor, placed_at=now)
    session.add(hold)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=AuditAction.HOLD_PLACE,
        object_type="item",
        object_id=item.id,
        details={"control_no": item.control_no, "hold": hold.id},
    )
    return hold


def release(session: Session, *, actor: str, hold: Hold, reason: str | None, now: datetime) -> None:
    """Release a hold, exactly once (of two officers releasing it, the second gets a
    :class:`~tracker.services.transitions.Conflict`)."""
    if hold.kind == HoldKind.INVESTIGATION.value:  # issue 13: ends only as found or lost
        raise HoldError(
            "所在調査中の保留はここでは解除できません。「所在調査中・紛失の通知物」の画面で"
            "発見または紛失の確定を記録してください"
        )
    transition(
        session,
        Hold,
        hold.id,
        expected=Hold.released_at.is_(None),
        values={"release_reason": _reason(reason), "released_by": actor, "released_at": now},
        conflict=lambda current: (
            f"この保留は既に解除されています（{when(current.released_at)}、"
            f"{person(session, current.released_by)}）"
        ),
    )
    audit.record(
        session,
        actor=actor,
        action=AuditAction.HOLD_RELEASE,
        object_type="item",
        object_id=hold.item_id,
        details={"hold": hold.id},
    )


def extend(
    session: Session,
    *,
    actor: str,
    item: Item,
    retain_until: date,
    reason: str | None,
    now: datetime,
) -> RetentionExtension:
    _lock_item(session, item)
    if item.status != ItemStatus.IN_CUSTODY.value:
        raise HoldError("保管中の通知物だけを延長できます")
    latest = session.scalar(
        select(RetentionExtension.retain_until)
        .where(RetentionExtension.item_id == item.id)
        .order_by(RetentionExtension.retain_until.desc())
        .limit(1)
    )
    if latest is not None and retain_until <= latest:
        raise HoldError(
            f"既に{format_wareki(latest)}まで延長されています。より後の日付にしてください"
        )
    extension = RetentionExtension(
        item_id=item.id,
        retain_until=retain_until,
        reason=_reason(reason),
        created_by=actor,
        created_at=now,
    )
    session.add(extension)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=AuditAction.RETENTION_EXTEND,
        object_type="item",
        object_id=item.id,
        details={"control_no": item.control_no, "retain_until": retain_until.isoformat()},
    )
    return extension
