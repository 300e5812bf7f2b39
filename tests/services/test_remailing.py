"""再送付 (issue 13): request, mail, return as a new envelope, close after N days; refusals.
On SQLite and PostgreSQL; the race of two clerks receiving the same return on PostgreSQL."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import select, text

from tests import factories
from tests.factories import NOW, TODAY
from tests.factories_remail import FIELDS, mailed, mailed_days_ago, remail_no, requested
from tracker.db import Database
from tracker.domain.codes import HoldKind, ReturnReason, Role
from tracker.domain.identity import Evidence, RecipientKind
from tracker.models import AuditEvent, Envelope, Hold, Item, Location, Remailing
from tracker.services import auditlog, handover, remailing
from tracker.services.transitions import Conflict


def card(database: Database, n: int = 1) -> int:
    return factories.envelope(database, n)[0]


def state(database: Database, item_id: int) -> tuple[str, str, str]:
    """(status, control number, the control number of the envelope that holds it)."""
    with database.session_scope() as session:
        item = session.get(Item, item_id)
        assert item is not None
        return item.status, item.control_no, item.envelope.control_no


def default_location(database: Database) -> int:
    with database.session_scope() as session:
        found = session.scalar(select(Location.id).where(Location.is_default.is_(True)))
        assert found is not None
        return found


def receive(database: Database, remailing_id: int, *, on: date = TODAY, actor: str = "clerk2"):  # type: ignore[no-untyped-def]
    location = default_location(database)
    with database.session_scope() as session:
        record = session.get(Remailing, remailing_id)
        assert record is not None
        envelope = remailing.record_return(
            session,
            actor=actor,
            remailing=record,
            returned_on=on,
            return_reason=ReturnReason.ATESHO_NASHI,
            location_id=location,
            slot="R-01",
            now=NOW,
        )
        return envelope.control_no


def test_remail_then_return_brings_the_card_back_in_a_new_envelope(database: Database) -> None:
    item_id = card(database)
    _, control_no, first_envelope = state(database, item_id)
    remailing_id = mailed(database, item_id, mailed_on=TODAY - timedelta(days=5))
    assert state(database, item_id) == ("remailed", control_no, first_envelope)

    with database.session_scope() as session:
        found = remailing.find_mailed(session, remail_no(1))
        assert found is not None and found.id == remailing_id
    new_envelope = receive(database, remailing_id)

    assert new_envelope != first_envelope
    assert state(database, item_id) == ("in_custody", control_no, new_envelope)
    with database.session_scope() as session:
        envelope = session.scalar(select(Envelope).where(Envelope.control_no == new_envelope))
        assert envelope is not None
        assert envelope.tracking_no == remail_no(1)
        assert envelope.returned_on == TODAY
        assert envelope.address == FIELDS.address
        record = session.get(Remailing, remailing_id)
        assert record is not None and record.status == "returned"
        assert record.return_envelope_id == envelope.id
        # the item's history has both returns and the re-mailing between them
        item = session.get(Item, item_id)
        assert item is not None
        actions = [e.action for e in auditlog.history(session, item)]
    assert actions.index("envelope.intake") < actions.index("remail.request")
    assert actions.index("remail.mail") < actions.index("remail.return")


def test_a_remailed_card_cannot_be_handed_over(database: Database) -> None:
    item_id = card(database)
    mailed(database, item_id)
    with database.session_scope() as session, pytest.raises(handover.AlreadyHandedOver) as refused:
        handover.hand_over(
            session,
            actor="clerk1",
            item_ids=[item_id],
            evidence=Evidence(recipient_kind=RecipientKind.SELF, documents=("passport",)),
            now=NOW,
            today=TODAY,
        )
    assert "再送付中" in str(refused.value)
    assert "交付できるのは保管中の通知物だけです" in str(refused.value)


def test_refusals_say_why_and_write_nothing(database: Database) -> None:
    item_id = card(database)
    other = card(database, 2)
    mailed(database, other, 1)
    remailing_id = requested(database, item_id)
    with database.session_scope() as session:
        record = session.get(Remailing, remailing_id)
        assert record is not None
        # an envelope's number, another re-mailing's number, garbage
        with pytest.raises(remailing.RemailError, match="返戻郵便（管理番号 E"):
            remailing.check_new_tracking_no(session, factories.tracking_no(1, 3))
        with pytest.raises(remailing.RemailError, match="別の再送付"):
            remailing.check_new_tracking_no(session, remail_no(1))
        with pytest.raises(remailing.RemailError, match="数字以外"):
            remailing.check_new_tracking_no(session, "12345-ABC")
        # a wrong check digit is a warning, not a refusal (SPEC §6.3)
        wrong = remail_no(5)[:-1] + str((int(remail_no(5)[-1]) + 1) % 10)
        assert remailing.check_new_tracking_no(session, wrong).warning is not None
        with pytest.raises(remailing.RemailError, match="未来"):
            remailing.mail(
                session,
                actor="clerk1",
                remailing=record,
                tracking_no=remail_no(2),
                mailed_on=TODAY + timedelta(days=1),
                now=NOW,
                today=TODAY,
            )
        # a second request for the same card
        item = session.get(Item, item_id)
        assert item is not None
        with pytest.raises(remailing.RemailError, match="既に再送付"):
            remailing.request(session, actor="clerk1", item=item, fields=FIELDS, now=NOW)
        # free text with an individual number
        with pytest.raises(remailing.RemailError, match="個人番号"):
            remailing.check_request("本人", "書面", "residence", "熊本市 123456789018")
        with pytest.raises(remailing.RemailError, match="送付先の種類"):
            remailing.check_request("本人", "書面", "moon", "熊本市")
    assert state(database, item_id)[0] == "in_custody"


def test_held_for_investigation_or_remailed_cards_are_refused(database: Database) -> None:
    item_id = card(database)
    with database.session_scope() as session:
        session.add(
            Hold(
                item_id=item_id,
                kind=HoldKind.INVESTIGATION.value,
                reason="棚卸で見つからない",
                placed_by="records-officer1",
                placed_at=NOW,
            )
        )
    with database.session_scope() as session:
        item = session.get(Item, item_id)
        assert item is not None
        with pytest.raises(remailing.RemailError, match="所在調査中"):
            remailing.request(session, actor="clerk1", item=item, fields=FIELDS, now=NOW)
    other = card(database, 2)
    mailed(database, other)
    with database.session_scope() as session:
        item = session.get(Item, other)
        assert item is not None
        with pytest.raises(remailing.RemailError, match="再送付中です"):
            remailing.request(session, actor="clerk1", item=item, fields=FIELDS, now=NOW)


def test_cancel_before_mailing_only(database: Database) -> None:
    item_id = card(database)
    remailing_id = requested(database, item_id)
    with database.session_scope() as session:
        record = session.get(Remailing, remailing_id)
        assert record is not None
        remailing.cancel(session, actor="clerk1", remailing=record, reason="本人来庁", now=NOW)
    with database.session_scope() as session:
        record = session.get(Remailing, remailing_id)
        assert record is not None and record.status == "cancelled"
        with pytest.raises(Conflict, match="取消"):
            remailing.cancel(session, actor="clerk1", remailing=record, reason="再度", now=NOW)
    # a mailed one cannot be cancelled
    other = mailed(database, card(database, 2))
    with database.session_scope() as session:
        record = session.get(Remailing, other)
        assert record is not None
        with pytest.raises(Conflict, match="再送付中"):
            remailing.cancel(session, actor="clerk1", remailing=record, reason="誤り", now=NOW)


def test_close_remailed_closes_exactly_those_past_n_days_and_is_idempotent(
    database: Database,
) -> None:
    old = card(database, 1)
    edge = card(database, 2)
    recent = card(database, 3)
    mailed_days_ago(database, old, 1, 31)
    mailed_days_ago(database, edge, 2, 30)  # exactly 30 days: not yet "more than"
    mailed_days_ago(database, recent, 3, 2)
    with database.session_scope() as session:
        dry = remailing.close_due(session, actor="t", as_of=TODAY, days=30, now=NOW, dry_run=True)
        assert (dry.due, dry.closed) == (1, 0)
    with database.session_scope() as session:
        done = remailing.close_due(session, actor="t", as_of=TODAY, days=30, now=NOW)
    assert (done.due, done.closed) == (1, 1)
    assert [state(database, i)[0] for i in (old, edge, recent)] == [
        "redelivered",
        "remailed",
        "remailed",
    ]
    with database.session_scope() as session:
        again = remailing.close_due(session, actor="t", as_of=TODAY, days=30, now=NOW)
    assert again.closed == 0
    with database.session_scope() as session:
        later = remailing.close_due(
            session, actor="t", as_of=TODAY + timedelta(days=1), days=30, now=NOW
        )
    assert later.closed == 1
    assert state(database, edge)[0] == "redelivered"
    with database.session_scope() as session:
        closes = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "remail.close")
        ).all()
    assert len(closes) == 2


def test_mailing_rows_for_the_post_office(database: Database) -> None:
    first = card(database, 1)
    second = card(database, 2)
    mailed(database, first, 1, mailed_on=TODAY)
    mailed(database, second, 2, mailed_on=TODAY - timedelta(days=1))
    with database.session_scope() as session:
        rows = remailing.mailing_rows(session, TODAY)
    assert [(r.number, r.tracking_no, r.addressee) for r in rows] == [
        (1, remail_no(1), "山田 太郎")
    ]


def test_two_clerks_receiving_the_same_return_make_one(postgres_url: str) -> None:
    database = Database(postgres_url, pool_size=4)
    item_id = card(database)
    remailing_id = mailed(database, item_id)
    location = default_location(database)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def clerk(name: str) -> None:
        session = database.new_session()
        try:
            session.execute(text("SELECT 1"))
            record = session.get(Remailing, remailing_id)
            assert record is not None
            barrier.wait(timeout=30)
            remailing.record_return(
                session,
                actor=name,
                remailing=record,
                returned_on=TODAY,
                return_reason=ReturnReason.OTHER,
                location_id=location,
                slot=None,
                now=NOW,
            )
            session.commit()
            outcomes.append("ok")
        except Conflict:
            session.rollback()
            outcomes.append("conflict")
        finally:
            session.close()

    threads = [threading.Thread(target=clerk, args=(f"clerk{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    with database.session_scope() as session:
        envelopes = session.scalars(
            select(Envelope).where(Envelope.tracking_no == remail_no(1))
        ).all()
        returns = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "remail.return")
        ).all()
    database.dispose()
    assert sorted(outcomes) == ["conflict", "ok"]
    assert len(envelopes) == 1 and len(returns) == 1


def test_the_mailing_date_cannot_be_before_the_request(database: Database) -> None:
    remailing_id = requested(database, card(database))  # requested on TODAY (JST)
    with database.session_scope() as session:
        record = session.get(Remailing, remailing_id)
        assert record is not None
        with pytest.raises(remailing.RemailError, match="依頼日"):
            remailing.mail(
                session,
                actor="clerk1",
                remailing=record,
                tracking_no=remail_no(1),
                mailed_on=TODAY - timedelta(days=1),
                now=NOW,
                today=TODAY,
            )


def test_two_clerks_requesting_at_once_make_one_request(postgres_url: str) -> None:
    database = Database(postgres_url, pool_size=4)
    item_id = card(database)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def clerk(name: str) -> None:
        session = database.new_session()
        try:
            item = session.get(Item, item_id)
            assert item is not None
            barrier.wait(timeout=30)
            remailing.request(session, actor=name, item=item, fields=FIELDS, now=NOW)
            session.commit()
            outcomes.append("ok")
        except remailing.RemailError as refused:
            session.rollback()
            outcomes.append(str(refused))
        finally:
            session.close()

    threads = [threading.Thread(target=clerk, args=(f"clerk{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    with database.session_scope() as session:
        requests = session.scalars(select(Remailing).where(Remailing.item_id == item_id)).all()
        audited = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "remail.request")
        ).all()
    database.dispose()
    assert len(requests) == 1 and len(audited) == 1
    assert sorted(outcomes) == [
        "ok",
        "この通知物には既に再送付（依頼受付）があります。取り消すか、完了してから依頼してください",
    ]


def test_already_mailed_says_the_mailing_date_and_who_mailed_it(database: Database) -> None:
    factories.user(database, Role.CLERK, "clerk2", display_name="郵送 担当")
    item_id = card(database)
    remailing_id = requested(database, item_id, now=NOW - timedelta(days=10))  # 11月17日
    with database.session_scope() as session:
        record = session.get(Remailing, remailing_id)
        assert record is not None
        remailing.mail(
            session,
            actor="clerk2",
            remailing=record,
            tracking_no=remail_no(1),
            mailed_on=TODAY - timedelta(days=3),
            now=NOW,
            today=TODAY,
        )
    with database.session_scope() as session:
        record = session.get(Remailing, remailing_id)
        assert record is not None
        with pytest.raises(Conflict) as refused:
            remailing.cancel(session, actor="clerk1", remailing=record, reason="誤り", now=NOW)
    message = str(refused.value)
    assert "既に「再送付中」" in message
    assert "令和8年11月24日郵送、郵送 担当" in message
    assert "11月17日" not in message  # not the time of the request
