"""The contact log (接触記録, issue 15): every call, visit, home visit and letter about a card.

A contact names an item, or its whole envelope (the household). The note is free text checked
like all free text (SPEC §2: never an individual number). It records that a contact happened,
never what was said about the card: the status is not told by phone (SPEC, seed). Notices
(お知らせ) write their ``notice_mail`` and ``notice_returned`` rows through :func:`record` too.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tracker.domain.codes import AuditAction, ContactKind, NoticeMethod, ObjectType
from tracker.domain.errors import InputError
from tracker.domain.records import check_free_text
from tracker.models import Contact, Envelope, Item
from tracker.services import audit


class ContactError(InputError):
    """A contact that cannot be recorded; the message says which field and why."""


def check_note(text: str | None) -> str | None:
    """The note as stored (trimmed; empty → ``None``), or :class:`ContactError`."""
    try:
        return check_free_text(text, "reason", required=False, label="内容") or None
    except InputError as error:
        raise ContactError(str(error)) from None


def record(
    session: Session,
    *,
    actor: str,
    envelope: Envelope,
    item: Item | None,
    kind: ContactKind,
    occurred_at: datetime,
    note: str | None,
    now: datetime,
    notice_batch_id: int | None = None,
    method: NoticeMethod | None = None,
    audited: bool = True,
) -> Contact:
    """Add one contact and (unless the caller writes one event for many) its audit event.

    The event names the item (or the envelope) and the kind, never the note: the note may
    hold personal data, the audit log only what it needs (SPEC §8).
    """
    if item is not None and item.envelope_id != envelope.id:
        raise ValueError("the item is not in this envelope")
    if occurred_at > now:
        raise ContactError("日時が未来になっています")
    contact = Contact(
        envelope_id=envelope.id,
        item_id=item.id if item is not None else None,
        kind=kind.value,
        occurred_at=occurred_at,
        note=check_note(note),
        notice_batch_id=notice_batch_id,
        method=method.value if method is not None else None,
        recorded_by=actor,
        recorded_at=now,
    )
    session.add(contact)
    session.flush()
    if audited:
        audit.record(
            session,
            actor=actor,
            action=AuditAction.CONTACT_RECORD,
            object_type=ObjectType.ITEM.value if item is not None else ObjectType.ENVELOPE.value,
            object_id=item.id if item is not None else envelope.id,
            details={
                "contact": contact.id,
                "kind": kind.value,
                "occurred_at": occurred_at.isoformat(),
                "control_no": item.control_no if item is not None else envelope.control_no,
            },
        )
    return contact


def of_item(session: Session, item: Item) -> Sequence[Contact]:
    """The item's contacts and its envelope's household contacts, newest first."""
    return session.scalars(
        select(Contact)
        .where(
            or_(
                Contact.item_id == item.id,
                (Contact.envelope_id == item.envelope_id) & Contact.item_id.is_(None),
            )
        )
        .order_by(Contact.occurred_at.desc(), Contact.id.desc())
    ).all()


def of_envelope(session: Session, envelope: Envelope) -> Sequence[Contact]:
    """Every contact about the envelope or one of its items, newest first."""
    return session.scalars(
        select(Contact)
        .where(Contact.envelope_id == envelope.id)
        .order_by(Contact.occurred_at.desc(), Contact.id.desc())
    ).all()
