"""Synthetic returned-mail rows (SPEC §6.4 import CSV): see :mod:`.generator`."""

from tracker.domain.records import NOTICE_START as NOTICE_START  # tests import it from here
from tracker.synthetic.generator import (
    COLUMNS,
    ENVELOPE_COLUMNS,
    JAPANESE_HEADERS,
    MAX_ROWS,
    format_date,
    generate_rows,
    household_code,
    main,
    tracking_number,
    write_csv,
)

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
