"""Stock checks (棚卸) and losses (紛失), issue 13: prove per location that every card on the
ledger is on the shelf.

A check freezes, when it starts, the envelopes the ledger places in a location (or a slot range
of it) that still hold an item 保管中: one :class:`StockCheckEntry` each, with no outcome. Scans
set ``found``; an envelope in custody the ledger places elsewhere is ``found_elsewhere`` (its move
can be recorded with one click); anything else scanned is ``unexpected`` (kept with the code as
read). Closing marks every expected envelope not scanned ``missing`` and puts each of its items
保管中 under an investigation hold (所在調査中), which the counter refuses to hand over. Another
records officer signs the check off (four eyes). A missing item is later found (hold released)
or confirmed lost (紛失, with a loss report); a lost item may still be found again.

Every change is a conditional update checked by row count, with its audit event in the same
transaction (see :mod:`tracker.services.transitions`); one check at a time per location.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from tracker.clock import to_jst
from tracker.db import begin_writing
from tracker.domain.codes import (
    AuditAction,
    HoldKind,
    ItemAction,
    ItemStatus,
    ObjectType,
    StockCheckOutcome,
    StockCheckStatus,
)
from tracker.domain.errors import InputError
from tracker.domain.masking import mask_name
from tracker.domain.records import check_free_text
from tracker.domain.stock_check import in_range, is_overdue, next_check_due
from tracker.models import Envelope, Hold, Item, Location
from tracker.models.lifecycle import LossReport, StockCheck, StockCheckEntry
from tracker.pdf.stock_check import LossReportData, StockCheckException, StockCheckRecord
from tracker.services import audit, intake, lookup, people, settings
from tracker.services.numbering import next_id
from tracker.services.transitions import move_item, person, serialise, transition, when

#: The longest code kept from an unexpected scan (a label or tracking number is far shorter).
SCANNED_CODE_MAX = 40


class StockCheckError(ValueError):
    """A refused stock-check or loss action; the message is for the person at the screen."""


def check_number(check_id: int) -> str:
    return f"S{check_id:09d}"


def loss_report_number(report_id: int) -> str:
    return f"L{report_id:09d}"


def _text(value: str | None, name: str, *, required: bool, label: str) -> str:
    try:
        return check_free_text(value, name, required=required, label=label)
    except InputError as error:
        raise StockCheckError(str(error)) from None


def _in_custody_envelopes(session: Session, location_id: int) -> list[Envelope]:
    held = select(Item.envelope_id).where(Item.status == ItemStatus.IN_CUSTODY.value)
    return list(
        session.scalars(
            select(Envelope)
            .where(Envelope.location_id == location_id, Envelope.id.in_(held))
            .order_by(Envelope.control_no)
        )
    )


def _holds_custody(session: Session, envelope_id: int) -> bool:
    found = session.scalar(
        select(Item.id)
        .where(Item.envelope_id == envelope_id, Item.status == ItemStatus.IN_CUSTODY.value)
        .limit(1)
    )
    return found is not None


def open_check(session: Session, location_id: int) -> StockCheck | None:
    return session.scalar(
        select(StockCheck).where(
            StockCheck.location_id == location_id,
            StockCheck.status == StockCheckStatus.OPEN.value,
        )
    )


# --- start ---------------------------------------------------------------------------------


def start(
    session: Session,
    *,
    actor: str,
    location_id: int,
    slot_from: str | None,
    slot_to: str | None,
    now: datetime,
) -> StockCheck:
    """Open a check of a location (or an inclusive slot range), freezing what it expects.

    One open check per location: of two people starting one at the same moment, the second
    waits for the first and is then refused with the first one's number.
    """
    location = session.get(Location, location_id)
    if location is None or not location.active:
        raise StockCheckError("保管場所を選んでください")
    first = _text(slot_from, "slot", required=False, label="開始の保管位置") or None
    last = _text(slot_to, "slot", required=False, label="終了の保管位置") or None
    if first and last and first > last:
        raise StockCheckError(
            f"保管位置の範囲が逆です（{first} 〜 {last}）。開始は終了より前にしてください"
        )
    serialise(session, f"stock_check:{location.id}")
    running = open_check(session, location.id)
    if running is not None:
        raise StockCheckError(
            f"{location.name}では棚卸 {running.check_no} が実施中です"
            f"（{when(running.started_at)} 開始、{person(session, running.started_by)}）。"
            "先にその棚卸を締めるか取り消してください"
        )
    check_id = next_id(session, StockCheck)
    check = StockCheck(
        id=check_id,
        check_no=check_number(check_id),
        location_id=location.id,
        slot_from=first,
        slot_to=last,
        status=StockCheckStatus.OPEN.value,
        started_by=actor,
        started_at=now,
    )
    session.add(check)
    expected = [
        envelope
        for envelope in _in_custody_envelopes(session, location.id)
        if in_range(envelope.slot, first, last)
    ]
    session.add_all(
        StockCheckEntry(
            check_id=check_id,
            envelope_id=envelope.id,
            expected=True,
            ledger_location_id=envelope.location_id,
            ledger_slot=envelope.slot,
        )
        for envelope in expected
    )
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=AuditAction.STOCK_CHECK_START,
        object_type=ObjectType.STOCK_CHECK.value,
        object_id=check.id,
        details={
            "check_no": check.check_no,
            "location": location.code,
            "slot_from": first,
            "slot_to": last,
            "ledger_envelopes": len(expected),
        },
    )
    return check


# --- scan ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScanResult:
    """What one scan did: the entry's outcome, and whether it had been read before."""

    outcome: StockCheckOutcome
    entry: StockCheckEntry
    already: bool
    #: The control number of the envelope read, or the code as scanned when it names none.
    code: str


