"""The command line of ``scripts/bench`` (``python -m bench``)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.env import DEFAULT_POSTGRES_URL
from bench.run import KEY_NAMES, KEYS, Result, Run

#: Keys whose value is the ratio of the measure to its baseline (the rest are the measure).
RATIO_KEYS = frozenset(name for name in KEY_NAMES if name.endswith("_ratio")) | {
    "audit_append_growth"
}


def key_value(result: Result) -> float | None:
    return result.ratio if result.key in RATIO_KEYS else result.value


def _keys(text: str) -> list[str]:
    wanted = [key.strip() for key in text.split(",") if key.strip()]
    unknown = [key for key in wanted if key not in KEY_NAMES]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown key(s): {', '.join(unknown)} (known: {', '.join(KEY_NAMES)})"
        )
    return wanted


def _size(text: str) -> int:
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of rows: {text!r}") from None
    if value < 100:
        raise argparse.ArgumentTypeError("--size must be at least 100")
    return value


def _number(value: float | None) -> str:
    if value is None:
        return "—"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def table(results: dict[str, Result], db: str, size: int) -> str:
    lines = [
        f"{'key':<24} {'value':>10} {'baseline':>10} {'ratio':>7}  {'goal':<24} met?",
        "-" * 86,
    ]
    for key in KEYS:
        result = results.get(key.name)
        if result is None:
            continue
        value = key_value(result)
        met = key.check(value, db, size) if value is not None else None
        lines.append(
            f"{key.name:<24} {_number(result.value):>10} {_number(result.baseline):>10}"
            f" {_number(result.ratio):>7}  {key.goal:<24} "
            + {True: "yes", False: "NO", None: "—"}[met]
        )
    handovers = results.get("handovers_per_s")
    if handovers is not None:
        verified = "passes" if handovers.raw.get("audit_verify_ok") else "FAILS"
        lines.append(
            f"handovers: {handovers.raw.get('handovers', 0)} made,"
            f" {handovers.raw.get('errors', 0)} errors; tracker audit-verify afterwards {verified}"
        )
    return "\n".join(lines)


def document(run: Run, results: dict[str, Result], seconds: float) -> dict[str, Any]:
    keys: dict[str, Any] = {}
    raw: dict[str, Any] = {}
    for key in KEYS:
        result = results.get(key.name)
        if result is None:
            continue
        value = key_value(result)
        keys[key.name] = value
        raw[key.name] = {
            "value": result.value,
            "baseline": result.baseline,
            "baseline_of": result.baseline_of,
            "ratio": result.ratio,
            "goal": key.goal,
            "met": key.check(value, run.db, run.size) if value is not None else None,
            **result.raw,
        }
    return {
        **keys,
        "raw": raw,
        "run": {
            "db": run.db,
            "size": run.size,
            "repeat": run.repeat,
            "seconds_per_http_run": run.seconds,
            "connections": 8,
            "wall_seconds": round(seconds, 1),
            "phases_seconds": run.timings,
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "cpus": os.cpu_count(),
            #: The machine's load average (1, 5, 15 min) at the end: other work skews every
            #: absolute figure (the ratios much less).
            "load_average": [round(value, 2) for value in os.getloadavg()],
            "python": sys.version.split()[0],
        },
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/bench",
        description="Measure tracker beside baselines on synthetic data (issue 18).",
    )
    parser.add_argument("--size", type=_size, default=1_000_000, help="items (default 1,000,000)")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--only", type=_keys, default=list(KEY_NAMES), metavar="KEY,…", help="these keys only"
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="write every key to FILE")
    parser.add_argument(
        "--repeat", type=int, default=3, help="interleaved rounds per measure (median; default 3)"
    )
    parser.add_argument(
        "--seconds", type=float, default=2.0, help="length of one HTTP or writer round (2.0)"
    )
    args = parser.parse_args(argv)
    postgres_url = os.environ.get("TRACKER_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL)

    def say(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    started = time.perf_counter()
    run = Run(
        size=args.size,
        db=args.db,
        only=args.only,
        repeat=max(1, args.repeat),
        seconds=args.seconds,
        postgres_url=postgres_url,
        say=say,
    )
    say(f"bench: {args.size:,} items on {args.db}, keys: {', '.join(args.only)}")
    try:
        results = run.measure()
    finally:
        run.close()
    seconds = time.perf_counter() - started
    print(f"{args.size:,} items, {args.db}, {seconds:.0f} s")
    print(table(results, args.db, args.size))
    if args.json is not None:
        args.json.write_text(
            json.dumps(document(run, results, seconds), indent=2, ensure_ascii=False) + "\n",
            encoding="utf-8",
        )
    return 0
