"""Single intake at the counter, edits and storage moves (SPEC §2; issue #3).

Every function flushes and writes its audit event in the caller's transaction. Audit details
name control numbers and changed fields; an edit records the before/after values of the fields
it changed, because an auditor must be able to see what a correction was.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.domain import digests
from tracker.domain.codes import AuditAction, ItemStatus
from tracker.domain.control import envelope_control_no, item_control_no
from tracker.domain.records import OLDEST_BIRTH_DATE, PURGED_TEXT, EnvelopeFields, ItemFields
from tracker.models import AuditEvent, Envelope, Item, ItemRevision, Location
from tracker.services import audit, protection
from tracker.services.numbering import next_id


class IntakeError(ValueError):
    """A refused intake or change; the message is for the clerk."""


class DuplicateEnvelope(IntakeError):
    """The tracking number is already registered (SPEC §6.3: unique per envelope)."""

    def __init__(self, envelope: Envelope) -> None:
        super().__init__(
            f"お問い合わせ番号 {envelope.tracking_no} は登録済みです"
            f"（管理番号 {envelope.control_no}）"
        )
        self.envelope = envelope


def find_by_tracking_no(session: Session, tracking_no: str) -> Envelope | None:
    return session.scalar(select(Envelope).where(Envelope.tracking_no == tracking_no))


def active_location(session: Session, location_id: int) -> Location:
    location = session.get(Location, location_id)
    if location is None or not location.active:
        raise IntakeError("保管場所を選んでください")
    return location


def next_envelope_id(session: Session) -> int:
    """The id (and so the control number) of a new envelope, known before the insert."""
    return next_id(session, Envelope)


def log_envelope(
    session: Session,
    *,
    actor: str,
    fields: EnvelopeFields,
    location_id: int,
    items: Sequence[ItemFields],
    now: datetime,
) -> Envelope:
    """Register one returned envelope with its items, all ``in_custody``."""
    if not items:
        raise IntakeError("通知物を1件以上入力してください")
    existing = find_by_tracking_no(session, fields.tracking_no)
    if existing is not None:
        raise DuplicateEnvelope(existing)
    _refuse_repeated_people(items)
    location = active_location(session, location_id)
    envelope_id = next_envelope_id(session)
    control_no = envelope_control_no(envelope_id)
    envelope = Envelope(
        id=envelope_id,
        control_no=control_no,
        tracking_no=fields.tracking_no,
        addressee=fields.addressee,
        address=fields.address,
        household_code=fields.household_code,
        returned_on=fields.returned_on,
        return_reason=fields.return_reason.value,
        location_id=location.id,
        slot=fields.slot,
        intake_by=actor,
        intake_at=now,
    )
    session.add(envelope)
    for position, item in enumerate(items, start=1):
        session.add(
            Item(
                control_no=item_control_no(control_no, position),
                envelope=envelope,
                position=position,
                kind=item.kind.value,
                name=item.name,
                name_kana=item.name_kana,
                name_key=item.name_key,
                kana_key=item.kana_key,
                birth_date=item.birth_date,
                relationship_to_head=item.relationship,
                alias=item.alias,
                alias_key=item.alias_key,
                first_notice_on=item.first_notice_on,
                renotice_on=item.renotice_on,
                card_expires_on=item.card_expires_on,
                status=ItemStatus.IN_CUSTODY.value,
            )
        )
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=AuditAction.ENVELOPE_INTAKE,
        object_type="envelope",
        object_id=envelope.id,
        details={"control_no": control_no, "items": len(items), "location": location.code},
    )
    return envelope


def _refuse_repeated_people(items: Sequence[ItemFields]) -> None:
    seen: set[tuple[str, date]] = set()
    for index, item in enumerate(items, start=1):
        key = (item.name, item.birth_date)
        if key in seen:
            raise IntakeError(f"{index}人目は、同じ氏名・生年月日の人が既に入力されています")
        seen.add(key)


def _changes(record: Any, wanted: dict[str, Any]) -> dict[str, list[Any]]:
    """``{field: [before, after]}`` for the fields whose value changes (JSON-ready)."""
    changed: dict[str, list[Any]] = {}
    for name, new in wanted.items():
        old = getattr(record, name)
        if old != new:
            changed[name] = [_plain(old), _plain(new)]
    return changed


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


#: Fields of envelopes and items whose values never go into the audit log (issue 16): the
#: edit event holds their keyed digests, ``item_revisions`` the values. The others (tracking
#: number, dates of the mail, codes) say nothing about the person and stay as before/after.
PERSONAL_FIELDS = frozenset(
    {
        "addressee",
        "address",
        "household_code",
        "name",
        "name_kana",
        "alias",
        "birth_date",
        "relationship_to_head",
    }
)


def _digested(changed: dict[str, list[Any]], masked: set[str]) -> dict[str, Any]:
    """The edit's ``changes`` detail: personal fields as ``{old_digest, new_digest}`` (or
    ``null`` for a protected person's address: changed, nothing more)."""
    details: dict[str, Any] = {}
    for field, (old, new) in changed.items():
        if field in masked:
            details[field] = None
        elif field in PERSONAL_FIELDS:
            details[field] = {"old_digest": audit.digest(old), "new_digest": audit.digest(new)}
        else:
            details[field] = [old, new]
    return details


