"""``tracker worker`` as a real process (issue 17): it runs an uploaded import to the end, and
a worker killed mid-import (SIGKILL) leaves nothing written and a job shown as failed."""

from __future__ import annotations

import io
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tests.conftest import make_config
from tests.factories import user
from tests.factories_jobs import (
    JobsSetup,
    returns_csv,
    running_worker,
    stored_counts,
    wait_for,
)
from tests.helpers import csrf_token, login
from tracker import create_app
from tracker.domain.codes import JobState, Role
from tracker.services import jobs


@pytest.fixture
def setup(database_url: str, tmp_path: Path) -> JobsSetup:
    return JobsSetup(tmp_path, database_url)


def app_for(setup: JobsSetup, stale_seconds: int = 300) -> Flask:
    return create_app(make_config(setup.database_url, **setup.config_changes(stale_seconds)))


@pytest.fixture
def officer(setup: JobsSetup) -> Iterator[tuple[Flask, FlaskClient]]:
    app = app_for(setup, stale_seconds=2)
    client = app.test_client()
    assert login(client, user(app, Role.RECORDS_OFFICER, "officer1")).status_code == 302
    yield app, client
    app.extensions["tracker.db"].dispose()


def upload(client: FlaskClient, path: Path, *, commit: bool = True) -> int:
    # Encoded in memory: the test client would spool a large body to a temporary file that
    # it never closes (a ResourceWarning, an error here).
    boundary, body = encode_multipart(
        {
            "csrf_token": csrf_token(client, "/imports"),
            "encoding": "auto",
            "file": FileStorage(io.BytesIO(path.read_bytes()), "returns.csv"),
            ("commit" if commit else "dry_run"): "1",
        }
    )
    response = client.post(
        "/imports", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_the_worker_runs_an_uploaded_import_to_its_report(
    setup: JobsSetup, officer: tuple[Flask, FlaskClient]
) -> None:
    app, client = officer
    database = app.extensions["tracker.db"]
    path = returns_csv(setup.folder / "returns.csv", 500)
    with running_worker(setup):
        job_id = upload(client, path)
        job = wait_for(database, job_id, lambda j: j.state in JobState.finished())
    assert job.state == JobState.SUCCEEDED, job.failure
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "取込が完了しました" in page and "通知物 500件" in page
    assert stored_counts(database)[1] == 500
    assert list(setup.uploads.iterdir()) == []  # the upload went with its job


def test_a_worker_killed_mid_import_leaves_nothing_and_the_job_failed(
    setup: JobsSetup, officer: tuple[Flask, FlaskClient]
) -> None:
    app, client = officer
    database = app.extensions["tracker.db"]
    path = returns_csv(setup.folder / "returns.csv", 30_000)
    with running_worker(setup) as worker:
        job_id = upload(client, path)
        running = wait_for(database, job_id, lambda j: j.rows_staged > 0, timeout=60)
        assert running.state == JobState.RUNNING
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    assert stored_counts(database) == (0, 0)
    time.sleep(2.5)  # the app's stale_after is 2 s in this test
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "処理が中断されました" in page and 'data-state="failed"' in page
    assert stored_counts(database) == (0, 0)
    assert list(setup.uploads.iterdir()) == []
    # The same file goes through when run again, by a new worker.
    small = returns_csv(setup.folder / "again.csv", 200)
    with running_worker(setup):
        again = upload(client, small)
        job = wait_for(database, again, lambda j: j.state in JobState.finished())
    assert job.state == JobState.SUCCEEDED and stored_counts(database)[1] == 200
    assert jobs.INTERRUPTED in page
