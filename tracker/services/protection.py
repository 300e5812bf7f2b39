"""支援措置 (DV・ストーカー・児童虐待等の被害者の保護): a flag on an item (issue 14).

A records officer flags a person — the item and, by default, the other items of the same
envelope — with a reason and a review date. While a flag is active:

- only the person may collect the item, showing a photo ID (:func:`refuse_handover`);
- the address (and the envelope's addressee) is masked on screens and documents
  (:data:`MASKED`, :func:`protected_item_ids`, :func:`protected_envelope_ids`);
- every opening of the item page asks for a purpose (recorded in the ``item.view`` event);
- search results show a badge 「支援措置」, never the reason.

Placing, releasing and changing the review date are each one conditional write in the same
transaction as its audit event. The reason is sensitive: audit events say only that a reason
was recorded, with control numbers and dates.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.orm import Session

from tracker.domain.codes import AuditAction, RecipientKind
from tracker.domain.errors import InputError
from tracker.domain.records import check_free_text
from tracker.domain.wareki import parse_date
from tracker.models import IdentityPolicy as PolicyRow
from tracker.models import Item
from tracker.models.custody import Protection
from tracker.services import audit, people
from tracker.services.transitions import serialise, transition

#: Printed and shown in place of a protected person's address (and addressee).
MASKED = "支援措置のため表示しません"
#: The badge in search results (never the reason).
BADGE = "支援措置"
#: A view purpose is short: it goes into the audit event.
PURPOSE_LIMIT = 100


class ProtectionError(InputError):
    """Input that cannot be used, or a flag that is already there; nothing was written."""


def is_active() -> ColumnElement[bool]:
    return Protection.released_at.is_(None)


def active(session: Session, item_id: int) -> Protection | None:
    return session.scalar(
        select(Protection).where(Protection.item_id == item_id, is_active()).limit(1)
    )


def protected(item_id: ColumnElement[int] | int) -> ColumnElement[bool]:
    """SQL: the item has an active flag (for queries that must exclude or mark it)."""
    return exists().where(Protection.item_id == item_id, is_active())


def protected_item_ids(session: Session, item_ids: Iterable[int]) -> set[int]:
    ids = list(set(item_ids))
    if not ids:
        return set()
    return set(
        session.scalars(select(Protection.item_id).where(Protection.item_id.in_(ids), is_active()))
    )


def protected_envelope_ids(session: Session, envelope_ids: Iterable[int]) -> set[int]:
    """Envelopes holding an item of a protected person: their address and addressee are
    masked (the envelope went to the protected person's household)."""
    ids = list(set(envelope_ids))
    if not ids:
        return set()
    return set(
        session.scalars(
            select(Item.envelope_id)
            .join(Protection, Protection.item_id == Item.id)
            .where(Item.envelope_id.in_(ids), is_active())
        )
    )


def check_reason(value: str | None) -> str:
    return check_free_text(value, "reason", required=True, label="支援措置の理由")


def check_purpose(value: str | None) -> str:
    text = check_free_text(value, "label", required=True, label="閲覧の目的")
    if len(text) > PURPOSE_LIMIT:  # pragma: no cover - the "label" limit is the same
        raise ProtectionError(f"閲覧の目的は{PURPOSE_LIMIT}文字以内で入力してください")
    return text


def _check_review_on(review_on: date | str | None, today: date) -> date:
    """A date or what was typed (和暦 R9.11.27 or 2027-11-27); today or later."""
    if isinstance(review_on, str):
        if not review_on.strip():
            review_on = None
        else:
            try:
                review_on = parse_date(review_on)
            except ValueError as error:
                raise ProtectionError(f"見直し日: {error}") from error
    if review_on is None:
        raise ProtectionError("見直し日を入力してください")
    if review_on < today:
        raise ProtectionError(f"見直し日（{review_on.isoformat()}）は今日以降の日付にしてください")
    return review_on


def place(
    session: Session,
    *,
    actor: str,
    item_id: int,
    reason: str | None,
    review_on: date | str | None,
    whole_envelope: bool = True,
    now: datetime,
    today: date,
) -> list[Protection]:
    """Flag the item (and by default every other item of its envelope) as protected.

    Refuses with :class:`ProtectionError` when the item is already protected; other items of
    the envelope that already are are left as they are. Returns the new flags.
    """
    text = check_reason(reason)
    review = _check_review_on(review_on, today)
    # one placing at a time: two officers flagging the same person at once must not make two
    # active flags (the check below reads other rows; the lock makes the second one see the
    # first one's flag and be refused)
    serialise(session, "protection")
    item = session.get(Item, item_id)
    if item is None:
        raise ProtectionError("通知物が見つかりません")
    if whole_envelope:
        items = list(
            session.scalars(
                select(Item).where(Item.envelope_id == item.envelope_id).order_by(Item.position)
            )
        )
    else:
        items = [item]
    already = protected_item_ids(session, (i.id for i in items))
    if item.id in already:
        raise ProtectionError(f"{item.control_no} はすでに支援措置の対象です")
    flags = [
        Protection(item_id=i.id, reason=text, review_on=review, placed_by=actor, placed_at=now)
        for i in items
        if i.id not in already
    ]
    session.add_all(flags)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=AuditAction.PROTECTION_PLACE,
        object_type="item",
        object_id=item.id,
        details={
            "items": [i.control_no for i in items if i.id not in already],
            "review_on": review.isoformat(),
            "reason_recorded": True,
        },
    )
    return flags


