"""Reading an import file (SPEC §6.4): its encoding, its header, each row checked on its own.

What the rest of the import is told comes back in an :class:`ImportReport`; a file that cannot
be read at all raises :class:`ImportFileError`. Nothing here touches the database: a row's
storage place is resolved by the ``locate`` function the caller passes in.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import multiprocessing
import unicodedata
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, Any

from tracker.domain import import_columns
from tracker.domain.mynumber import mask_individual_numbers
from tracker.domain.records import Checked, EnvelopeFields, Memo, check_envelope, check_item

#: SPEC §6.4 columns: English name → Japanese header, and whether the header must have it.
COLUMNS: dict[str, tuple[str, bool]] = {
    column.name: (column.japanese, column.required) for column in import_columns.COLUMNS
}
ENCODINGS = ("auto", "utf-8", "cp932")
#: The report keeps this many problems of each kind in full and counts the rest.
REPORT_LIMIT = 10_000


class ImportFileError(ValueError):
    """The file as a whole cannot be read (encoding, header): nothing was written."""


@dataclass(frozen=True)
class RowProblem:
    """One bad (or suspicious) cell: line number in the file, column as headed, value, why."""

    line: int
    column: str
    value: str
    message: str

    def __str__(self) -> str:
        shown = self.value if len(self.value) <= 40 else self.value[:40] + "…"
        where = f"{self.line}行目" + (f"、列「{self.column}」" if self.column else "")
        return f"{where}、値「{shown}」: {self.message}"


@dataclass
class ImportReport:
    """What an import found and did. ``committed`` is False for dry runs and refusals."""

    sha256: str = ""
    encoding: str = ""
    rows: int = 0
    items: int = 0
    envelopes: int = 0
    duplicates: int = 0
    error_count: int = 0
    warning_count: int = 0
    errors: list[RowProblem] = field(default_factory=list)
    warnings: list[RowProblem] = field(default_factory=list)
    dry_run: bool = False
    committed: bool = False
    #: How the file itself heads each known column, so the report uses the file's words.
    column_labels: dict[str, str] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)
    #: Rows that were re-mailed cards coming back (issue 13), not new envelopes.
    remail_returns: int = 0

    def label(self, name: str) -> str:
        return self.column_labels.get(name) or COLUMNS[name][0]

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def add_error(self, problem: RowProblem) -> None:
        self.error_count += 1
        if len(self.errors) < REPORT_LIMIT:
            self.errors.append(problem)

    def add_warning(self, problem: RowProblem) -> None:
        self.warning_count += 1
        if len(self.warnings) < REPORT_LIMIT:
            self.warnings.append(problem)

    def counts_line(self) -> str:
        return (
            f"items={self.items} envelopes={self.envelopes} duplicates={self.duplicates} "
            f"warnings={self.warning_count}"
        ) + (f" remail_returns={self.remail_returns}" if self.remail_returns else "")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def detect_encoding(path: Path) -> str:
    """BOM → ``utf-8-sig``; else strict UTF-8; else strict CP932; else refuse (SPEC §6.4).

    charset-normalizer was checked and misreads short CP932 files, so this is a fixed rule.
    """
    with path.open("rb") as fh:
        if fh.read(3) == codecs.BOM_UTF8:
            return "utf-8-sig"
    for encoding in ("utf-8", "cp932"):
        if _decodes(path, encoding):
            return encoding
    raise ImportFileError(
        "文字コードを判別できません。UTF-8 または Shift_JIS（CP932）で保存したファイルを"
        "指定してください（--encoding で指定することもできます）"
    )


def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    with path.open("rb") as fh:
        try:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


def header_key(cell: str) -> str:
    return unicodedata.normalize("NFKC", cell).strip().lstrip("\ufeff").lower().replace(" ", "")


_HEADER_ALIASES: dict[str, str] = {}
for _name, (_japanese, _required) in COLUMNS.items():
    _HEADER_ALIASES[header_key(_name)] = _name
    _HEADER_ALIASES[header_key(_japanese)] = _name


@dataclass(frozen=True)
class Header:
    """Where each known column is, and how the file itself names it (for the report)."""

    index: dict[str, int]
    label: dict[str, str]
    ignored: list[str]
    #: How many fields the header row has; a data row may not have more (issue 10).
    width: int = 0


def read_header(cells: list[str]) -> Header:
    index: dict[str, int] = {}
    label: dict[str, str] = {}
    ignored: list[str] = []
    for position, cell in enumerate(cells):
        name = _HEADER_ALIASES.get(header_key(cell))
        if name is None:
            if cell.strip():
                ignored.append(mask_individual_numbers(cell.strip()))
            continue
        if name in index:
            raise ImportFileError(
                f"見出し行に「{COLUMNS[name][0]}（{name}）」の列が2つあります"
                f"（{index[name] + 1}列目と{position + 1}列目）"
            )
        index[name] = position
        label[name] = cell.strip().lstrip("\ufeff")
    missing = [name for name, (_ja, required) in COLUMNS.items() if required and name not in index]
    if missing:
        names = "、".join(f"{COLUMNS[name][0]}（{name}）" for name in missing)
        raise ImportFileError(
            f"1行目の見出しに必須の列がありません: {names}。"
            "見出しは日本語・英語どちらでも構いません"
        )
    return Header(index, label, ignored, width=len(cells))


#: The staging table's columns, in the order of :attr:`StagedRow.row`.
STAGED_COLUMNS = (
    "line_no",
    "tracking_no",
    "returned_on",
    "return_reason",
    "addressee",
    "address",
    "household_code",
    "location_id",
    "slot",
    "kind",
    "name",
    "name_kana",
    "name_key",
    "kana_key",
    "birth_date",
    "relationship",
    "alias",
    "alias_key",
    "first_notice_on",
    "renotice_on",
    "card_expires_on",
)


@dataclass(frozen=True)
class StagedRow:
    """One good row, normalised, as it goes to the staging table: a plain tuple in the order
    of :data:`STAGED_COLUMNS` (a million of them are made; a dict each would cost)."""

    row: tuple[Any, ...]

    @property
    def values(self) -> dict[str, Any]:
        return dict(zip(STAGED_COLUMNS, self.row, strict=True))


LocationLookup = Callable[[str], int | None]


def iter_rows(
    stream: IO[str],
    *,
    today: date,
    locate: LocationLookup,
    report: ImportReport,
    processes: int = 1,
) -> Iterator[StagedRow]:
    """Check each data row; yield the good ones, record problems in ``report``.

    Raises :class:`ImportFileError` for a file-level problem (header, encoding). Any other input
    gives a report, never an exception: it is fed arbitrary text by a property test.
    With ``processes`` above 1 the rows are checked in that many worker processes
    (:func:`_checked_in_processes`); what is yielded and reported is the same, in file order.
    """
    header_cells, records = header_and_records(stream)
    header = read_header(header_cells)
    report.column_labels = dict(header.label)
    report.ignored_columns = list(header.ignored)
    if processes > 1:
        yield from _checked_in_processes(records, header, today, locate, report, processes)
    else:
        envelope_check = _EnvelopeCheck(today)
        memo = Memo()
        for line, cells in records:
            report.rows += 1
            staged = _check_row(cells, line, header, today, locate, report, envelope_check, memo)
            if staged is not None:
                yield staged
    if report.rows == 0:  # a header alone is a file with nothing in it (issue 10)
        raise ImportFileError(
            "データ行がありません。2行目から1行に1通知物ずつ記入したファイルを指定してください"
        )


#: Rows sent to a worker at a time, and chunks waiting per worker: the file is read only as
#: fast as the rows are checked, so memory stays bounded whatever its length.
CHUNK_ROWS = 2_000
CHUNKS_AHEAD = 2

_Chunk = list[tuple[int, list[str]]]
_Checked = tuple[list[tuple[Any, ...]], list["RowProblem"], list["RowProblem"], int, int]


def _checked_in_processes(
    records: Iterator[tuple[int, list[str]]],
    header: Header,
    today: date,
    locate: LocationLookup,
    report: ImportReport,
    processes: int,
) -> Iterator[StagedRow]:
    """The rows checked in ``processes`` workers, :data:`CHUNK_ROWS` at a time, and put back in
    file order: the same good rows and the same report as one process (issue 18: the row
    checks were 95% of the validation phase, ~110 µs a row). This process reads the CSV and
    stages what comes back.

    Every check is a function of the row, ``today`` and the locations alone (a worker's
    caches, :class:`_EnvelopeCheck` and :class:`Memo`, only remember answers), so any row may
    go to any worker. The workers come from a fork server started without threads, never
    forked from a threaded web or job process.
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    labels = dict(report.column_labels)
    with ProcessPoolExecutor(
        processes,
        mp_context=context,
        initializer=_start_worker,
        initargs=(header, today, locate, labels),
    ) as pool:
        pending: deque[Future[_Checked]] = deque()
        chunk: _Chunk = []
        for record in records:
            report.rows += 1
            chunk.append(record)
            if len(chunk) >= CHUNK_ROWS:
                pending.append(pool.submit(_check_chunk, chunk))
                chunk = []
                while len(pending) >= processes * CHUNKS_AHEAD:
                    yield from _merged(pending.popleft().result(), report)
        if chunk:
            pending.append(pool.submit(_check_chunk, chunk))
        while pending:
            yield from _merged(pending.popleft().result(), report)


