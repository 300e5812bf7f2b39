"""Background jobs run by ``tracker worker`` through Huey (issue 17, docs/deployment.md).

The queue only carries a job's id; everything else (who asked, the state, the progress, the
report) is in the ``jobs`` table (:mod:`tracker.services.jobs`), so any app server can show a
job that any worker runs. Huey keeps its queue in a SQLite file in the instance folder by
default (the embedded set-up needs no server) or in Redis (``TRACKER_JOBS_URL=redis://…``).
This package is a boundary, like the commands: it commits its own units of work.
"""

from __future__ import annotations

import os
import re
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey, crontab

from tracker.config import DEFAULT_INSTANCE_PATH, Config
from tracker.db import Database

#: ``TRACKER_JOBS_URL`` value that runs each job inside the call that queues it (tests only).
IMMEDIATE = "immediate"


def make_huey(url: str) -> Huey:
    """The Huey instance for ``TRACKER_JOBS_URL`` (see :class:`tracker.config.Config`)."""
    if url == IMMEDIATE:
        return MemoryHuey("tracker", immediate=True, results=False)
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey("tracker", url=url, results=False)
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
    elif not url:
        path = DEFAULT_INSTANCE_PATH / "jobs-queue.sqlite3"
    else:
        raise ValueError(
            f"TRACKER_JOBS_URL must be empty, sqlite:///PATH or redis://…, not {url!r}"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("tracker", filename=str(path), results=False)


class JobQueue:
    """The app's queue: ``enqueue(job_id)`` after the job's row has been committed."""

    def __init__(self, config: Config, database: Database) -> None:
        from tracker.jobs.runner import run_job

        self.config = config
        self.database = database
        self._huey: Huey | None = None
        self._task: Any = None
        self._run_job = run_job

    @property
    def huey(self) -> Huey:
        """Made on first use: an app that never queues a job never opens the queue."""
        if self._huey is None:
            huey = make_huey(self.config.jobs_url)

            def tracker_run_job(job_id: int) -> None:
                self._run_job(self.database, self.config, job_id)

            def tracker_sweep_files() -> None:
                sweep_files(self.config)

            self._task = huey.task(name="tracker.run_job")(tracker_run_job)
            # Made files (a notices PDF) not downloaded within FILE_RETENTION go; the
            # consumer of `tracker worker` runs this every ten minutes.
            huey.periodic_task(crontab(minute="*/10"), name="tracker.sweep_files")(
                tracker_sweep_files
            )
            self._huey = huey
        return self._huey

    def enqueue(self, job_id: int) -> None:
        self.huey  # noqa: B018  (registers the task)
        self._task(job_id)

    def upload_path(self, suffix: str = ".csv") -> Path:
        """A new private file (0600) in the jobs folder (0700) for an upload to wait in."""
        folder = self.config.jobs_folder
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        name = f"upload-{os.urandom(12).hex()}{suffix}"
        path = folder / name
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        return path


def remove_upload(path: str | os.PathLike[str] | None) -> None:
    if path:
        Path(path).unlink(missing_ok=True)


def alive_file(config: Config, job_id: int) -> Path:
    """A file the worker touches while it runs the job, even while SQLite's write lock keeps
    it from writing its heartbeat into the database."""
    return config.jobs_folder / f"job-{job_id}.alive"


def still_alive(config: Config, job_id: int) -> bool:
    """Has the worker of ``job_id`` touched its file within the stale time?"""
    try:
        touched = alive_file(config, job_id).stat().st_mtime
    except FileNotFoundError:
        return False
    return time.time() - touched < config.jobs_stale_after.total_seconds()


def forget(config: Config, job_id: int, upload: str | None) -> None:
    """Delete what a failed job left behind: its upload, its alive file, and a notices job's
    letters (its ``.partial`` file and a finished PDF: names and addresses)."""
    remove_upload(upload)
    alive_file(config, job_id).unlink(missing_ok=True)
    folder = config.jobs_folder
    if not folder.is_dir():
        return
    for pattern in (f"notices-{job_id}-*", f".notices-{job_id}-*"):
        for path in folder.glob(pattern):
            if _MADE.match(path.name) or _LEFTOVER.match(path.name):
                path.unlink(missing_ok=True)


# --- files a job makes (the letters PDF of a notices job) -------------------------------------

#: A made file waits this long for its download, then the worker deletes it (it holds names
#: and addresses; docs/deployment.md "Background jobs"). A download deletes it at once.
FILE_RETENTION = timedelta(hours=24)
#: The names of made files: the job's id and a random part (never a name from a request).
_MADE = re.compile(r"^notices-[0-9]+-[0-9a-f]{24}\.pdf$")
#: Leftovers: files still being written (``.…partial``) or being sent (``.…sending``).
_LEFTOVER = re.compile(r"^\.notices-[0-9]+-[0-9a-f]{24}\.pdf\.(partial|sending-[0-9a-f]+)$")


def made_file_name(job_id: int) -> str:
    return f"notices-{job_id}-{os.urandom(12).hex()}.pdf"


def made_file(config: Config, name: str) -> Path | None:
    """The made file called ``name`` in the jobs folder; ``None`` for a name we never make."""
    return config.jobs_folder / name if _MADE.match(name) else None


def new_private_file(path: Path) -> int:
    """Create ``path`` (0600, in a 0700 folder) for writing; its file descriptor."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)


def claim(path: Path) -> Path | None:
    """Take a made file for one download: renamed out of the way first (atomic), so two
    requests at once cannot both send it; ``None`` if it is gone (downloaded, swept)."""
    taken = path.with_name(f".{path.name}.sending-{os.urandom(6).hex()}")
    try:
        os.rename(path, taken)
    except FileNotFoundError:
        return None
    return taken


def sweep_files(config: Config, *, now: float | None = None) -> list[str]:
    """Delete made files (and leftovers) older than :data:`FILE_RETENTION`; their names."""
    folder = config.jobs_folder
    if not folder.is_dir():
        return []
    moment = time.time() if now is None else now
    limit = FILE_RETENTION.total_seconds()
    swept = []
    for path in folder.iterdir():
        if not (_MADE.match(path.name) or _LEFTOVER.match(path.name)):
            continue
        try:
            if moment - path.stat().st_mtime > limit:
                path.unlink()
                swept.append(path.name)
        except FileNotFoundError:
            continue
    return swept
