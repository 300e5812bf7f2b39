"""``tracker serve`` (issue 17): refuses unsafe settings; a real gunicorn run writes one JSON
access line per request to ``--access-log`` and adds up ``/metrics`` over its workers."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from click.testing import CliRunner

from tracker.cli import main
from tracker.cli.serve import default_workers


def serve(database_url: str, *args: str, **env: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(
        main, ["serve", *args], env={"TRACKER_DATABASE_URL": database_url, **env}
    )


@pytest.mark.parametrize("variable", ["FLASK_DEBUG", "TRACKER_DEBUG"])
def test_refuses_to_start_in_debug_mode(tmp_path: Path, variable: str) -> None:
    result = serve(f"sqlite:///{tmp_path / 'x.sqlite3'}", **{variable: "1"})
    assert result.exit_code == 1
    assert f"デバッグモード（{variable}）が有効なため起動しません" in result.output


def test_refuses_production_without_an_explicit_secret_key(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    result = serve(url, TRACKER_ENV="production", TRACKER_SECRET_KEY="")
    assert result.exit_code == 1
    assert "TRACKER_ENV=production では TRACKER_SECRET_KEY の設定が必要です" in result.output
    short = serve(url, TRACKER_ENV="production", TRACKER_SECRET_KEY="short")
    assert short.exit_code == 1 and "TRACKER_SECRET_KEY が短すぎます（5 文字）" in short.output


def test_refuses_a_database_that_is_not_at_the_head(tmp_path: Path) -> None:
    result = serve(f"sqlite:///{tmp_path / 'empty.sqlite3'}", "--server", "waitress")
    assert result.exit_code == 1
    assert "先に `tracker init-db` を実行してください" in result.output


def test_default_workers_follow_the_cpus_but_stay_few() -> None:
    assert [default_workers(n) for n in (1, 2, 8, 64)] == [3, 4, 4, 4]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen[bytes], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2):
                return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@pytest.fixture
def gunicorn_server(tmp_path: Path, sqlite_template: Path) -> Iterator[tuple[str, Path, Path]]:
    """``tracker serve`` (gunicorn, 2 workers) on a SQLite copy, JSON logs to files."""
    import shutil

    database = tmp_path / "tracker.sqlite3"
    shutil.copy(sqlite_template, database)
    access, errors = tmp_path / "logs" / "access.log", tmp_path / "stderr.log"
    port = free_port()
    env = {
        **os.environ,
        "TRACKER_DATABASE_URL": f"sqlite:///{database}",
        "TRACKER_SECRET_KEY": "serve-test-secret",
        "TRACKER_INSTANCE_PATH": str(tmp_path),
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # tracker serve makes (and removes) its own
    command = [Path(sys.executable).parent / "tracker", "serve", "--port", str(port)]
    command += ["--workers", "2", "--threads", "2", "--log-format", "json"]
    command += ["--access-log", str(access)]
    with errors.open("wb") as stderr:
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        wait_until_up(f"http://127.0.0.1:{port}", process)
        yield f"http://127.0.0.1:{port}", access, errors
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def test_gunicorn_writes_json_access_lines_and_counts_over_its_workers(
    gunicorn_server: tuple[str, Path, Path],
) -> None:
    url, access, errors = gunicorn_server

    def visit(_n: int) -> str:
        with urllib.request.urlopen(f"{url}/login?next=/items", timeout=10) as response:
            return str(response.headers["X-Request-Id"])

    with ThreadPoolExecutor(6) as pool:  # at once: likely both workers answer some
        assert all(pool.map(visit, range(12)))
    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as response:
        metrics = response.read().decode()
    line = 'tracker_http_requests_total{endpoint="auth.login",method="GET",status="200"} 12.0'
    assert line in metrics
    lines = [json.loads(text) for text in access.read_text().splitlines()]
    logins = [entry for entry in lines if entry["endpoint"] == "auth.login"]
    assert len(logins) == 12
    assert {entry["status"] for entry in logins} == {200}
    assert len({entry["request_id"] for entry in logins}) == 12
    assert "next=" not in access.read_text() and "/login" not in access.read_text()
    # gunicorn's own messages in the same JSON format, and no access line of its own
    startup = [json.loads(text) for text in errors.read_text().splitlines() if text.startswith("{")]
    assert any("Booting worker" in entry["message"] for entry in startup)
    assert not any(entry.get("logger") == "gunicorn.access" for entry in startup)


def test_the_metrics_folder_tracker_serve_made_is_gone_after_it_stops(
    tmp_path: Path, sqlite_template: Path
) -> None:
    import shutil
    import tempfile

    database = tmp_path / "tracker.sqlite3"
    shutil.copy(sqlite_template, database)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {
        **os.environ,
        "TRACKER_DATABASE_URL": f"sqlite:///{database}",
        "TRACKER_INSTANCE_PATH": str(tmp_path),
        "TMPDIR": str(scratch),  # where tempfile.mkdtemp makes the folder
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    port = free_port()
    command = [Path(sys.executable).parent / "tracker", "serve", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--workers", "1"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}", process)
        assert [p.name[:16] for p in scratch.iterdir()] == ["tracker-metrics-"]
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert list(scratch.iterdir()) == []
    assert tempfile.gettempdir() != str(scratch)


def test_waitress_writes_the_same_access_line(tmp_path: Path, sqlite_template: Path) -> None:
    """Where gunicorn cannot run (Windows): the same app-written access log."""
    import shutil

    database = tmp_path / "tracker.sqlite3"
    shutil.copy(sqlite_template, database)
    access = tmp_path / "access.log"
    port = free_port()
    env = {
        **os.environ,
        "TRACKER_DATABASE_URL": f"sqlite:///{database}",
        "TRACKER_INSTANCE_PATH": str(tmp_path),
    }
    command = [Path(sys.executable).parent / "tracker", "serve", "--server", "waitress"]
    command += ["--port", str(port), "--access-log", str(access)]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_up(url, process)
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"{url}/no/such/page?secret=1", timeout=5)
        assert missing.value.code == 404
        missing.value.close()
    finally:
        process.terminate()
        process.wait(timeout=20)
    lines = access.read_text().splitlines()
    assert len(lines) == 2  # the health check, the 404
    assert "endpoint=main.healthz status=200" in lines[0]
    assert "method=GET endpoint=- status=404" in lines[1] and "user_id=-" in lines[1]
    assert "secret" not in lines[1] and "/no/such" not in lines[1]
