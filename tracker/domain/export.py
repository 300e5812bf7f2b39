"""CSV exports (SPEC §6.5): UTF-8 with BOM by default (Excel), CP932 on request with every
character it cannot hold reported (never replaced), spreadsheet formulas neutralised."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

#: Cells starting with these are run as formulas by spreadsheet programs (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
ENCODINGS = ("utf-8-sig", "utf-8", "cp932")


def neutralise(value: object) -> str:
    """Prefix a formula-looking cell with an apostrophe, as OWASP recommends."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


@dataclass(frozen=True)
class Unencodable:
    row: int  # 1 = the header
    column: str
    character: str

    def __str__(self) -> str:
        return (
            f"{self.row}行目「{self.column}」の「{self.character}」"
            f"（U+{ord(self.character):04X}）はShift_JIS（CP932）で表せません"
        )


class ExportEncodingError(ValueError):
    def __init__(self, problems: Sequence[Unencodable], total: int) -> None:
        shown = "、".join(str(p) for p in problems[:20])
        more = f" ほか{total - 20}件" if total > 20 else ""
        super().__init__(
            f"CP932で出力できない文字があります: {shown}{more}。UTF-8で出力してください"
        )
        self.problems = list(problems)
        self.total = total


#: Records per streamed chunk: few enough that a download starts at once, many enough that the
#: per-chunk work (a buffer read, an encode, a write) is nothing beside the records (issue 18).
CHUNK_ROWS = 512


def csv_lines(
    header: Sequence[str], rows: Iterable[Sequence[object]], chunk_rows: int = CHUNK_ROWS
) -> Iterator[str]:
    """The CSV text in chunks of whole records (for streaming), cells neutralised: the header
    first, then ``chunk_rows`` records at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    yield buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    starts = FORMULA_STARTS
    pending = 0
    for row in rows:
        writer.writerow(
            [
                ("'" + cell if cell.startswith(starts) else cell)
                if cell.__class__ is str
                else neutralise(cell)
                for cell in row
            ]
        )
        pending += 1
        if pending == chunk_rows:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    if pending:
        yield buffer.getvalue()


def encode_csv(
    header: Sequence[str], rows: Iterable[Sequence[object]], encoding: str = "utf-8-sig"
) -> Iterator[bytes]:
    """Encoded CSV chunks. For CP932 every row is checked first; any character it cannot hold
    raises :class:`ExportEncodingError` naming row, column and character (nothing written)."""
    if encoding not in ENCODINGS:
        raise ValueError(f"unknown export encoding {encoding!r}")
    if encoding == "cp932":
        rows = list(rows)
        _check_cp932(header, rows)
    # The BOM (utf-8-sig) once, before the header; every later chunk is plain UTF-8.
    later = "utf-8" if encoding == "utf-8-sig" else encoding
    first = True
    for text in csv_lines(header, rows):
        yield text.encode(encoding if first else later)
        first = False


def _check_cp932(header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    problems: list[Unencodable] = []
    total = 0
    for number, row in enumerate([header, *rows], start=1):
        for column, cell in zip(header, row, strict=False):
            for character in neutralise(cell):
                try:
                    character.encode("cp932")
                except UnicodeEncodeError:
                    total += 1
                    if len(problems) < 100:
                        problems.append(Unencodable(number, column, character))
    if total:
        raise ExportEncodingError(problems, total)
