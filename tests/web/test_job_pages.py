"""A background job's page (issue 17): progress while it runs, the report at the end, only for
the person who queued it. Jobs run inside the request here (``TRACKER_JOBS_URL=immediate``);
tests/cli/test_worker.py runs them in a real ``tracker worker``."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import select, update

from tests import factories
from tests.conftest import make_config
from tests.factories import user
from tests.factories_jobs import job_row
from tests.factories_protect import protect
from tests.helpers import csrf_token, login
from tests.services.test_job_kinds import sent_batch
from tracker import create_app
from tracker.clock import now_utc
from tracker.domain.codes import AuditAction, JobKind, JobState, Role
from tracker.jobs import FILE_RETENTION
from tracker.models import AuditEvent, Contact, Job, User
from tracker.services import jobs, notices

HEADER = "お問い合わせ番号,返戻日,還付事由,宛名,住所,氏名,フリガナ,生年月日"
ROW = "123456789015,H30.4.1,転居先不明,山田 太郎,熊本市中央区1,山田 太郎,ﾔﾏﾀﾞ ﾀﾛｳ,S50.1.1"


def upload(client: FlaskClient, content: bytes, *, commit: bool = True):  # type: ignore[no-untyped-def]
    return client.post(
        "/imports",
        data={
            "csrf_token": csrf_token(client, "/imports"),
            "encoding": "auto",
            "file": (io.BytesIO(content), "returns.csv"),
            ("commit" if commit else "dry_run"): "1",
        },
        content_type="multipart/form-data",
    )


def actions(app: Flask) -> list[str]:
    with factories.database_of(app).read_session() as session:
        return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))


def queued_job(app: Flask, actor: str) -> int:
    with app.extensions["tracker.db"].session_scope() as session:
        return jobs.queue(session, kind=JobKind.IMPORT, actor=actor, now=now_utc()).id


def test_an_upload_redirects_to_its_job_page_which_shows_the_report(app: Flask, logged_in) -> None:
    client = logged_in(Role.RECORDS_OFFICER)
    response = upload(client, f"{HEADER}\n{ROW}\n".encode(), commit=False)
    assert response.status_code == 302 and response.headers["Location"].startswith("/jobs/")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'data-state="succeeded"' in page and "検証のみ（書き込みなし）" in page
    assert "<progress" not in page and 'http-equiv="refresh"' not in page  # it has ended
    listing = client.get("/imports").get_data(as_text=True)
    assert response.headers["Location"] in listing  # the upload page lists my recent jobs


def test_a_waiting_job_shows_a_bar_and_refreshes_without_javascript(
    app: Flask, client: FlaskClient
) -> None:
    officer = user(app, Role.RECORDS_OFFICER, "officer1")
    job_id = queued_job(app, "officer1")
    assert login(client, officer).status_code == 302
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "<progress" in page and 'http-equiv="refresh"' in page and "job.js" in page
    assert "処理の開始を待っています" in page
    with app.extensions["tracker.db"].session_scope() as session:
        jobs.start(session, job_id, now=now_utc())
        progress = jobs.Progress("reading", 120, 120, 100, rows_total=400)
        jobs.record_progress(session, job_id, progress, now=now_utc())
    data = client.get(f"/jobs/{job_id}/progress").get_json()
    assert data["state"] == "running" and data["finished"] is False
    assert (data["value"], data["max"], data["rows_staged"]) == (120, 400, 100)
    assert data["phase_label"] == "読み込み・検証中"
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert 'value="120"' in page and 'max="400"' in page


def test_another_persons_job_is_not_found(app: Flask, client: FlaskClient) -> None:
    user(app, Role.RECORDS_OFFICER, "officer1")
    other = user(app, Role.RECORDS_OFFICER, "officer2")
    job_id = queued_job(app, "officer1")
    assert login(client, other).status_code == 302
    assert client.get(f"/jobs/{job_id}").status_code == 404
    assert client.get(f"/jobs/{job_id}/progress").status_code == 404
    assert client.get("/jobs/999999").status_code == 404


def test_a_running_job_whose_worker_stopped_is_shown_failed(
    app: Flask, client: FlaskClient
) -> None:
    officer = user(app, Role.RECORDS_OFFICER, "officer1")
    job_id = queued_job(app, "officer1")
    stale = app.config["TRACKER"].jobs_stale_after + timedelta(seconds=1)
    with app.extensions["tracker.db"].session_scope() as session:
        jobs.start(session, job_id, now=now_utc() - stale)
    assert login(client, officer).status_code == 302
    data = client.get(f"/jobs/{job_id}/progress").get_json()
    assert data["state"] == JobState.FAILED and data["finished"] is True
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "処理が中断されました" in page


# --- a large batch's letters PDF (a notices job) ---------------------------------------------


@pytest.fixture
def letters_app(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """An app whose made files go to a folder of the test's; any batch above 2 letters is
    made in the background."""
    from tracker.web.notices import views as notice_views

    monkeypatch.setattr(notice_views, "LETTERS_IN_REQUEST", 2)
    application = create_app(make_config(database_url, jobs_folder=tmp_path / "jobs"))
    yield application
    application.extensions["tracker.db"].dispose()


def letters_job(app: Flask, client: FlaskClient, batch_id: int) -> int:
    token = csrf_token(client, f"/notices/{batch_id}")
    response = client.post(f"/notices/{batch_id}/letters", data={"csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rsplit("/", 1)[1])


def made_files(app: Flask) -> list[str]:
    folder = app.config["TRACKER"].jobs_folder
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_a_large_batchs_letters_are_made_by_a_job_and_downloaded_once_by_the_requester(
    letters_app: Flask,
) -> None:
    app = letters_app
    batch_id = sent_batch(factories.database_of(app), 3)
    clerk = app.test_client()
    assert login(clerk, user(app, Role.CLERK, "clerk1")).status_code == 302
    page = clerk.get(f"/notices/{batch_id}").get_data(as_text=True)
    assert 'data-testid="letters-job"' in page and f"/notices/{batch_id}/letters.pdf" not in page
    assert clerk.get(f"/notices/{batch_id}/letters.pdf").status_code == 302  # not in the request

    job_id = letters_job(app, clerk, batch_id)
    page = clerk.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert 'data-state="succeeded"' in page and "お知らせ 3通を作成しました" in page
    assert f'href="/jobs/{job_id}/letters.pdf"' in page
    assert f"/jobs/{job_id}" in clerk.get(f"/notices/{batch_id}").get_data(as_text=True)
    assert len(made_files(app)) == 1

    other = app.test_client()  # another clerk: the same role, not the requester
    assert login(other, user(app, Role.CLERK, "clerk2")).status_code == 302
    assert other.get(f"/jobs/{job_id}/letters.pdf").status_code == 404
    assert other.get(f"/jobs/{job_id}").status_code == 404

    pdf = clerk.get(f"/jobs/{job_id}/letters.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.headers["Content-Disposition"] == 'attachment; filename="notices-N000000001.pdf"'
    assert len(PdfReader(io.BytesIO(pdf.data)).pages) == 3
    assert actions(app)[-1] == AuditAction.NOTICE_PRINT.value
    assert made_files(app) == []  # deleted as it was sent
    again = clerk.get(f"/jobs/{job_id}/letters.pdf")
    assert again.status_code == 410 and "ダウンロード済み" in again.get_data(as_text=True)
    assert 'data-testid="job-file-gone"' in clerk.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert actions(app).count(AuditAction.NOTICE_PRINT.value) == 1


def test_the_letters_need_the_requesters_role_and_go_after_their_retention(
    letters_app: Flask,
) -> None:
    app = letters_app
    database = factories.database_of(app)
    batch_id = sent_batch(database, 3)
    officer = app.test_client()
    assert login(officer, user(app, Role.RECORDS_OFFICER, "officer1")).status_code == 302
    job_id = letters_job(app, officer, batch_id)
    with database.session_scope() as session:  # an admin made them an auditor meanwhile
        session.execute(update(User).where(User.username == "officer1").values(role="auditor"))
    assert officer.get(f"/jobs/{job_id}/letters.pdf").status_code == 403
    assert len(made_files(app)) == 1
    with database.session_scope() as session:
        session.execute(
            update(User).where(User.username == "officer1").values(role="records_officer")
        )
        retention = FILE_RETENTION + timedelta(minutes=1)
        session.execute(
            update(Job).where(Job.id == job_id).values(finished_at=now_utc() - retention)
        )
    assert officer.get(f"/jobs/{job_id}/letters.pdf").status_code == 410
    assert made_files(app) == []
    assert AuditAction.NOTICE_PRINT.value not in actions(app)


def made_letters(app: Flask, letters: int = 3) -> tuple[FlaskClient, int]:
    """A clerk's client and the id of their finished notices job (its PDF waiting)."""
    batch_id = sent_batch(factories.database_of(app), letters)
    clerk = app.test_client()
    assert login(clerk, user(app, Role.CLERK, "clerk1")).status_code == 302
    job_id = letters_job(app, clerk, batch_id)
    assert len(made_files(app)) == 1
    return clerk, job_id


