"""Returned notices (お知らせの返戻, issue 15) and the resident-register check list they feed.

A notice (お知らせ) that comes back undelivered is a ``notice_returned`` contact naming the
batch that mailed it, with one ``notice.return`` audit event per item (control number and
batch number, never a name). One at a time from the item page, or many at once from a pasted
list of control numbers: all or nothing, every bad line reported with its line number.

Such an item goes onto the 住基照合依頼一覧 until a register check dated on or after the
day the notice came back is recorded: the resident-records section checks whether the person
still lives at the address, and the office imports the answer with ``tracker register-check``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.clock import JST, to_jst
from tracker.domain.codes import AuditAction, ContactKind, ItemStatus, ObjectType
from tracker.domain.contacts import MAX_LINES, pasted_control_numbers
from tracker.domain.errors import InputError
from tracker.domain.wareki import format_wareki_with_iso
from tracker.models import Contact, Item, NoticeBatch
from tracker.models.lifecycle import RegisterResult
from tracker.services import audit
from tracker.services import contacts as contact_log


class ReturnError(InputError):
    """A returned notice that cannot be recorded; the message says why."""


@dataclass(frozen=True)
class LineError:
    """One refused line of the pasted list."""

    line: int
    value: str
    reason: str


class BulkRefused(InputError):
    """The pasted list has bad lines: nothing was written."""

    def __init__(self, errors: Sequence[LineError]) -> None:
        super().__init__(f"{len(errors)}行に誤りがあります")
        self.errors = list(errors)


def returned_moment(returned_on: date) -> datetime:
    """A return is a day, not a time: stored as the start of that day in Japan."""
    return datetime.combine(returned_on, time.min, tzinfo=JST)


def returned_day(contact: Contact) -> date:
    return to_jst(contact.occurred_at).date()


def mailed_batches(session: Session, item: Item) -> list[NoticeBatch]:
    """The notice batches that mailed this item, newest first."""
    return list(
        session.scalars(
            select(NoticeBatch)
            .join(Contact, Contact.notice_batch_id == NoticeBatch.id)
            .where(Contact.item_id == item.id, Contact.kind == ContactKind.NOTICE_MAIL.value)
            .distinct()
            .order_by(NoticeBatch.sent_on.desc(), NoticeBatch.id.desc())
        )
    )


def _returned_item_ids(session: Session, batch: NoticeBatch, item_ids: Sequence[int]) -> set[int]:
    if not item_ids:
        return set()
    return set(
        session.scalars(
            select(Contact.item_id).where(
                Contact.notice_batch_id == batch.id,
                Contact.kind == ContactKind.NOTICE_RETURNED.value,
                Contact.item_id.in_(list(item_ids)),
            )
        )
    )


def _mailed_item_ids(session: Session, batch: NoticeBatch, item_ids: Sequence[int]) -> set[int]:
    if not item_ids:
        return set()
    return {
        i
        for i in session.scalars(
            select(Contact.item_id).where(
                Contact.notice_batch_id == batch.id,
                Contact.kind == ContactKind.NOTICE_MAIL.value,
                Contact.item_id.in_(list(item_ids)),
            )
        )
        if i is not None
    }


def _lock(session: Session, batch: NoticeBatch) -> None:
    """Returns of one batch are recorded one transaction at a time (the batch row is locked on
    PostgreSQL; SQLite writes one at a time anyway), so the "already recorded" check below sees
    a colleague's return that committed a moment ago: exactly one of two identical requests
    writes."""
    session.execute(select(NoticeBatch.id).where(NoticeBatch.id == batch.id).with_for_update())


def check_returned_on(returned_on: date, batch: NoticeBatch, today: date) -> date:
    """The day it came back: not in the future, not before the batch was mailed."""
    if returned_on > today:
        raise ReturnError(f"返戻日 {format_wareki_with_iso(returned_on)} は未来の日付です")
    if returned_on < batch.sent_on:
        raise ReturnError(
            f"返戻日 {format_wareki_with_iso(returned_on)} は発送日"
            f"（{format_wareki_with_iso(batch.sent_on)}）より前です"
        )
    return returned_on


def _write(
    session: Session,
    *,
    actor: str,
    item: Item,
    batch: NoticeBatch,
    returned_on: date,
    now: datetime,
) -> Contact:
    contact = contact_log.record(
        session,
        actor=actor,
        envelope=item.envelope,
        item=item,
        kind=ContactKind.NOTICE_RETURNED,
        occurred_at=returned_moment(returned_on),
        note=None,
        now=now,
        notice_batch_id=batch.id,
        audited=False,  # one notice.return event says it all
    )
    audit.record(
        session,
        actor=actor,
        action=AuditAction.NOTICE_RETURN,
        object_type=ObjectType.ITEM.value,
        object_id=item.id,
        details={
            "control_no": item.control_no,
            "batch_no": batch.batch_no,
            "returned_on": returned_on.isoformat(),
            "contact": contact.id,
        },
    )
    return contact


def record_return(
    session: Session,
    *,
    actor: str,
    item: Item,
    batch: NoticeBatch,
    returned_on: date,
    today: date,
    now: datetime,
) -> Contact:
    """One notice of ``batch`` to ``item`` came back on ``returned_on``."""
    check_returned_on(returned_on, batch, today)
    _lock(session, batch)
    if item.id not in _mailed_item_ids(session, batch, [item.id]):
        raise ReturnError(f"発送番号 {batch.batch_no} のお知らせはこの通知物に送っていません")
    if item.id in _returned_item_ids(session, batch, [item.id]):
        raise ReturnError(f"発送番号 {batch.batch_no} のお知らせの返戻は記録済みです")
    return _write(session, actor=actor, item=item, batch=batch, returned_on=returned_on, now=now)


def find_batch(session: Session, batch_no: str) -> NoticeBatch | None:
    text = (batch_no or "").strip().upper()
    return session.scalar(select(NoticeBatch).where(NoticeBatch.batch_no == text))


def record_returns(
    session: Session,
    *,
    actor: str,
    batch: NoticeBatch,
    returned_on: date,
    pasted: str,
    today: date,
    now: datetime,
) -> int:
    """Every control number pasted (one per line) came back from ``batch`` on ``returned_on``.

    All or nothing: any bad line raises :class:`BulkRefused` listing every bad line (line
    number, value, reason) and nothing is written. Returns how many were recorded.
    """
    check_returned_on(returned_on, batch, today)
    _lock(session, batch)
    lines = pasted_control_numbers(pasted)
    if not lines:
        raise ReturnError("管理番号を1行に1件ずつ入力してください")
    if len(lines) > MAX_LINES:
        raise ReturnError(f"一度に入力できるのは{MAX_LINES}行までです（{len(lines)}行）")
    numbers = [line.control_no for line in lines if line.control_no is not None]
    items = {
        item.control_no: item
        for item in session.scalars(select(Item).where(Item.control_no.in_(numbers)))
    }
    ids = [item.id for item in items.values()]
    mailed = _mailed_item_ids(session, batch, ids)
    returned = _returned_item_ids(session, batch, ids)
    errors: list[LineError] = []
    seen: dict[str, int] = {}
    for line in lines:
        reason = None
        item = items.get(line.control_no) if line.control_no is not None else None
        if line.control_no is None:
            reason = "通知物の管理番号（例: E000000123-1）ではありません"
        elif item is None:
            reason = "この管理番号の通知物はありません"
        elif line.control_no in seen:
            reason = f"{seen[line.control_no]}行目と同じ管理番号です"
        elif item.id not in mailed:
            reason = f"発送番号 {batch.batch_no} のお知らせの対象ではありません"
        elif item.id in returned:
            reason = f"発送番号 {batch.batch_no} のお知らせの返戻は記録済みです"
        if line.control_no is not None and line.control_no not in seen:
            seen[line.control_no] = line.line
        if reason is not None:
            errors.append(LineError(line.line, line.value, reason))
    if errors:
        raise BulkRefused(errors)
    for line in lines:
        assert line.control_no is not None
        _write(
            session,
            actor=actor,
            item=items[line.control_no],
            batch=batch,
            returned_on=returned_on,
            now=now,
        )
    return len(lines)


# --- 住基照合依頼一覧 ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestRow:
    item_id: int
    control_no: str
    name: str
    name_kana: str
    birth_date: date
    batch_no: str
    returned_on: date


def register_requests(session: Session) -> list[RequestRow]:
    """Items in custody whose notice came back and whose register has not been checked on or
    after that day (the latest return of each item counts), by envelope and position."""
    rows = session.execute(
        select(Contact, Item, NoticeBatch)
        .join(Item, Item.id == Contact.item_id)
        .join(NoticeBatch, NoticeBatch.id == Contact.notice_batch_id)
        .where(
            Contact.kind == ContactKind.NOTICE_RETURNED.value,
            Item.status == ItemStatus.IN_CUSTODY.value,
        )
        .order_by(Contact.occurred_at, Contact.id)
    ).all()
    latest: dict[int, tuple[Contact, Item, NoticeBatch]] = {}
    for contact, item, batch in rows:  # ascending: the last one per item wins
        latest[item.id] = (contact, item, batch)
    checked: dict[int, date] = {
        item_id: checked_on
        for item_id, checked_on in session.execute(
            select(RegisterResult.item_id, RegisterResult.checked_on).where(
                RegisterResult.item_id.in_(list(latest))
            )
        )
    }
    found: list[tuple[int, int, RequestRow]] = []
    for item_id, (contact, item, batch) in latest.items():
        returned_on = returned_day(contact)
        checked_on = checked.get(item_id)
        if checked_on is not None and checked_on >= returned_on:
            continue
        found.append(
            (
                item.envelope_id,
                item.position,
                RequestRow(
                    item_id=item.id,
                    control_no=item.control_no,
                    name=item.name,
                    name_kana=item.name_kana,
                    birth_date=item.birth_date,
                    batch_no=batch.batch_no,
                    returned_on=returned_on,
                ),
            )
        )
    return [row for _envelope, _position, row in sorted(found, key=lambda f: f[:2])]
