"""``tracker worker`` as a real process (issue 17): it runs an uploaded import to the end, and
a worker killed mid-import (SIGKILL) leaves nothing written and a job shown as failed; with
the queue in Redis (production), a job queued before the worker starts waits there and runs."""

from __future__ import annotations

import io
import os
import signal
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update
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
from tracker.jobs import alive_file
from tracker.models import Job
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
    # The dead worker's last heartbeat and alive-file touch went by the machine's clock, which
    # the suite's pinned clock may be hours before or after: put both 3 s back on the suite's
    # clock (the app's stale_after is 2 s here), as if the worker had died 3 s ago.
    _last_sign_of_life_ago(app, job_id, seconds=3)
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


# --- Huey on Redis (production's queue) -----------------------------------------------------

#: The Redis the suite may use (a database number of its own is chosen per test).
REDIS_URL = os.environ.get("TRACKER_TEST_REDIS_URL", "redis://127.0.0.1:6379")


class RedisJobsSetup(JobsSetup):
    """A JobsSetup whose queue is a Redis database (``redis://host:port/N``)."""

    redis_url: str = ""

    @property
    def queue_url(self) -> str:
        return self.redis_url


@pytest.fixture
def redis_setup(postgres_url: str, tmp_path: Path) -> Iterator[RedisJobsSetup]:
    """A Redis database number that holds no keys (so nobody else's), emptied of the queue's
    keys after the test; skipped, saying why, when Redis does not answer. With PostgreSQL
    only, production's pairing: the queue is what is under test here, and the import on
    either database is the SQLite-queue tests' (a worker process costs seconds per run)."""
    import random

    import redis

    try:
        probe = redis.Redis.from_url(f"{REDIS_URL}/0", socket_connect_timeout=1)
        probe.ping()
        used = {int(name.removeprefix("db")) for name in probe.info("keyspace")}
        probe.close()
    except redis.RedisError as error:
        reason = f"Redis at {REDIS_URL} unreachable ({error}): Huey-on-Redis test skipped"
        print(reason)
        pytest.skip(reason)
    free = [number for number in range(1, 16) if number not in used]
    if not free:
        pytest.skip(f"Redis at {REDIS_URL} has no empty database for the test")
    setup = RedisJobsSetup(tmp_path, postgres_url)
    setup.redis_url = f"{REDIS_URL}/{random.choice(free)}"
    yield setup
    client = redis.Redis.from_url(setup.redis_url)
    try:
        keys = list(client.scan_iter("huey.*tracker*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def test_the_worker_runs_a_queued_import_from_a_redis_queue(
    redis_setup: RedisJobsSetup,
) -> None:
    import redis

    app = create_app(make_config(redis_setup.database_url, **redis_setup.config_changes()))
    try:
        client = app.test_client()
        assert login(client, user(app, Role.RECORDS_OFFICER, "officer1")).status_code == 302
        database = app.extensions["tracker.db"]
        path = returns_csv(redis_setup.folder / "returns.csv", 100)
        queue = redis.Redis.from_url(redis_setup.redis_url)
        huey = app.extensions["tracker.jobs"].huey

        def waiting() -> list[str]:
            """The tasks in the Redis queue, by name (the worker's periodic sweep may
            enqueue itself just before it stops: only the import's task is asserted on)."""
            raw = queue.lrange("huey.redis.tracker", 0, -1)
            return [huey.serializer.deserialize(message).name for message in raw]

        job_id = upload(client, path)  # queued before any worker runs: it waits in Redis
        assert [name.endswith("tracker.run_job") for name in waiting()] == [True]
        with running_worker(redis_setup):
            job = wait_for(database, job_id, lambda j: j.state in JobState.finished())
        assert job.state == JobState.SUCCEEDED, job.failure
        assert stored_counts(database)[1] == 100
        assert not any(name.endswith("tracker.run_job") for name in waiting())  # consumed
        queue.close()
    finally:
        app.extensions["tracker.db"].dispose()


def _last_sign_of_life_ago(app: Flask, job_id: int, seconds: int) -> None:
    moment = datetime.now(UTC) - timedelta(seconds=seconds)  # the suite's clock
    with app.extensions["tracker.db"].session_scope() as session:
        session.execute(update(Job).where(Job.id == job_id).values(heartbeat_at=moment))
    alive = alive_file(app.config["TRACKER"], job_id)
    if alive.exists():
        os.utime(alive, (moment.timestamp(), moment.timestamp()))
