"""One bench run: the data, then every measure beside its baseline (see :mod:`bench`)."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.env import PASSWORD, REPO, BenchEnv, tracker_command
from bench.stats import median, percentile, ratio


@dataclass(frozen=True)
class Key:
    name: str
    unit: str
    goal: str
    #: Whether a value meets the goal (given the database); None: no goal at this size.
    check: Callable[[float, str, int], bool | None]


def _at_least(low: float) -> Callable[[float, str, int], bool | None]:
    return lambda value, _db, _size: value >= low


def _at_most(high: float) -> Callable[[float, str, int], bool | None]:
    return lambda value, _db, _size: value <= high


KEYS: tuple[Key, ...] = (
    Key("import_ratio", "", "≥ 0.5", _at_least(0.5)),
    Key("import_peak_rss_mb", "MiB", "≤ 200 at 1M rows", _at_most(200)),
    Key("lookup_http_ratio", "", "≥ 0.25", _at_least(0.25)),
    Key("lookup_p95_ms", "ms", "≤ 25", _at_most(25)),
    Key(
        "detail_views_per_s",
        "/s",
        "≥ 600 PG, ≥ 300 SQLite",
        lambda v, db, _s: v >= (600 if db == "postgresql" else 300),
    ),
    Key(
        "handovers_per_s",
        "/s",
        "≥ 200 PG",
        lambda v, db, _s: v >= 200 if db == "postgresql" else None,
    ),
    Key("audit_appends_per_s", "/s", "≥ 2,000", _at_least(2000)),
    Key("audit_append_growth", "", "≤ 1.5", _at_most(1.5)),
    Key("disposal_list_ratio", "", "≥ 0.8", _at_least(0.8)),
    Key("verify_ratio", "", "≥ 0.8", _at_least(0.8)),
    Key("certificate_ratio", "", "≥ 0.8", _at_least(0.8)),
    Key("certificate_peak_rss_mb", "MiB", "≤ 250 at 100k", _at_most(250)),
    Key("dashboard_ms", "ms", "≤ 300 at 1M", _at_most(300)),
    Key("review_p95_ms", "ms", "≤ 100 at 100k handovers", _at_most(100)),
)
KEY_NAMES = tuple(key.name for key in KEYS)
HTTP_KEYS = (
    "lookup_http_ratio",
    "lookup_p95_ms",
    "detail_views_per_s",
    "handovers_per_s",
    "review_p95_ms",
)

#: The p95 of one append "at 10k events" (issue 18) is measured with this many in the log.
SMALL_LOG = 10_000
#: Appends timed one by one for each p95 of audit_append_growth.
GROWTH_APPENDS = 100
#: The certificate is measured at the size of a large batch (or the data size, if smaller).
CERTIFICATE_ROWS = 100_000
CONNECTIONS = 8
#: Seconds of the uncounted first round of each HTTP measure (see ``_interleaved``).
WARM_UP = 1.5
WRITERS = 16


@dataclass
class Result:
    key: str
    value: float | None
    baseline: float | None
    #: What the baseline is, in words (the table's column; the JSON's ``baseline_of``).
    baseline_of: str
    raw: dict[str, Any] = field(default_factory=dict)
    ratio: float | None = None


class Run:
    """A bench run on one database kind; call :meth:`measure` then :meth:`close`."""

    def __init__(
        self,
        *,
        size: int,
        db: str,
        only: list[str],
        repeat: int,
        seconds: float,
        postgres_url: str,
        say: Callable[[str], None],
    ) -> None:
        self.size, self.db, self.only = size, db, only
        self.repeat, self.seconds = repeat, seconds
        self.say = say
        self.work = Path(tempfile.mkdtemp(prefix="tracker-bench-"))
        (self.work / "instance").mkdir()
        self.env = BenchEnv(db, self.work, postgres_url=postgres_url)
        self.results: dict[str, Result] = {}
        self.timings: dict[str, float] = {}
        self.server: Any = None
        self.database: Any = None
        self.main = "main"

    # ------------------------------------------------------------------ helpers

    def wanted(self, *keys: str) -> bool:
        return any(key in self.only for key in keys)

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        self.say(f"… {name}")
        started = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = round(time.perf_counter() - started, 2)
            self.say(f"  {name}: {self.timings[name]:.1f} s")

    def add(self, result: Result) -> None:
        if result.key in self.only:
            self.results[result.key] = result

    def environ(self) -> dict[str, str]:
        return self.env.environ(self.main)

    def child(self, task: str, arg: str, database: str | None) -> dict[str, Any]:
        """``bench.child TASK ARG`` in a process of its own; its answer and peak RSS (MiB)."""
        out = self.work / f"child-{task}.json"
        env = self.env.environ(database or self.main)
        log = (self.work / f"child-{task}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.child", task, arg, str(out)],
            env=env,
            stdout=log,
            stderr=log,
        )
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        log.close()
        if process.returncode != 0:
            text = (self.work / f"child-{task}.log").read_text(errors="replace")
            raise RuntimeError(f"bench.child {task} failed: {text[-3000:]}")
        answer: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
        answer["peak_rss_mb"] = usage.ru_maxrss / 1024  # KiB on Linux
        return answer

    def close(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None
        if self.database is not None:
            self.database.dispose()
            self.database = None
        self.env.drop_all()
        import shutil

        shutil.rmtree(self.work, ignore_errors=True)

    # ------------------------------------------------------------------ the run

    def measure(self) -> dict[str, Result]:
        with self.phase("generate"):
            self.csv = self.work / "returns.csv"
            subprocess.run(
                [str(REPO / "scripts" / "gen-returns"), str(self.size), "--output", str(self.csv)],
                check=True,
                capture_output=True,
            )
        with self.phase("template"):
            self.make_template()
        with self.phase("import"):
            self.measure_import()
        # The bench's own sessions run in this process: the same instance folder (keys).
        os.environ.update(self.environ())
        from tracker.config import Config
        from tracker.db import Database
        from tracker.services import audit

        audit.use_digest_key(Config.from_env().digest_key())
        self.database = Database(self.env.url(self.main))
        if self.wanted("audit_append_growth"):
            with self.phase("append growth at 10k"):
                self.fill_audit(SMALL_LOG)
                self.small_append_p95 = self.append_latencies()
        if self.wanted("review_p95_ms", "dashboard_ms"):
            with self.phase("handovers fill"):
                self.fill_handovers(self.size // 10)
        if self.wanted("audit_append_growth", "verify_ratio"):
            with self.phase("audit fill"):
                self.fill_audit(self.size)
        if self.wanted("audit_append_growth"):
            with self.phase("append growth at full size"):
                self.measure_growth()
        if self.wanted("audit_appends_per_s"):
            with self.phase("concurrent appends"):
                self.measure_appends()
        if self.wanted(*HTTP_KEYS):
            with self.phase("server start"):
                from bench.http import Server

                self.server = Server(self.environ(), self.work / "server.log")
            if self.wanted("lookup_http_ratio", "lookup_p95_ms"):
                with self.phase("lookup"):
                    self.measure_lookup()
            if self.wanted("detail_views_per_s"):
                with self.phase("detail"):
                    self.measure_detail()
            if self.wanted("handovers_per_s"):
                with self.phase("handovers"):
                    self.measure_handovers()
            if self.wanted("review_p95_ms"):
                with self.phase("review"):
                    self.measure_review()
            self.server.stop()
            self.server = None
        if self.wanted("verify_ratio"):
            with self.phase("audit-verify"):
                self.measure_verify()
        if self.wanted("disposal_list_ratio"):
            with self.phase("disposal list"):
                self.measure_disposal()
        if self.wanted("dashboard_ms"):
            with self.phase("dashboard"):
                self.measure_dashboard()
        if self.wanted("certificate_ratio", "certificate_peak_rss_mb"):
            with self.phase("certificate"):
                self.measure_certificate()
        return self.results

    # ------------------------------------------------------------------ data

    def make_template(self) -> None:
        """An initialised database with the bench's users; every other one is a copy."""
        self.env.create("template")
        # Users (an Argon2 hash each) only for the pages: the services take any actor name.
        self.child("setup", "-" if self.wanted(*HTTP_KEYS) else "nousers", "template")

    def measure_import(self) -> None:
        """``tracker import`` of the generated file into a fresh copy of the template, and the
        raw insert of the same rows into another copy, interleaved; the last import is kept
        as the data of every later measure."""
        repeats = self.repeat if self.wanted("import_ratio", "import_peak_rss_mb") else 1
        imports: list[dict[str, Any]] = []
        raws: list[dict[str, Any]] = []
        for round_no in range(repeats):
            name = f"import{round_no}"
            self.env.create(name, template="template")
            imports.append(self.child("import", str(self.csv), name))
            if round_no:
                self.env.drop(f"import{round_no - 1}")
            if self.wanted("import_ratio"):
                self.env.create("raw", template="template")
                raws.append(self.child("raw-import", str(self.csv), "raw"))
                self.env.drop("raw")
        self.main = f"import{repeats - 1}"
        rows = self.size
        import_rate = median([rows / r["seconds"] for r in imports])
        raw_note = "csv.reader + " + ("executemany" if self.db == "sqlite" else "COPY")
        raw_rate = median([rows / r["seconds"] for r in raws]) if raws else None
        self.add(
            Result(
                "import_ratio",
                import_rate,
                raw_rate,
                f"{raw_note} rows/s",
                raw={
                    "rows": rows,
                    "import_seconds": [r["seconds"] for r in imports],
                    "raw_seconds": [r["seconds"] for r in raws],
                    "import_rows_per_s": import_rate,
                    "raw_rows_per_s": raw_rate,
                },
                ratio=ratio(import_rate, raw_rate),
            )
        )
        self.add(
            Result(
                "import_peak_rss_mb",
                max(r["peak_rss_mb"] for r in imports),
                max((r["peak_rss_mb"] for r in raws), default=None),
                "peak RSS of the raw insert (MiB)",
                raw={"import_peak_rss_mb": [r["peak_rss_mb"] for r in imports]},
            )
        )

    def events(self) -> tuple[int, str]:
        from sqlalchemy import text

        with self.database.read_session() as session:
            row = session.execute(
                text("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1")
            ).first()
        return (row[0], row[1]) if row else (0, "0" * 64)

    def fill_audit(self, total: int) -> None:
        """Fill the audit log cheaply up to ``total`` events: ``item.view`` events made here
        with the chain's own hash function (so the chain still verifies), inserted in batches
        in one transaction each (PostgreSQL: COPY, with the insert guard trigger disabled
        while it runs and enabled again; SQLite: executemany, the trigger left on)."""
        from tracker.domain.chain import ChainEvent, canonical_json

        seq, prev = self.events()
        if seq >= total:
            return
        moment = datetime.now(UTC) - timedelta(days=365)
        details = canonical_json({"control_no": "E000000000-1"})
        engine = self.database.engine
        postgres = self.db == "postgresql"
        batch: list[tuple[Any, ...]] = []
        with engine.connect() as connection:
            raw = connection.connection.driver_connection
            if postgres:
                connection.exec_driver_sql(
                    "ALTER TABLE audit_events DISABLE TRIGGER audit_events_extend_only"
                )
            try:
                while seq < total:
                    seq += 1
                    moment += timedelta(milliseconds=1)
                    event = ChainEvent(
                        seq, moment, "bench_clerk", "item.view", "item", str(seq % 997 + 1),
                        "ok", details, prev,
                    )  # fmt: skip
                    prev = event.compute_hash()
                    stamp = moment if postgres else moment.replace(tzinfo=None).isoformat(" ")
                    batch.append(
                        (seq, stamp, "bench_clerk", "item.view", "item", event.object_id,
                         "ok", details, event.prev_hash, prev)
                    )  # fmt: skip
                    if len(batch) >= 50_000 or seq == total:
                        self._write_events(connection, raw, batch)
                        batch = []
            finally:
                if postgres:
                    connection.exec_driver_sql(
                        "ALTER TABLE audit_events ENABLE TRIGGER audit_events_extend_only"
                    )
                    connection.exec_driver_sql("ANALYZE audit_events")
                connection.commit()

    def _write_events(self, connection: Any, raw: Any, batch: list[tuple[Any, ...]]) -> None:
        columns = (
            "seq, occurred_at, actor, action, object_type, object_id, outcome, details,"
            " prev_hash, hash"
        )
        if self.db == "postgresql":
            with (
                raw.cursor() as cursor,
                cursor.copy(f"COPY audit_events ({columns}) FROM STDIN") as copy,
            ):
                for row in batch:
                    copy.write_row(row)
        else:
            raw.cursor().executemany(
                f"INSERT INTO audit_events ({columns}) VALUES (?,?,?,?,?,?,?,?,?,?)", batch
            )

    def fill_handovers(self, count: int) -> None:
        """``count`` handovers (one item each, self with a passport) spread over the past
        year: the first through the handover service, the others copied from it by plain
        inserts (handovers, handover_items; the items' status set to handed over), 5,000 to a
        transaction. No audit events for the copies: the review and the dashboard read the
        handovers, not the log."""
        from sqlalchemy import insert, text, update

        from tracker.domain.codes import ItemStatus
        from tracker.domain.identity import Evidence, RecipientKind
        from tracker.models import Handover, HandoverItem, Item
        from tracker.services import handover

        with self.database.read_session() as session:
            rows = session.execute(
                text(
                    "SELECT id, envelope_id FROM items WHERE status = 'in_custody'"
                    " AND kind = 'notification_card' ORDER BY id LIMIT :n"
                ),
                {"n": count},
            ).all()
        if not rows:
            return
        now = datetime.now(UTC)
        start = now - timedelta(days=365)
        step = timedelta(days=365) / len(rows)
        with self.database.session_scope() as session:
            first = handover.hand_over(
                session,
                actor="bench_clerk",
                item_ids=[rows[0][0]],
                evidence=Evidence(recipient_kind=RecipientKind.SELF, documents=("passport",)),
                now=start,
                today=(start + timedelta(hours=9)).date(),
            )
            first_id, documents, version = first.id, first.documents, first.policy_version
        handed_over = ItemStatus.HANDED_OVER.value
        for offset in range(1, len(rows), 5000):
            chunk = list(enumerate(rows[offset : offset + 5000], start=offset))
            with self.database.session_scope() as session:
                from tracker.db import begin_writing

                begin_writing(session)
                session.execute(
                    insert(Handover),
                    [
                        {
                            "id": first_id + index,
                            "receipt_no": handover.receipt_number(first_id + index),
                            "envelope_id": envelope_id,
                            "handed_over_at": start + step * index,
                            "clerk": "bench_clerk",
                            "recipient_kind": "self",
                            "documents": documents,
                            "policy_version": version,
                        }
                        for index, (_, envelope_id) in chunk
                    ],
                )
                session.execute(
                    insert(HandoverItem),
                    [
                        {"handover_id": first_id + index, "item_id": item_id, "voided": False}
                        for index, (item_id, _) in chunk
                    ],
                )
                session.execute(
                    update(Item),
                    [
                        {"id": item_id, "status": handed_over, "status_changed_at": now}
                        for _, (item_id, _) in chunk
                    ],
                )
        if self.db == "postgresql":
            with self.database.session_scope() as session:
                session.execute(
                    text("SELECT setval('handovers_id_seq', (SELECT max(id) FROM handovers))")
                )
                session.execute(text("ANALYZE"))
        self.handovers_filled = len(rows)

    # ------------------------------------------------------------------ audit

    def append_latencies(self) -> list[float]:
        """ms of each of :data:`GROWTH_APPENDS` appends, one transaction each, one writer."""
        from tracker.domain.codes import AuditAction
        from tracker.services import audit

        times = []
        for index in range(GROWTH_APPENDS):
            begin = time.perf_counter()
            with self.database.session_scope() as session:
                audit.record(
                    session,
                    actor="bench_clerk",
                    action=AuditAction.ITEM_VIEW,
                    object_type="item",
                    object_id=index + 1,
                    details={"control_no": f"E{index:09d}-1"},
                )
            times.append((time.perf_counter() - begin) * 1000)
        return times

    def measure_growth(self) -> None:
        small = self.small_append_p95
        full = self.append_latencies()
        events, _ = self.events()
        small_p95, full_p95 = percentile(small, 95), percentile(full, 95)
        self.add(
            Result(
                "audit_append_growth",
                full_p95,
                small_p95,
                f"p95 of one append at {SMALL_LOG:,} events (ms)",
                raw={
                    "events": events,
                    "p95_full_ms": full_p95,
                    "p95_10k_ms": small_p95,
                    "median_full_ms": median(full),
                    "median_10k_ms": median(small),
                },
                ratio=ratio(full_p95, small_p95),
            )
        )

    def _writers(self, work: Callable[[Any, int], None]) -> float:
        """Commits per second of :data:`WRITERS` threads, each running ``work(session, i)`` in
        a transaction of its own, over and over for ``seconds``."""
        counts = [0] * WRITERS
        failures: list[str] = []
        barrier = threading.Barrier(WRITERS + 1)
        deadline = [0.0]

        def writer(index: int) -> None:
            barrier.wait()
            try:
                while time.perf_counter() < deadline[0]:
                    with self.database.session_scope() as session:
                        work(session, index)
                    counts[index] += 1
            except Exception as error:  # noqa: BLE001 - reported, the run goes on
                failures.append(f"{type(error).__name__}: {error}")

        threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
        for thread in threads:
            thread.start()
        deadline[0] = time.perf_counter() + self.seconds + 1
        barrier.wait()
        started = time.perf_counter()
        deadline[0] = started + self.seconds
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        if failures:
            raise RuntimeError(f"writers failed: {failures[:3]}")
        return sum(counts) / elapsed

    def measure_appends(self) -> None:
        """16 threads appending audit events (one per transaction) vs 16 threads inserting
        one row per transaction into a plain table of the same database."""
        from sqlalchemy import text

        from tracker.db import begin_writing
        from tracker.domain.codes import AuditAction
        from tracker.services import audit

        with self.database.session_scope() as session:
            session.execute(
                text("CREATE TABLE IF NOT EXISTS bench_plain (id INTEGER, payload VARCHAR(100))")
            )
        self.database.dispose()
        from tracker.db import Database

        self.database = Database(self.env.url(self.main), pool_size=WRITERS, max_overflow=4)

        def append(session: Any, index: int) -> None:
            audit.record(
                session,
                actor="bench_clerk",
                action=AuditAction.ITEM_VIEW,
                object_type="item",
                object_id=index + 1,
                details={"control_no": f"E{index:09d}-1"},
            )

        def plain(session: Any, index: int) -> None:
            begin_writing(session)
            session.execute(
                text("INSERT INTO bench_plain (id, payload) VALUES (:i, :p)"),
                {"i": index, "p": "E000000000-1"},
            )

        appends, plains = [], []
        for _ in range(self.repeat):
            appends.append(self._writers(append))
            plains.append(self._writers(plain))
        value, base = median(appends), median(plains)
        self.add(
            Result(
                "audit_appends_per_s",
                value,
                base,
                f"{WRITERS} writers inserting a plain row, commits/s",
                raw={"appends_per_s": appends, "plain_inserts_per_s": plains},
                ratio=ratio(value, base),
            )
        )

    # ------------------------------------------------------------------ HTTP

    def _login(self, username: str) -> tuple[Any, str]:
        from bench.http import Client

        client = Client(self.server.port)
        token = client.login(username, PASSWORD)
        return client, token

    def _rounds(self, rounds: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Run load rounds one after the other in one load-generator process."""
        from bench.http import load

        job = {
            "rounds": [
                {"port": self.server.port, "seconds": self.seconds, "cycle": True, **one}
                for one in rounds
            ]
        }
        answers: list[dict[str, Any]] = load(job, self.environ())
        return answers

    @staticmethod
    def _ping_round() -> dict[str, Any]:
        """The trivial route over 8 connections, without a cookie (no session, no user, no
        database)."""
        from bench.server import PING_PATH

        return {"cookie": "", "connections": [[["GET", PING_PATH, None]]] * CONNECTIONS}

    @staticmethod
    def _rate(answer: dict[str, Any], ok: set[int]) -> float:
        good = sum(n for status, n in answer["statuses"].items() if int(status) in ok)
        return good / answer["seconds"] if answer["seconds"] else 0.0

    def _interleaved(
        self, plans: list[list[list[Any]]], cookie: str, ok: set[int]
    ) -> dict[str, Any]:
        """The page and the trivial route, one after the other, ``repeat`` times each."""
        page_round = {"cookie": cookie, "connections": plans}
        # First a round of each, not counted: every gunicorn worker loads its templates and
        # opens its connections on its first requests.
        warm = [{**page_round, "seconds": WARM_UP}, {**self._ping_round(), "seconds": WARM_UP}]
        answers = self._rounds(warm + [page_round, self._ping_round()] * self.repeat)[2:]
        pages, pings = answers[0::2], answers[1::2]
        bad = [a["statuses"] for a in pages if set(map(int, a["statuses"])) - ok]
        if bad:
            raise RuntimeError(f"unexpected statuses: {bad}")
        return {
            "rate": median([self._rate(a, ok) for a in pages]),
            "p95": median([percentile(a["latencies_ms"], 95) for a in pages]),
            "ping_rate": median([self._rate(a, {200}) for a in pings]),
            "ping_p95": median([percentile(a["latencies_ms"], 95) for a in pings]),
            "rates": [round(self._rate(a, ok), 1) for a in pages],
            "ping_rates": [round(self._rate(a, {200}), 1) for a in pings],
            "p95s_ms": [round(percentile(a["latencies_ms"], 95), 1) for a in pages],
            "ping_p95s_ms": [round(percentile(a["latencies_ms"], 95), 1) for a in pings],
            "requests": [a["requests"] for a in pages],
        }

    def kana_prefix(self) -> tuple[str, int]:
        """The 3-kana prefix of フリガナ shared by the most items (a page of 50 and more)."""
        from sqlalchemy import text

        with self.database.read_session() as session:
            row = session.execute(
                text(
                    "SELECT substr(kana_key, 1, 3) AS k, count(*) AS n FROM items"
                    " WHERE status = 'in_custody' GROUP BY k ORDER BY n DESC LIMIT 1"
                )
            ).one()
        return str(row[0]), int(row[1])

    def measure_lookup(self) -> None:
        client, token = self._login("bench_clerk")
        prefix, matching = self.kana_prefix()
        status, headers, _ = client.request("POST", "/items", {"q": prefix, "csrf_token": token})
        if status != 303:
            raise RuntimeError(f"search posted: {status}")
        path = urllib.parse.urlsplit(headers["Location"])
        target = f"{path.path}?{path.query}"
        _, _, page = client.request("GET", target)
        shown = page.count('href="/items/')
        answer = self._interleaved([[["GET", target, None]]] * CONNECTIONS, client.cookie, {200})
        raw = {**answer, "prefix_matches": matching, "item_links_on_page": shown}
        self.add(
            Result(
                "lookup_http_ratio",
                answer["rate"],
                answer["ping_rate"],
                "trivial route req/s, same server",
                raw=raw,
                ratio=ratio(answer["rate"], answer["ping_rate"]),
            )
        )
        self.add(
            Result(
                "lookup_p95_ms",
                answer["p95"],
                answer["ping_p95"],
                "trivial route p95 (ms)",
                raw=raw,
                ratio=ratio(answer["p95"], answer["ping_p95"]),
            )
        )

    def _item_ids(self, limit: int, newest: bool = False) -> list[int]:
        from sqlalchemy import text

        order = "DESC" if newest else "ASC"
        with self.database.read_session() as session:
            return [
                int(row[0])
                for row in session.execute(
                    text(
                        "SELECT id FROM items WHERE status = 'in_custody'"
                        f" AND kind = 'notification_card' ORDER BY id {order} LIMIT :n"
                    ),
                    {"n": limit},
                )
            ]

    def measure_detail(self) -> None:
        client, _ = self._login("bench_clerk")
        ids = self._item_ids(min(self.size, 4000))
        plans = [
            [["GET", f"/items/{item}", None] for item in ids[i::CONNECTIONS]]
            for i in range(CONNECTIONS)
        ]
        answer = self._interleaved(plans, client.cookie, {200})
        self.add(
            Result(
                "detail_views_per_s",
                answer["rate"],
                answer["ping_rate"],
                "trivial route req/s, same server",
                raw=answer,
                ratio=ratio(answer["rate"], answer["ping_rate"]),
            )
        )

    def measure_handovers(self) -> None:
        """Distinct items handed over by posting the counter's form (self, passport), 8
        connections, ``repeat`` rounds beside the trivial route; then every answer must have
        been the redirect to the receipt and ``tracker audit-verify`` must pass."""
        client, token = self._login("bench_clerk")
        # The newest items: the handovers fill took the oldest.
        pool = self._item_ids(min(self.size // 2, 6000 * self.repeat), newest=True)
        share = len(pool) // self.repeat
        rounds: list[dict[str, Any]] = []
        for round_no in range(self.repeat):
            items = pool[round_no * share : (round_no + 1) * share]
            plans = [
                [
                    [
                        "POST",
                        "/handover",
                        urllib.parse.urlencode(
                            {
                                "csrf_token": token,
                                "item": str(item),
                                "recipient_kind": "self",
                                "recipient_name": "",
                                "letter_of_attorney_date": "",
                                "authority_proof": "",
                                "documents": "passport",
                            }
                        ),
                    ]
                    for item in items[i::CONNECTIONS]
                ]
                for i in range(CONNECTIONS)
            ]
            rounds += [{"cookie": client.cookie, "connections": plans, "cycle": False}]
            rounds += [self._ping_round()]
        # Warm-up, not counted: the handover form of the first items (no handover is made).
        form = [["GET", f"/handover?item={item}", None] for item in pool[:CONNECTIONS]]
        warm = [
            {"cookie": client.cookie, "connections": [form], "seconds": WARM_UP},
            {**self._ping_round(), "seconds": WARM_UP},
        ]
        warm[0]["connections"] = [[entry] for entry in form]
        answers = self._rounds(warm + rounds)[2:]
        posts, ping_answers = answers[0::2], answers[1::2]
        rates = [self._rate(a, {302}) for a in posts]
        pings = [self._rate(a, {200}) for a in ping_answers]
        statuses = [a["statuses"] for a in posts]
        p95s = [percentile(a["latencies_ms"], 95) for a in posts if a["latencies_ms"]]
        done = sum(a["requests"] for a in posts)
        if any(a["requests"] >= share for a in posts):
            self.say(f"  handovers: a round used all of its {share} items (rate understated)")
        errors = sum(n for s in statuses for code, n in s.items() if code != "302")
        verify = subprocess.run(
            tracker_command(["audit-verify"]),
            env=self.environ(),
            capture_output=True,
            text=True,
            check=False,
        )
        value, base = median(rates), median(pings)
        self.add(
            Result(
                "handovers_per_s",
                value,
                base,
                "trivial route req/s, same server",
                raw={
                    "rates": rates,
                    "ping_rates": pings,
                    "statuses": statuses,
                    "p95_ms": p95s,
                    "handovers": done,
                    "errors": errors,
                    "audit_verify_ok": verify.returncode == 0,
                    "audit_verify": (verify.stdout + verify.stderr).strip()[-300:],
                },
                ratio=ratio(value, base),
            )
        )
        if errors or verify.returncode != 0:
            self.say(f"  handovers: {errors} errors; audit-verify exit {verify.returncode}")

    def measure_review(self) -> None:
        client, _ = self._login("bench_auditor")
        answer = self._interleaved(
            [[["GET", "/handovers/review", None]]] * CONNECTIONS, client.cookie, {200}
        )
        _, _, page = client.request("GET", "/handovers/review")
        raw = {
            **answer,
            "handovers_in_database": getattr(self, "handovers_filled", None),
            "receipt_rows_on_page": page.count("<tr") - 1,
        }
        self.add(
            Result(
                "review_p95_ms",
                answer["p95"],
                answer["ping_p95"],
                "trivial route p95 (ms)",
                raw=raw,
                ratio=ratio(answer["p95"], answer["ping_p95"]),
            )
        )

    # ------------------------------------------------------------------ commands

    def _command(self, args: list[str]) -> float:
        """Seconds of ``tracker ARGS`` run in this process (click's runner: no interpreter
        start-up in the figure, as there is none in the baseline's)."""
        from click.testing import CliRunner

        from tracker.cli import main

        runner = CliRunner()
        started = time.perf_counter()
        outcome = runner.invoke(main, args, env=self.environ(), catch_exceptions=False)
        seconds = time.perf_counter() - started
        if outcome.exit_code != 0:
            raise RuntimeError(f"tracker {' '.join(args)}: {outcome.output[-2000:]}")
        return seconds

    def measure_verify(self) -> None:
        """``tracker audit-verify`` vs reading the same rows (every column, ``seq`` order,
        streamed) and hashing each with SHA-256."""
        import hashlib

        events, _ = self.events()

        def baseline() -> float:
            started = time.perf_counter()
            with self.database.engine.connect() as connection:
                result = connection.execution_options(yield_per=5000).exec_driver_sql(
                    "SELECT seq, occurred_at, actor, action, object_type, object_id, outcome,"
                    " details, prev_hash, hash FROM audit_events ORDER BY seq"
                )
                for row in result:
                    hashlib.sha256("\x1f".join(map(str, row)).encode("utf-8")).hexdigest()
            return time.perf_counter() - started

        commands, baselines = [], []
        for _ in range(self.repeat):
            commands.append(self._command(["audit-verify"]))
            baselines.append(baseline())
        value, base = events / median(commands), events / median(baselines)
        self.add(
            Result(
                "verify_ratio",
                value,
                base,
                "read rows + SHA-256, events/s",
                raw={"events": events, "command_seconds": commands, "baseline_seconds": baselines},
                ratio=ratio(value, base),
            )
        )

    def measure_disposal(self) -> None:
        """``tracker disposal-list --as-of TODAY --output F`` vs SELECT of the same rows'
        columns (items joined with envelopes, the listed items' control numbers kept in a
        table of the bench) and csv.writer to a file, UTF-8 with BOM."""
        from sqlalchemy import text

        from tracker.clock import today_jst

        day = today_jst().isoformat()
        out = self.work / "disposal.csv"
        args = ["disposal-list", "--as-of", day, "--output", str(out)]
        first = self._command(args)
        with out.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader)
            column = header.index("control_no")
            listed = [(row[column],) for row in reader]
        with self.database.session_scope() as session:
            session.execute(
                text("CREATE TABLE IF NOT EXISTS bench_listed (control_no VARCHAR(24))")
            )
            session.execute(text("DELETE FROM bench_listed"))
            if listed:
                session.execute(
                    text("INSERT INTO bench_listed (control_no) VALUES (:c)"),
                    [{"c": c} for (c,) in listed],
                )
        query = (
            "SELECT e.tracking_no, i.name, i.birth_date, e.returned_on, i.control_no"
            " FROM bench_listed b JOIN items i ON i.control_no = b.control_no"
            " JOIN envelopes e ON e.id = i.envelope_id ORDER BY e.returned_on, i.id"
        )
        plain = self.work / "plain.csv"

        def baseline() -> float:
            started = time.perf_counter()
            with (
                self.database.engine.connect() as connection,
                plain.open("w", encoding="utf-8-sig", newline="") as sink,
            ):
                writer = csv.writer(sink)
                writer.writerow(header)
                result = connection.execution_options(yield_per=5000).exec_driver_sql(query)
                for t, name, born, returned, control in result:
                    writer.writerow([t, name, born, returned, "", control, returned, ""])
            return time.perf_counter() - started

        commands, baselines = [first], []
        for round_no in range(self.repeat):
            if round_no:
                commands.append(self._command(args))
            baselines.append(baseline())
        rows = len(listed)
        value, base = rows / median(commands), rows / median(baselines)
        self.add(
            Result(
                "disposal_list_ratio",
                value,
                base,
                "SELECT + csv.writer, rows/s",
                raw={"rows": rows, "command_seconds": commands, "baseline_seconds": baselines},
                ratio=ratio(value, base) if rows else None,
            )
        )

    def measure_dashboard(self) -> None:
        """The dashboard's figures (``stats.dashboard``, what ``/`` shows, uncached) vs one
        ``SELECT count(*) FROM items``, in a read session each."""
        from sqlalchemy import text

        from tracker.clock import today_jst
        from tracker.services import stats

        figures, counts = [], []
        for _ in range(max(self.repeat, 3)):
            started = time.perf_counter()
            with self.database.read_session() as session:
                stats.dashboard(session, today_jst())
            figures.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            with self.database.read_session() as session:
                session.execute(text("SELECT count(*) FROM items")).scalar()
            counts.append((time.perf_counter() - started) * 1000)
        value, base = median(figures), median(counts)
        self.add(
            Result(
                "dashboard_ms",
                value,
                base,
                "SELECT count(*) FROM items (ms)",
                raw={"dashboard_ms": figures, "count_ms": counts},
                ratio=ratio(value, base),
            )
        )

    def measure_certificate(self) -> None:
        """The certificate and the plain canvas, each ``repeat`` times in a process of its own
        (one after the other: the peak memory must be each one's own)."""
        rows = min(self.size, CERTIFICATE_ROWS)
        certificate = self.child("certificate", f"{rows},{self.repeat}", None)
        canvas = self.child("canvas", f"{rows},{self.repeat}", None)
        value = rows / median(certificate["seconds"])
        base = rows / median(canvas["seconds"])
        raw = {
            "rows": rows,
            "certificate_seconds": certificate["seconds"],
            "canvas_seconds": canvas["seconds"],
            "certificate_peak_rss_mb": certificate["peak_rss_mb"],
            "canvas_peak_rss_mb": canvas["peak_rss_mb"],
            "certificate_bytes": certificate["bytes"],
            "canvas_bytes": canvas["bytes"],
        }
        self.add(
            Result(
                "certificate_ratio",
                value,
                base,
                "plain canvas, same font and rows, rows/s",
                raw=raw,
                ratio=ratio(value, base),
            )
        )
        self.add(
            Result(
                "certificate_peak_rss_mb",
                certificate["peak_rss_mb"],
                canvas["peak_rss_mb"],
                "peak RSS of the plain canvas (MiB)",
                raw=raw,
            )
        )


def run_quietly(function: Callable[[], Any]) -> Any:
    """``function()`` with its standard output kept out of the table."""
    with contextlib.redirect_stdout(io.StringIO()):
        return function()
