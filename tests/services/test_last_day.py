"""The last day at the counter (issue 13 part 6), on SQLite and PostgreSQL: a batch is not
approved before its as-of date; a records officer takes one card out of an approved batch with
a reason, the card can then be handed over, execution never destroys it, and the certificate
lists it under 除外 with the reason and the officer's name."""

from __future__ import annotations

import json
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests import factories
from tests.factories import NOW, TODAY
from tests.factories_life import control_nos, exclude
from tests.services.test_disposal import EXECUTION
from tests.services.test_transitions import race
from tracker.db import Database
from tracker.domain.codes import AuditAction, Role
from tracker.domain.identity import Evidence, RecipientKind
from tracker.models import AuditEvent, DisposalBatch, DisposalBatchItem, Item
from tracker.services import certificates, disposal, handover
from tracker.services.transitions import Conflict

PASSPORT = Evidence(recipient_kind=RecipientKind.SELF, documents=("passport",))


def _batch(database: Database, batch_id: int) -> DisposalBatch:
    with database.session_scope() as session:
        batch = session.get(DisposalBatch, batch_id)
        assert batch is not None
        session.expunge(batch)
        return batch


def _approvals(database: Database) -> int:
    with database.session_scope() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == AuditAction.DISPOSAL_APPROVE.value)
            )
            or 0
        )


# --- approval not before the as-of date ----------------------------------------------------


def test_a_batch_is_not_approved_before_its_as_of_date(database: Database) -> None:
    tomorrow = TODAY + timedelta(days=1)
    batch_id = factories.batch(database, 1, as_of=tomorrow)
    with database.session_scope() as session:
        batch = session.get(DisposalBatch, batch_id)
        with pytest.raises(disposal.DisposalError) as refused:
            disposal.approve(session, actor="officer2", batch=batch, now=NOW, today=TODAY)
    message = str(refused.value)
    assert "基準日は 令和8年11月28日 です" in message  # the batch's as-of date, in 和暦
    assert "本日 令和8年11月27日" in message  # and today's
    assert _batch(database, batch_id).status == "created"
    assert _approvals(database) == 0
    # On the as-of day itself it is allowed.
    with database.session_scope() as session:
        batch = session.get(DisposalBatch, batch_id)
        disposal.approve(session, actor="officer2", batch=batch, now=NOW, today=tomorrow)
    assert _batch(database, batch_id).status == "approved"


def test_today_defaults_to_the_japanese_date_of_now(database: Database) -> None:
    """23:30 UTC on the 27th is already the 28th in Japan: a batch as of the 28th may go."""
    late = NOW.replace(hour=23, minute=30)
    batch_id = factories.batch(database, 1, as_of=TODAY + timedelta(days=1))
    with database.session_scope() as session:
        batch = session.get(DisposalBatch, batch_id)
        disposal.approve(session, actor="officer2", batch=batch, now=late)
    assert _batch(database, batch_id).status == "approved"


# --- taking one card out -----------------------------------------------------------------


