"""Running one job in the worker: start it, watch its progress, settle it (issue 17).

All or nothing stays: an import (a register check, a purge) runs in one unit of work of its
own, and the job is settled (succeeded, with its report) in that same transaction, so the job
says "succeeded" exactly when the rows are there. A notices job only reads: its letters go to
a private file that is renamed into place as the job settles. Progress and heartbeats go to
the ``jobs`` row in short transactions of their own, from other connections. A worker killed
mid-way leaves an open transaction that the database discards; the job's heartbeat stops, and
the page (or the next worker to start) marks it failed as interrupted.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.clock import now_utc, today_jst
from tracker.config import Config
from tracker.db import Database
from tracker.domain.codes import JobKind
from tracker.jobs import alive_file, made_file_name, new_private_file, remove_upload, sweep_files
from tracker.models import Job, NoticeBatch
from tracker.pdf.notices import LetterTooLong
from tracker.services import importer, jobs, notices, purge, register

log = logging.getLogger(__name__)

#: Actor of the audit events the worker itself writes (failures it detects).
WORKER_ACTOR = "system:worker"
#: Seconds between progress writes (each is a small transaction) and between heartbeats.
PROGRESS_INTERVAL = 0.5
HEARTBEAT_INTERVAL = 5.0


def run_job(database: Database, config: Config, job_id: int) -> None:
    """Run the job ``job_id`` if it is still queued; never raises (the failure is recorded).

    Starting the job is inside the ``try``: a start that fails (the database locked past its
    timeout, a lost connection) fails the job rather than leaving it queued for ever."""
    watcher: Watcher | None = None
    file_path: str | None = None
    try:
        with database.session_scope() as session:
            file_path = session.scalar(select(Job.file_path).where(Job.id == job_id))
            if not jobs.start(session, job_id, now=now_utc()):
                log.info("job %s is not queued any more; skipped", job_id)
                file_path = None  # its upload is its runner's (or already gone)
                return
            job = session.get(Job, job_id)
            assert job is not None
            kind, actor = JobKind(job.kind), job.requested_by
            params = jobs.params_of(job)
        watcher = Watcher(database, job_id, alive_file(config, job_id))
        watcher.start()
        task = Task(database, config, watcher, job_id, actor, Path(file_path or ""), params)
        RUNNERS[kind](task)
    except Exception:
        log.exception("job %s failed", job_id)
        try:
            with database.session_scope() as session:
                jobs.fail(session, job_id, now=now_utc(), reason=jobs.CRASHED, actor=WORKER_ACTOR)
        except Exception:  # the database is gone: logged; the job stays queued
            log.exception("job %s: its failure not recorded", job_id)
    finally:
        if watcher is not None:
            watcher.stop()
        remove_upload(file_path)
        try:
            sweep_files(config)
        except OSError:  # housekeeping: the next sweep tries again
            log.warning("made files not swept", exc_info=True)


class Watcher:
    """Writes a job's progress (at most every :data:`PROGRESS_INTERVAL`) and a heartbeat
    (every :data:`HEARTBEAT_INTERVAL`), each in a short transaction of its own.

    On SQLite, once the job holds the write lock (``hold_lock``), nothing is written until it
    lets go: another connection would only wait for it. The heartbeat also touches the job's
    alive file, which goes on meanwhile, so a long locked phase is not taken for a dead worker.
    """

    def __init__(self, database: Database, job_id: int, alive: Path) -> None:
        self.database = database
        self.job_id = job_id
        self.alive = alive
        self.sqlite = database.dialect == "sqlite"
        self._locked = False
        self._last = 0.0
        self._last_phase: str | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(
            target=self._beat, name=f"job-{job_id}-heartbeat", daemon=True
        )

    def start(self) -> None:
        self._touch()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=HEARTBEAT_INTERVAL * 2)
        self.alive.unlink(missing_ok=True)

    def _touch(self) -> None:
        try:
            self.alive.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            self.alive.touch(mode=0o600)
        except OSError:
            log.warning("job %s: alive file not touched", self.job_id, exc_info=True)

    def hold_lock(self) -> None:
        if self.sqlite:
            self._locked = True

    def report(self, progress: jobs.Progress, *, force: bool = False) -> None:
        if self._locked:
            return
        moment = time.monotonic()
        if (
            not force
            and progress.phase == self._last_phase
            and moment - self._last < (PROGRESS_INTERVAL)
        ):
            return
        self._last, self._last_phase = moment, progress.phase
        with self._lock, self.database.session_scope() as session:
            jobs.record_progress(session, self.job_id, progress, now=now_utc())

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_INTERVAL):
            self._touch()
            if self._locked:
                continue
            try:
                with self._lock, self.database.session_scope() as session:
                    jobs.heartbeat(session, self.job_id, now=now_utc())
            except Exception:  # a heartbeat lost is not the job's failure
                log.warning("job %s: heartbeat not written", self.job_id, exc_info=True)


def count_rows(path: Path) -> int:
    """Data lines in the file (a quoted cell spanning lines makes this an estimate)."""
    lines = 0
    last = b"\n"
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    if last != b"\n":
        lines += 1
    return max(lines - 1, 0)


@dataclass(frozen=True)
class Task:
    """What a job's runner gets: where to work, its watcher, who asked, its file and params."""

    database: Database
    config: Config
    watcher: Watcher
    job_id: int
    actor: str
    path: Path
    params: dict[str, Any]

    @property
    def dry_run(self) -> bool:
        return bool(self.params.get("dry_run"))

    @property
    def encoding(self) -> str:
        return str(self.params.get("encoding") or "auto")


