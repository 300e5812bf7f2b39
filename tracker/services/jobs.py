"""Background jobs (issue 17): queue one, start it, record its progress, settle it.

A job row is written in short transactions of its own by whoever moves it: the page that
queues it, the worker that starts it and reports progress, and, at the very end, the job's
own unit of work (an import's transaction), so "succeeded" commits exactly with what the job
wrote. Every state change is a conditional ``UPDATE`` whose row count is checked: a job found
stale (its worker killed) and marked failed can no longer be settled as succeeded by a worker
that comes back to life, and its import then rolls back.

Who may see a job: the person who queued it (its report can quote cells of the file).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from tracker.domain.codes import AuditAction, JobKind, JobState, ObjectType
from tracker.models import Job
from tracker.services import audit
from tracker.services.importer import ImportReport, RowProblem
from tracker.services.purge import Summary as PurgeSummary
from tracker.services.register import RegisterReport
from tracker.services.transitions import Conflict, serialise

#: The reason shown for a job whose worker stopped (killed, power cut) while it ran.
INTERRUPTED = "処理が中断されました（処理していたワーカーが停止しました）。何も書き込んでいません。"
#: A failure reason is kept this long at most (a refusal message can quote the file).
FAILURE_LENGTH = 500
#: The reason shown for a job that raised an unexpected error (details are in the worker's log).
CRASHED = "処理中に予期しないエラーが発生しました。何も書き込んでいません。"


def queue(
    session: Session,
    *,
    kind: JobKind,
    actor: str,
    now: datetime,
    params: dict[str, Any] | None = None,
    file_path: str | None = None,
) -> Job:
    """A new job in state ``queued`` (the caller commits, then hands its id to the queue)."""
    job = Job(
        kind=kind.value,
        state=JobState.QUEUED.value,
        requested_by=actor,
        params=json.dumps(params or {}, sort_keys=True),
        file_path=file_path,
        queued_at=now,
        rows_read=0,
        rows_validated=0,
        rows_staged=0,
        rows_written=0,
    )
    session.add(job)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=AuditAction.JOB_QUEUE,
        object_type=ObjectType.JOB,
        object_id=job.id,
        details={"kind": kind.value, **(params or {})},
    )
    return job


def queue_alone(
    session: Session,
    *,
    kind: JobKind,
    actor: str,
    now: datetime,
    params: dict[str, Any] | None = None,
) -> tuple[Job, bool]:
    """Queue a job of ``kind`` unless one is already queued or running (two purges at once,
    from a double click or two officers, would each erase what the other counted):
    (the new job, True), or (the job waiting or running, False) and nothing written.

    Serialised per kind (PostgreSQL: an advisory lock; SQLite: its write lock), so two
    requests at the same moment cannot both find none."""
    serialise(session, f"jobs.alone.{kind.value}")
    waiting = session.scalars(
        select(Job)
        .where(
            Job.kind == kind.value,
            Job.state.in_([JobState.QUEUED.value, JobState.RUNNING.value]),
        )
        .order_by(Job.id)
        .limit(1)
    ).first()
    if waiting is not None:
        return waiting, False
    return queue(session, kind=kind, actor=actor, now=now, params=params), True


def counts_by_kind_and_state(session: Session) -> dict[tuple[str, str], int]:
    """How many jobs there are of each (kind, state): ``/metrics`` reports them."""
    rows = session.execute(
        select(Job.kind, Job.state, func.count(Job.id)).group_by(Job.kind, Job.state)
    ).all()
    return {(kind, state): int(count) for kind, state, count in rows}


def visible_job(session: Session, job_id: int, username: str) -> Job | None:
    """The job if ``username`` queued it; ``None`` otherwise (as if it did not exist)."""
    job = session.get(Job, job_id)
    return job if job is not None and job.requested_by == username else None


def recent_jobs(session: Session, username: str, kind: JobKind, limit: int = 5) -> Sequence[Job]:
    return session.scalars(
        select(Job)
        .where(Job.requested_by == username, Job.kind == kind.value)
        .order_by(Job.id.desc())
        .limit(limit)
    ).all()


def start(session: Session, job_id: int, *, now: datetime) -> bool:
    """queued → running; False if the job is not queued any more (failed, or taken)."""
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.state == JobState.QUEUED.value)
        .values(state=JobState.RUNNING.value, started_at=now, heartbeat_at=now)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


@dataclass(frozen=True)
class Progress:
    """Counters of a running job, as the progress bar shows them."""

    phase: str
    rows_read: int = 0
    rows_validated: int = 0
    rows_staged: int = 0
    rows_written: int = 0
    rows_total: int | None = None


def record_progress(session: Session, job_id: int, progress: Progress, *, now: datetime) -> bool:
    """Write the counters and move the heartbeat; False if the job is no longer running."""
    values: dict[str, Any] = {
        "phase": progress.phase,
        "rows_read": progress.rows_read,
        "rows_validated": progress.rows_validated,
        "rows_staged": progress.rows_staged,
        "rows_written": progress.rows_written,
        "heartbeat_at": now,
    }
    if progress.rows_total is not None:
        values["rows_total"] = progress.rows_total
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.state == JobState.RUNNING.value)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


def heartbeat(session: Session, job_id: int, *, now: datetime) -> bool:
    """The worker is alive (a long SQL statement gives no progress to report)."""
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.state == JobState.RUNNING.value)
        .values(heartbeat_at=now)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


def settle(
    session: Session,
    job_id: int,
    *,
    now: datetime,
    report: dict[str, Any] | None,
    failure: str | None = None,
    rows_written: int = 0,
) -> None:
    """running → succeeded (or failed, with ``failure``), in the job's own unit of work.

    Raises :class:`Conflict` if the job is not running any more (it was found stale and
    marked failed): the caller must then roll back what the job wrote.
    """
    state = JobState.FAILED if failure else JobState.SUCCEEDED
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.state == JobState.RUNNING.value)
        .values(
            state=state.value,
            finished_at=now,
            heartbeat_at=now,
            phase=None,
            report=None if report is None else json.dumps(report, ensure_ascii=False),
            failure=None if failure is None else failure[:FAILURE_LENGTH],
            rows_written=rows_written,
            file_path=None,
        )
        .execution_options(synchronize_session=False)
    )
    if _rowcount(result) != 1:
        raise Conflict("この処理は中断として扱われたため、結果を書き込みませんでした")


def fail(session: Session, job_id: int, *, now: datetime, reason: str, actor: str) -> bool:
    """queued or running → failed, with the reason and an audit event; False if it had
    already ended."""
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.state.in_([JobState.QUEUED.value, JobState.RUNNING.value]))
        .values(state=JobState.FAILED.value, finished_at=now, failure=reason, file_path=None)
        .execution_options(synchronize_session=False)
    )
    if _rowcount(result) != 1:
        return False
    record_failure(session, job_id, reason=reason, actor=actor)
    return True


def record_failure(session: Session, job_id: int, *, reason: str, actor: str) -> None:
    """The JOB_FAIL audit event of a job that failed. ``reason``: a code or a fixed message,
    never a text quoting the job's data (no personal values in the chain)."""
    kind = session.scalar(select(Job.kind).where(Job.id == job_id))
    audit.record(
        session,
        actor=actor,
        action=AuditAction.JOB_FAIL,
        object_type=ObjectType.JOB,
        object_id=job_id,
        outcome="failed",
        details={"kind": kind, "reason": reason},
    )


