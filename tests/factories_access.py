"""Data for access request tests (開示請求, issue 16 item 3): one person with a record in every
section, through the services people use, each step committed in a session of its own.

鳴海 静香 (ナルミ シズカ, born 1984-07-09) has two items: her notification card in her
household's envelope (series 8, 2018), which was corrected, checked against the register,
held and released, talked about on the phone, and handed over to her with a driving licence;
and a notice in a second envelope (2021), on hold, with a pickup reservation. Her father's
card is in the first envelope too (never part of her disclosure).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

from flask import Flask
from sqlalchemy import select

from tests import factories
from tests.factories import NOW, TODAY, database_of
from tests.factories_contacts import contact
from tests.factories_remail import mailed
from tests.factories_reservations import SATURDAY, book, open_day
from tracker.db import Database
from tracker.domain.codes import (
    ContactKind,
    ItemKind,
    RecipientKind,
    RegisterOutcome,
    ReturnReason,
    Role,
)
from tracker.domain.identity import Evidence
from tracker.domain.records import EnvelopeFields
from tracker.domain.register import RegisterEntry
from tracker.models import Item, Location, Remailing
from tracker.services import access_requests, handover, holds, intake, register, remailing

NAME = "鳴海 静香"
KANA = "ナルミ シズカ"
TYPO = "鳴海 静番"
BORN = date(1984, 7, 9)
FATHER = "鳴海 一郎"
ADDRESS = "熊本市中央区水前寺6-18-1"
HOLD_REASON = "本人から来庁予約の電話"
NOTE = "平日夕方に折り返し希望"


@dataclass(frozen=True)
class Person:
    card: int
    notice: int
    father: int
    reservation: int


def person(target: Flask | Database) -> Person:
    """鳴海静香's two items with a record in every section but 支援措置; their ids."""
    card, father = factories.envelope(
        target,
        81,
        series=8,
        addressee=FATHER,
        address=ADDRESS,
        household_code="0088888",
        items=[
            factories.item(TYPO, KANA, birth_date=BORN, relationship="子"),
            factories.item(FATHER, "ナルミ イチロウ", birth_date=date(1950, 3, 3)),
        ],
    )
    [notice] = factories.envelope(
        target,
        82,
        series=8,
        returned_on=date(2021, 6, 1),
        addressee=NAME,
        address=ADDRESS,
        items=[factories.item(NAME, KANA, birth_date=BORN, kind=ItemKind.NUMBER_NOTICE)],
    )
    database = database_of(target)
    with database.session_scope() as session:
        item = session.get(Item, card)
        assert item is not None
        intake.edit_item(
            session,
            actor="officer",
            item=item,
            fields=replace(factories.item(NAME, KANA, birth_date=BORN, relationship="子")),
        )
        register.record(
            session,
            item=item,
            entry=RegisterEntry(RegisterOutcome.RESIDENT, None, None),
            checked_on=TODAY - timedelta(days=20),
            actor="officer",
            now=NOW - timedelta(days=20),
        )
        hold = holds.place(session, actor="officer", item=item, reason=HOLD_REASON, now=NOW)
        holds.release(session, actor="officer", hold=hold, reason="本人が来庁", now=NOW)
    contact(target, card, kind=ContactKind.PHONE, note=NOTE, actor="clerk")
    with database.session_scope() as session:
        handover.hand_over(
            session,
            actor="clerk",
            item_ids=[card],
            evidence=Evidence(recipient_kind=RecipientKind.SELF, documents=("drivers_license",)),
            now=NOW,
            today=TODAY,
        )
    with database.session_scope() as session:
        item = session.get(Item, notice)
        assert item is not None
        holds.place(session, actor="officer", item=item, reason=HOLD_REASON, now=NOW)
    slots = open_day(target)
    reservation = book(target, slots["9:00"], [notice], name=NAME, actor="clerk")
    return Person(card, notice, father, reservation)


def users(target: Flask | Database) -> None:
    """Two records officers (``officer`` and ``officer2``), a clerk ``clerk`` and an auditor."""
    factories.user(target, Role.RECORDS_OFFICER, "officer", display_name="記録 一郎")
    factories.user(target, Role.RECORDS_OFFICER, "officer2", display_name="記録 二郎")
    factories.user(target, Role.CLERK, "clerk", display_name="窓口 花子")
    factories.user(target, Role.AUDITOR, "auditor", display_name="監査 三郎")


def request(
    target: Flask | Database,
    item_ids: list[int],
    *,
    reference_no: str = "R8-開示-0001",
    actor: str = "officer",
) -> int:
    """An access request for ``item_ids`` through the service; its id."""
    with database_of(target).session_scope() as session:
        return access_requests.create(
            session,
            actor=actor,
            reference_no=reference_no,
            received_on="R8.11.20",
            item_ids=item_ids,
            now=NOW,
            today=TODAY,
        ).id


def move_house(target: Flask | Database, item_id: int, address: str) -> None:
    """A correction of the item's envelope's address (an ``item_revisions`` row with no item)."""
    with database_of(target).session_scope() as session:
        item = session.get(Item, item_id)
        assert item is not None
        envelope = item.envelope
        fields = EnvelopeFields(
            envelope.tracking_no,
            envelope.returned_on,
            ReturnReason(envelope.return_reason),
            envelope.addressee,
            address,
            envelope.household_code,
            "",
            envelope.slot,
        )
        intake.edit_envelope(session, actor="officer", envelope=envelope, fields=fields)


def remailed_and_back(target: Flask | Database, item_id: int) -> None:
    """The item re-mailed (to :data:`tests.factories_remail.FIELDS`' address) and returned:
    it is now in a new envelope; its first one is ``remailings.from_envelope_id``."""
    remailing_id = mailed(target, item_id, 41, mailed_on=TODAY - timedelta(days=5))
    database = database_of(target)
    with database.session_scope() as session:
        location = session.scalar(select(Location.id).where(Location.is_default.is_(True)))
        record = session.get(Remailing, remailing_id)
        assert location is not None and record is not None
        remailing.record_return(
            session,
            actor="clerk",
            remailing=record,
            returned_on=TODAY,
            return_reason=ReturnReason.ATESHO_NASHI,
            location_id=location,
            slot=None,
            now=NOW,
        )


__all__ = [
    "SATURDAY",
    "Person",
    "move_house",
    "person",
    "remailed_and_back",
    "request",
    "users",
]