def test_exclude_then_hand_over_then_execute(database: Database, tmp_path: Path) -> None:
    factories.user(database, Role.RECORDS_OFFICER, "officer3", display_name="記録 三郎")
    batch_id = factories.batch(database, 3, approved_by="officer2")
    first, second, third = control_nos(database, batch_id)
    certificate_no = _batch(database, batch_id).certificate_no
    with database.session_scope() as session:
        item_id = session.scalar(select(Item.id).where(Item.control_no == second))
    assert item_id is not None
    # Frozen: the counter cannot hand it over.
    with database.session_scope() as session, pytest.raises(handover.AlreadyHandedOver) as no:
        handover.hand_over(
            session, actor="c", item_ids=[item_id], evidence=PASSPORT, now=NOW, today=TODAY
        )
    assert "承認済みの廃棄処理" in str(no.value)

    exclude(database, batch_id, second, reason="本人から本日来庁の連絡あり")
    with database.session_scope() as session:
        entry = session.get(DisposalBatchItem, (batch_id, item_id))
        assert entry is not None
        assert (entry.outcome, entry.skip_reason) == ("excluded", "本人から本日来庁の連絡あり")
        assert (entry.excluded_by, entry.excluded_at) == ("officer3", NOW)
        event = session.scalar(
            select(AuditEvent).where(AuditEvent.action == AuditAction.DISPOSAL_EXCLUDE.value)
        )
        assert event is not None and event.actor == "officer3"
        assert json.loads(event.details) == {
            "certificate_no": certificate_no,
            "control_no": second,
        }
    # Now the same card can be handed over.
    with database.session_scope() as session:
        done = handover.hand_over(
            session, actor="c", item_ids=[item_id], evidence=PASSPORT, now=NOW, today=TODAY
        )
        assert done.receipt_no
    with database.session_scope() as session:
        batch = session.get(DisposalBatch, batch_id)
        disposal.execute(
            session, actor="officer2", batch=batch, execution=EXECUTION, now=NOW, today=TODAY
        )
    with database.session_scope() as session:
        outcomes = dict(
            session.execute(
                select(DisposalBatchItem.control_no, DisposalBatchItem.outcome).where(
                    DisposalBatchItem.batch_id == batch_id
                )
            ).all()
        )
        assert outcomes == {first: "destroyed", second: "excluded", third: "destroyed"}
        assert session.get(Item, item_id).status == "handed_over"  # type: ignore[union-attr]
        batch = session.get(DisposalBatch, batch_id)
        pdf = disposal.certificate_pdf(session, batch)
    path = tmp_path / "certificate.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    section = text[text.index("除外（執行前に") :]
    assert second in section and "本人から本日来庁の連絡あり" in section
    assert "記録 三郎" in section and "officer3" not in text
    assert first not in section and third not in section
    assert "このほか執行前に除外 1件" in text
    assert "廃棄 2件" in text


def test_execution_never_destroys_an_excluded_card_still_in_custody(database: Database) -> None:
    batch_id = factories.batch(database, 2, approved_by="officer2")
    kept, gone = control_nos(database, batch_id)
    exclude(database, batch_id, kept, reason="返戻理由の確認中")
    with database.session_scope() as session:
        batch = session.get(DisposalBatch, batch_id)
        assert disposal.preview(session, batch).destroy == 1
        disposal.execute(
            session, actor="officer2", batch=batch, execution=EXECUTION, now=NOW, today=TODAY
        )
    with database.session_scope() as session:
        statuses = dict(session.execute(select(Item.control_no, Item.status)).all())
        assert statuses == {kept: "in_custody", gone: "destroyed"}
        batch = session.get(DisposalBatch, batch_id)
        issuer = json.loads(batch.certificate_issuer or "{}")
        assert issuer["excluders"] == {"officer3": "officer3"}  # no such user: the login


def test_a_certificate_without_exclusions_keeps_its_issuer_as_before(database: Database) -> None:
    batch_id = factories.batch(database, 1, approved_by="officer2", executed=EXECUTION)
    with database.session_scope() as session:
        batch = session.get(DisposalBatch, batch_id)
        stored = json.loads(batch.certificate_issuer or "{}")
        assert "excluders" not in stored
        assert certificates.Issuer.from_json(batch.certificate_issuer or "").excluders == {}


def test_a_card_can_be_taken_out_of_a_created_batch_too(database: Database) -> None:
    batch_id = factories.batch(database, 1)
    (only,) = control_nos(database, batch_id)
    exclude(database, batch_id, only)
    with database.session_scope() as session:
        assert session.scalar(select(DisposalBatchItem.outcome)) == "excluded"


