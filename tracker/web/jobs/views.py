"""A background job's page (issue 17): its progress while it runs, then its report.

A job is shown to the person who queued it only (its report can quote cells of the uploaded
file); anyone else gets the same 404 as for a job that does not exist. The page refreshes
itself: a small script polls :func:`progress` and moves the bar; without JavaScript, a meta
refresh reloads the page. A running job whose heartbeat stopped is marked failed
(interrupted) here, the first time someone looks at it.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, jsonify, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.datastructures import FileStorage

from tracker.clock import now_utc
from tracker.config import Config
from tracker.domain.codes import AuditAction, JobKind, JobState, ObjectType, Role
from tracker.extensions import db
from tracker.jobs import JobQueue, forget, remove_upload, still_alive
from tracker.models import Job
from tracker.services import audit, jobs
from tracker.web.access import allow

bp = Blueprint("jobs", __name__)

#: Phase codes of the progress records → what the page says.
PHASE_LABELS = {
    "reading": _l("読み込み・検証中"),
    "checking": _l("照合中"),
    "writing": _l("書き込み中"),
}


def job_queue() -> JobQueue:
    queue: JobQueue = current_app.extensions["tracker.jobs"]
    return queue


def queue_upload(file: FileStorage, *, kind: JobKind, params: dict[str, Any]) -> int:
    """Keep the uploaded file in the jobs folder, queue a job for it, return the job's id.

    The job row is committed in a unit of work of its own before the queue hears of it, so a
    worker never looks for a job that is not there yet.
    """
    queue = job_queue()
    path = queue.upload_path()
    try:
        try:
            file.save(path)
        finally:
            file.close()  # a large upload is spooled to a temporary file: let it go now
        with db.session_scope() as session:
            job = jobs.queue(
                session,
                kind=kind,
                actor=current_user.username,
                now=now_utc(),
                params=params,
                file_path=str(path),
            )
            job_id = job.id
    except BaseException:
        remove_upload(path)
        raise
    queue.enqueue(job_id)
    return job_id


def _visible_job(job_id: int) -> Job:
    """The current user's job, after marking it failed if its worker stopped (404 else).

    The staleness check reads in a session of its own, before the request's session takes
    its snapshot, so the page shows the job as just marked.
    """
    config: Config = current_app.config["TRACKER"]
    stale_after = config.jobs_stale_after
    with db.read_session() as reader:
        stale = jobs.stale_jobs(reader, now=now_utc(), stale_after=stale_after, job_id=job_id)
    if stale:
        with db.session_scope() as own:
            owner = jobs.visible_job(own, job_id, current_user.username)
            marked = (
                jobs.fail_stale(
                    own,
                    now=now_utc(),
                    stale_after=stale_after,
                    actor=current_user.username,
                    job_id=job_id,
                    still_alive=lambda stale_id: still_alive(config, stale_id),
                )
                if owner is not None
                else []
            )
        for stale_id, file_path in marked:
            forget(config, stale_id, file_path)
    job = jobs.visible_job(db.session, job_id, current_user.username)
    if job is None:
        abort(404)
    return job


def _progress(job: Job) -> dict[str, Any]:
    finished = job.state in JobState.finished()
    total = job.rows_total or 0
    return {
        "id": job.id,
        "state": job.state,
        "state_label": str(JobState(job.state).label),
        "phase": job.phase,
        "phase_label": str(PHASE_LABELS.get(job.phase or "", "")),
        "rows_total": job.rows_total,
        "rows_read": job.rows_read,
        "rows_validated": job.rows_validated,
        "rows_staged": job.rows_staged,
        "rows_written": job.rows_written,
        "value": min(job.rows_validated, total) if total else job.rows_validated,
        "max": total,
        "finished": finished,
        "url": url_for("jobs.show", job_id=job.id),
    }


@bp.route("/jobs/<int:job_id>")
@allow(Role.RECORDS_OFFICER)
def show(job_id: int) -> ResponseReturnValue:
    job = _visible_job(job_id)
    report = None
    data = jobs.load_report(job)
    if data is not None:
        report = jobs.report_from_json(data)
        # The report quotes cells of the file (bad values): reading it is recorded.
        audit.record(
            db.session,
            actor=current_user.username,
            action=AuditAction.JOB_VIEW,
            object_type=ObjectType.JOB,
            object_id=job.id,
            details={"kind": job.kind},
        )
    upload_endpoint = "register.upload" if job.kind == JobKind.REGISTER_CHECK else "imports.upload"
    return render_template(
        "jobs/show.html",
        job=job,
        params=jobs.params_of(job),
        progress=_progress(job),
        report=report,
        upload_url=url_for(upload_endpoint),
    )


@bp.route("/jobs/<int:job_id>/progress")
@allow(Role.RECORDS_OFFICER)
def progress(job_id: int) -> ResponseReturnValue:
    """The counters the page's script polls (no personal data: counts and states only)."""
    return jsonify(_progress(_visible_job(job_id)))
