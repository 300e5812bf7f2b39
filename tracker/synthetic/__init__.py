"""Synthetic returned-mail rows for tests, demos and benchmarks (SPEC §6.4 import CSV).

Pure and deterministic: no Flask, no database, no clock. The same ``seed`` gives the same rows,
byte for byte, on the pinned Python (``random.Random`` with an integer seed is stable).
Nothing is real: names are drawn from tables of common names, house numbers are random, and no
free-text cell holds a digit run longer than four, so none can be an individual number (SPEC §2).

What it imitates, so that an importer meets what a Kumamoto office would feed it:

* one envelope per household (1–6 members, mostly 1–3), addressed to the household head
  (世帯主), who is the first row; the other rows are 妻/夫, 子, 父/母, 子の妻, 孫 with birth dates
  that make sense (parents older than children; the oldest born in 大正 or 明治);
* 熊本市 addresses (five wards, real town names, 丁目-番-号 written in three ways, some with a
  building and room, some in full-width digits);
* common family and given names by birth cohort with their readings, 異体字 spellings (髙橋,
  山﨑, 渡邊/渡邉, 齋藤, 𠮷田 …), a few foreign residents; フリガナ in katakana, hiragana or
  half-width kana, with a U+3000, an ASCII space or nothing between family and given name;
* every SPEC §6.1 date shape (``2018-04-01``, ``2018/4/1``, ``平成30年4月1日``, ``H30.4.1``,
  ``R02.03.31``, full-width digits), every return reason as code or label, item kinds that
  agree with the return date (通知カード before 2020-05-25, 個人番号通知書 from then);
* tracking numbers that are unique without remembering them (see :func:`tracking_number`),
  about 0.5 % with a wrong check digit, so that an import reports SPEC §6.3 warnings.

Rows are generated one household at a time, so memory does not grow with the row count.
The columns, in the order written, and their English or Japanese headers are the importer's own
table (:mod:`tracker.domain.import_columns`).

The package, by module (import from the package itself): :mod:`.generator` the households and
their rows, :mod:`.tables` the names, addresses and weights it draws from, :mod:`.numbers`
tracking numbers and household codes, :mod:`.writer` the CSV, :mod:`.cli` the command line.

Command line (``scripts/gen-returns`` wraps it)::

    python -m tracker.synthetic N [--seed S] [--encoding utf-8|utf-8-sig|cp932]
                                  [--header en|ja] [--start DATE] [--end DATE] [--output FILE]
"""

from __future__ import annotations

from tracker.domain.import_columns import COLUMN_NAMES as COLUMNS
from tracker.domain.import_columns import ENVELOPE_COLUMNS, JAPANESE_HEADERS
from tracker.domain.records import NOTICE_START as NOTICE_START  # tests import it from here
from tracker.synthetic.cli import main
from tracker.synthetic.generator import format_date, generate_rows
from tracker.synthetic.numbers import MAX_ROWS, household_code, tracking_number
from tracker.synthetic.writer import write_csv

__all__ = [
    "COLUMNS",
    "ENVELOPE_COLUMNS",
    "JAPANESE_HEADERS",
    "MAX_ROWS",
    "format_date",
    "generate_rows",
    "household_code",
    "main",
    "tracking_number",
    "write_csv",
]
