"""Prometheus metrics (``/metrics``, issue 17): requests per endpoint, imports, jobs.

Background jobs run in ``tracker worker``, another process that nobody scrapes, so their
counts are read from the ``jobs`` table when ``/metrics`` is asked (``tracker_jobs``, a gauge
by kind and state): every app server reports the same numbers, whichever process ran the job.

Other code counts through the objects here, for example::

    from tracker import metrics
    metrics.imports_total.labels(outcome="committed").inc()

The prometheus-client objects are made on first use, not at import. That matters under
gunicorn: prometheus-client decides at its own import whether it is in *multiprocess mode*
(``PROMETHEUS_MULTIPROC_DIR`` set, each worker process writing its values to files there that
``/metrics`` adds up), and ``tracker serve`` sets that variable only after the command line has
been loaded. Labels are codes only (endpoint names, statuses, outcomes): never a URL, a name or
anything a person typed, which also keeps the number of series small.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping
from typing import Any

#: The environment variable prometheus-client reads (``tracker serve`` sets it for gunicorn).
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

#: Request durations in seconds: from a static file to a large upload.
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class _Lazy:
    """A counter or histogram made on first use (see the module docstring)."""

    def __init__(self, kind: str, name: str, documentation: str, labels: tuple[str, ...]) -> None:
        self._kind = kind
        self._name = name
        self._documentation = documentation
        self._labels = labels
        self._metric: Any = None
        self._lock = threading.Lock()

    def _get(self) -> Any:
        if self._metric is None:
            with self._lock:
                if self._metric is None:
                    import prometheus_client

                    if self._kind == "histogram":
                        self._metric = prometheus_client.Histogram(
                            self._name, self._documentation, self._labels, buckets=DURATION_BUCKETS
                        )
                    else:
                        self._metric = prometheus_client.Counter(
                            self._name, self._documentation, self._labels
                        )
        return self._metric

    def labels(self, **labels: str) -> Any:
        """The child for these label values: call ``.inc()`` or ``.observe(seconds)`` on it."""
        return self._get().labels(**labels)


requests_total = _Lazy(
    "counter",
    "tracker_http_requests_total",
    "HTTP requests answered, by Flask endpoint, method and status",
    ("endpoint", "method", "status"),
)
request_duration_seconds = _Lazy(
    "histogram",
    "tracker_http_request_duration_seconds",
    "Time to answer an HTTP request, by Flask endpoint and method",
    ("endpoint", "method"),
)
#: Card imports (web upload, ``tracker import``, jobs), by outcome: committed, refused, dry_run.
imports_total = _Lazy(
    "counter", "tracker_imports_total", "Card imports finished, by outcome", ("outcome",)
)
#: Background jobs (issue 17, ``tracker worker``), by kind and outcome (e.g. done, failed).


def multiprocess_dir() -> str | None:
    """The folder of multiprocess mode, when this process runs in it."""
    return os.environ.get(MULTIPROC_ENV) or None


def exposition(jobs: Mapping[tuple[str, str], int] | None = None) -> tuple[bytes, str]:
    """The text ``/metrics`` answers with, and its content type.

    In multiprocess mode (gunicorn) the values of every worker, living or finished, are added
    up from the files in :func:`multiprocess_dir`; otherwise this process's own registry.
    ``jobs``: the number of background jobs per (kind, state), read from the database by the
    caller, appended as the gauge ``tracker_jobs``.
    """
    import prometheus_client
    from prometheus_client import multiprocess

    for metric in (requests_total, request_duration_seconds, imports_total):
        metric._get()  # listed (at zero) even before the first request of their kind
    if multiprocess_dir():
        registry = prometheus_client.CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        body = prometheus_client.generate_latest(registry)
    else:
        body = prometheus_client.generate_latest()
    return body + _jobs_text(jobs or {}), prometheus_client.CONTENT_TYPE_LATEST


def _jobs_text(jobs: Mapping[tuple[str, str], int]) -> bytes:
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.core import GaugeMetricFamily

    family = GaugeMetricFamily(
        "tracker_jobs",
        "Background jobs in the database, by kind and state",
        labels=("kind", "state"),
    )
    for (kind, state), count in sorted(jobs.items()):
        family.add_metric([kind, state], count)

    class _Jobs:
        def collect(self) -> Iterator[GaugeMetricFamily]:
            yield family

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Jobs())
    return generate_latest(registry)
