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


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterator[str]:
    """The CSV text, one record at a time (for streaming), cells neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    yield buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([neutralise(cell) for cell in row])
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
    first = True
    for line in csv_lines(header, rows):
        data = line.encode(encoding)
        if encoding == "utf-8-sig" and not first:
            data = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
        first = False
        yield data


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
