"""``tracker serve``: the production WSGI server (issue 17).

gunicorn on Linux and other Unix systems, embedded (a ``BaseApplication``, not a shell-out,
so the checks below run first and the options are ours); waitress where gunicorn cannot be
imported (Windows). Never the Flask development server.

Workers and threads: gunicorn's ``gthread`` workers, each a process with a pool of threads.
Threads cover the waits (the database, the network), processes the Python work (page
rendering, Argon2 on login, PDF making), which one process cannot spread over several CPUs.
The default is ``min(2 × CPUs + 1, 4)`` workers of 4 threads: gunicorn's usual rule, capped at
4 because every worker holds its own connection pool (PostgreSQL connections add up over
several app servers), its own memory (~100 MB, plus 64 MiB per concurrent Argon2 login), and
because SQLite has one writer whatever the number of processes. Set ``--workers`` /
``--threads`` or ``TRACKER_WORKERS`` / ``TRACKER_THREADS`` to change them.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from tracker.cli.common import CliState, fail, pass_state
from tracker.logs import LOG_FORMATS, LogFormat, configure_logging

#: Threads per worker process (and waitress's whole thread pool is ``workers × threads``).
DEFAULT_THREADS = 4
MAX_DEFAULT_WORKERS = 4
#: A secret key shorter than this is refused in production.
MIN_SECRET_KEY_LENGTH = 32

_TRUE = {"1", "true", "yes", "on"}


def default_workers(cpus: int | None = None) -> int:
    """``min(2 × CPUs + 1, 4)``: see the module docstring."""
    count = cpus if cpus is not None else (os.cpu_count() or 1)
    return max(1, min(2 * count + 1, MAX_DEFAULT_WORKERS))


def startup_refusal(environ: dict[str, str] | os._Environ[str]) -> str | None:
    """Why the server must not start with these settings, or ``None``."""
    for name in ("FLASK_DEBUG", "TRACKER_DEBUG"):
        if environ.get(name, "").strip().lower() in _TRUE:
            return (
                f"デバッグモード（{name}）が有効なため起動しません。デバッグモードは"
                "エラー画面にソースや設定を表示するので本番では使えません。"
                f"{name} を外してから起動してください"
            )
    if environ.get("TRACKER_ENV", "").strip().lower() == "production":
        key = environ.get("TRACKER_SECRET_KEY", "")
        if not key:
            return (
                "TRACKER_ENV=production では TRACKER_SECRET_KEY の設定が必要です"
                "（すべてのアプリサーバーで同じ値。例: python3 -c "
                "'import secrets; print(secrets.token_hex(32))'）"
            )
        if len(key) < MIN_SECRET_KEY_LENGTH:
            return (
                f"TRACKER_SECRET_KEY が短すぎます（{len(key)} 文字）。"
                f"本番では {MIN_SECRET_KEY_LENGTH} 文字以上のランダムな値にしてください"
            )
    return None


def gunicorn_available() -> bool:
    try:
        import gunicorn.app.base  # noqa: F401
    except ImportError:  # Windows: gunicorn needs fcntl and fork
        return False
    return True


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, envvar="TRACKER_HOST")
@click.option(
    "--port",
    default=8000,
    show_default=True,
    type=click.IntRange(1, 65535),
    envvar="TRACKER_PORT",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    envvar="TRACKER_WORKERS",
    help="Worker processes (gunicorn). Default: min(2 × CPUs + 1, 4).  [env: TRACKER_WORKERS]",
)
@click.option(
    "--threads",
    type=click.IntRange(1, 64),
    envvar="TRACKER_THREADS",
    help=f"Threads per worker. Default: {DEFAULT_THREADS}.  [env: TRACKER_THREADS]",
)
@click.option(
    "--access-log",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    envvar="TRACKER_ACCESS_LOG",
    help="Write the access log to this file instead of standard error.  [env: TRACKER_ACCESS_LOG]",
)
@click.option(
    "--log-format",
    type=click.Choice(LOG_FORMATS),
    default="text",
    show_default=True,
    envvar="TRACKER_LOG_FORMAT",
    help="text, or json: one JSON object per line.  [env: TRACKER_LOG_FORMAT]",
)
@click.option(
    "--server",
    type=click.Choice(["auto", "gunicorn", "waitress"]),
    default="auto",
    show_default=True,
    envvar="TRACKER_SERVER",
    help="auto: gunicorn where it can run, else waitress.  [env: TRACKER_SERVER]",
)
@pass_state
def serve(
    state: CliState,
    host: str,
    port: int,
    workers: int | None,
    threads: int | None,
    access_log: Path | None,
    log_format: LogFormat,
    server: str,
) -> None:
    """Run the production WSGI server (gunicorn; waitress on Windows)."""
    refusal = startup_refusal(os.environ)
    if refusal:
        fail(refusal)
    if server == "gunicorn" and not gunicorn_available():
        fail("gunicorn をこの環境で使えません（Windows では --server waitress を使ってください）")
    use_gunicorn = server == "gunicorn" or (server == "auto" and gunicorn_available())
    workers = workers or (default_workers() if use_gunicorn else 1)
    threads = threads or DEFAULT_THREADS

    from tracker.schema import current_revision, head_revision

    configure_logging(log_format, access_log=access_log)
    if current_revision(state.database.engine) != head_revision():
        fail("データベースの構成が古いか未作成です。先に `tracker init-db` を実行してください")
    config = state.config
    state.close()  # no connection may be shared with the worker processes forked below

    def make_app() -> Any:
        from tracker import create_app

        app = create_app(config)
        if app.debug:  # FLASK_DEBUG is checked above; this catches any other way in
            fail("デバッグモードが有効なため起動しません")
        return app

    if use_gunicorn:
        click.echo(
            f"http://{host}:{port}/ で待ち受けています（gunicorn: {workers} プロセス ×"
            f" {threads} スレッド。Ctrl+C で終了）",
            err=True,
        )
        _run_gunicorn(make_app, host, port, workers, threads)
    else:
        from waitress import serve as waitress_serve

        app = make_app()
        click.echo(
            f"http://{host}:{port}/ で待ち受けています（waitress: {workers * threads}"
            " スレッド。Ctrl+C で終了）",
            err=True,
        )
        waitress_serve(app, host=host, port=port, threads=workers * threads, ident="tracker")


def _run_gunicorn(
    make_app: Callable[[], Any], host: str, port: int, workers: int, threads: int
) -> None:
    """Run gunicorn in this process (it becomes the master) until it is stopped.

    prometheus-client's multiprocess mode: each worker writes its counts to files in a fresh
    private folder (``PROMETHEUS_MULTIPROC_DIR``, or the folder already named there), which
    ``/metrics`` adds up whichever worker answers; the folder is emptied at start (old counts
    of an earlier run would be added in) and a folder made here is removed at exit.
    """
    from gunicorn.app.base import BaseApplication
    from gunicorn.glogging import Logger

    from tracker import metrics

    made_dir = None
    metrics_dir = metrics.multiprocess_dir()
    if metrics_dir is None:
        metrics_dir = made_dir = tempfile.mkdtemp(prefix="tracker-metrics-")
        os.environ[metrics.MULTIPROC_ENV] = metrics_dir
    else:
        for stale in Path(metrics_dir).glob("*.db"):
            stale.unlink()
    if "prometheus_client.values" in sys.modules:  # imported before the variable was set
        from prometheus_client import values

        values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]

    class AppLogger(Logger):  # type: ignore[misc]
        """gunicorn's own messages go through our logging set-up (text or JSON); its access
        log stays off: the app writes one line per request itself."""

        def setup(self, cfg: Any) -> None:
            super().setup(cfg)
            for log in (self.error_log, self.access_log):
                for handler in list(log.handlers):
                    log.removeHandler(handler)
            self.error_log.propagate = True

    def child_exit(_server: Any, worker: Any) -> None:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]

    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    options = {
        "bind": [bind],
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread",  # a long upload never trips the worker timeout
        "accesslog": None,
        "errorlog": "-",
        "logger_class": AppLogger,
        "proc_name": "tracker",
        "timeout": 60,
        "graceful_timeout": 20,
        "keepalive": 5,
        # The app is built once, in the master, and the workers are forked from it: they
        # start in a fraction of the time, and a broken set-up stops the start instead of
        # every worker failing in a loop. No database connection crosses the fork (below).
        "preload_app": True,
        "child_exit": child_exit,
        # gunicorn's run-time control socket is one path per user: two servers on one host
        # would fight over it, and nothing here needs it.
        "control_socket_disable": True,
    }

    class TrackerGunicorn(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            app = make_app()
            # Close the connections the start-up used (the durability check): a pooled
            # connection inherited by several processes would be shared by all of them.
            # Each worker opens its own on its first request.
            app.extensions["tracker.db"].dispose()
            return app

    master = os.getpid()
    try:
        TrackerGunicorn().run()
    finally:
        # A worker leaves gunicorn through this frame too (SystemExit): only the master,
        # at the very end, removes the folder.
        if os.getpid() == master and made_dir is not None:
            shutil.rmtree(made_dir, ignore_errors=True)
