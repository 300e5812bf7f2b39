"""Rows to CSV as an office's spreadsheet writes it: CRLF, UTF-8 or CP932, English or Japanese
headers (the importer's own column table, :mod:`tracker.domain.import_columns`)."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import BinaryIO, Literal

from tracker.domain.import_columns import COLUMN_NAMES as COLUMNS
from tracker.domain.import_columns import JAPANESE_HEADERS

Encoding = Literal["utf-8", "utf-8-sig", "cp932"]
HeaderLanguage = Literal["en", "ja"]


def write_csv(
    target: str | os.PathLike[str] | BinaryIO,
    rows: Iterable[Mapping[str, str]],
    *,
    encoding: Encoding = "utf-8",
    header: HeaderLanguage = "en",
) -> int:
    """Write a header row and `rows` as CSV, CRLF like Excel; returns the number of rows.

    `target` is a path or a binary stream (``sys.stdout.buffer``, ``io.BytesIO``), left open.
    Encoding is strict: a character the encoding cannot hold raises UnicodeEncodeError (for
    CP932 generate with ``cp932_safe=True``).
    """
    names = COLUMNS if header == "en" else tuple(JAPANESE_HEADERS[c] for c in COLUMNS)
    if isinstance(target, str | os.PathLike):
        with open(target, "w", encoding=encoding, errors="strict", newline="") as stream:
            return _write(stream, names, rows)
    wrapper = io.TextIOWrapper(target, encoding=encoding, errors="strict", newline="")
    try:
        return _write(wrapper, names, rows)
    finally:
        wrapper.flush()
        wrapper.detach()


def _write(
    stream: io.TextIOBase | io.TextIOWrapper,
    names: Sequence[str],
    rows: Iterable[Mapping[str, str]],
) -> int:
    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerow(names)
    count = 0
    for row in rows:
        writer.writerow([row.get(column, "") for column in COLUMNS])
        count += 1
    return count