@pytest.mark.parametrize(
    ("control_no", "reason", "expected"),
    [
        (None, "", "除外の理由"),
        (None, "1234 5678 9018 を確認", "個人番号"),
        ("E999999999-9", "来庁予定", "含まれていません"),
        ("", "来庁予定", "管理番号を入力してください"),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(
    database: Database, control_no: str | None, reason: str, expected: str
) -> None:
    batch_id = factories.batch(database, 1, approved_by="officer2")
    (only,) = control_nos(database, batch_id)
    with database.session_scope() as session:
        events = session.scalar(select(func.count()).select_from(AuditEvent))
        batch = session.get(DisposalBatch, batch_id)
        with pytest.raises(disposal.DisposalError) as refused:
            disposal.exclude_item(
                session,
                actor="officer3",
                batch=batch,
                control_no=only if control_no is None else control_no,
                reason=reason,
                now=NOW,
            )
        assert expected in str(refused.value)
        session.rollback()
    with database.session_scope() as session:
        assert session.scalar(select(DisposalBatchItem.outcome)) == "pending"
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == events


def test_twice_is_a_conflict_naming_who_and_an_executed_batch_is_closed(
    database: Database,
) -> None:
    factories.user(database, Role.RECORDS_OFFICER, "officer3", display_name="記録 三郎")
    batch_id = factories.batch(database, 2, approved_by="officer2")
    first, second = control_nos(database, batch_id)
    exclude(database, batch_id, first)
    with pytest.raises(Conflict) as twice:
        exclude(database, batch_id, first, actor="officer4")
    assert "既に廃棄処理" in str(twice.value) and "記録 三郎" in str(twice.value)
    with database.session_scope() as session:
        batch = session.get(DisposalBatch, batch_id)
        disposal.execute(
            session, actor="officer2", batch=batch, execution=EXECUTION, now=NOW, today=TODAY
        )
    with pytest.raises(Conflict) as late:
        exclude(database, batch_id, second)
    assert "既に廃棄が記録されています" in str(late.value)


def test_two_officers_at_once_one_wins(postgres_url: str) -> None:
    database = Database(postgres_url)
    try:
        batch_id = factories.batch(database, 1, approved_by="officer2")
        (only,) = control_nos(database, batch_id)

        def step(actor: str):  # type: ignore[no-untyped-def]
            def run(session):  # type: ignore[no-untyped-def]
                batch = session.get(DisposalBatch, batch_id)
                disposal.exclude_item(
                    session, actor=actor, batch=batch, control_no=only, reason="来庁", now=NOW
                )

            return run

        outcomes = race(database, [step("officer3"), step("officer4")])
        assert sorted(o.split(":")[0] for o in outcomes) == ["conflict", "ok"], outcomes
        with database.session_scope() as session:
            excluded = session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == AuditAction.DISPOSAL_EXCLUDE.value)
            )
            assert excluded == 1
    finally:
        database.dispose()


def test_an_exclusion_racing_the_execution_never_loses_the_card(postgres_url: str) -> None:
    """Either the card is excluded (and not destroyed) or the exclusion is refused."""
    database = Database(postgres_url)
    try:
        batch_id = factories.batch(database, 1, approved_by="officer2")
        (only,) = control_nos(database, batch_id)

        def take_out(session):  # type: ignore[no-untyped-def]
            batch = session.get(DisposalBatch, batch_id)
            disposal.exclude_item(
                session, actor="officer3", batch=batch, control_no=only, reason="来庁", now=NOW
            )

        def execute(session):  # type: ignore[no-untyped-def]
            batch = session.get(DisposalBatch, batch_id)
            disposal.execute(
                session, actor="officer2", batch=batch, execution=EXECUTION, now=NOW, today=TODAY
            )

        outcomes = race(database, [take_out, execute])
        assert all(not o.startswith("error") for o in outcomes), outcomes
        with database.session_scope() as session:
            outcome = session.scalar(select(DisposalBatchItem.outcome))
            status = session.scalar(select(Item.status))
        assert (outcome, status) in {("excluded", "in_custody"), ("destroyed", "destroyed")}
    finally:
        database.dispose()
