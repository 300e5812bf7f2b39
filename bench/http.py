"""The bench's own HTTP client for setting up (log in, read a CSRF token, post a search) and
the server it measures: ``tracker serve`` as a child process on a free port."""

from __future__ import annotations

import http.client
import json
import re
import socket
import subprocess
import sys
import time
import urllib.parse
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

CSRF_RE = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Server:
    """``tracker serve`` (gunicorn, its default workers and threads) on a free port, with the
    bench's trivial route (:mod:`bench.server`)."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.log = log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.server", "--port", str(self.port)],
            env=env,
            stdout=self.log,
            stderr=self.log,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"tracker serve exited ({self.process.returncode}); see {log}")
            try:
                status, _, _ = Client(self.port).request("GET", "/bench/ping")
            except OSError:
                time.sleep(0.2)
                continue
            if status == 200:
                return
        raise RuntimeError(f"tracker serve did not answer within 60 s; see {log}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


class Client:
    """One keep-alive connection with a cookie jar (for the setup, not for the load)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    @property
    def cookie(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def request(
        self, method: str, path: str, form: dict[str, Any] | None = None
    ) -> tuple[int, dict[str, str], str]:
        headers = {"Cookie": self.cookie} if self.cookies else {}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            # the server closed the idle keep-alive connection (gunicorn's keepalive)
            self.connection.close()
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        for value in response.headers.get_all("Set-Cookie") or []:
            jar: SimpleCookie = SimpleCookie()
            jar.load(value)
            for name, morsel in jar.items():
                self.cookies[name] = morsel.value
        return response.status, dict(response.headers.items()), text

    def csrf(self, path: str = "/login") -> str:
        status, _, page = self.request("GET", path)
        match = CSRF_RE.search(page)
        if match is None:
            raise RuntimeError(f"no CSRF token on {path} (status {status})")
        return match.group(1)

    def login(self, username: str, password: str) -> str:
        """Log in; returns a CSRF token valid for the rest of the session."""
        token = self.csrf("/login")
        status, _, _ = self.request(
            "POST", "/login", {"username": username, "password": password, "csrf_token": token}
        )
        if status != 302:
            raise RuntimeError(f"login of {username} failed: {status}")
        return self.csrf("/items")


def load(job: dict[str, Any], env: dict[str, str]) -> Any:
    """Run :mod:`bench.load` in a process of its own with ``job``; its JSON answer."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.load"],
        input=json.dumps(job),
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"load generator failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout)
