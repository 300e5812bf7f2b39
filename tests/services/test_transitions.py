"""Every batch transition happens exactly once (issue 10), under real concurrency.

Threads with their own PostgreSQL connections, released together by a barrier, call the real
service functions (SQLite serialises writers and would hide a race, so the many-way races run
on PostgreSQL; tests/web/test_transition_races.py repeats the execute race over HTTP against
two live servers). The loser of each race gets a :class:`Conflict` naming who got there first,
and writes nothing: no second audit event, no rewritten certificate.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from tests import factories
from tests.factories import NOW
from tests.services.test_disposal import EXECUTION
from tracker.cli import main
from tracker.db import Database
from tracker.domain.codes import ItemStatus, RuleKind
from tracker.domain.retention import RuleError, rule_from_fields
from tracker.models import (
    AuditEvent,
    DisposalBatch,
    DisposalBatchItem,
    Hold,
    Item,
    RetentionRule,
)
from tracker.services import audit, disposal, holds, retention
from tracker.services.transitions import Conflict

TODAY = EXECUTION.destroyed_on


def race(database: Database, steps: list[Callable[[Session], None]]) -> list[str]:
    """Run every step in its own thread and transaction at the same moment: "ok" for each
    commit, "conflict: <message>" for each :class:`Conflict`, "error: …" for anything else."""
    barrier = threading.Barrier(len(steps))
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(step: Callable[[Session], None]) -> None:
        session = database.new_session()
        try:
            if database.dialect == "postgresql":  # own connection, open before the start line
                session.execute(text("SELECT 1"))  # (on SQLite this would take the write lock)
            barrier.wait(timeout=60)
            step(session)
            session.commit()
            result = "ok"
        except Conflict as conflict:
            session.rollback()
            result = f"conflict: {conflict}"
        except Exception as error:  # noqa: BLE001 — any other outcome fails the test
            session.rollback()
            result = f"error: {type(error).__name__}: {error}"
        finally:
            session.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run, args=(step,)) for step in steps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def approve_as(actor: str, batch_id: int) -> Callable[[Session], None]:
    def step(session: Session) -> None:
        batch = session.get(DisposalBatch, batch_id)
        assert batch is not None
        disposal.approve(session, actor=actor, batch=batch, now=NOW)

    return step


def cancel_as(actor: str, batch_id: int, seen: str = "created") -> Callable[[Session], None]:
    """Cancel as an officer who saw the batch in the state ``seen`` (the form says so)."""

    def step(session: Session) -> None:
        batch = session.get(DisposalBatch, batch_id)
        assert batch is not None
        disposal.cancel(
            session, actor=actor, batch=batch, reason="基準日の誤り", now=NOW, seen=seen
        )

    return step


def execute_as(actor: str, batch_id: int) -> Callable[[Session], None]:
    def step(session: Session) -> None:
        batch = session.get(DisposalBatch, batch_id)
        assert batch is not None
        disposal.execute(
            session, actor=actor, batch=batch, execution=EXECUTION, now=NOW, today=TODAY
        )

    return step


def events(database: Database, action: str, batch_id: int) -> int:
    with database.read_session() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == action, AuditEvent.object_id == str(batch_id))
            )
            or 0
        )


def test_eight_simultaneous_executions_execute_once(postgres_url: str, tmp_path: Path) -> None:
    database = Database(postgres_url, pool_size=12, max_overflow=0)
    try:
        batch_id = factories.batch(database, 29)
        with database.session_scope() as session:
            approve_as("officer2", batch_id)(session)
        outcomes = race(database, [execute_as(f"officer{n}", batch_id) for n in range(2, 10)])
        assert outcomes.count("ok") == 1, outcomes
        conflicts = [o for o in outcomes if o.startswith("conflict: ")]
        assert len(conflicts) == 7, outcomes
        assert all("D000000001 は既に廃棄が記録されています（" in o for o in conflicts)
        assert events(database, "disposal.execute", batch_id) == 1
        with database.read_session() as session:
            batch = session.get(DisposalBatch, batch_id)
            assert batch is not None and batch.status == "executed"
            outcomes_by_item = dict(
                session.execute(
                    select(DisposalBatchItem.outcome, func.count())
                    .where(DisposalBatchItem.batch_id == batch_id)
                    .group_by(DisposalBatchItem.outcome)
                ).all()
            )
            assert outcomes_by_item == {"destroyed": 29}  # not rewritten to "skipped"
            destroyed = session.scalar(
                select(func.count())
                .select_from(Item)
                .where(Item.status == ItemStatus.DESTROYED.value)
            )
            assert destroyed == 29
            pdf = disposal.certificate_pdf(session, batch)
            from tracker.pdf.certificate import sha256_of

            assert sha256_of(pdf) == batch.certificate_sha256
            assert audit.verify_chain(session).ok
        certificate = tmp_path / "D000000001.pdf"
        certificate.write_bytes(pdf)
        verified = CliRunner().invoke(
            main,
            ["certificate-verify", str(certificate)],
            env={"TRACKER_DATABASE_URL": postgres_url},
        )
        assert verified.exit_code == 0, verified.output
        assert "D000000001" in verified.output
    finally:
        database.dispose()


def test_four_simultaneous_approvals_approve_once(postgres_url: str) -> None:
    database = Database(postgres_url, pool_size=8, max_overflow=0)
    try:
        batch_id = factories.batch(database, 2)
        outcomes = race(database, [approve_as(f"officer{n}", batch_id) for n in range(2, 6)])
        assert outcomes.count("ok") == 1, outcomes
        assert sum("は既に承認されています（" in o for o in outcomes) == 3, outcomes
        assert events(database, "disposal.approve", batch_id) == 1
    finally:
        database.dispose()


def test_approve_racing_cancel_ends_in_exactly_one_state(postgres_url: str) -> None:
    """20 rounds: the batch ends approved or cancelled, never both, and only the winner's
    event exists (an officer told 「取り消しました」 must not find the batch approved)."""
    database = Database(postgres_url, pool_size=6, max_overflow=0)
    winners = set()
    try:
        for _round in range(20):
            batch_id = factories.batch(database, 1) if _round == 0 else _new_batch(database)
            outcomes = race(
                database, [approve_as("officer2", batch_id), cancel_as("officer3", batch_id)]
            )
            assert outcomes.count("ok") == 1, outcomes
            assert len([o for o in outcomes if o.startswith("conflict: ")]) == 1, outcomes
            with database.read_session() as session:
                batch = session.get(DisposalBatch, batch_id)
                assert batch is not None
                winners.add(batch.status)
                approved = events(database, "disposal.approve", batch_id)
                cancelled = events(database, "disposal.cancel", batch_id)
                if batch.status == "approved":
                    assert (approved, cancelled) == (1, 0)
                    assert batch.cancelled_by is None and batch.cancel_reason is None
                else:
                    assert batch.status == "cancelled"
                    assert (approved, cancelled) == (0, 1)
                    assert batch.approved_by is None
                    disposal_cancelled = batch
                    assert disposal_cancelled.cancelled_by == "officer3"
        assert winners <= {"approved", "cancelled"}
    finally:
        database.dispose()


def _new_batch(database: Database) -> int:
    """Cancel whatever is open, then freeze the same eligible items into a new batch."""
    with database.session_scope() as session:
        for batch in session.scalars(
            select(DisposalBatch).where(DisposalBatch.status.in_(("created", "approved")))
        ):
            disposal.cancel(session, actor="officer9", batch=batch, reason="次の回", now=NOW)
        return disposal.create_batch(
            session, actor="officer1", as_of=EXECUTION.destroyed_on, now=NOW
        ).id


def test_two_officers_one_batch_on_either_database(database: Database) -> None:
    """The same exactly-once outcome on SQLite, where the writer lock serialises the two."""
    batch_id = factories.batch(database, 2)
    outcomes = race(database, [approve_as("officer2", batch_id), approve_as("officer3", batch_id)])
    assert sorted(o.split(":")[0] for o in outcomes) == ["conflict", "ok"], outcomes
    outcomes = race(database, [execute_as("officer2", batch_id), execute_as("officer3", batch_id)])
    assert sorted(o.split(":")[0] for o in outcomes) == ["conflict", "ok"], outcomes
    assert events(database, "disposal.approve", batch_id) == 1
    assert events(database, "disposal.execute", batch_id) == 1


def test_a_hold_is_placed_once_and_released_once(database: Database) -> None:
    [item_id] = factories.envelope(database, 4242)

    def place(actor: str) -> Callable[[Session], None]:
        def step(session: Session) -> None:
            item = session.get(Item, item_id)
            assert item is not None
            try:
                holds.place(session, actor=actor, item=item, reason="来所予約", now=NOW)
            except holds.HoldError as refusal:
                raise Conflict(str(refusal)) from None

        return step

    placed = race(database, [place("officer2"), place("officer3")])
    assert sorted(o.split(":")[0] for o in placed) == ["conflict", "ok"], placed
    assert any("既に保留中です" in o for o in placed)
    with database.read_session() as session:
        hold_id = session.scalar(select(Hold.id).where(Hold.item_id == item_id))
        assert hold_id is not None

    def release(actor: str) -> Callable[[Session], None]:
        def step(session: Session) -> None:
            hold = session.get(Hold, hold_id)
            assert hold is not None
            holds.release(session, actor=actor, hold=hold, reason="来所済み", now=NOW)

        return step

    released = race(database, [release("officer2"), release("officer3")])
    assert sorted(o.split(":")[0] for o in released) == ["conflict", "ok"], released
    assert any("この保留は既に解除されています（" in o for o in released)
    assert events(database, "hold.release", item_id) == 1


def test_two_officers_saving_overlapping_rules_at_once_store_one(postgres_url: str) -> None:
    """The overlap check reads the other rules; side by side, both checks would pass."""
    database = Database(postgres_url, pool_size=4, max_overflow=0)
    try:

        def save(label: str, start: date) -> Callable[[Session], None]:
            def step(session: Session) -> None:
                rule = rule_from_fields(
                    RuleKind.FIXED,
                    label=label,
                    returned_from=start,
                    returned_to=date(2022, 3, 31),
                    retain_until=date(2024, 3, 31),
                )
                try:
                    retention.save_rule(
                        session,
                        actor="officer2",
                        rule=rule,
                        kind=RuleKind.FIXED,
                        parameters={"retain_until": date(2024, 3, 31)},
                    )
                except RuleError as refusal:
                    raise Conflict(str(refusal)) from None

            return step

        for _round in range(5):
            with database.session_scope() as session:
                session.execute(delete(RetentionRule).where(RetentionRule.label.like("R%")))
            outcomes = race(
                database, [save("R一", date(2021, 4, 1)), save("R二", date(2021, 6, 1))]
            )
            assert sorted(o.split(":")[0] for o in outcomes) == ["conflict", "ok"], outcomes
            with database.read_session() as session:
                stored = session.scalars(
                    select(RetentionRule.label).where(RetentionRule.label.like("R%"))
                ).all()
                assert len(stored) == 1
    finally:
        database.dispose()
