"""A stock check that closes between a clerk's checks and the clerk's write (issue 13 review).

Handover and re-mailing first check the card for a 所在調査中 hold (for a clear message), then
move it with one conditional update. The hold is part of that update too: these tests place
the hold *after* the first check — as a stock check closing at that moment would — by making
the first check see nothing, and the card must still not move.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests import factories
from tests.factories import NOW, TODAY
from tests.factories_remail import remail_no, requested
from tracker.db import Database
from tracker.domain.codes import HoldKind
from tracker.domain.identity import Evidence, RecipientKind
from tracker.models import AuditEvent, Hold, Item, Remailing
from tracker.services import handover, remailing
from tracker.services.transitions import Conflict

PASSPORT = Evidence(recipient_kind=RecipientKind.SELF, documents=("passport",))


def _hold_for_investigation(database: Database, item_id: int) -> None:
    with database.session_scope() as session:
        session.add(
            Hold(
                item_id=item_id,
                kind=HoldKind.INVESTIGATION.value,
                reason="棚卸 S000000001 で所在不明",
                placed_by="clerk2",
                placed_at=NOW,
            )
        )


def _status(database: Database, item_id: int) -> str:
    with database.session_scope() as session:
        item = session.get(Item, item_id)
        assert item is not None
        return item.status


def test_a_hold_placed_after_the_check_still_stops_the_handover(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    (item_id,) = factories.envelope(database, 1)
    _hold_for_investigation(database, item_id)
    monkeypatch.setattr(handover, "_refuse_under_investigation", lambda session, items: None)
    with (
        database.session_scope() as session,
        pytest.raises(handover.AlreadyHandedOver, match="所在調査中のため交付できません"),
    ):
        handover.hand_over(
            session, actor="clerk1", item_ids=[item_id], evidence=PASSPORT, now=NOW, today=TODAY
        )
    assert _status(database, item_id) == "in_custody"
    with database.session_scope() as session:
        assert (
            session.scalars(select(AuditEvent).where(AuditEvent.action == "handover.create")).all()
            == []
        )


def test_a_hold_placed_after_the_check_still_stops_the_re_mailing(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    (item_id,) = factories.envelope(database, 1)
    remailing_id = requested(database, item_id)
    _hold_for_investigation(database, item_id)
    monkeypatch.setattr(remailing, "_refuse_if_blocked", lambda session, item: None)
    with database.session_scope() as session:
        record = session.get(Remailing, remailing_id)
        assert record is not None
        with pytest.raises(Conflict, match="所在調査中のため、再送付できません"):
            remailing.mail(
                session,
                actor="clerk1",
                remailing=record,
                tracking_no=remail_no(1),
                mailed_on=TODAY,
                now=NOW,
                today=TODAY,
            )
        session.rollback()
    assert _status(database, item_id) == "in_custody"
    with database.session_scope() as session:
        record = session.get(Remailing, remailing_id)
        assert record is not None and record.status == "requested"
        assert record.tracking_no is None