def stale_jobs(
    session: Session, *, now: datetime, stale_after: timedelta, job_id: int | None = None
) -> list[tuple[int, str | None]]:
    """Running jobs whose heartbeat is older than ``stale_after``: (id, uploaded file)."""
    query = select(Job.id, Job.file_path).where(
        Job.state == JobState.RUNNING.value, Job.heartbeat_at < now - stale_after
    )
    if job_id is not None:
        query = query.where(Job.id == job_id)
    return [(row.id, row.file_path) for row in session.execute(query)]


def fail_stale(
    session: Session,
    *,
    now: datetime,
    stale_after: timedelta,
    actor: str,
    job_id: int | None = None,
    still_alive: Callable[[int], bool] | None = None,
) -> list[tuple[int, str | None]]:
    """Mark running jobs without a heartbeat for ``stale_after`` as failed (interrupted).

    ``still_alive(job_id)`` may spare a job whose worker shows life another way (on SQLite a
    worker cannot write its heartbeat while its import holds the write lock). Returns the
    jobs so marked with their uploaded files, for the caller to delete. A worker that was
    only slow finds its job failed when it settles, and rolls back (:func:`settle`).
    """
    marked = []
    for stale_id, file_path in stale_jobs(session, now=now, stale_after=stale_after, job_id=job_id):
        if still_alive is not None and still_alive(stale_id):
            continue
        result = session.execute(
            update(Job)
            .where(
                Job.id == stale_id,
                Job.state == JobState.RUNNING.value,
                Job.heartbeat_at < now - stale_after,
            )
            .values(state=JobState.FAILED.value, finished_at=now, failure=INTERRUPTED)
            .execution_options(synchronize_session=False)
        )
        if _rowcount(result) != 1:
            continue  # it moved on meanwhile
        kind = session.scalar(select(Job.kind).where(Job.id == stale_id))
        audit.record(
            session,
            actor=actor,
            action=AuditAction.JOB_FAIL,
            object_type=ObjectType.JOB,
            object_id=stale_id,
            outcome="failed",
            details={"kind": kind, "reason": "interrupted"},
        )
        marked.append((stale_id, file_path))
    if marked:
        session.execute(
            update(Job)
            .where(Job.id.in_([job for job, _ in marked]))
            .values(file_path=None)
            .execution_options(synchronize_session=False)
        )
    return marked