def release(
    session: Session,
    *,
    actor: str,
    protection_id: int,
    reason: str | None,
    now: datetime,
) -> Protection:
    """Release one flag, with a reason; a second release gets :class:`Conflict` (409)."""
    text = check_free_text(reason, "reason", required=True, label="解除の理由")
    row = session.get(Protection, protection_id)
    if row is None:
        raise ProtectionError("支援措置が見つかりません")
    released = transition(
        session,
        Protection,
        protection_id,
        expected=is_active(),
        values={"released_by": actor, "released_at": now, "release_reason": text},
        conflict=lambda r: _released_message(session, r),
    )
    item = session.get(Item, released.item_id)
    audit.record(
        session,
        actor=actor,
        action=AuditAction.PROTECTION_RELEASE,
        object_type="item",
        object_id=released.item_id,
        details={"control_no": item.control_no if item else None, "reason_recorded": True},
    )
    return released


def _released_message(session: Session, row: Protection) -> str:
    when = row.released_at.strftime("%Y-%m-%d %H:%M") if row.released_at else ""
    who = people.name_of(session, row.released_by) if row.released_by else ""
    return f"この支援措置はすでに解除されています（{when}、{who}）"


def change_review(
    session: Session,
    *,
    actor: str,
    protection_id: int,
    review_on: date | str | None,
    now: datetime,
    today: date,
) -> Protection:
    """Move the review date (e.g. the 支援措置 was extended for a year)."""
    review = _check_review_on(review_on, today)
    row = session.get(Protection, protection_id)
    if row is None:
        raise ProtectionError("支援措置が見つかりません")
    before = row.review_on
    changed = transition(
        session,
        Protection,
        protection_id,
        expected=is_active(),
        values={"review_on": review},
        conflict=lambda r: _released_message(session, r),
    )
    item = session.get(Item, changed.item_id)
    audit.record(
        session,
        actor=actor,
        action=AuditAction.PROTECTION_CHANGE,
        object_type="item",
        object_id=changed.item_id,
        details={
            "control_no": item.control_no if item else None,
            "review_on": [before.isoformat(), review.isoformat()],
        },
    )
    return changed


def due_for_review(session: Session, *, until: date | None = None) -> list[tuple[Protection, Item]]:
    """Active flags, earliest review date first; with ``until``, only those due by then."""
    query = (
        select(Protection, Item)
        .join(Item, Item.id == Protection.item_id)
        .where(is_active())
        .order_by(Protection.review_on, Item.control_no)
    )
    if until is not None:
        query = query.where(Protection.review_on <= until)
    return [(row[0], row[1]) for row in session.execute(query)]