def _keep_revisions(
    session: Session,
    event: AuditEvent,
    changed: dict[str, list[Any]],
    *,
    envelope_id: int,
    item_id: int | None,
) -> None:
    """One ``item_revisions`` row per changed field, in the edit's transaction."""
    for field, (old, new) in changed.items():
        session.add(
            ItemRevision(
                envelope_id=envelope_id,
                item_id=item_id,
                audit_seq=event.seq,
                field=field,
                old_value=None if old is None else digests.canonical(old),
                new_value=None if new is None else digests.canonical(new),
                changed_by=event.actor,
                changed_at=event.occurred_at,
            )
        )
    session.flush()


def edit_envelope(
    session: Session, *, actor: str, envelope: Envelope, fields: EnvelopeFields
) -> dict[str, list[Any]]:
    """Correct an envelope's columns (not its location: that is a move). Audited before/after.
    A purged envelope (issue 16) is history: its placeholders are not corrected."""
    if envelope.pseudonymised_at is not None:
        raise IntakeError("保存期間経過により個人情報を消去した返戻郵便は修正できません")
    if fields.tracking_no != envelope.tracking_no:
        other = find_by_tracking_no(session, fields.tracking_no)
        if other is not None:
            raise DuplicateEnvelope(other)
    changed = _changes(
        envelope,
        {
            "tracking_no": fields.tracking_no,
            "addressee": fields.addressee,
            "address": fields.address,
            "household_code": fields.household_code,
            "returned_on": fields.returned_on,
            "return_reason": fields.return_reason.value,
        },
    )
    if not changed:
        return changed
    envelope.tracking_no = fields.tracking_no
    envelope.addressee = fields.addressee
    envelope.address = fields.address
    envelope.household_code = fields.household_code
    envelope.returned_on = fields.returned_on
    envelope.return_reason = fields.return_reason.value
    session.flush()
    # 支援措置: the audit log says that the address changed, not even a digest of it
    masked = (
        {"addressee", "address"}
        if protection.protected_envelope_ids(session, [envelope.id])
        else set()
    )
    event = audit.record(
        session,
        actor=actor,
        action=AuditAction.ENVELOPE_EDIT,
        object_type="envelope",
        object_id=envelope.id,
        details={"control_no": envelope.control_no, "changes": _digested(changed, masked)},
    )
    _keep_revisions(session, event, changed, envelope_id=envelope.id, item_id=None)
    return changed


