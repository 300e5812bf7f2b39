"""Measure the audit chain (issue 18): one append at two log sizes, concurrent appends, verify.

    .venv/bin/python scripts/audit-growth.py --db URL [--sizes 10000,1000000] [--writers 16]
        [--seconds 10] [--appends 300] [--only growth,concurrent,verify]

URL names a scratch database that is wiped: a PostgreSQL database is dropped and created again,
a SQLite file deleted. For each size the log is filled cheaply (a correct chain computed here,
bulk-inserted with the extend-only trigger bypassed), and then:

- growth: p50/p95 of one append (its own transaction, committed) by a connection that made
  its first append when the log held two events and lived through the growth ("warm", like a
  pooled web connection; autovacuum is off for the table, so no ANALYZE replans it in
  between), then, after ANALYZE, by a new connection ("fresh");
- concurrent: appends/s by ``--writers`` threads, each its own connection and transactions;
- verify: ``audit.verify_chain`` events/s against a plain read of the same rows hashed with
  SHA-256 (the issue's baseline), interleaved, median of three.

Prints one line per figure. Measured in issue 18 at 10k and 1M events (see the report).
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from tracker.db import Database
from tracker.domain.chain import GENESIS_HASH, ChainEvent, canonical_json
from tracker.schema import upgrade
from tracker.services import audit

COLUMNS = (
    "seq, occurred_at, actor, action, object_type, object_id, outcome, details, prev_hash, hash"
)


def fresh_database(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{parsed.database}{suffix}").unlink(missing_ok=True)
    else:
        admin = Database(parsed.set(database="postgres").render_as_string(hide_password=False))
        with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}"'))
            conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
        admin.dispose()
    database = Database(url)
    upgrade(database.engine)
    if database.dialect == "postgresql":
        with database.engine.begin() as conn:
            conn.execute(text("ALTER TABLE audit_events SET (autovacuum_enabled = off)"))
    database.dispose()


def append_one(database: Database, n: int) -> float:
    started = time.perf_counter()
    with database.session_scope() as session:
        audit.record(
            session,
            actor=f"clerk{n % 50}",
            action="item.view",
            object_type="item",
            object_id=n,
            details={"n": n, "slot": "棚A-12"},
        )
    return time.perf_counter() - started


def fill(url: str, size: int) -> None:
    """Extend the chain to ``size`` events without the extend-only trigger (bulk insert)."""
    database = Database(url)
    with database.engine.begin() as conn:
        head = conn.execute(
            text("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1")
        ).first()
    seq, prev = (head[0], head[1]) if head else (0, GENESIS_HASH)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    postgres = database.dialect == "postgresql"
    with database.engine.begin() as conn:
        if postgres:
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            trigger_sql = conn.execute(
                text("SELECT sql FROM sqlite_master WHERE name = 'audit_events_extend_only'")
            ).scalar_one()
            conn.exec_driver_sql("DROP TRIGGER audit_events_extend_only")
        raw = conn.connection.dbapi_connection
        assert raw is not None
        while seq < size:
            batch = []
            for _ in range(min(20_000, size - seq)):
                seq += 1
                event = ChainEvent(
                    seq=seq,
                    occurred_at=start + timedelta(microseconds=seq * 1000),
                    actor=f"clerk{seq % 50}",
                    action="item.view",
                    object_type="item",
                    object_id=str(seq),
                    outcome="ok",
                    details=canonical_json({"n": seq, "slot": "棚A-12"}),
                    prev_hash=prev,
                )
                prev = event.compute_hash()
                stamp = event.occurred_at if postgres else event.occurred_at.replace(tzinfo=None)
                batch.append(
                    (seq, stamp, event.actor, event.action, "item", event.object_id, "ok",
                     event.details, event.prev_hash, prev)
                )  # fmt: skip
            cursor = raw.cursor()
            if postgres:
                with cursor.copy(f"COPY audit_events ({COLUMNS}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                    for row in batch:
                        copy.write_row(row)
            else:
                cursor.executemany(
                    f"INSERT INTO audit_events ({COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)",  # noqa: S608
                    [(*r[:1], r[1].isoformat(sep=" "), *r[2:]) for r in batch],
                )
            cursor.close()
        if not postgres:
            conn.exec_driver_sql(trigger_sql)
    database.dispose()


def analyze(url: str) -> None:
    database = Database(url)
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE audit_events"))
    database.dispose()


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p50 = ordered[len(ordered) // 2] * 1000
    p95 = ordered[int(len(ordered) * 0.95)] * 1000
    return f"p50 {p50:.2f} ms, p95 {p95:.2f} ms"


def measure_concurrent(url: str, writers: int, seconds: float) -> float:
    database = Database(url, pool_size=writers + 2, max_overflow=0)
    stop = time.perf_counter() + seconds
    counts = [0] * writers
    errors: list[BaseException] = []
    barrier = threading.Barrier(writers)

    def work(w: int) -> None:
        try:
            barrier.wait()
            n = 0
            while time.perf_counter() < stop:
                append_one(database, w * 10_000_000 + n)
                n += 1
            counts[w] = n
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(writers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    database.dispose()
    if errors:
        raise errors[0]
    return sum(counts) / elapsed


def baseline_read_and_hash(url: str) -> tuple[int, float]:
    database = Database(url)
    started = time.perf_counter()
    count = 0
    with database.engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        cursor = raw.cursor("baseline") if database.dialect == "postgresql" else raw.cursor()  # type: ignore[call-arg]
        cursor.execute(f"SELECT {COLUMNS} FROM audit_events ORDER BY seq")  # noqa: S608
        while rows := cursor.fetchmany(5000):
            for row in rows:
                hashlib.sha256("|".join(map(str, row)).encode()).hexdigest()
                count += 1
        cursor.close()
        conn.rollback()
    elapsed = time.perf_counter() - started
    database.dispose()
    return count, elapsed


def measure_verify(url: str) -> tuple[float, float]:
    database = Database(url)
    ours, base = [], []
    for _ in range(3):
        started = time.perf_counter()
        with database.read_session() as session:
            result = audit.verify_chain(session)
        elapsed = time.perf_counter() - started
        assert result.ok, result
        ours.append(result.checked / elapsed)
        count, base_elapsed = baseline_read_and_hash(url)
        base.append(count / base_elapsed)
    database.dispose()
    return statistics.median(ours), statistics.median(base)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--sizes", default="10000,1000000")
    parser.add_argument("--writers", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--appends", type=int, default=300)
    parser.add_argument("--only", default="growth,concurrent,verify")
    parser.add_argument("--reuse", action="store_true", help="verify only, the log as it is")
    args = parser.parse_args()
    only = set(args.only.split(","))
    audit.use_digest_key(b"audit-growth-measure-key")
    if args.reuse:
        ours, base = measure_verify(args.db)
        print(f"verify {ours:.0f} events/s, read+SHA-256 {base:.0f}/s, ratio {ours / base:.2f}")
        return
    for size in (int(s) for s in args.sizes.split(",")):
        fresh_database(args.db)
        warm = Database(args.db, pool_size=1, max_overflow=0)
        append_one(warm, 0)
        with warm.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE audit_events"))  # as autovacuum would, early on
        append_one(warm, 0)  # plans the trigger's query on a tiny log, and keeps the plan
        started = time.perf_counter()
        fill(args.db, size)
        print(f"[{size}] filled in {time.perf_counter() - started:.1f} s", flush=True)
        if "growth" in only:
            fresh = Database(args.db, pool_size=1, max_overflow=0)
            for label, database in (("warm", warm), ("fresh", fresh)):
                append_one(database, 1)
                samples = [append_one(database, n) for n in range(args.appends)]
                print(
                    f"[{size}] one append, {label} connection: {percentiles(samples)}", flush=True
                )
            fresh.dispose()
        warm.dispose()
        if "concurrent" in only:
            rate = measure_concurrent(args.db, args.writers, args.seconds)
            print(f"[{size}] concurrent appends, {args.writers} writers: {rate:.0f}/s", flush=True)
        if "verify" in only:
            ours, base = measure_verify(args.db)
            print(
                f"[{size}] verify {ours:.0f} events/s, read+SHA-256 {base:.0f}/s,"
                f" ratio {ours / base:.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