def _settle(
    session: Session,
    task: Task,
    settled: Any,
    to_json: Callable[[Any], dict[str, Any]],
    written: Callable[[Any], int],
) -> None:
    """Settle a file job in its own unit of work: its report, or the refusal as its failure."""
    if settled.report is None:
        jobs.settle(session, task.job_id, now=now_utc(), report=None, failure=settled.refusal)
        return
    report = settled.report
    jobs.settle(
        session,
        task.job_id,
        now=now_utc(),
        report=to_json(report),
        rows_written=written(report) if report.committed else 0,
    )


def _start_reading(task: Task) -> int:
    """The file's estimated row count, reported as the reading phase begins."""
    total = count_rows(task.path)
    task.watcher.report(jobs.Progress(importer.PHASE_READING, rows_total=total), force=True)
    return total


def _run_import(task: Task) -> None:
    watcher = task.watcher
    total = _start_reading(task)

    def observe(phase: str, report: importer.ImportReport, staged: int) -> None:
        if phase == importer.PHASE_WRITING:
            watcher.hold_lock()
        progress = jobs.Progress(
            phase, report.rows, report.rows, staged, rows_written=0, rows_total=total
        )
        watcher.report(progress, force=phase != importer.PHASE_READING)
        if phase == importer.PHASE_CHECKING and not task.dry_run:
            watcher.hold_lock()  # the import takes SQLite's write lock next

    # One unit of work: the import and its job's final state commit together, or neither.
    with task.database.session_scope(read_first=True) as session:
        settled = importer.import_file(
            session,
            task.path,
            actor=task.actor,
            today=today_jst(),
            now=now_utc(),
            encoding=task.encoding,
            dry_run=task.dry_run,
            observe=observe,
        )
        _settle(session, task, settled, jobs.import_report_json, lambda r: r.items)


def _run_register_check(task: Task) -> None:
    watcher = task.watcher
    total = _start_reading(task)

    def observe(phase: str, validated: int, written: int) -> None:
        progress = jobs.Progress(
            phase, validated, validated, rows_written=written, rows_total=total
        )
        watcher.report(progress, force=phase != importer.PHASE_READING)
        if phase == importer.PHASE_CHECKING and not task.dry_run:
            watcher.hold_lock()  # the check takes SQLite's write lock next

    with task.database.session_scope(read_first=True) as session:
        settled = register.check_file(
            session,
            task.path,
            actor=task.actor,
            today=today_jst(),
            now=now_utc(),
            encoding=task.encoding,
            dry_run=task.dry_run,
            observe=observe,
        )
        _settle(session, task, settled, jobs.register_report_json, lambda r: r.rows)