def _merged(checked: _Checked, report: ImportReport) -> Iterator[StagedRow]:
    rows, errors, warnings, error_count, warning_count = checked
    report.errors.extend(errors[: REPORT_LIMIT - len(report.errors)])
    report.warnings.extend(warnings[: REPORT_LIMIT - len(report.warnings)])
    report.error_count += error_count
    report.warning_count += warning_count
    for row in rows:
        yield StagedRow(row)


#: A worker's state (:func:`_start_worker`): what every row is checked against, and its caches.
_worker: dict[str, Any] = {}


def _start_worker(
    header: Header, today: date, locate: LocationLookup, labels: dict[str, str]
) -> None:
    _worker.update(
        header=header,
        today=today,
        locate=locate,
        labels=labels,
        envelope_check=_EnvelopeCheck(today),
        memo=Memo(),
    )


def _check_chunk(chunk: _Chunk) -> _Checked:
    """Rows checked as :func:`iter_rows` checks them, their problems in a report of their own."""
    report = ImportReport(column_labels=_worker["labels"])
    rows = []
    for line, cells in chunk:
        staged = _check_row(
            cells, line, _worker["header"], _worker["today"], _worker["locate"], report,
            _worker["envelope_check"], _worker["memo"],
        )  # fmt: skip
        if staged is not None:
            rows.append(staged.row)
    return rows, report.errors, report.warnings, report.error_count, report.warning_count


