"""Running one job in the worker: start it, watch its progress, settle it (issue 17).

All or nothing stays: the import runs in one unit of work of its own, and the job is settled
(succeeded, with its report) in that same transaction, so the job says "succeeded" exactly
when the rows are there. Progress and heartbeats go to the ``jobs`` row in short
transactions of their own, from other connections. A worker killed mid-way leaves an open
transaction that the database discards; the job's heartbeat stops, and the page (or the next
worker to start) marks it failed as interrupted.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

from tracker.clock import now_utc, today_jst
from tracker.config import Config
from tracker.db import Database
from tracker.domain.codes import JobKind
from tracker.jobs import alive_file, remove_upload
from tracker.models import Job
from tracker.services import importer, jobs, register

log = logging.getLogger(__name__)

#: Actor of the audit events the worker itself writes (failures it detects).
WORKER_ACTOR = "system:worker"
#: Seconds between progress writes (each is a small transaction) and between heartbeats.
PROGRESS_INTERVAL = 0.5
HEARTBEAT_INTERVAL = 5.0


def run_job(database: Database, config: Config, job_id: int) -> None:
    """Run the job ``job_id`` if it is still queued; never raises (the failure is recorded)."""
    with database.session_scope() as session:
        if not jobs.start(session, job_id, now=now_utc()):
            log.info("job %s is not queued any more; skipped", job_id)
            return
        job = session.get(Job, job_id)
        assert job is not None
        kind, actor, file_path = JobKind(job.kind), job.requested_by, job.file_path
        params = jobs.params_of(job)
    watcher = Watcher(database, job_id, alive_file(config, job_id))
    watcher.start()
    try:
        if kind is JobKind.IMPORT:
            _run_import(database, watcher, job_id, actor, Path(file_path or ""), params)
        elif kind is JobKind.REGISTER_CHECK:
            _run_register_check(database, watcher, job_id, actor, Path(file_path or ""), params)
        else:  # not queued by any page yet
            raise NotImplementedError(kind)
    except Exception:
        log.exception("job %s (%s) failed", job_id, kind)
        with database.session_scope() as session:
            jobs.fail(session, job_id, now=now_utc(), reason=jobs.CRASHED, actor=WORKER_ACTOR)
    finally:
        watcher.stop()
        remove_upload(file_path)


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


def _run_import(
    database: Database,
    watcher: Watcher,
    job_id: int,
    actor: str,
    path: Path,
    params: dict[str, Any],
) -> None:
    total = count_rows(path)
    watcher.report(jobs.Progress(importer.PHASE_READING, rows_total=total), force=True)

    def observe(phase: str, report: importer.ImportReport, staged: int) -> None:
        if phase == importer.PHASE_WRITING:
            watcher.hold_lock()
        progress = jobs.Progress(
            phase, report.rows, report.rows, staged, rows_written=0, rows_total=total
        )
        watcher.report(progress, force=phase != importer.PHASE_READING)
        if phase == importer.PHASE_CHECKING and not params.get("dry_run"):
            watcher.hold_lock()  # the import takes SQLite's write lock next

    # One unit of work: the import and its job's final state commit together, or neither.
    with database.session_scope(read_first=True) as session:
        settled = importer.import_file(
            session,
            path,
            actor=actor,
            today=today_jst(),
            now=now_utc(),
            encoding=str(params.get("encoding") or "auto"),
            dry_run=bool(params.get("dry_run")),
            observe=observe,
        )
        if settled.report is None:
            jobs.settle(session, job_id, now=now_utc(), report=None, failure=settled.refusal)
            return
        report = settled.report
        jobs.settle(
            session,
            job_id,
            now=now_utc(),
            report=jobs.import_report_json(report),
            rows_written=report.items if report.committed else 0,
        )


def _run_register_check(
    database: Database,
    watcher: Watcher,
    job_id: int,
    actor: str,
    path: Path,
    params: dict[str, Any],
) -> None:
    total = count_rows(path)
    watcher.report(jobs.Progress(importer.PHASE_READING, rows_total=total), force=True)
    if not params.get("dry_run"):
        watcher.hold_lock()
    with database.session_scope(read_first=True) as session:
        settled = register.check_file(
            session,
            path,
            actor=actor,
            today=today_jst(),
            now=now_utc(),
            encoding=str(params.get("encoding") or "auto"),
            dry_run=bool(params.get("dry_run")),
        )
        if settled.report is None:
            jobs.settle(session, job_id, now=now_utc(), report=None, failure=settled.refusal)
            return
        jobs.settle(
            session,
            job_id,
            now=now_utc(),
            report=jobs.register_report_json(settled.report),
            rows_written=settled.report.rows if settled.report.committed else 0,
        )
