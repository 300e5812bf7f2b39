"""What a person types for the contact log (接触記録, issue 15): the time of day of a contact,
and the control numbers pasted into the returned-notice page.

Decided here:

- A time of day is ``H:MM`` or ``HH:MM`` (any width, ``：`` or ``:``), or four digits
  ``HHMM`` as a numeric keypad gives it; 24-hour clock, nothing else.
- The pasted control numbers are one per line, read like the scan box reads them
  (:func:`tracker.domain.control.parse_control_no`: any width, lower case, any dash); blank
  lines are skipped, and every other line keeps its number (1 = the first line) so that a
  refusal can name it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import time

from tracker.domain.control import envelope_control_no, item_control_no, parse_control_no
from tracker.domain.errors import InputError

_TIME = re.compile(r"(\d{1,2}):(\d{2})|(\d{2})(\d{2})")

#: The most lines the returned-notice page takes at once (a day's returned mail is far less).
MAX_LINES = 2000


def parse_time(text: str | None, label: str = "時刻") -> time:
    """The time of day typed in ``text``, or :class:`InputError` saying why."""
    value = unicodedata.normalize("NFKC", text or "").strip()
    if not value:
        raise InputError(f"{label}を入力してください（例: 9:30）")
    match = _TIME.fullmatch(value)
    if match is None:
        raise InputError(f"{label}「{value[:10]}」は時:分（例: 9:30）で入力してください")
    hour = int(match.group(1) or match.group(3))
    minute = int(match.group(2) or match.group(4))
    if hour > 23 or minute > 59:
        raise InputError(f"{label}「{value}」はありえない時刻です")
    return time(hour, minute)


@dataclass(frozen=True)
class PastedLine:
    """One non-blank line of the pasted list."""

    #: 1 = the first line of the text.
    line: int
    #: The line as typed (trimmed), for the report.
    value: str
    #: The item control number in its stored form, or None when the line is not one.
    control_no: str | None


def pasted_control_numbers(text: str | None) -> list[PastedLine]:
    """Every non-blank line, with the item control number it names (None if it names none:
    an envelope number is not enough, the notice went to one person)."""
    lines = []
    for number, raw in enumerate((text or "").splitlines(), start=1):
        value = raw.strip()
        if not value:
            continue
        parsed = parse_control_no(value)
        control = None
        if parsed is not None and parsed[1] is not None:
            control = item_control_no(envelope_control_no(parsed[0]), parsed[1])
        lines.append(PastedLine(number, value, control))
    return lines
