"""``python -m tracker.synthetic N …`` (``scripts/gen-returns``): the command line."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator, Sequence
from datetime import date

from tracker.synthetic.generator import generate_rows
from tracker.synthetic.numbers import MAX_ROWS
from tracker.synthetic.writer import write_csv


def _progress(rows: Iterator[dict[str, str]], every: int = 100_000) -> Iterator[dict[str, str]]:
    for count, row in enumerate(rows, start=1):
        yield row
        if count % every == 0:
            print(f"{count:,} rows", file=sys.stderr, flush=True)


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date (YYYY-MM-DD): {text!r}") from None


def _row_count(text: str) -> int:
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of rows: {text!r}") from None
    if not 0 <= value <= MAX_ROWS:
        raise argparse.ArgumentTypeError(f"rows must be 0…{MAX_ROWS:,}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m tracker.synthetic N …``: write N synthetic rows as CSV (stdout by default)."""
    parser = argparse.ArgumentParser(
        prog="gen-returns",
        description="Write N synthetic returned-mail rows as a SPEC §6.4 import CSV.",
    )
    parser.add_argument("rows", type=_row_count, help="number of item rows (not households)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--encoding", choices=("utf-8", "utf-8-sig", "cp932"), default="utf-8")
    parser.add_argument("--header", choices=("en", "ja"), default="en")
    parser.add_argument(
        "--start", type=_iso_date, default=date(2016, 1, 1), help="first return date"
    )
    parser.add_argument(
        "--end", type=_iso_date, default=date(2021, 12, 31), help="last return date"
    )
    parser.add_argument("--output", "-o", help="file to write (default: stdout)")
    args = parser.parse_args(argv)
    try:
        rows = generate_rows(
            args.rows,
            args.seed,
            start=args.start,
            end=args.end,
            cp932_safe=args.encoding == "cp932",
        )
    except ValueError as error:
        parser.error(str(error))
    try:
        if args.output:
            count = write_csv(
                args.output, _progress(rows), encoding=args.encoding, header=args.header
            )
            print(f"wrote {count:,} rows to {args.output}", file=sys.stderr)
        else:
            write_csv(sys.stdout.buffer, rows, encoding=args.encoding, header=args.header)
            sys.stdout.flush()
    except BrokenPipeError:
        # `gen-returns 1000 | head`: the reader left; say nothing more, like other Unix tools.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0