def test_a_head_request_leaves_the_letters_for_the_download(letters_app: Flask) -> None:
    app = letters_app
    clerk, job_id = made_letters(app)
    head = clerk.head(f"/jobs/{job_id}/letters.pdf")
    assert head.status_code == 200 and head.mimetype == "application/pdf"
    assert len(made_files(app)) == 1  # not taken
    assert AuditAction.NOTICE_PRINT.value not in actions(app)
    pdf = clerk.get(f"/jobs/{job_id}/letters.pdf")
    assert pdf.status_code == 200 and len(PdfReader(io.BytesIO(pdf.data)).pages) == 3
    assert actions(app).count(AuditAction.NOTICE_PRINT.value) == 1


def test_the_letters_stay_when_their_print_cannot_be_recorded(
    letters_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = letters_app
    clerk, job_id = made_letters(app)
    before = made_files(app)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("audit chain unavailable")

    monkeypatch.setattr(notices, "record_print", broken)
    assert clerk.get(f"/jobs/{job_id}/letters.pdf").status_code == 500
    assert made_files(app) == before  # put back under its name: nothing was sent
    assert AuditAction.NOTICE_PRINT.value not in actions(app)
    monkeypatch.undo()
    pdf = clerk.get(f"/jobs/{job_id}/letters.pdf")
    assert pdf.status_code == 200 and made_files(app) == []
    assert actions(app).count(AuditAction.NOTICE_PRINT.value) == 1


def test_letters_swept_between_taking_and_reading_are_gone_not_an_error(
    letters_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tracker.web.jobs import views as job_views

    app = letters_app
    clerk, job_id = made_letters(app)

    def swept(path: Path) -> Path:
        path.unlink()
        return path.with_name(f".{path.name}.sending-0123456789ab")

    monkeypatch.setattr(job_views, "claim", swept)
    response = clerk.get(f"/jobs/{job_id}/letters.pdf")
    assert response.status_code == 410 and "ダウンロード済み" in response.get_data(as_text=True)
    assert AuditAction.NOTICE_PRINT.value not in actions(app)


def test_letters_drawn_before_a_person_was_protected_are_never_sent(letters_app: Flask) -> None:
    app = letters_app
    clerk, job_id = made_letters(app)
    database = factories.database_of(app)
    with database.read_session() as session:
        first = session.scalars(select(Contact.item_id).order_by(Contact.item_id)).first()
    assert first is not None
    protect(app, first, whole_envelope=False)  # 支援措置 placed after the PDF was drawn
    response = clerk.get(f"/jobs/{job_id}/letters.pdf")
    page = response.get_data(as_text=True)
    assert response.status_code == 409 and 'data-testid="job-file-changed"' in page
    assert made_files(app) == []  # the stale file is deleted, not left to be fetched
    assert AuditAction.NOTICE_PRINT.value not in actions(app)
    # Made again, the letters leave the protected person out (as the reprint does).
    batch_id = jobs.params_of(job_row(database, job_id))["batch_id"]
    again = letters_job(app, clerk, batch_id)
    pdf = clerk.get(f"/jobs/{again}/letters.pdf")
    assert pdf.status_code == 200 and len(PdfReader(io.BytesIO(pdf.data)).pages) == 2


@pytest.mark.parametrize(
    ("kind", "role"),
    [
        (JobKind.IMPORT, Role.CLERK),
        (JobKind.REGISTER_CHECK, Role.AUDITOR),
        (JobKind.PURGE, Role.CLERK),
    ],
)
def test_an_officers_jobs_are_closed_to_them_once_they_hold_another_role(
    app: Flask, client: FlaskClient, kind: JobKind, role: Role
) -> None:
    officer = user(app, Role.RECORDS_OFFICER, "officer1")
    with app.extensions["tracker.db"].session_scope() as session:
        job_id = jobs.queue(session, kind=kind, actor="officer1", now=now_utc()).id
    assert login(client, officer).status_code == 302
    assert client.get(f"/jobs/{job_id}").status_code == 200
    with app.extensions["tracker.db"].session_scope() as session:  # an admin changed the role
        session.execute(update(User).where(User.username == "officer1").values(role=role.value))
    assert client.get(f"/jobs/{job_id}").status_code == 403
    assert client.get(f"/jobs/{job_id}/progress").status_code == 403


def test_a_stale_notices_job_leaves_no_letters_behind(letters_app: Flask) -> None:
    from tracker.jobs import made_file_name

    app = letters_app
    clerk_account = user(app, Role.CLERK, "clerk1")
    stale = app.config["TRACKER"].jobs_stale_after + timedelta(seconds=1)
    with app.extensions["tracker.db"].session_scope() as session:
        job_id = jobs.queue(session, kind=JobKind.NOTICES, actor="clerk1", now=now_utc()).id
        other_id = jobs.queue(session, kind=JobKind.NOTICES, actor="clerk1", now=now_utc()).id
        jobs.start(session, job_id, now=now_utc() - stale)  # its worker was killed mid-way
    folder = app.config["TRACKER"].jobs_folder
    folder.mkdir(parents=True, exist_ok=True)
    left = [f".{made_file_name(job_id)}.partial", made_file_name(job_id)]
    kept = [made_file_name(other_id), f".{made_file_name(other_id)}.partial"]
    for name in left + kept:
        (folder / name).write_bytes(b"%PDF- names and addresses")
    clerk = app.test_client()
    assert login(clerk, clerk_account).status_code == 302
    assert clerk.get(f"/jobs/{job_id}/progress").get_json()["state"] == JobState.FAILED
    assert made_files(app) == sorted(kept)  # another job's files are not touched