def _run_notices(task: Task) -> None:
    """Draw a notice batch's letters into a private file of the jobs folder (0600); the job's
    page offers it for download (:mod:`tracker.web.jobs`). Reads only: nothing to roll back;
    the file is renamed into place when complete and removed if the job cannot settle."""
    name = made_file_name(task.job_id)
    final = task.config.jobs_folder / name
    partial = final.with_name(f".{name}.partial")
    try:
        with task.database.read_session() as reader:
            failure, report = _draw_letters(task, reader, partial, name)
        with task.database.session_scope() as session:
            if report is not None:
                os.replace(partial, final)
            jobs.settle(
                session,
                task.job_id,
                now=now_utc(),
                report=report,
                failure=None if failure is None else failure[0],
                rows_written=0 if report is None else int(report["letters"]),
            )
            if failure is not None:  # audited like any job's failure: its code only
                jobs.record_failure(session, task.job_id, reason=failure[1], actor=WORKER_ACTOR)
    except BaseException:
        final.unlink(missing_ok=True)
        raise
    finally:
        partial.unlink(missing_ok=True)


#: Why a notices job failed, as its JOB_FAIL audit event says (the page shows the message).
BATCH_MISSING = "batch_missing"
LETTER_TOO_LONG = "letter_too_long"


def _draw_letters(
    task: Task, reader: Session, partial: Path, name: str
) -> tuple[tuple[str, str] | None, dict[str, Any] | None]:
    """((the failure's message, its code), None) or (None, the job's report), the letters
    drawn into ``partial``."""
    batch = reader.get(NoticeBatch, int(task.params["batch_id"]))
    if batch is None:
        return ("発送の記録が見つかりません", BATCH_MISSING), None
    total = batch.item_count
    task.watcher.report(jobs.Progress(PHASE_RENDERING, rows_total=total), force=True)

    def drawn(count: int) -> None:
        progress = jobs.Progress(
            PHASE_RENDERING, count, count, rows_written=count, rows_total=total
        )
        task.watcher.report(progress)

    with os.fdopen(new_private_file(partial), "wb") as out:
        try:
            tally = notices.write_letters(reader, batch, out, drawn=drawn)
        except LetterTooLong as error:  # never cut: the page says which letter, as a reprint
            return (str(error), LETTER_TOO_LONG), None
    return None, {
        "type": "notices",
        "batch_id": batch.id,
        "batch_no": batch.batch_no,
        "letters": tally.letters,
        "excluded": tally.excluded_total,
        "file": name,
        # Which items have a letter in the file: the download refuses a file the batch no
        # longer matches (someone protected since would still be in it).
        "letters_digest": notices.letters_digest(tally.item_ids),
    }


def _run_purge(task: Task) -> None:
    """The purge as of the job's day, all or nothing: its steps and the job's final state
    commit together. Progress per step; on SQLite only until the first erase takes the
    write lock (the page then shows that step until the end)."""
    watcher = task.watcher
    steps = len(purge.STEPS)

    def observe(index: int, name: str, counts: dict[str, int]) -> None:
        progress = jobs.Progress(
            name, index, index, rows_written=sum(counts.values()), rows_total=steps
        )
        watcher.report(progress, force=True)
        if not task.dry_run:
            watcher.hold_lock()  # SQLite: the step's erase takes the write lock

    with task.database.session_scope(read_first=True) as session:
        summary = purge.run(
            session,
            actor=task.actor,
            as_of=date.fromisoformat(str(task.params["as_of"])),
            now=now_utc(),
            dry_run=task.dry_run,
            observe=observe,
        )
        jobs.settle(
            session,
            task.job_id,
            now=now_utc(),
            report=jobs.purge_report_json(summary),
            rows_written=0 if summary.dry_run else sum(summary.counts.values()),
        )


#: The phase of a notices job (letters drawn so far).
PHASE_RENDERING = "rendering"

#: Each kind's runner: called in the worker with the job started and watched.
RUNNERS: dict[JobKind, Callable[[Task], None]] = {
    JobKind.IMPORT: _run_import,
    JobKind.REGISTER_CHECK: _run_register_check,
    JobKind.NOTICES: _run_notices,
    JobKind.PURGE: _run_purge,
}