def csv_records(stream: IO[str]) -> Iterator[tuple[int, list[str]]]:
    """The records of a CSV file with the line each starts on: the header first (line 1), then
    the data rows, blank ones left out. A byte the encoding cannot read, or CSV that cannot be
    parsed, raises :class:`ImportFileError` naming the line. Shared by the three file imports
    (cards, resident-register results, pickup slots)."""
    reader = csv.reader(stream, strict=False)
    last_line = 0
    try:
        for cells in reader:
            line = last_line + 1
            last_line = reader.line_num
            if line > 1 and not any(cell.strip() for cell in cells):
                continue  # blank line
            yield line, cells
    except UnicodeDecodeError as error:
        raise ImportFileError(
            f"{last_line + 1}行目付近に、指定の文字コード（{error.encoding}）では読めないバイトが"
            "あります。文字コードを確かめてください"
        ) from None
    except csv.Error as error:
        raise ImportFileError(f"{last_line + 1}行目付近のCSVを読めません: {error}") from None


def header_and_records(stream: IO[str]) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header's cells and the data records after it (:func:`csv_records`); an empty file
    raises :class:`ImportFileError`."""
    records = csv_records(stream)
    first = next(records, None)
    if first is None:
        raise ImportFileError("ファイルが空です。1行目に見出し行が必要です")
    return first[1], records


_ENVELOPE_KEYS = import_columns.ENVELOPE_COLUMNS


class _EnvelopeCheck:
    """Rows of one household repeat the envelope columns: check them once per envelope.

    One per import (never shared between threads); remembers only the previous row's result.
    """

    def __init__(self, today: date) -> None:
        self.today = today
        self.key: tuple[str, ...] | None = None
        self.fields: EnvelopeFields | None = None
        self.checked = Checked()

    def __call__(self, raw: dict[str, str]) -> tuple[EnvelopeFields | None, Checked]:
        key = tuple(raw.get(name, "") for name in _ENVELOPE_KEYS)
        if key != self.key:
            self.checked = Checked()
            self.fields = check_envelope(raw, self.today, self.checked)
            self.key = key
        return self.fields, Checked(dict(self.checked.errors), dict(self.checked.warnings))


def shape_problem(cells: list[str], line: int, width: int) -> RowProblem | None:
    """A row that cannot be read field by field: a NUL character, or more fields than the
    header's ``width`` (also used by the resident-register import)."""
    if "\x00" in "".join(cells):
        return RowProblem(line, "", "", "NUL文字が含まれています")
    if len(cells) > width and any(cell.strip() for cell in cells[width:]):
        # The extra fields would be dropped unseen: most often an unquoted comma that has
        # shifted every later column, so nothing in this row can be trusted (issue 10).
        # Empty trailing fields (`…,,` from a spreadsheet's blank columns) are harmless.
        return RowProblem(
            line,
            "",
            "",
            f"項目の数が見出しより多くなっています（見出しは{width}項目、"
            f'この行は{len(cells)}項目）。値にカンマを含むときは全体を "…" で囲んでください',
        )
    return None


