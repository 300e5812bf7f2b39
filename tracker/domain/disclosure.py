"""What an access request (開示請求, issue 16 item 3) discloses, as plain data, and its CSV
bundle.

A :class:`Disclosure` is the request's heading (reference number, dates, office) and a list of
:class:`Section` s, one per kind of record (items, envelopes, 住基照合, handovers …), each with
its column titles and rows of plain values (text, dates, moments, numbers or ``None``). The
service gathers it from the database; the PDF (:mod:`tracker.pdf.access_request`) and the CSV
bundle (:func:`csv_bundle`) only format it, so the two always hold the same records.

The bundle is one zip: ``request.csv`` (the heading) and one CSV file per section, UTF-8 with
BOM (Excel), formula-looking cells neutralised (SPEC §6.5), dates as ISO ``YYYY-MM-DD`` and
moments as Japan time ``YYYY-MM-DD HH:MM`` (machine-readable; the PDF prints 和暦).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from tracker.domain.export import encode_csv


@dataclass(frozen=True)
class Stamp:
    """Text around a moment (「保存期間経過により消去済み（…）」, a void's time and clerk): each
    format prints the moment its own way, with its year (和暦 in the PDF, ISO in the CSV)."""

    before: str
    moment: datetime
    after: str = ""


Value = str | int | date | datetime | Stamp | None

#: Japan Standard Time (no clock is read here: moments come in as timezone-aware values).
_JST = timezone(timedelta(hours=9), "JST")


@dataclass(frozen=True)
class Section:
    """One kind of record: ``key`` names its CSV file, ``title`` its heading."""

    key: str
    title: str
    columns: tuple[str, ...]
    rows: Sequence[tuple[Value, ...]]
    #: Said under the heading (e.g. why a 支援措置 is included, what purge erased).
    note: str = ""


@dataclass(frozen=True)
class Disclosure:
    reference_no: str
    received_on: date
    made_on: date
    municipality: str
    office: str
    #: Display name of the officer who exported it.
    made_by: str
    #: Control numbers of the items the request covers.
    control_nos: tuple[str, ...]
    sections: Sequence[Section] = field(default_factory=tuple)

    def counts(self) -> dict[str, int]:
        """Rows per section (the export's audit event holds these, never a value)."""
        return {section.key: len(section.rows) for section in self.sections}


def csv_value(value: Value) -> str:
    """A cell of the CSV files: ISO dates, Japan-time moments, text as stored."""
    if value is None:
        return ""
    if isinstance(value, Stamp):
        return f"{value.before}{csv_value(value.moment)}{value.after}"
    if isinstance(value, datetime):
        return value.astimezone(_JST).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _csv(columns: Sequence[str], rows: Sequence[Sequence[Value]]) -> bytes:
    return b"".join(encode_csv(columns, ([csv_value(v) for v in row] for row in rows)))


def csv_bundle(disclosure: Disclosure) -> bytes:
    """The zip of ``request.csv`` and one ``NN_<key>.csv`` per section (in the PDF's order)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        heading = (
            ("受付番号", disclosure.reference_no),
            ("受付日", disclosure.received_on),
            ("作成日", disclosure.made_on),
            ("作成者", disclosure.made_by),
            ("自治体", disclosure.municipality),
            ("担当", disclosure.office),
            ("管理番号", "、".join(disclosure.control_nos)),
        )
        _write(bundle, "00_request.csv", _csv(("項目", "内容"), heading))
        for number, section in enumerate(disclosure.sections, start=1):
            name = f"{number:02d}_{section.key}.csv"
            _write(bundle, name, _csv(section.columns, section.rows))
    return buffer.getvalue()


def _write(bundle: zipfile.ZipFile, name: str, data: bytes) -> None:
    # A fixed time stamp: the same disclosure gives the same bytes.
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    bundle.writestr(info, data)
