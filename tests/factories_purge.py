"""Test data for the retention of the tracker's own records (issue 16 part 2): items closed on
a given day with the records a purge replaces (a corrected name, a hold, a contact, a
reservation, a handover to a household member), and open items with the same.

Like :mod:`tests.factories`: dates and times are passed in, every change goes through a
service and commits in a session of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from tests import factories
from tests.factories_contacts import contact
from tests.factories_reservations import book, open_day
from tracker.clock import JST
from tracker.db import Database
from tracker.domain.codes import ItemStatus
from tracker.domain.identity import Evidence, RecipientKind
from tracker.domain.records import ItemFields
from tracker.models import Handover, HandoverItem, Item, PickupDay, PickupSlot
from tracker.services import handover, holds, intake, purge, voids

#: Helper series of tracking numbers (see :func:`tests.factories.tracking_no`).
SERIES = 8
RECIPIENT = "受取 代理子"
#: The last four characters of the recipient's passport number, written on the handover.
LAST4 = "8642"
HOLD_REASON = "家族から連絡待ち"
CONTACT_NOTE = "本人から電話あり"
RESERVATION_NOTE = "午後に来庁予定"
VOID_REASON = "別人に交付したため取消"


def at(day: date, hour: int = 12) -> datetime:
    """``hour`` o'clock in Japan on ``day``, as UTC."""
    return datetime.combine(day, time(hour), JST).astimezone(UTC)


@dataclass(frozen=True)
class Person:
    """One item with its records; ``name`` is the corrected (current) name."""

    item_id: int
    envelope_id: int
    name: str
    birth_date: date


def person(database: Database, n: int, *, on: date, name: str | None = None) -> Person:
    """An envelope with one item logged the day before ``on``, its name corrected once (a
    revision), a hold placed and released, a contact, and a reservation for ``on`` − 2
    (in its slot at 9:00). The item is still in custody."""
    name = name or f"消去 対象{n}"
    kana = f"ショウキョ タイショウ{n}"
    born = date(1960, 1, 1) + timedelta(days=n)
    logged = at(on - timedelta(days=10))
    (item_id,) = factories.envelope(
        database,
        n,
        series=SERIES,
        addressee=f"世帯主 {n}",
        address=f"熊本市中央区手取本町{n}番",
        household_code=f"H{n:05d}",
        items=[factories.item(f"誤記 {n}", kana, birth_date=born, relationship="子")],
        now=logged,
    )
    with database.session_scope() as session:
        item = session.get(Item, item_id)
        assert item is not None
        envelope_id = item.envelope_id
        fields = factories.item(name, kana, birth_date=born, relationship="子")
        intake.edit_item(
            session,
            actor="officer",
            item=item,
            fields=ItemFields(
                fields.name,
                fields.name_kana,
                fields.name_key,
                fields.kana_key,
                fields.birth_date,
                fields.relationship,
                fields.kind,
                alias=f"別名{n}",
                alias_key=f"別名{n}",
            ),
        )
        hold = holds.place(session, actor="officer", item=item, reason=HOLD_REASON, now=logged)
        holds.release(session, actor="officer", hold=hold, reason="連絡あり", now=logged)
    contact(database, item_id, note=CONTACT_NOTE, occurred_at=logged, now=logged)
    day = on - timedelta(days=2)
    with database.session_scope() as session:
        slot = session.scalar(
            select(PickupSlot.id)
            .join(PickupDay, PickupSlot.day_id == PickupDay.id)
            .where(PickupDay.day == day, PickupSlot.starts_at == time(9))
        )
    book(
        database,
        slot if slot is not None else open_day(database, day)["9:00"],
        [item_id],
        name=name,
        note=RESERVATION_NOTE,
        now=logged,
        today=day - timedelta(days=1),
    )
    return Person(item_id, envelope_id, name, born)


def hand_over(database: Database, who: Person, *, on: date) -> int:
    """Hand ``who``'s item to a household member (:data:`RECIPIENT`, passport ending in
    :data:`LAST4`) on ``on``; the handover."""
    with database.session_scope() as session:
        made = handover.hand_over(
            session,
            actor="clerk",
            item_ids=[who.item_id],
            evidence=Evidence(
                recipient_kind=RecipientKind.HOUSEHOLD,
                recipient_name=RECIPIENT,
                documents=("passport",),
                document_last4={"passport": LAST4},
            ),
            now=at(on),
            today=on,
        )
        return made.id


def status_of(database: Database, item_id: int) -> str:
    with database.session_scope() as session:
        status = session.scalar(select(Item.status).where(Item.id == item_id))
        assert status is not None
        return status


def closed(database: Database, n: int, *, on: date) -> Person:
    """:func:`person` whose item was handed over on ``on``."""
    who = person(database, n, on=on)
    hand_over(database, who, on=on)
    assert status_of(database, who.item_id) == ItemStatus.HANDED_OVER.value
    return who


def purged_then_voided(database: Database, n: int) -> Person:
    """:func:`closed` on 2020-06-01, purged as of 2026-01-01 (its values are placeholders),
    then its handover voided on 2026-01-02: the item is in custody again, still marked
    pseudonymised."""
    handed = date(2020, 6, 1)
    who = closed(database, n, on=handed)
    as_of = date(2026, 1, 1)
    with database.session_scope() as session:
        purge.run(session, actor="cli:t", as_of=as_of, now=at(as_of))
    with database.session_scope() as session:
        made = session.scalar(
            select(Handover).join(HandoverItem).where(HandoverItem.item_id == who.item_id)
        )
        assert made is not None
        voids.void(
            session, actor="officer", handover=made, reason=VOID_REASON, now=at(date(2026, 1, 2))
        )
    assert status_of(database, who.item_id) == ItemStatus.IN_CUSTODY.value
    return who