def _check_row(
    cells: list[str],
    line: int,
    header: Header,
    today: date,
    locate: LocationLookup,
    report: ImportReport,
    check_envelope_of: _EnvelopeCheck,
    memo: Memo | None = None,
) -> StagedRow | None:
    problem = shape_problem(cells, line, header.width)
    if problem is not None:
        report.add_error(problem)
        return None
    raw = {name: cells[i] if i < len(cells) else "" for name, i in header.index.items()}
    envelope, checked = check_envelope_of(raw)
    item = check_item(raw, today, envelope.returned_on if envelope else None, checked, memo)
    location_id = None
    if envelope is not None:
        location_id = locate(envelope.location)
        if location_id is None:
            checked.errors["location"] = (
                f"保管場所「{envelope.location}」は登録されていません。保管場所の名称かコードを"
                "指定してください（空欄なら既定の保管場所）"
            )
    # The report quotes cells, and it goes to a screen and to stderr: every refused value is
    # shown with individual numbers masked (SPEC §2, issue 10), as are the messages. A warning
    # about a tracking number is the exception: that number is stored as it is (SPEC §2 leaves
    # the column alone; one valid tracking number in eleven passes the My Number check digit),
    # so masking it would only hide the number the officer is looking for.
    for name, message in checked.errors.items():
        report.add_error(RowProblem(line, report.label(name), *_masked(raw.get(name), message)))
    for name, message in checked.warnings.items():
        value = raw.get(name, "")
        if name != "tracking_no":
            value, message = _masked(value, message)
        report.add_warning(RowProblem(line, report.label(name), value, message))
    if checked.errors or envelope is None or item is None:
        return None
    return StagedRow(
        (
            line,
            envelope.tracking_no,
            envelope.returned_on,
            envelope.return_reason.value,
            envelope.addressee,
            envelope.address,
            envelope.household_code,
            location_id,
            envelope.slot,
            item.kind.value,
            item.name,
            item.name_kana,
            item.name_key,
            item.kana_key,
            item.birth_date,
            item.relationship,
            item.alias,
            item.alias_key,
            item.first_notice_on,
            item.renotice_on,
            item.card_expires_on,
        )
    )


def _masked(value: str | None, message: str) -> tuple[str, str]:
    return mask_individual_numbers(value or ""), mask_individual_numbers(message)