def edit_item(session: Session, *, actor: str, item: Item, fields: ItemFields) -> dict[str, Any]:
    """Correct an item in custody (a handed-over or destroyed item's record is history).

    An item pseudonymised by ``tracker purge`` and brought back into custody since (found
    after a loss, a handover voided) holds placeholders: its values are re-entered here from
    the card, every one of them (a placeholder left in a field is refused), and
    ``pseudonymised_at`` is cleared, so search finds it again (its keys are recomputed) and a
    later purge erases it again after its new period. A row marked pseudonymised never holds
    real values."""
    if item.status != ItemStatus.IN_CUSTODY.value:
        raise IntakeError("保管中でない通知物は修正できません")
    if item.pseudonymised_at is not None and (
        PURGED_TEXT in (fields.name, fields.name_kana, fields.alias, fields.relationship)
        or fields.birth_date < OLDEST_BIRTH_DATE
    ):
        raise IntakeError(
            "保存期間経過により個人情報を消去した通知物です。"
            "氏名・フリガナ・生年月日・続柄・通称をカードから入力し直してください"
            "（「（保存期間経過により消去済）」のままの欄があります）"
        )
    changed = _changes(
        item,
        {
            "name": fields.name,
            "name_kana": fields.name_kana,
            "birth_date": fields.birth_date,
            "relationship_to_head": fields.relationship,
            "kind": fields.kind.value,
            "alias": fields.alias,
            "first_notice_on": fields.first_notice_on,
            "renotice_on": fields.renotice_on,
            "card_expires_on": fields.card_expires_on,
        },
    )
    if not changed:
        return changed
    item.pseudonymised_at = None  # its values are real again (re-entered above)
    item.alias = fields.alias
    item.alias_key = fields.alias_key
    item.first_notice_on = fields.first_notice_on
    item.renotice_on = fields.renotice_on
    item.card_expires_on = fields.card_expires_on
    item.name = fields.name
    item.name_kana = fields.name_kana
    item.name_key = fields.name_key
    item.kana_key = fields.kana_key
    item.birth_date = fields.birth_date
    item.relationship_to_head = fields.relationship
    item.kind = fields.kind.value
    session.flush()
    event = audit.record(
        session,
        actor=actor,
        action=AuditAction.ITEM_EDIT,
        object_type="item",
        object_id=item.id,
        details={"control_no": item.control_no, "changes": _digested(changed, set())},
    )
    _keep_revisions(session, event, changed, envelope_id=item.envelope_id, item_id=item.id)
    return changed


def set_notice_sent_on(
    session: Session, *, actor: str, item: Item, notice_sent_on: date | None
) -> bool:
    """Record (or clear) the day a notice (お知らせ) was sent to the person; audited.

    A retention rule may count from it (SPEC §3 anchor ``notice_sent_on``), so a records
    officer sets it, whatever the item's status, and the audit event keeps before and after.
    False when nothing changed.
    """
    changed = _changes(item, {"notice_sent_on": notice_sent_on})
    if not changed:
        return False
    item.notice_sent_on = notice_sent_on
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=AuditAction.ITEM_EDIT,
        object_type="item",
        object_id=item.id,
        details={"control_no": item.control_no, "changes": changed},
    )
    return True


@dataclass(frozen=True)
class Move:
    from_location: str
    from_slot: str | None
    to_location: str
    to_slot: str | None


def move_envelope(
    session: Session, *, actor: str, envelope: Envelope, location_id: int, slot: str | None
) -> Move | None:
    """Put an envelope in another slot or location (audited). ``None`` when nothing changes."""
    location = active_location(session, location_id)
    slot = slot or None
    if envelope.location_id == location.id and envelope.slot == slot:
        return None
    move = Move(envelope.location.code, envelope.slot, location.code, slot)
    envelope.location_id = location.id
    envelope.location = location
    envelope.slot = slot
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=AuditAction.ENVELOPE_MOVE,
        object_type="envelope",
        object_id=envelope.id,
        details={
            "control_no": envelope.control_no,
            "from": {"location": move.from_location, "slot": move.from_slot},
            "to": {"location": move.to_location, "slot": move.to_slot},
        },
    )
    return move


def record_view(session: Session, *, actor: str, envelope: Envelope) -> None:
    """PPC access log: someone saw the personal data of this envelope's items (SPEC §8).
    Appended at the commit, after the page is rendered (issue 18)."""
    audit.record_at_commit(
        session,
        actor=actor,
        action=AuditAction.ENVELOPE_VIEW,
        object_type="envelope",
        object_id=envelope.id,
        details={"control_no": envelope.control_no, "items": len(envelope.items)},
    )


def record_label_print(session: Session, *, actor: str, envelopes: Sequence[Envelope]) -> None:
    audit.record(
        session,
        actor=actor,
        action=AuditAction.LABEL_PRINT,
        object_type="envelope",
        object_id=envelopes[0].id if len(envelopes) == 1 else None,
        details={"control_nos": [e.control_no for e in envelopes][:500], "count": len(envelopes)},
    )
