"""One access-log line and the request metrics per request, written by the app (issue 17).

Done in Flask's request hooks rather than by the WSGI server, so that it is the same under
gunicorn and waitress and can name the *route* (the Flask endpoint, such as
``custody.item``), never the URL: a path or query string may carry a search word, a tracking
number or a token. The fields: request id, method, endpoint, status, duration in ms and the
numeric id of the logged-in user (never the login name or display name).

The request id is made here (16 random hex digits in two groups of 8, see
:func:`new_request_id`) and sent back in ``X-Request-Id``, and
every application log line of the request carries it. An ``X-Request-Id`` sent by the client
is believed only when the app is configured to trust a reverse proxy
(``TRACKER_TRUSTED_PROXIES``) and only if it is a short token of letters, digits and ``-._``:
then the proxy's id ties its log to ours; anything else is ignored, so that nobody can write
what they like into the log.
"""

from __future__ import annotations

import logging
import re
import secrets
import time

from flask import Flask, g, request
from werkzeug.wrappers import Response

from tracker import metrics
from tracker.logs import ACCESS_LOGGER

access_log = logging.getLogger(ACCESS_LOGGER)

REQUEST_ID_HEADER = "X-Request-Id"
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
#: Methods named as they are; anything else is logged and counted as ``OTHER``.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _request_id(trust_proxy: bool) -> str:
    offered = request.headers.get(REQUEST_ID_HEADER, "")
    if trust_proxy and _SANE_REQUEST_ID.fullmatch(offered):
        return offered
    return new_request_id()


def new_request_id() -> str:
    """16 random hex digits in two groups of 8 (``3f2a9c01-77b4e0d2``). Never 12 decimal
    digits in a row: one id in ten of 16 plain hex digits holds such a run, and one run in
    eleven passes the individual number's check digit, which a log scanner for My Numbers
    (and tests/security/test_logs.py) then rightly flags."""
    return f"{secrets.token_hex(4)}-{secrets.token_hex(4)}"


def _user_id() -> int | None:
    """The logged-in user's numeric id, if this request loaded one (no extra query)."""
    principal = g.get("_login_user")
    user = getattr(principal, "user", None)
    try:
        return int(user.id) if user is not None else None
    except Exception:  # noqa: BLE001 — a detached row after a rollback: log without it
        return None


def init_app(app: Flask) -> None:
    """Register the hooks; call before any other ``before_request`` hook (the clock starts
    first, and a request refused by a later hook is still logged)."""
    trust_proxy = bool(app.config["TRACKER"].trusted_proxies)

    @app.before_request
    def start_request() -> None:
        g.request_started = time.perf_counter()
        g.request_id = _request_id(trust_proxy)

    @app.after_request
    def log_request(response: Response) -> Response:
        started = g.get("request_started")
        if started is None:  # a hook before ours answered; cannot happen, but never fail
            return response
        seconds = time.perf_counter() - started
        request_id = g.get("request_id", "-")
        response.headers[REQUEST_ID_HEADER] = request_id
        endpoint = request.endpoint or "-"  # "-": no route matched (a 404)
        status = str(response.status_code)
        duration_ms = round(seconds * 1000, 1)
        user_id = _user_id()
        method = request.method if request.method in _METHODS else "OTHER"
        access_log.info(
            "%s %s %s %.1f ms",
            method,
            endpoint,
            status,
            duration_ms,
            extra={
                "request_id": request_id,
                "method": method,
                "endpoint": endpoint,
                "status": response.status_code,
                "duration_ms": duration_ms,
                "user_id": user_id if user_id is not None else "-",
            },
        )
        metrics.requests_total.labels(endpoint=endpoint, method=method, status=status).inc()
        metrics.request_duration_seconds.labels(endpoint=endpoint, method=method).observe(seconds)
        return response
