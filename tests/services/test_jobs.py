"""Background jobs (issue 17): the job's life, its progress records, failures, stale jobs."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import make_config
from tests.factories_jobs import job_row, returns_csv, stored_counts
from tracker.db import Database
from tracker.domain.codes import AuditAction, JobKind, JobState
from tracker.jobs import runner
from tracker.models import AuditEvent
from tracker.services import importer, jobs
from tracker.services.importer import staging
from tracker.services.transitions import Conflict

T0 = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)


def queued(database: Database, path: Path | None = None, **params: object) -> int:
    with database.session_scope() as session:
        job = jobs.queue(
            session,
            kind=JobKind.IMPORT,
            actor="officer1",
            now=T0,
            params=dict(params),
            file_path=None if path is None else str(path),
        )
        return job.id


def actions(database: Database) -> list[str]:
    with database.read_session() as session:
        return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))


def test_a_job_moves_queued_running_succeeded_once(database: Database) -> None:
    job_id = queued(database, dry_run=True)
    assert job_row(database, job_id).state == JobState.QUEUED
    assert actions(database)[-1] == AuditAction.JOB_QUEUE
    with database.session_scope() as session:
        assert jobs.start(session, job_id, now=T0)
    with database.session_scope() as session:
        assert not jobs.start(session, job_id, now=T0)  # a second worker finds it taken
    with database.session_scope() as session:
        progress = jobs.Progress("reading", 10, 10, 5, rows_total=40)
        assert jobs.record_progress(session, job_id, progress, now=T0 + timedelta(seconds=1))
    job = job_row(database, job_id)
    assert (job.state, job.phase, job.rows_validated, job.rows_staged, job.rows_total) == (
        JobState.RUNNING,
        "reading",
        10,
        5,
        40,
    )
    assert job.heartbeat_at == T0 + timedelta(seconds=1)
    with database.session_scope() as session:
        jobs.settle(session, job_id, now=T0 + timedelta(seconds=2), report={"rows": 40})
    job = job_row(database, job_id)
    assert job.state == JobState.SUCCEEDED and json.loads(job.report or "") == {"rows": 40}
    with database.session_scope() as session:  # an ended job takes no more progress
        assert not jobs.record_progress(session, job_id, jobs.Progress("writing"), now=T0)
        with pytest.raises(Conflict):
            jobs.settle(session, job_id, now=T0, report=None)


def test_a_failure_records_its_reason_once(database: Database) -> None:
    job_id = queued(database)
    with database.session_scope() as session:
        assert jobs.fail(session, job_id, now=T0, reason="テストの理由", actor="system:worker")
    with database.session_scope() as session:
        assert not jobs.fail(session, job_id, now=T0, reason="二度目", actor="system:worker")
    job = job_row(database, job_id)
    assert (job.state, job.failure) == (JobState.FAILED, "テストの理由")
    assert actions(database).count(AuditAction.JOB_FAIL) == 1


def test_a_running_job_without_heartbeat_is_marked_interrupted(database: Database) -> None:
    job_id = queued(database)
    with database.session_scope() as session:
        jobs.start(session, job_id, now=T0)
    stale_after = timedelta(seconds=30)
    with database.session_scope() as session:
        early = T0 + timedelta(seconds=29)
        assert jobs.fail_stale(session, now=early, stale_after=stale_after, actor="x") == []
    late = T0 + timedelta(seconds=31)
    with database.session_scope() as session:  # its worker shows life another way (SQLite)
        spared = jobs.fail_stale(
            session, now=late, stale_after=stale_after, actor="x", still_alive=lambda _id: True
        )
        assert spared == []
    with database.session_scope() as session:
        assert jobs.fail_stale(session, now=late, stale_after=stale_after, actor="x") == [
            (job_id, None)
        ]
    job = job_row(database, job_id)
    assert job.state == JobState.FAILED and job.failure == jobs.INTERRUPTED
    # A worker that was only slow cannot settle it any more: its import must roll back.
    with database.session_scope() as session, pytest.raises(Conflict):
        jobs.settle(session, job_id, now=T0, report={})


def test_the_worker_records_rising_progress_and_settles_with_the_import(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = returns_csv(tmp_path / "returns.csv", 60)
    monkeypatch.setattr(staging, "BATCH_SIZE", 10)
    monkeypatch.setattr(runner, "PROGRESS_INTERVAL", 0.0)
    seen: list[tuple[str, int, int | None]] = []
    record = jobs.record_progress

    def spy(session, job_id, progress, *, now):  # type: ignore[no-untyped-def]
        seen.append((progress.phase, progress.rows_validated, progress.rows_total))
        return record(session, job_id, progress, now=now)

    monkeypatch.setattr(jobs, "record_progress", spy)
    job_id = queued(database, path, dry_run=False, encoding="auto")
    runner.run_job(database, make_config(database.url), job_id)

    job = job_row(database, job_id)
    assert job.state == JobState.SUCCEEDED, job.failure
    # On SQLite nothing is written while the import holds the write lock (the inserts).
    last = "checking" if database.dialect == "sqlite" else "writing"
    assert seen[0][0] == "reading" and seen[-1][0] == last
    validated = [count for phase, count, _ in seen if phase == "reading"]
    assert validated == sorted(validated) and validated[-1] == 60 and len(set(validated)) > 3
    assert {total for *_, total in seen} == {60}
    report = jobs.report_from_json(jobs.load_report(job) or {})
    assert isinstance(report, importer.ImportReport) and report.committed and report.items == 60
    assert job.rows_written == 60 and stored_counts(database)[1] == 60
    assert not path.exists() and job.file_path is None  # the upload went with the job


def test_a_job_that_raises_is_failed_and_writes_nothing(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = returns_csv(tmp_path / "returns.csv", 30)
    real = importer.run_import

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        real(*args, **kwargs)  # everything written, then an unexpected error before commit
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(importer, "run_import", broken)
    job_id = queued(database, path, dry_run=False)
    runner.run_job(database, make_config(database.url), job_id)
    job = job_row(database, job_id)
    assert (job.state, job.failure) == (JobState.FAILED, jobs.CRASHED)
    assert stored_counts(database) == (0, 0) and not path.exists()


def test_a_refused_file_fails_the_job_with_the_refusal(database: Database, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("氏名,住所\nx,y\n", encoding="utf-8")
    job_id = queued(database, path, dry_run=False)
    runner.run_job(database, make_config(database.url), job_id)
    job = job_row(database, job_id)
    assert job.state == JobState.FAILED and "必須の列がありません" in (job.failure or "")
    assert AuditAction.IMPORT_REFUSED in actions(database)


def test_a_stored_report_keeps_only_the_start_of_a_long_bad_value() -> None:
    report = importer.ImportReport(rows=1, error_count=1)
    long = "あ" * 500
    report.errors.append(importer.RowProblem(2, "氏名", long, f"氏名「{long}」は長すぎます"))
    stored = jobs.report_from_json(jobs.import_report_json(report))
    cut = "あ" * jobs.STORED_VALUE_LENGTH + "…"
    assert (stored.errors[0].value, stored.errors[0].message) == (cut, f"氏名「{cut}」は長すぎます")
    assert (stored.errors[0].line, stored.error_count) == (2, 1)
