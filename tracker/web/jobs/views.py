"""A background job's page (issue 17): its progress while it runs, then its report.

A job is shown to the person who queued it only (its report can quote cells of the uploaded
file); anyone else gets the same 404 as for a job that does not exist. The page refreshes
itself: a small script polls :func:`progress` and moves the bar; without JavaScript, a meta
refresh reloads the page. A running job whose heartbeat stopped is marked failed
(interrupted) here, the first time someone looks at it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from werkzeug.datastructures import FileStorage

from tracker.clock import now_utc
from tracker.config import Config
from tracker.domain.codes import AuditAction, JobKind, JobState, ObjectType, Role
from tracker.extensions import db
from tracker.jobs import (
    FILE_RETENTION,
    JobQueue,
    claim,
    forget,
    made_file,
    remove_upload,
    still_alive,
)
from tracker.models import Job, NoticeBatch
from tracker.services import audit, jobs, notices
from tracker.web.access import allow
from tracker.web.i18n import gettext as _
from tracker.web.i18n import lazy_gettext as _l

bp = Blueprint("jobs", __name__)

#: Phase codes of the progress records → what the page says (a purge's phase is its step).
PHASE_LABELS = {
    "reading": _l("読み込み・検証中"),
    "checking": _l("照合中"),
    "writing": _l("書き込み中"),
    "rendering": _l("お知らせを作成中"),
}
#: A purge's steps (its phases while it runs, the rows of its report).
STEP_LABELS = {
    "reservation_phones": _l("受取予約の折り返し電話番号"),
    "items": _l("通知物"),
    "envelopes": _l("返戻郵便"),
    "item_records": _l("通知物についての記録"),
    "item_revisions": _l("修正履歴（削除）"),
    "handovers": _l("交付記録と受領書"),
    "reservations": _l("受取予約"),
    "contacts": _l("接触記録"),
}
#: The counter the bar shows, by kind: rows checked, letters drawn, purge steps begun.
BAR_COUNTER = {JobKind.NOTICES.value: "rows_written"}
#: Kinds whose report quotes cells of an uploaded file (reading it is audited).
FILE_KINDS = (JobKind.IMPORT.value, JobKind.REGISTER_CHECK.value)
#: A job's page is its requester's only; a notices job may be queued by whoever may print
#: letters (clerks, records officers, auditors), the other kinds by records officers.
C, R, A = Role.CLERK, Role.RECORDS_OFFICER, Role.AUDITOR
#: Who may open a job's pages, by kind (and only its requester): the roles that may queue it.
#: An import's report quotes the file's cells; a records officer made a clerk since loses it.
KIND_ROLES: dict[str, frozenset[str]] = {
    JobKind.IMPORT.value: frozenset({R.value}),
    JobKind.REGISTER_CHECK.value: frozenset({R.value}),
    JobKind.PURGE.value: frozenset({R.value}),
    JobKind.NOTICES.value: frozenset({C.value, R.value, A.value}),
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


def queue_job(kind: JobKind, params: dict[str, Any]) -> int:
    """Queue a job without a file (notices, purge) for the current user; its id."""
    with db.session_scope() as session:
        job_id = jobs.queue(
            session, kind=kind, actor=current_user.username, now=now_utc(), params=params
        ).id
    job_queue().enqueue(job_id)
    return job_id


def queue_job_alone(kind: JobKind, params: dict[str, Any]) -> tuple[int, str | None]:
    """Queue a job without a file unless one of its kind is queued or running: (its id,
    None), or (the waiting or running job's id, who queued it) and nothing queued."""
    with db.session_scope() as session:
        job, new = jobs.queue_alone(
            session, kind=kind, actor=current_user.username, now=now_utc(), params=params
        )
        job_id, requester = job.id, job.requested_by
    if not new:
        return job_id, requester
    job_queue().enqueue(job_id)
    return job_id, None


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
    if current_user.role not in KIND_ROLES.get(job.kind, frozenset()):
        abort(403)
    return job


def _phase_label(phase: str | None) -> str:
    if phase in STEP_LABELS:
        return str(_("消去中: %(step)s", step=STEP_LABELS[phase]))
    return str(PHASE_LABELS.get(phase or "", ""))


def _progress(job: Job) -> dict[str, Any]:
    finished = job.state in JobState.finished()
    total = job.rows_total or 0
    value = int(getattr(job, BAR_COUNTER.get(job.kind, "rows_validated")))
    return {
        "id": job.id,
        "state": job.state,
        "state_label": str(JobState(job.state).label),
        "phase": job.phase,
        "phase_label": _phase_label(job.phase),
        "rows_total": job.rows_total,
        "rows_read": job.rows_read,
        "rows_validated": job.rows_validated,
        "rows_staged": job.rows_staged,
        "rows_written": job.rows_written,
        "value": min(value, total) if total else value,
        "max": total,
        "finished": finished,
        "url": url_for("jobs.show", job_id=job.id),
    }


#: Where a job's page leads back to, by kind.
BACK = {
    JobKind.IMPORT.value: ("imports.upload", _l("取込画面に戻る")),
    JobKind.REGISTER_CHECK.value: ("register.upload", _l("取込画面に戻る")),
    JobKind.NOTICES.value: ("notices.index", _l("お知らせの一覧へ")),
    JobKind.PURGE.value: ("disposal.record_retention", _l("記録の保存期間へ")),
}


def _made_file(job: Job, data: dict[str, Any] | None) -> Path | None:
    """The job's made file (a letters PDF) if it is still there to download."""
    if job.kind != JobKind.NOTICES or job.state != JobState.SUCCEEDED or data is None:
        return None
    path = made_file(_config(), str(data.get("file", "")))
    if path is not None and _expired(job):
        path.unlink(missing_ok=True)  # the worker's sweep may not have come by yet
        return None
    return path if path is not None and path.exists() else None


def _expired(job: Job) -> bool:
    return job.finished_at is not None and now_utc() - job.finished_at > FILE_RETENTION


def _config() -> Config:
    config: Config = current_app.config["TRACKER"]
    return config


@bp.route("/jobs/<int:job_id>")
@allow(C, R, A)
def show(job_id: int) -> ResponseReturnValue:
    job = _visible_job(job_id)
    report: Any = None
    data = jobs.load_report(job)
    if data is not None and job.kind not in FILE_KINDS:
        report = data  # counts only (a purge) or the letters' batch and count (notices)
    elif data is not None:
        report = jobs.report_from_json(data)
        # The report quotes cells of the file (bad values): reading it is recorded.
        audit.record_at_commit(
            db.session,
            actor=current_user.username,
            action=AuditAction.JOB_VIEW,
            object_type=ObjectType.JOB,
            object_id=job.id,
            details={"kind": job.kind},
        )
    back_endpoint, back_label = BACK[job.kind]
    return render_template(
        "jobs/show.html",
        job=job,
        params=jobs.params_of(job),
        progress=_progress(job),
        report=report,
        download=_made_file(job, data) is not None,
        retention_hours=int(FILE_RETENTION.total_seconds() // 3600),
        back_url=url_for(back_endpoint),
        back_label=back_label,
        step_labels=STEP_LABELS,
    )


@bp.route("/jobs/<int:job_id>/letters.pdf")
@allow(C, R, A)
def download(job_id: int) -> ResponseReturnValue:
    """A notices job's letters PDF, once: to the person who queued it, while they still hold
    the role they queued it with; audited as NOTICE_PRINT like the reprint.

    The file is taken (renamed out of the way) and the print's audit event committed in a
    unit of work of its own; only then is the file deleted and sent (a second download finds
    it gone: make it again). If the event cannot be written, the file is put back. A HEAD
    request (a link checker, a browser's probe) answers without taking it. A file whose
    letters the batch no longer has (a person protected since) is deleted, never sent."""
    job = _visible_job(job_id)
    if job.kind != JobKind.NOTICES:
        abort(404)
    if jobs.params_of(job).get("role") != current_user.role:
        abort(403)
    data = jobs.load_report(job)
    path = _made_file(job, data)
    if path is None or data is None:
        return _gone(job)
    batch = db.session.get(NoticeBatch, int(data["batch_id"]))
    if batch is None:
        path.unlink(missing_ok=True)
        return _gone(job)
    if data.get("letters_digest") != notices.batch_letters_digest(db.session, batch):
        # Someone protected (支援措置) since the letters were drawn would still be in the
        # file; the reprint would leave them out. The file goes: make it again.
        path.unlink(missing_ok=True)
        page = render_template(
            "jobs/changed.html", job=job, back_url=url_for("notices.batch", batch_id=batch.id)
        )
        return page, 409
    disposition = f'attachment; filename="notices-{batch.batch_no}.pdf"'
    if request.method == "HEAD":
        return Response(mimetype="application/pdf", headers={"Content-Disposition": disposition})
    taken = claim(path)
    if taken is None:
        return _gone(job)
    try:
        body = taken.read_bytes()
    except FileNotFoundError:  # swept meanwhile
        return _gone(job)
    try:
        with db.session_scope() as own:
            notices.record_print(
                own, actor=current_user.username, batch=batch, letters=int(data["letters"])
            )
    except BaseException:
        _put_back(taken, path)
        raise
    taken.unlink(missing_ok=True)
    return Response(body, mimetype="application/pdf", headers={"Content-Disposition": disposition})


def _gone(job: Job) -> ResponseReturnValue:
    return render_template("jobs/gone.html", job=job, back_url=url_for("notices.index")), 410


def _put_back(taken: Path, path: Path) -> None:
    """The taken file back under its name (the print was not recorded: it was not sent)."""
    try:
        os.rename(taken, path)
    except OSError:
        taken.unlink(missing_ok=True)


@bp.route("/jobs/<int:job_id>/progress")
@allow(C, R, A)
def progress(job_id: int) -> ResponseReturnValue:
    """The counters the page's script polls (no personal data: counts and states only)."""
    return jsonify(_progress(_visible_job(job_id)))
