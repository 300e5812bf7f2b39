"""A background job's page (issue 17): progress while it runs, the report at the end, only for
the person who queued it. Jobs run inside the request here (``TRACKER_JOBS_URL=immediate``);
tests/cli/test_worker.py runs them in a real ``tracker worker``."""

from __future__ import annotations

import io
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient

from tests.factories import user
from tests.helpers import csrf_token, login
from tracker.clock import now_utc
from tracker.domain.codes import JobKind, JobState, Role
from tracker.services import jobs

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