def _lock_open(session: Session, check: StockCheck, *, doing: str = "読み取り") -> None:
    """Take the check's row lock and insist it is still open: a scan (or a move) waits for a
    concurrent close, and is refused after it."""
    begin_writing(session)
    status = session.scalar(
        select(StockCheck.status).where(StockCheck.id == check.id).with_for_update()
    )
    session.refresh(check)
    if status != StockCheckStatus.OPEN.value:
        raise StockCheckError(
            f"棚卸 {check.check_no} は{StockCheckStatus(check.status).label}です。"
            f"{doing}はできません"
        )


def scan(
    session: Session, *, actor: str, check: StockCheck, code: str | None, now: datetime
) -> ScanResult:
    """Record one label (control number, any width or case) or tracking number read on the
    shelf. Reading the same envelope or code twice changes nothing (``already``)."""
    raw = (code or "").strip()
    if not raw:
        raise StockCheckError("ラベルのバーコードかお問い合わせ番号を読み取ってください")
    if len(raw) > SCANNED_CODE_MAX:
        raise StockCheckError(
            f"読み取った値が長すぎます（{len(raw)}文字）。ラベルのバーコードを読み取ってください"
        )
    raw = _text(raw, "note", required=True, label="読み取った値")
    _lock_open(session, check)
    hit = lookup.find_scanned(session, raw)
    envelope = session.get(Envelope, hit.envelope_id) if hit is not None else None
    if envelope is None:
        key = raw.upper()
        existing = session.scalar(
            select(StockCheckEntry).where(
                StockCheckEntry.check_id == check.id,
                StockCheckEntry.envelope_id.is_(None),
                func.upper(StockCheckEntry.scanned_code) == key,
            )
        )
        if existing is not None:
            return ScanResult(StockCheckOutcome.UNEXPECTED, existing, True, raw)
        entry = StockCheckEntry(
            check_id=check.id,
            envelope_id=None,
            scanned_code=raw,
            expected=False,
            outcome=StockCheckOutcome.UNEXPECTED.value,
            scanned_by=actor,
            scanned_at=now,
        )
        session.add(entry)
        session.flush()
        _audit_scan(session, actor, check, entry, code=raw)
        return ScanResult(StockCheckOutcome.UNEXPECTED, entry, False, raw)
    listed = _entry_of(session, check, envelope.id)
    if listed is not None and listed.outcome is not None:
        return ScanResult(StockCheckOutcome(listed.outcome), listed, True, envelope.control_no)
    if listed is not None:  # expected, not yet read
        entry = listed
        changed: int = session.execute(  # type: ignore[attr-defined]  # a CursorResult
            update(StockCheckEntry)
            .where(StockCheckEntry.id == entry.id, StockCheckEntry.outcome.is_(None))
            .values(outcome=StockCheckOutcome.FOUND.value, scanned_by=actor, scanned_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        session.refresh(entry)
        if changed != 1:  # a colleague read it a moment ago
            read = StockCheckOutcome(entry.outcome or StockCheckOutcome.FOUND.value)
            return ScanResult(read, entry, True, envelope.control_no)
        _audit_scan(session, actor, check, entry, code=envelope.control_no)
        return ScanResult(StockCheckOutcome.FOUND, entry, False, envelope.control_no)
    if not _holds_custody(session, envelope.id):
        outcome = StockCheckOutcome.UNEXPECTED  # handed over, destroyed …: not on the ledger
    elif envelope.location_id == check.location_id and in_range(
        envelope.slot, check.slot_from, check.slot_to
    ):
        outcome = StockCheckOutcome.FOUND  # placed here after the check started
    else:
        outcome = StockCheckOutcome.FOUND_ELSEWHERE
    entry = StockCheckEntry(
        check_id=check.id,
        envelope_id=envelope.id,
        scanned_code=raw if outcome is StockCheckOutcome.UNEXPECTED else None,
        expected=False,
        outcome=outcome.value,
        ledger_location_id=envelope.location_id,
        ledger_slot=envelope.slot,
        scanned_by=actor,
        scanned_at=now,
    )
    try:
        with session.begin_nested():
            session.add(entry)
            session.flush()
    except IntegrityError:  # the same envelope read by a colleague at the same moment
        current = _entry_of(session, check, envelope.id)
        assert current is not None
        return ScanResult(StockCheckOutcome(current.outcome or outcome), current, True, raw)
    _audit_scan(session, actor, check, entry, code=envelope.control_no)
    return ScanResult(outcome, entry, False, envelope.control_no)


def _entry_of(session: Session, check: StockCheck, envelope_id: int) -> StockCheckEntry | None:
    return session.scalar(
        select(StockCheckEntry)
        .where(StockCheckEntry.check_id == check.id, StockCheckEntry.envelope_id == envelope_id)
        .execution_options(populate_existing=True)
    )


def _audit_scan(
    session: Session, actor: str, check: StockCheck, entry: StockCheckEntry, *, code: str
) -> None:
    audit.record(
        session,
        actor=actor,
        action=AuditAction.STOCK_CHECK_SCAN,
        object_type=ObjectType.STOCK_CHECK.value,
        object_id=check.id,
        details={"check_no": check.check_no, "control_no": code, "outcome": entry.outcome},
    )


def record_move(
    session: Session, *, actor: str, entry: StockCheckEntry, slot: str | None, now: datetime
) -> intake.Move | None:
    """「ここへ移動を記録」: a found-elsewhere envelope now belongs to the checked location
    (``slot`` inside it), recorded exactly like a move from the envelope page; once. Waits for
    a concurrent close of the check, and is refused after it."""
    new_slot = _text(slot, "slot", required=False, label="保管位置") or None
    check = entry.check
    _lock_open(session, check, doing="移動の記録")
    if entry.outcome != StockCheckOutcome.FOUND_ELSEWHERE.value or entry.envelope is None:
        raise StockCheckError("他の場所で発見された封筒だけを移動として記録できます")
    transition(
        session,
        StockCheckEntry,
        entry.id,
        expected=StockCheckEntry.moved_at.is_(None),
        values={"moved_by": actor, "moved_at": now},
        conflict=lambda current: (
            f"この封筒の移動は記録済みです（{when(current.moved_at)}、"
            f"{person(session, current.moved_by)}）"
        ),
    )
    try:
        return intake.move_envelope(
            session,
            actor=actor,
            envelope=entry.envelope,
            location_id=check.location_id,
            slot=new_slot,
        )
    except intake.IntakeError as error:
        raise StockCheckError(str(error)) from None


# --- close, sign off, cancel ---------------------------------------------------------------


@dataclass(frozen=True)
class Counts:
    expected: int
    found: int
    found_elsewhere: int
    missing: int
    unexpected: int
    #: Expected envelopes not read yet (an open check).
    remaining: int


def counts(session: Session, check: StockCheck) -> Counts:
    rows = session.execute(
        select(StockCheckEntry.expected, StockCheckEntry.outcome, func.count())
        .where(StockCheckEntry.check_id == check.id)
        .group_by(StockCheckEntry.expected, StockCheckEntry.outcome)
    ).all()
    by: Counter[str | None] = Counter()
    expected = 0
    for is_expected, outcome, number in rows:
        by[outcome] += number
        if is_expected:
            expected += number
    return Counts(
        expected=expected,
        found=by[StockCheckOutcome.FOUND.value],
        found_elsewhere=by[StockCheckOutcome.FOUND_ELSEWHERE.value],
        missing=by[StockCheckOutcome.MISSING.value],
        unexpected=by[StockCheckOutcome.UNEXPECTED.value],
        remaining=by[None],
    )


def investigation_reason(check: StockCheck) -> str:
    return f"棚卸 {check.check_no} で所在不明"


def close(session: Session, *, actor: str, check: StockCheck, now: datetime) -> Counts:
    """Close an open check: every expected envelope not read is missing, and each of its items
    保管中 is held for investigation (所在調査中) — unless it already is (still missing from an
    earlier check): it keeps that one hold, and is counted as ``already_held`` in the audit
    event. Of two people closing, the second gets
    :class:`~tracker.services.transitions.Conflict`."""
    transition(
        session,
        StockCheck,
        check.id,
        expected=StockCheck.status == StockCheckStatus.OPEN.value,
        values={
            "status": StockCheckStatus.CLOSED.value,
            "closed_by": actor,
            "closed_at": now,
        },
        conflict=lambda current: _status_conflict(session, current),
    )
    missing_entries = list(
        session.scalars(
            select(StockCheckEntry)
            .where(
                StockCheckEntry.check_id == check.id,
                StockCheckEntry.expected.is_(True),
                StockCheckEntry.outcome.is_(None),
            )
            .order_by(StockCheckEntry.id)
        )
    )
    session.execute(
        update(StockCheckEntry)
        .where(StockCheckEntry.id.in_([entry.id for entry in missing_entries]))
        .values(outcome=StockCheckOutcome.MISSING.value)
        .execution_options(synchronize_session=False)
    )
    envelope_ids = [entry.envelope_id for entry in missing_entries]
    items = list(
        session.scalars(
            select(Item)
            .where(Item.envelope_id.in_(envelope_ids), Item.status == ItemStatus.IN_CUSTODY.value)
            .order_by(Item.control_no)
            .with_for_update()
        )
    )
    already_held = set(
        session.scalars(
            select(Hold.item_id).where(
                Hold.item_id.in_([item.id for item in items]),
                Hold.kind == HoldKind.INVESTIGATION.value,
                Hold.released_at.is_(None),
            )
        )
    )
    reason = investigation_reason(check)
    for item in items:
        if item.id in already_held:
            continue
        hold = Hold(
            item_id=item.id,
            kind=HoldKind.INVESTIGATION.value,
            stock_check_id=check.id,
            reason=reason,
            placed_by=actor,
            placed_at=now,
        )
        session.add(hold)
        session.flush()
        audit.record(
            session,
            actor=actor,
            action=AuditAction.HOLD_PLACE,
            object_type="item",
            object_id=item.id,
            details={
                "control_no": item.control_no,
                "hold": hold.id,
                "kind": HoldKind.INVESTIGATION.value,
                "check_no": check.check_no,
            },
        )
    kept = sorted(item.control_no for item in items if item.id in already_held)
    session.refresh(check)
    for entry in missing_entries:
        session.refresh(entry)
    result = counts(session, check)
    controls = list(
        session.scalars(
            select(Envelope.control_no)
            .where(Envelope.id.in_(envelope_ids))
            .order_by(Envelope.control_no)
        )
    )
    audit.record(
        session,
        actor=actor,
        action=AuditAction.STOCK_CHECK_CLOSE,
        object_type=ObjectType.STOCK_CHECK.value,
        object_id=check.id,
        details={
            "check_no": check.check_no,
            "ledger_envelopes": result.expected,
            "found": result.found,
            "found_elsewhere": result.found_elsewhere,
            "missing": result.missing,
            "unexpected": result.unexpected,
            "missing_envelopes": controls[:500],
            "held_items": len(items) - len(already_held),
            "already_held": kept[:500],
        },
    )
    return result


def _status_conflict(session: Session, current: StockCheck) -> str:
    status = StockCheckStatus(current.status)
    if status is StockCheckStatus.CLOSED:
        return (
            f"棚卸 {current.check_no} は既に締められています（{when(current.closed_at)}、"
            f"{person(session, current.closed_by)}）"
        )
    if status is StockCheckStatus.SIGNED_OFF:
        return (
            f"棚卸 {current.check_no} は既に確認済みです（{when(current.signed_off_at)}、"
            f"{person(session, current.signed_off_by)}）"
        )
    if status is StockCheckStatus.CANCELLED:
        return (
            f"棚卸 {current.check_no} は取り消されています（{when(current.cancelled_at)}、"
            f"{person(session, current.cancelled_by)}）"
        )
    return f"棚卸 {current.check_no} はまだ締められていません"


def sign_off(session: Session, *, actor: str, check: StockCheck, now: datetime) -> None:
    """The second pair of eyes: a records officer other than the one who closed it."""
    session.refresh(check)
    if check.status == StockCheckStatus.CLOSED.value and check.closed_by == actor:
        raise StockCheckError(
            f"棚卸 {check.check_no} を締めた本人は確認できません。"
            "別の記録管理担当が確認してください（二人による確認）"
        )
    transition(
        session,
        StockCheck,
        check.id,
        expected=(StockCheck.status == StockCheckStatus.CLOSED.value)
        & (StockCheck.closed_by != actor),
        values={
            "status": StockCheckStatus.SIGNED_OFF.value,
            "signed_off_by": actor,
            "signed_off_at": now,
        },
        conflict=lambda current: _status_conflict(session, current),
    )
    audit.record(
        session,
        actor=actor,
        action=AuditAction.STOCK_CHECK_SIGN_OFF,
        object_type=ObjectType.STOCK_CHECK.value,
        object_id=check.id,
        details={"check_no": check.check_no},
    )


def cancel(
    session: Session, *, actor: str, check: StockCheck, reason: str | None, now: datetime
) -> None:
    """Give up an open check (nothing is marked missing, no hold is placed)."""
    note = _text(reason, "reason", required=True, label="取消の理由")
    transition(
        session,
        StockCheck,
        check.id,
        expected=StockCheck.status == StockCheckStatus.OPEN.value,
        values={
            "status": StockCheckStatus.CANCELLED.value,
            "cancelled_by": actor,
            "cancelled_at": now,
            "note": note,
        },
        conflict=lambda current: _status_conflict(session, current),
    )
    audit.record(
        session,
        actor=actor,
        action=AuditAction.STOCK_CHECK_CANCEL,
        object_type=ObjectType.STOCK_CHECK.value,
        object_id=check.id,
        details={"check_no": check.check_no},
    )


def record_print(session: Session, *, actor: str, check: StockCheck) -> None:
    audit.record(
        session,
        actor=actor,
        action=AuditAction.STOCK_CHECK_PRINT,
        object_type=ObjectType.STOCK_CHECK.value,
        object_id=check.id,
        details={"check_no": check.check_no},
    )


# --- missing items: found, or confirmed lost -----------------------------------------------


def investigation_hold(session: Session, item_id: int) -> Hold | None:
    """The item's active 所在調査中 hold, if any."""
    return session.scalar(
        select(Hold)
        .where(
            Hold.item_id == item_id,
            Hold.kind == HoldKind.INVESTIGATION.value,
            Hold.released_at.is_(None),
        )
        .order_by(Hold.id)
        .limit(1)
    )


def investigation_holds(session: Session, item_id: int) -> list[Hold]:
    """Every active 所在調査中 hold of the item, oldest first (normally at most one)."""
    return list(
        session.scalars(
            select(Hold)
            .where(
                Hold.item_id == item_id,
                Hold.kind == HoldKind.INVESTIGATION.value,
                Hold.released_at.is_(None),
            )
            .order_by(Hold.id)
        )
    )


def _release(session: Session, hold: Hold, *, actor: str, reason: str, now: datetime) -> None:
    transition(
        session,
        Hold,
        hold.id,
        expected=Hold.released_at.is_(None),
        values={"release_reason": reason, "released_by": actor, "released_at": now},
        conflict=lambda current: (
            f"この所在調査は既に終わっています（{when(current.released_at)}、"
            f"{person(session, current.released_by)}）"
        ),
    )


def _check_no_of(session: Session, check_id: int | None) -> str | None:
    if check_id is None:
        return None
    return session.scalar(select(StockCheck.check_no).where(StockCheck.id == check_id))


def found(
    session: Session,
    *,
    actor: str,
    item: Item,
    note: str | None,
    location_id: int | None,
    slot: str | None,
    now: datetime,
) -> None:
    """「見つかった」 for a missing item (所在調査中; clerk or records officer): releases every
    active investigation hold of the item. With ``location_id`` also records where its envelope
    is now (an ordinary, audited move).

    A lost item (紛失) is refused here: finding it reverses a records officer's confirmation, so
    it goes through :func:`found_lost` (records officer only).
    """
    text = _text(note, "note", required=False, label="発見の状況") or None
    session.refresh(item)
    if item.status == ItemStatus.LOST.value:
        raise StockCheckError(
            f"{item.control_no} は紛失として確定されています。"
            "紛失した通知物の発見は記録管理担当が記録してください"
        )
    released = _release_investigation(
        session, item, actor=actor, reason=f"発見: {text}" if text else "発見", now=now
    )
    if not released:
        raise StockCheckError(
            f"{item.control_no} は所在調査中でも紛失でもありません。発見の記録は不要です"
        )
    details: dict[str, object] = {
        "control_no": item.control_no,
        "hold": released[0].id,
        "check_no": _check_no_of(session, released[0].stock_check_id),
    }
    if len(released) > 1:
        details["released_holds"] = len(released)
    _record_found(
        session, actor=actor, item=item, details=details, location_id=location_id, slot=slot
    )


def found_lost(
    session: Session,
    *,
    actor: str,
    item: Item,
    note: str | None,
    location_id: int | None,
    slot: str | None,
    now: datetime,
) -> None:
    """「見つかった」 for a lost item (紛失; records officer only, as it reverses a confirmed loss):
    紛失 → 保管中, the loss report marked found, and any investigation hold still active
    released, so the card can be handed over again."""
    text = _text(note, "note", required=False, label="発見の状況") or None
    session.refresh(item)
    if item.status != ItemStatus.LOST.value:
        raise StockCheckError(f"{item.control_no} は紛失として確定されていません")
    move_item(session, item.id, ItemAction.FIND, now=now)
    details: dict[str, object] = {"control_no": item.control_no}
    report = session.scalar(
        select(LossReport)
        .where(LossReport.item_id == item.id, LossReport.found_at.is_(None))
        .order_by(LossReport.id.desc())
        .limit(1)
    )
    if report is not None:
        transition(
            session,
            LossReport,
            report.id,
            expected=LossReport.found_at.is_(None),
            values={"found_by": actor, "found_at": now, "found_note": text},
            conflict=lambda current: "この紛失は既に発見として記録されています",
        )
        details["report_no"] = report.report_no
    released = _release_investigation(
        session, item, actor=actor, reason=f"発見: {text}" if text else "発見", now=now
    )
    if released:
        details["released_holds"] = len(released)
    _record_found(
        session, actor=actor, item=item, details=details, location_id=location_id, slot=slot
    )


def _release_investigation(
    session: Session, item: Item, *, actor: str, reason: str, now: datetime
) -> list[Hold]:
    """Release every active 所在調査中 hold of the item (each a checked conditional update)."""
    active = investigation_holds(session, item.id)
    for hold in active:
        _release(session, hold, actor=actor, reason=reason, now=now)
    return active


def _record_found(
    session: Session,
    *,
    actor: str,
    item: Item,
    details: dict[str, object],
    location_id: int | None,
    slot: str | None,
) -> None:
    audit.record(
        session,
        actor=actor,
        action=AuditAction.ITEM_FOUND,
        object_type="item",
        object_id=item.id,
        details=details,
    )
    if location_id is not None:
        try:
            intake.move_envelope(
                session,
                actor=actor,
                envelope=item.envelope,
                location_id=location_id,
                slot=_text(slot, "slot", required=False, label="保管位置") or None,
            )
        except intake.IntakeError as error:
            raise StockCheckError(str(error)) from None
    session.refresh(item)


def confirm_lost(
    session: Session, *, actor: str, item: Item, circumstances: str | None, now: datetime
) -> LossReport:
    """「紛失として確定」 (records officer): 保管中 → 紛失, a loss report, every active
    investigation hold of the item released."""
    text = _text(circumstances, "reason", required=True, label="紛失の状況")
    hold = investigation_hold(session, item.id)
    if hold is None:
        raise StockCheckError(
            f"{item.control_no} は所在調査中ではありません。紛失を確定できるのは"
            "棚卸で所在不明となった通知物だけです"
        )
    move_item(session, item.id, ItemAction.CONFIRM_LOST, now=now)
    _release_investigation(session, item, actor=actor, reason="紛失として確定", now=now)
    report_id = next_id(session, LossReport)
    report = LossReport(
        id=report_id,
        report_no=loss_report_number(report_id),
        item_id=item.id,
        stock_check_id=hold.stock_check_id,
        circumstances=text,
        confirmed_by=actor,
        confirmed_at=now,
    )
    session.add(report)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=AuditAction.ITEM_LOST,
        object_type="item",
        object_id=item.id,
        details={
            "control_no": item.control_no,
            "report_no": report.report_no,
            "check_no": _check_no_of(session, hold.stock_check_id),
        },
    )
    session.refresh(item)
    return report


def record_loss_report_print(session: Session, *, actor: str, report: LossReport) -> None:
    audit.record(
        session,
        actor=actor,
        action=AuditAction.LOSS_REPORT_PRINT,
        object_type="item",
        object_id=report.item_id,
        details={"report_no": report.report_no},
    )


@dataclass(frozen=True)
class MissingItem:
    item: Item
    hold: Hold | None
    check_no: str | None
    report: LossReport | None


def missing_items(session: Session) -> list[MissingItem]:
    """Items under investigation (所在調査中) and items confirmed lost and not found again."""
    rows: list[MissingItem] = []
    holds = session.scalars(
        select(Hold)
        .where(Hold.kind == HoldKind.INVESTIGATION.value, Hold.released_at.is_(None))
        .options(selectinload(Hold.item).selectinload(Item.envelope))
        .order_by(Hold.placed_at, Hold.id)
    )
    for hold in holds:
        rows.append(MissingItem(hold.item, hold, _check_no_of(session, hold.stock_check_id), None))
    reports = session.scalars(
        select(LossReport)
        .join(Item, Item.id == LossReport.item_id)
        .where(LossReport.found_at.is_(None), Item.status == ItemStatus.LOST.value)
        .options(selectinload(LossReport.item).selectinload(Item.envelope))
        .order_by(LossReport.id)
    )
    for report in reports:
        rows.append(
            MissingItem(report.item, None, _check_no_of(session, report.stock_check_id), report)
        )
    return rows


# --- the schedule --------------------------------------------------------------------------


@dataclass(frozen=True)
class LocationSchedule:
    location: Location
    #: JST day the last whole-location check was signed off; None: never.
    last_signed_off: date | None
    last_check_no: str | None
    next_due: date
    overdue: bool


def schedule(session: Session, *, today: date, interval_months: int) -> list[LocationSchedule]:
    """Every active location with its last whole-location check and when the next is due."""
    checks = session.execute(
        select(StockCheck.location_id, StockCheck.check_no, StockCheck.signed_off_at)
        .where(
            StockCheck.status == StockCheckStatus.SIGNED_OFF.value,
            StockCheck.slot_from.is_(None),
            StockCheck.slot_to.is_(None),
        )
        .order_by(StockCheck.signed_off_at)
    ).all()
    last: dict[int, tuple[str, date]] = {}
    for location_id, check_no, signed_off_at in checks:
        if signed_off_at is not None:
            last[location_id] = (check_no, to_jst(signed_off_at).date())
    rows = []
    for location in session.scalars(
        select(Location).where(Location.active.is_(True)).order_by(Location.sort_order)
    ):
        previous = last.get(location.id)
        day = previous[1] if previous else None
        due = next_check_due(day, interval_months, today)
        rows.append(
            LocationSchedule(
                location, day, previous[0] if previous else None, due, is_overdue(due, today)
            )
        )
    return rows


def overdue(session: Session, *, today: date, interval_months: int) -> list[LocationSchedule]:
    return [
        row
        for row in schedule(session, today=today, interval_months=interval_months)
        if row.overdue
    ]


def exceptions(session: Session, check: StockCheck) -> Sequence[StockCheckEntry]:
    """Entries that are not simply found: missing, found elsewhere, unexpected (in that order)."""
    order = {
        StockCheckOutcome.MISSING.value: 0,
        StockCheckOutcome.FOUND_ELSEWHERE.value: 1,
        StockCheckOutcome.UNEXPECTED.value: 2,
    }
    entries = session.scalars(
        select(StockCheckEntry)
        .where(
            StockCheckEntry.check_id == check.id,
            StockCheckEntry.outcome.in_(list(order)),
        )
        .options(selectinload(StockCheckEntry.envelope))
    )
    return sorted(
        entries,
        key=lambda e: (order[e.outcome or ""], e.envelope.control_no if e.envelope else "~"),
    )


# --- documents -----------------------------------------------------------------------------


def slot_range_text(check: StockCheck) -> str:
    if not check.slot_from and not check.slot_to:
        return "全体"
    return f"{check.slot_from or '（最初）'} 〜 {check.slot_to or '（最後）'}"


def _place(session: Session, location_id: int | None, slot: str | None) -> str:
    location = session.get(Location, location_id) if location_id is not None else None
    name = location.name if location is not None else "—"
    return f"{name} {slot}" if slot else name


def record_document(session: Session, check: StockCheck, *, now: datetime) -> StockCheckRecord:
    """What the 棚卸記録 prints (names are display names)."""
    office = settings.load(session)
    total = counts(session, check)
    rows = []
    for entry in exceptions(session, check):
        envelope = entry.envelope
        outcome = StockCheckOutcome(entry.outcome or StockCheckOutcome.MISSING.value)
        note = ""
        if entry.moved_at is not None:
            note = "移動を記録済み"
        rows.append(
            StockCheckException(
                control_no=envelope.control_no if envelope else (entry.scanned_code or ""),
                tracking_no=envelope.tracking_no if envelope else "—",
                ledger_place=(
                    _place(session, entry.ledger_location_id, entry.ledger_slot)
                    if envelope is not None and entry.ledger_location_id is not None
                    else "—"
                ),
                outcome=str(outcome.label),
                note=note,
            )
        )
    return StockCheckRecord(
        check_no=check.check_no,
        municipality=office.municipality,
        office=office.office,
        location=check.location.name,
        slot_range=slot_range_text(check),
        status=str(StockCheckStatus(check.status).label),
        started_by=people.name_of(session, check.started_by),
        started_at=check.started_at,
        closed_by=people.name_of(session, check.closed_by) if check.closed_by else None,
        closed_at=check.closed_at,
        signed_off_by=people.name_of(session, check.signed_off_by) if check.signed_off_by else None,
        signed_off_at=check.signed_off_at,
        expected=total.expected,
        found=total.found,
        found_elsewhere=total.found_elsewhere,
        missing=total.missing,
        unexpected=total.unexpected,
        exceptions=rows,
        printed_at=now,
    )


def loss_document(session: Session, report: LossReport, *, now: datetime) -> LossReportData:
    """What the 紛失報告書 prints: the holder's name masked (family name + ○○)."""
    office = settings.load(session)
    item = report.item
    envelope = item.envelope
    return LossReportData(
        report_no=report.report_no,
        municipality=office.municipality,
        office=office.office,
        item_control_no=item.control_no,
        tracking_no=envelope.tracking_no,
        masked_name=mask_name(item.name),
        returned_on=envelope.returned_on,
        place=_place(session, envelope.location_id, envelope.slot),
        check_no=report.stock_check.check_no if report.stock_check else None,
        circumstances=report.circumstances,
        confirmed_by=people.name_of(session, report.confirmed_by),
        confirmed_at=report.confirmed_at,
        printed_at=now,
    )
