"""Background jobs in tests (issue 17): synthetic import files, a real ``tracker worker``
process on a SQLite Huey queue in a temporary folder, and waiting for a job's state."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from tests.conftest import TEST_DIGEST_KEY
from tracker.db import Database
from tracker.models import Envelope, Item, Job
from tracker.synthetic.generator import generate_rows
from tracker.synthetic.writer import write_csv

#: How long a test waits for a worker to start, or for a job to reach a state.
START_TIMEOUT = 20.0


def returns_csv(path: Path, rows: int, seed: int = 3) -> Path:
    """A SPEC §6.4 import file of ``rows`` synthetic item rows (nothing in it is real)."""
    write_csv(path, generate_rows(rows, seed))
    return path


@dataclass
class JobsSetup:
    """Where a test's queue and uploads live, as the app config and the worker see them."""

    folder: Path
    database_url: str

    @property
    def queue_url(self) -> str:
        return f"sqlite:///{self.folder / 'queue.sqlite3'}"

    @property
    def uploads(self) -> Path:
        return self.folder / "uploads"

    def config_changes(self, stale_seconds: int = 300) -> dict[str, object]:
        from datetime import timedelta

        return {
            "jobs_url": self.queue_url,
            "jobs_folder": self.uploads,
            "jobs_stale_after": timedelta(seconds=stale_seconds),
        }

    def worker_env(self) -> dict[str, str]:
        key_file = self.folder / "audit_digest_key"
        key_file.write_text(TEST_DIGEST_KEY.hex())
        key_file.chmod(0o600)
        return {
            **os.environ,
            "TRACKER_DATABASE_URL": self.database_url,
            "TRACKER_JOBS_URL": self.queue_url,
            "TRACKER_JOBS_FOLDER": str(self.uploads),
            "TRACKER_AUDIT_KEY_FILE": str(key_file),
            "TRACKER_INSTANCE_PATH": str(self.folder),
            "TRACKER_SECRET_KEY": "test-secret-key-not-for-production",
            "PYTHONUNBUFFERED": "1",
        }


@contextmanager
def running_worker(setup: JobsSetup) -> Iterator[subprocess.Popen[str]]:
    """``tracker worker`` as a child process, ready when it says so; always stopped after."""
    log = (setup.folder / "worker.log").open("w+")
    process = subprocess.Popen(
        [sys.executable, "-c", "from tracker.cli import main; main()", "worker", "--poll", "0.2"],
        env=setup.worker_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while "ワーカーを起動しました" not in (setup.folder / "worker.log").read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(
                    f"tracker worker did not start:\n{(setup.folder / 'worker.log').read_text()}"
                )
            time.sleep(0.1)
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        log.close()


def job_row(database: Database, job_id: int) -> Job:
    with database.read_session() as session:
        job = session.get(Job, job_id)
        assert job is not None
        session.expunge(job)
        return job


def wait_for(
    database: Database, job_id: int, done: Callable[[Job], bool], timeout: float = 60.0
) -> Job:
    deadline = time.monotonic() + timeout
    while True:
        job = job_row(database, job_id)
        if done(job):
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} stayed {job.state} ({job.phase}, {job.failure})")
        time.sleep(0.1)


def stored_counts(database: Database) -> tuple[int, int]:
    """(envelopes, items) in the database."""
    with database.read_session() as session:
        envelopes = session.scalar(select(func.count()).select_from(Envelope)) or 0
        items = session.scalar(select(func.count()).select_from(Item)) or 0
    return envelopes, items