# --- the handover rule ----------------------------------------------------------------------


def photo_document_codes(session: Session) -> set[str]:
    """Codes of the ID documents that carry a photo, in the current identity policy.

    A policy document may say so itself (``"photo": true``, identity policy v2); when none of
    the documents has that flag, group A (one is enough: all of them carry a photo in the
    default catalogue) stands for "photo".
    """
    row = session.scalar(select(PolicyRow).order_by(PolicyRow.version.desc()).limit(1))
    documents = json.loads(row.policy_json).get("documents", []) if row is not None else []
    if any("photo" in d for d in documents):
        return {d["code"] for d in documents if d.get("photo") is True}
    return {d["code"] for d in documents if d.get("group") == "A"}


def refuse_handover(
    session: Session,
    items: Sequence[Item],
    recipient_kind: RecipientKind,
    documents: Sequence[str],
) -> str | None:
    """Why these items may not be handed over to this recipient, or ``None``.

    A protected item goes only to the person (本人), who shows a photo ID: no 同一世帯員 (the
    abuser may live in the household), no 任意代理人 (a 委任状 can be forced), and no 法定代理人
    either (in 児童虐待 cases the 親権者 is often the one the child is protected from; the office
    hands over to a 法定代理人 only after the flag is released or reviewed).
    """
    flagged = protected_item_ids(session, (i.id for i in items))
    if not flagged:
        return None
    controls = "、".join(i.control_no for i in items if i.id in flagged)
    if recipient_kind != RecipientKind.SELF:
        return (
            f"{controls} は支援措置の対象のため、本人以外（{_KIND_LABELS.get(recipient_kind, '')}）"
            "には交付できません"
        )
    if not set(documents) & photo_document_codes(session):
        return f"{controls} は支援措置の対象のため、写真付きの本人確認書類が必要です"
    return None


_KIND_LABELS = {
    RecipientKind.HOUSEHOLD: "同一世帯員",
    RecipientKind.PROXY: "任意代理人",
    RecipientKind.LEGAL_REP: "法定代理人",
}


# --- the audit log (issue 14 review) -----------------------------------------------------------

#: Detail keys that hold an address: masked in the audit log's pages and export for a protected
#: person's envelope or item (intake and envelope-edit events record them).
ADDRESS_KEYS = frozenset({"address", "addressee"})


@dataclass(frozen=True)
class Protected:
    """The items under an active flag and their envelopes, read once for a page or an export."""

    item_ids: frozenset[int]
    envelope_ids: frozenset[int]

    def covers(self, object_type: str | None, object_id: str | None) -> bool:
        if not object_id or not object_id.isdigit():
            return False
        if object_type == "envelope":
            return int(object_id) in self.envelope_ids
        if object_type == "item":
            return int(object_id) in self.item_ids
        return False


def protected_now(session: Session) -> Protected:
    """Every item under an active flag, and the envelopes holding them (a short list)."""
    rows = session.execute(
        select(Item.id, Item.envelope_id)
        .join(Protection, Protection.item_id == Item.id)
        .where(is_active())
    ).all()
    return Protected(frozenset(r.id for r in rows), frozenset(r.envelope_id for r in rows))


def mask_addresses(value: Any) -> Any:
    """``value`` (an event's details) with every address and addressee, also inside
    before/after pairs and nested objects, replaced by :data:`MASKED`."""
    if isinstance(value, dict):
        return {
            key: (_masked(inner) if key in ADDRESS_KEYS else mask_addresses(inner))
            for key, inner in value.items()
        }
    if isinstance(value, list):
        return [mask_addresses(inner) for inner in value]
    return value


def _masked(value: Any) -> Any:
    if isinstance(value, list):  # a before/after pair
        return [MASKED if inner not in (None, "") else inner for inner in value]
    return MASKED if value not in (None, "") else value
