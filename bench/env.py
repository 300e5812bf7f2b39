"""Where a bench run keeps its data: a working folder, the databases it makes (SQLite files or
PostgreSQL databases named ``tracker_hbench_<pid>_…``) and the environment of every ``tracker``
process it starts. Everything is removed at the end of the run."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

#: The PostgreSQL server the bench makes its databases on (any database of it: the URL names
#: where to connect to create and drop the others). ``TRACKER_BENCH_POSTGRES_URL`` overrides.
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
#: Every database a run makes starts with this (so a crashed run's leftovers are easy to find).
PREFIX = "tracker_hbench_"
REPO = Path(__file__).resolve().parent.parent
#: The password of the users the bench creates (the policy wants a long, uncommon one).
PASSWORD = "violet-harbour-lantern-2026-q"
USERS = {
    "bench_clerk": "clerk",
    "bench_officer": "records_officer",
    "bench_auditor": "auditor",
}


@dataclass
class BenchEnv:
    """The databases of one run, of one kind (``sqlite`` or ``postgresql``)."""

    kind: str
    work: Path
    postgres_url: str = DEFAULT_POSTGRES_URL
    made: list[str] = field(default_factory=list)

    @property
    def tag(self) -> str:
        return f"{PREFIX}{os.getpid()}_"

    def url(self, name: str) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{self.work / (name + '.sqlite3')}"
        from sqlalchemy.engine import make_url

        url = make_url(self.postgres_url).set(database=self.tag + name)
        return url.render_as_string(hide_password=False)

    def _admin(self) -> psycopg.Connection[Any]:
        import psycopg
        from sqlalchemy.engine import make_url

        url = make_url(self.postgres_url).set(drivername="postgresql")
        return psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)

    def create(self, name: str, template: str | None = None) -> str:
        """An empty database (or a copy of ``template``); returns its URL."""
        self.drop(name)
        if self.kind == "sqlite":
            if template is not None:
                shutil.copyfile(
                    self.work / (template + ".sqlite3"), self.work / (name + ".sqlite3")
                )
        else:
            from psycopg import sql

            statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.tag + name))
            if template is not None:
                statement = sql.SQL("{} TEMPLATE {}").format(
                    statement, sql.Identifier(self.tag + template)
                )
            with self._admin() as admin:
                admin.execute(statement)
        self.made.append(name)
        return self.url(name)

    def drop(self, name: str) -> None:
        if self.kind == "sqlite":
            for suffix in ("", "-wal", "-shm", "-journal"):
                (self.work / f"{name}.sqlite3{suffix}").unlink(missing_ok=True)
        else:
            from psycopg import sql

            with self._admin() as admin:
                admin.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(self.tag + name)
                    )
                )
        if name in self.made:
            self.made.remove(name)

    def drop_all(self) -> None:
        for name in list(self.made):
            self.drop(name)

    def environ(self, database: str) -> dict[str, str]:
        """The environment of a ``tracker`` process on ``database`` (one instance folder for
        the whole run, so every process has the same secret and audit digest key)."""
        env = dict(os.environ)
        env.update(
            TRACKER_DATABASE_URL=self.url(database),
            TRACKER_INSTANCE_PATH=str(self.work / "instance"),
            TRACKER_JOBS_URL=f"sqlite:///{self.work / 'instance' / 'jobs.sqlite3'}",
            PYTHONPATH=str(REPO),
        )
        for name in ("FLASK_DEBUG", "TRACKER_DEBUG", "TRACKER_ENV"):
            env.pop(name, None)
        return env


def tracker_command(args: Sequence[str]) -> list[str]:
    """``tracker ARGS`` run by this interpreter (the project's venv)."""
    return [sys.executable, "-c", "from tracker.cli import main; main()", *args]
