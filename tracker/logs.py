"""Logging for the server and the commands, configured once per process (issue 17).

Two streams:

- the **application log** (every logger under the root: the importer's phase timings at INFO,
  warnings such as a PostgreSQL set-up that is not crash-safe, tracebacks of errors), on
  standard error;
- the **access log** (logger ``tracker.access``): exactly one line per request, written by the
  app itself (:mod:`tracker.web.requestlog`) so that it is the same under gunicorn and waitress,
  on standard error or in ``--access-log FILE``.

Both are plain text or, with ``--log-format json`` (``TRACKER_LOG_FORMAT``), one JSON object
per line (python-json-logger) for a log collector. Neither ever holds personal data, a query
string or a secret: see docs/deployment.md and tests/security/test_logs.py.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path
from typing import Any, Literal, TextIO

from flask import g, has_request_context

LogFormat = Literal["text", "json"]
LOG_FORMATS: tuple[LogFormat, ...] = ("text", "json")

#: The access log's logger; it does not propagate, so it never mixes into the application log.
ACCESS_LOGGER = "tracker.access"

#: Libraries that say too much at INFO for an operator (SQLAlchemy sets its own WARNING).
_QUIET = {"alembic": logging.WARNING, "urllib3": logging.WARNING}

_TEXT_FORMAT = "%(asctime)s %(levelname)s [%(process)d] %(name)s %(request_id)s: %(message)s"
_ACCESS_TEXT_FORMAT = (
    "%(asctime)s request_id=%(request_id)s method=%(method)s endpoint=%(endpoint)s"
    " status=%(status)s duration_ms=%(duration_ms)s user_id=%(user_id)s"
)

_configured = False


class _CurrentStderr(logging.StreamHandler[TextIO]):
    """Writes to whatever ``sys.stderr`` is at the time (a test runner may swap it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record: the id of the request being served, or ``-``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            request_id = g.get("request_id") if has_request_context() else None
            record.request_id = request_id or "-"
        return True


def formatter(log_format: LogFormat, *, access: bool = False) -> logging.Formatter:
    """The formatter of the access log (``access``) or of the application log."""
    text_format = _ACCESS_TEXT_FORMAT if access else _TEXT_FORMAT
    if log_format == "json":
        from pythonjsonlogger.json import JsonFormatter

        return JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    return logging.Formatter(text_format)


def configure_logging(
    log_format: LogFormat = "text",
    *,
    level: int | str = logging.INFO,
    access_log: Path | None = None,
    force: bool = False,
) -> None:
    """Set up the root logger and the access logger. Only the first call in a process counts
    (``tracker serve`` calls it before its workers start; commands that log call it too).

    Like :func:`logging.basicConfig`, nothing is done when the root logger has handlers
    already (an embedding program, a test runner's capture) unless ``force``.
    """
    global _configured
    root = logging.getLogger()
    if _configured or (root.handlers and not force):
        return
    _configured = True
    root.setLevel(level)
    handler = _CurrentStderr()
    handler.setFormatter(formatter(log_format))
    handler.addFilter(RequestIdFilter())
    root.addHandler(handler)
    for name, quiet in _QUIET.items():
        logging.getLogger(name).setLevel(quiet)

    access = logging.getLogger(ACCESS_LOGGER)
    access.setLevel(logging.INFO)
    access.propagate = False
    target: logging.Handler
    if access_log is None:
        target = _CurrentStderr()
    else:
        # Opened in append mode: several worker processes write whole lines to one file.
        # WatchedFileHandler reopens the file after logrotate has moved it.
        access_log.parent.mkdir(parents=True, exist_ok=True)
        target = logging.handlers.WatchedFileHandler(access_log, encoding="utf-8")
    target.setFormatter(formatter(log_format, access=True))
    access.addHandler(target)


def reset_for_tests() -> None:
    """Undo :func:`configure_logging` (tests that configure logging in-process)."""
    global _configured
    _configured = False
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, _CurrentStderr):
            root.removeHandler(handler)
    access = logging.getLogger(ACCESS_LOGGER)
    for handler in list(access.handlers):
        access.removeHandler(handler)
        handler.close()
    access.propagate = True