def _rowcount(result: Any) -> int:
    return int(result.rowcount)


# --- reports as JSON -------------------------------------------------------------------------


#: A bad value is kept in a stored report only this long (the command's line cuts it there
#: too): enough to find the cell, and no more of the file than that kept in the database.
STORED_VALUE_LENGTH = 40


def import_report_json(report: ImportReport) -> dict[str, Any]:
    """The import's report (counts and problems by line) as stored with its job."""
    return _cut_values({"type": "import", **dataclasses.asdict(report)})


def register_report_json(report: RegisterReport) -> dict[str, Any]:
    """The register-check import's report, as stored with its job."""
    return _cut_values({"type": "register_check", **dataclasses.asdict(report)})


def purge_report_json(summary: PurgeSummary) -> dict[str, Any]:
    """The purge's report: the counts per step and the command's counts line."""
    return {
        "type": "purge",
        "as_of": summary.as_of.isoformat(),
        "counts": dict(summary.counts),
        "dry_run": summary.dry_run,
        "line": summary.line(),
    }


def _cut_values(data: dict[str, Any]) -> dict[str, Any]:
    for key in ("errors", "warnings"):
        for problem in data.get(key, []):
            value = str(problem.get("value", ""))
            if len(value) > STORED_VALUE_LENGTH:
                cut = value[:STORED_VALUE_LENGTH] + "…"
                problem["value"] = cut
                # A message may quote the value too.
                problem["message"] = str(problem.get("message", "")).replace(value, cut)
    return data


def report_from_json(data: dict[str, Any]) -> ImportReport | RegisterReport:
    """The report object the upload pages render, back from its JSON (a file job's; a
    notices or purge job's report is shown from its JSON as it is)."""
    cls: Any = RegisterReport if data.get("type") == "register_check" else ImportReport
    fields = {f.name for f in dataclasses.fields(cls)}
    values = {key: value for key, value in data.items() if key in fields}
    values["errors"] = [RowProblem(**p) for p in data.get("errors", [])]
    values["warnings"] = [RowProblem(**p) for p in data.get("warnings", [])]
    report: ImportReport | RegisterReport = cls(**values)
    return report


def load_report(job: Job) -> dict[str, Any] | None:
    return None if job.report is None else dict(json.loads(job.report))


def params_of(job: Job) -> dict[str, Any]:
    return dict(json.loads(job.params or "{}"))
