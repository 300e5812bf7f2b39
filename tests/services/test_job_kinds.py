"""The worker's other jobs (issue 17): a notice batch's letters drawn into a private file, the
purge step by step and all or nothing, and a register check's validated / written rows. Run
in the test process by :func:`tracker.jobs.runner.run_job`, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
import os
import stat
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from tests import factories_notices as fn
from tests.conftest import make_config
from tests.factories import NOW, TODAY
from tests.factories_jobs import job_row, returns_csv
from tests.factories_purge import closed
from tracker import jobs as job_files
from tracker.config import Config
from tracker.db import Database
from tracker.domain.codes import AuditAction, JobKind, JobState, NoticeMethod
from tracker.domain.record_retention import PLACEHOLDER
from tracker.jobs import runner
from tracker.models import AuditEvent, Item
from tracker.services import importer, jobs, notices, purge, register

Seen = list[tuple[str, int, int, int | None]]


def queued(database: Database, kind: JobKind, path: Path | None = None, **params: object) -> int:
    with database.session_scope() as session:
        return jobs.queue(
            session,
            kind=kind,
            actor="officer1",
            now=NOW,
            params=dict(params),
            file_path=None if path is None else str(path),
        ).id


def watched(monkeypatch: pytest.MonkeyPatch) -> Seen:
    """Every progress record the worker writes: (phase, validated, written, total)."""
    monkeypatch.setattr(runner, "PROGRESS_INTERVAL", 0.0)
    seen: Seen = []
    record = jobs.record_progress

    def spy(session, job_id, progress, *, now):  # type: ignore[no-untyped-def]
        seen.append(
            (progress.phase, progress.rows_validated, progress.rows_written, progress.rows_total)
        )
        return record(session, job_id, progress, now=now)

    monkeypatch.setattr(jobs, "record_progress", spy)
    return seen


def config_in(database: Database, folder: Path) -> Config:
    return make_config(database.url, jobs_folder=folder / "jobs")


def sent_batch(database: Database, letters: int) -> int:
    fn.rules(database)
    ids = fn.many(database, [fn.RETURNED_A[0]] * letters)
    with database.session_scope() as session:
        numbers = "\n".join(session.get(Item, i).control_no for i in ids)  # type: ignore[union-attr]
        sent = notices.send(
            session,
            actor="officer1",
            selection=notices.by_hand(numbers),
            as_of=TODAY,
            sent_on=TODAY,
            method=NoticeMethod.ORDINARY,
            now=NOW,
            today=TODAY,
        )
        return sent.batch.id


def actions(database: Database) -> list[str]:
    with database.read_session() as session:
        return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))


def test_a_notices_job_draws_the_letters_into_a_private_file(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch_id = sent_batch(database, 3)
    seen = watched(monkeypatch)
    config = config_in(database, tmp_path)
    job_id = queued(database, JobKind.NOTICES, batch_id=batch_id, role="records_officer")
    runner.run_job(database, config, job_id)

    job = job_row(database, job_id)
    assert job.state == JobState.SUCCEEDED, job.failure
    assert [(phase, written, total) for phase, _, written, total in seen] == [
        ("rendering", 0, 3),
        ("rendering", 1, 3),
        ("rendering", 2, 3),
        ("rendering", 3, 3),
    ]
    report = jobs.load_report(job) or {}
    assert (report["letters"], report["batch_no"], job.rows_written) == (3, "N000000001", 3)
    made = job_files.made_file(config, report["file"])
    assert made is not None and made.exists()
    assert stat.S_IMODE(made.stat().st_mode) == 0o600
    assert stat.S_IMODE(made.parent.stat().st_mode) == 0o700
    assert len(PdfReader(io.BytesIO(made.read_bytes())).pages) == 3
    assert [p.name for p in made.parent.iterdir()] == [made.name]  # no partial file left
    # Drawing is no print: the download records notice.print (tests/web/test_job_pages.py).
    assert AuditAction.NOTICE_PRINT.value not in actions(database)


def test_a_notices_job_with_a_letter_too_long_fails_and_leaves_no_file(
    database: Database, tmp_path: Path
) -> None:
    fn.long_template(database)  # saved before the editor checked the length
    batch_id = sent_batch(database, 1)
    config = config_in(database, tmp_path)
    job_id = queued(database, JobKind.NOTICES, batch_id=batch_id, role="records_officer")
    runner.run_job(database, config, job_id)
    job = job_row(database, job_id)
    assert job.state == JobState.FAILED and "1ページに収まりません" in (job.failure or "")
    assert list(config.jobs_folder.iterdir()) == []
    assert failures(database) == [(job_id, {"kind": "notices", "reason": "letter_too_long"})]


def failures(database: Database) -> list[tuple[int, dict[str, Any]]]:
    """The JOB_FAIL events: (job id, details)."""
    with database.read_session() as session:
        rows = session.execute(
            select(AuditEvent.object_id, AuditEvent.details).where(
                AuditEvent.action == AuditAction.JOB_FAIL.value
            )
        ).all()
    return [(int(row.object_id), json.loads(row.details)) for row in rows]


def test_a_notices_job_whose_batch_is_gone_fails_and_is_audited(
    database: Database, tmp_path: Path
) -> None:
    job_id = queued(database, JobKind.NOTICES, batch_id=999999, role="records_officer")
    runner.run_job(database, config_in(database, tmp_path), job_id)
    job = job_row(database, job_id)
    assert job.state == JobState.FAILED and job.failure == "発送の記録が見つかりません"
    assert failures(database) == [(job_id, {"kind": "notices", "reason": "batch_missing"})]


def test_the_purge_job_reports_its_steps_and_settles_with_the_purge(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    who = closed(database, 1, on=date(2020, 6, 1))
    seen = watched(monkeypatch)
    job_id = queued(database, JobKind.PURGE, as_of="2026-01-01")
    runner.run_job(database, config_in(database, tmp_path), job_id)

    job = job_row(database, job_id)
    assert job.state == JobState.SUCCEEDED, job.failure
    names = [step.name for step in purge.STEPS]
    # On SQLite nothing is written once the first erase holds the write lock.
    expected = names[:1] if database.dialect == "sqlite" else names
    assert [phase for phase, *_ in seen] == expected
    assert [(done, total) for _, done, _, total in seen] == [
        (i, len(names)) for i in range(len(expected))
    ]
    report = jobs.load_report(job) or {}
    with database.read_session() as session:
        again = purge.run(session, actor="x", as_of=date(2026, 1, 1), now=NOW, dry_run=True)
        item = session.get(Item, who.item_id)
        assert item is not None and item.name == PLACEHOLDER
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == AuditAction.PURGE_RUN.value)
        ).one()
        assert event.actor == "officer1"
    assert report["counts"]["items"] == 1 and report["counts"]["envelopes"] == 1
    # the counts line `tracker purge` prints
    assert report["line"] == purge.Summary(date(2026, 1, 1), report["counts"], False).line()
    assert report["line"].startswith("as_of=2026-01-01 reservation_phones=1 items=1 envelopes=1")
    assert sum(again.counts.values()) == 0  # all of it done
    assert job.rows_written == sum(report["counts"].values())


def test_a_purge_job_that_fails_mid_way_changes_nothing(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    who = closed(database, 1, on=date(2020, 6, 1))
    real = purge.run

    def broken(*args: Any, **kwargs: Any) -> purge.Summary:
        real(*args, **kwargs)  # every step erased, then an unexpected error before commit
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(purge, "run", broken)
    job_id = queued(database, JobKind.PURGE, as_of="2026-01-01")
    runner.run_job(database, config_in(database, tmp_path), job_id)
    job = job_row(database, job_id)
    assert (job.state, job.failure) == (JobState.FAILED, jobs.CRASHED)
    with database.read_session() as session:
        item = session.get(Item, who.item_id)
        assert item is not None and item.name == who.name and item.pseudonymised_at is None
    assert AuditAction.PURGE_RUN.value not in actions(database)


def test_a_register_check_job_reports_validated_and_written_rows(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with database.session_scope(read_first=True) as session:
        settled = importer.import_file(
            session, returns_csv(tmp_path / "returns.csv", 12), actor="o", today=TODAY, now=NOW
        )
        assert settled.report is not None and settled.report.committed
    with database.read_session() as session:
        numbers = list(session.scalars(select(Item.control_no).order_by(Item.control_no)))
    path = tmp_path / "register.csv"
    path.write_text("管理番号,異動区分\n" + "".join(f"{n},現住\n" for n in numbers), "utf-8")
    monkeypatch.setattr(register, "OBSERVE_EVERY", 4)
    seen = watched(monkeypatch)
    job_id = queued(database, JobKind.REGISTER_CHECK, path, dry_run=False, encoding="auto")
    runner.run_job(database, config_in(database, tmp_path), job_id)

    job = job_row(database, job_id)
    assert job.state == JobState.SUCCEEDED, job.failure
    assert seen[:4] == [
        ("reading", 0, 0, 12),
        ("reading", 4, 0, 12),
        ("reading", 8, 0, 12),
        ("reading", 12, 0, 12),
    ]
    if database.dialect == "sqlite":  # the write lock is held from the checking phase on
        assert seen[4:] == [("checking", 12, 0, 12)]
    else:
        assert seen[4:] == [
            ("checking", 12, 0, 12),
            ("writing", 12, 0, 12),
            ("writing", 12, 4, 12),
            ("writing", 12, 8, 12),
        ]
    assert job.rows_written == 12 and not path.exists()


def test_made_files_are_swept_after_their_retention(tmp_path: Path) -> None:
    config = make_config("sqlite://", jobs_folder=tmp_path)
    made = tmp_path / job_files.made_file_name(7)
    leftover = tmp_path / f".{job_files.made_file_name(8)}.partial"
    upload = tmp_path / "upload-0123.csv"  # an upload waits for its job, not swept here
    now = time.time()  # the suite's clock, which may be pinned away from the file system's
    for path in (made, leftover, upload):
        path.write_bytes(b"x")
        os.utime(path, (now, now))
    assert job_files.sweep_files(config, now=now) == []
    later = now + job_files.FILE_RETENTION.total_seconds() + 1
    assert sorted(job_files.sweep_files(config, now=later)) == sorted([made.name, leftover.name])
    assert sorted(os.listdir(tmp_path)) == [upload.name]
    assert job_files.made_file(config, "../secret.pdf") is None


def test_a_job_that_cannot_start_fails_rather_than_waiting_for_ever(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = returns_csv(tmp_path / "returns.csv", 3)
    job_id = queued(database, JobKind.IMPORT, path, dry_run=False, encoding="auto")

    def locked(*args: Any, **kwargs: Any) -> bool:
        raise OperationalError("UPDATE jobs", {}, Exception("database is locked"))

    monkeypatch.setattr(jobs, "start", locked)
    runner.run_job(database, config_in(database, tmp_path), job_id)  # never raises
    job = job_row(database, job_id)
    assert (job.state, job.failure) == (JobState.FAILED, jobs.CRASHED)
    assert actions(database)[-1] == AuditAction.JOB_FAIL.value
    assert not path.exists()  # its upload went with it
