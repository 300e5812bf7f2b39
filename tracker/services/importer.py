"""Bulk import of returned envelopes and items from CSV (SPEC §6.4, a contract).

All or nothing, in bounded memory, idempotent:

1. The file is read once to settle its encoding (BOM → UTF-8; else strict UTF-8; else strict
   CP932; else refused), then streamed through ``csv.reader``. Each row is checked by the same
   field rules as the intake form (:mod:`tracker.domain.records`); good rows go, in batches, to a
   temporary staging table on the import's own connection. Nothing is kept per row in memory.
   A row with more fields than the header is refused (its extra fields would be lost), and so
   is a file with no data rows at all. Refusals quote cells with individual numbers masked.
2. Rules that span rows run as set-based SQL on the staging table: rows sharing a tracking
   number must agree on the envelope columns; one person may not appear twice in one envelope;
   rows already in the database are duplicates (re-importing a file adds nothing).
3. Only when no row has an error are envelopes and items inserted, with ``INSERT … SELECT`` from
   staging, in the caller's transaction, with one audit event for the whole import (the file's
   SHA-256 and counts, never row contents). ``dry_run`` does everything but write.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import logging
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, Any

from sqlalchemy import (
    Column,
    Date,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    bindparam,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from tracker.db import SQLITE_CACHE_KIB, begin_writing
from tracker.domain.codes import ItemStatus
from tracker.domain.control import ENVELOPE_DIGITS, ENVELOPE_PREFIX
from tracker.domain.mynumber import mask_individual_numbers
from tracker.domain.records import Checked, EnvelopeFields, check_envelope, check_item
from tracker.models import Location
from tracker.models.base import UTCDateTime
from tracker.services import audit

log = logging.getLogger(__name__)

#: SPEC §6.4 columns: English name → Japanese header, and whether a value is required.
COLUMNS: dict[str, tuple[str, bool]] = {
    "tracking_no": ("お問い合わせ番号", True),
    "return_date": ("返戻日", True),
    "return_reason": ("還付事由", True),
    "addressee": ("宛名", True),
    "address": ("住所", True),
    "household_code": ("世帯番号", False),
    "name": ("氏名", True),
    "name_kana": ("フリガナ", True),
    "birth_date": ("生年月日", True),
    "relationship": ("続柄", False),
    "item_kind": ("種別", False),
    "location": ("保管場所", False),
    "slot": ("保管位置", False),
}
ENVELOPE_COLUMNS = (
    "return_date",
    "return_reason",
    "addressee",
    "address",
    "household_code",
    "location",
    "slot",
)
ENCODINGS = ("auto", "utf-8", "cp932")
BATCH_SIZE = 5000
SQLITE_IMPORT_CACHE_KIB = 64 * 1024
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
        )


# --- reading the file ------------------------------------------------------------------------


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


def _header_key(cell: str) -> str:
    return unicodedata.normalize("NFKC", cell).strip().lstrip("\ufeff").lower().replace(" ", "")


_HEADER_ALIASES: dict[str, str] = {}
for _name, (_japanese, _required) in COLUMNS.items():
    _HEADER_ALIASES[_header_key(_name)] = _name
    _HEADER_ALIASES[_header_key(_japanese)] = _name


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
        name = _HEADER_ALIASES.get(_header_key(cell))
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


@dataclass(frozen=True)
class StagedRow:
    """One good row, normalised, as it goes to the staging table."""

    values: dict[str, Any]


LocationLookup = Callable[[str], int | None]


def iter_rows(
    stream: IO[str],
    *,
    today: date,
    locate: LocationLookup,
    report: ImportReport,
) -> Iterator[StagedRow]:
    """Check each data row; yield the good ones, record problems in ``report``.

    Raises :class:`ImportFileError` for a file-level problem (header, encoding). Any other input
    gives a report, never an exception: it is fed arbitrary text by a property test.
    """
    reader = csv.reader(stream, strict=False)
    envelope_check = _EnvelopeCheck(today)
    last_line = 0
    try:
        try:
            header_cells = next(reader)
        except StopIteration:
            raise ImportFileError("ファイルが空です。1行目に見出し行が必要です") from None
        header = read_header(header_cells)
        report.column_labels = dict(header.label)
        report.ignored_columns = list(header.ignored)
        last_line = reader.line_num
        for cells in reader:
            line = last_line + 1
            last_line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue  # blank line
            report.rows += 1
            staged = _check_row(cells, line, header, today, locate, report, envelope_check)
            if staged is not None:
                yield staged
        if report.rows == 0:  # a header alone is a file with nothing in it (issue 10)
            raise ImportFileError(
                "データ行がありません。2行目から1行に1通知物ずつ記入したファイルを指定してください"
            )
    except UnicodeDecodeError as error:
        raise ImportFileError(
            f"{last_line + 1}行目付近に、指定の文字コード（{error.encoding}）では読めないバイトが"
            "あります。文字コードを確かめてください"
        ) from None
    except csv.Error as error:
        raise ImportFileError(f"{last_line + 1}行目付近のCSVを読めません: {error}") from None


_ENVELOPE_KEYS = ("tracking_no", *ENVELOPE_COLUMNS)


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


def _check_row(
    cells: list[str],
    line: int,
    header: Header,
    today: date,
    locate: LocationLookup,
    report: ImportReport,
    check_envelope_of: _EnvelopeCheck,
) -> StagedRow | None:
    if "\x00" in "".join(cells):
        report.add_error(RowProblem(line, "", "", "NUL文字が含まれています"))
        return None
    if len(cells) > header.width and any(cell.strip() for cell in cells[header.width :]):
        # The extra fields would be dropped unseen: most often an unquoted comma that has
        # shifted every later column, so nothing in this row can be trusted (issue 10).
        # Empty trailing fields (`…,,` from a spreadsheet's blank columns) are harmless.
        report.add_error(
            RowProblem(
                line,
                "",
                "",
                f"項目の数が見出しより多くなっています（見出しは{header.width}項目、"
                f'この行は{len(cells)}項目）。値にカンマを含むときは全体を "…" で囲んでください',
            )
        )
        return None
    raw = {name: cells[i] if i < len(cells) else "" for name, i in header.index.items()}
    envelope, checked = check_envelope_of(raw)
    item = check_item(raw, today, envelope.returned_on if envelope else None, checked)
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
        {
            "line_no": line,
            "tracking_no": envelope.tracking_no,
            "returned_on": envelope.returned_on,
            "return_reason": envelope.return_reason.value,
            "addressee": envelope.addressee,
            "address": envelope.address,
            "household_code": envelope.household_code,
            "location_id": location_id,
            "slot": envelope.slot,
            "kind": item.kind.value,
            "name": item.name,
            "name_kana": item.name_kana,
            "name_key": item.name_key,
            "kana_key": item.kana_key,
            "birth_date": item.birth_date,
            "relationship": item.relationship,
        }
    )


def _masked(value: str | None, message: str) -> tuple[str, str]:
    return mask_individual_numbers(value or ""), mask_individual_numbers(message)


# --- staging and the set-based checks ----------------------------------------------------------

_staging_metadata = MetaData()
STAGING = Table(
    "import_staging",
    _staging_metadata,
    Column("line_no", Integer, primary_key=True, autoincrement=False),
    Column("tracking_no", String(20), nullable=False),
    Column("returned_on", Date, nullable=False),
    Column("return_reason", String(20), nullable=False),
    Column("addressee", String(200), nullable=False),
    Column("address", String(400), nullable=False),
    Column("household_code", String(20)),
    Column("location_id", Integer, nullable=False),
    Column("slot", String(50)),
    Column("kind", String(20), nullable=False),
    Column("name", String(100), nullable=False),
    Column("name_kana", String(200), nullable=False),
    Column("name_key", String(200), nullable=False),
    Column("kana_key", String(200), nullable=False),
    Column("birth_date", Date, nullable=False),
    Column("relationship", String(50)),
    #: Filled by the checks: the existing envelope, duplicate flag, last used item position.
    Column("envelope_id", Integer),
    Column("duplicate", Integer, nullable=False, server_default="0"),
    Column("base_position", Integer),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DROP",
)


def _create_staging(conn: Connection) -> None:
    STAGING.drop(conn, checkfirst=True)  # a previous import on this pooled connection
    STAGING.create(conn)


_STAGED_COLUMNS = (
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
)


def _stage(
    conn: Connection, rows: Iterable[StagedRow], progress: Callable[[int], None] | None
) -> int:
    """Load good rows into staging in batches, through the driver's fastest path.

    PostgreSQL: ``COPY … FROM STDIN`` (psycopg 3); SQLite: the driver's ``executemany``. Both
    run on the import's own connection, inside its transaction.
    """
    dbapi: Any = conn.connection.dbapi_connection  # psycopg's copy() is not in the DBAPI types
    columns = ", ".join(_STAGED_COLUMNS)
    staged = 0
    batch: list[tuple[Any, ...]] = []

    def flush() -> None:
        nonlocal staged
        if conn.dialect.name == "postgresql":
            with (
                dbapi.cursor() as cursor,
                cursor.copy(f"COPY import_staging ({columns}) FROM STDIN") as copy,
            ):
                for values in batch:
                    copy.write_row(values)
        else:
            marks = ", ".join("?" for _ in _STAGED_COLUMNS)
            cursor = dbapi.cursor()
            cursor.executemany(
                f"INSERT INTO import_staging ({columns}) VALUES ({marks})",  # noqa: S608
                [tuple(_sqlite_value(v) for v in values) for values in batch],
            )
            cursor.close()
        staged += len(batch)
        batch.clear()
        if progress:
            progress(staged)

    for row in rows:
        batch.append(tuple(row.values[name] for name in _STAGED_COLUMNS))
        if len(batch) >= BATCH_SIZE:
            flush()
    if batch:
        flush()
    return staged


def _sqlite_value(value: Any) -> Any:
    """Dates as ISO text, as SQLAlchemy stores them in SQLite."""
    return value.isoformat() if isinstance(value, date) else value


def _index_staging(conn: Connection) -> None:
    """Indexes after loading (faster than maintaining them row by row), then statistics:
    PostgreSQL never auto-analyzes temporary tables, and guesses badly without them."""
    conn.execute(
        text("CREATE INDEX ix_import_staging_tracking ON import_staging (tracking_no, line_no)")
    )
    conn.execute(
        text(
            "CREATE INDEX ix_import_staging_person"
            " ON import_staging (tracking_no, name, birth_date)"
        )
    )
    conn.execute(text("ANALYZE import_staging"))


def _cross_row_checks(conn: Connection, report: ImportReport) -> None:
    s = STAGING.alias("s")
    f = STAGING.alias("f")
    first = (
        select(STAGING.c.tracking_no, func.min(STAGING.c.line_no).label("first_line"))
        .group_by(STAGING.c.tracking_no)
        .having(func.count() > 1)
        .subquery("g")
    )
    differs = [
        ("return_date", s.c.returned_on, f.c.returned_on),
        ("return_reason", s.c.return_reason, f.c.return_reason),
        ("addressee", s.c.addressee, f.c.addressee),
        ("address", s.c.address, f.c.address),
        ("household_code", s.c.household_code, f.c.household_code),
        ("location", s.c.location_id, f.c.location_id),
        ("slot", s.c.slot, f.c.slot),
    ]
    query = (
        select(
            s.c.line_no,
            s.c.tracking_no,
            f.c.line_no.label("first_line"),
            *[a.is_distinct_from(b).label(name) for name, a, b in differs],
        )
        .join(
            first, and_(first.c.tracking_no == s.c.tracking_no, s.c.line_no != first.c.first_line)
        )
        .join(f, f.c.line_no == first.c.first_line)
        .where(or_(*[a.is_distinct_from(b) for _name, a, b in differs]))
        .order_by(s.c.line_no)
    )
    for row in conn.execute(query):
        columns = [name for name, _a, _b in differs if getattr(row, name)]
        labels = "、".join(report.label(name) for name in columns)
        report.add_error(
            RowProblem(
                row.line_no,
                report.label(columns[0]),
                row.tracking_no,
                f"同じお問い合わせ番号の{row.first_line}行目と封筒の項目（{labels}）が一致しません。"
                "同じ封筒の行は封筒の項目をそろえてください",
            )
        )

    twin = STAGING.alias("t")
    repeated = (
        select(s.c.line_no, s.c.name, func.min(twin.c.line_no).label("first_line"))
        .join(
            twin,
            and_(
                twin.c.tracking_no == s.c.tracking_no,
                twin.c.name == s.c.name,
                twin.c.birth_date == s.c.birth_date,
                twin.c.line_no < s.c.line_no,
            ),
        )
        .group_by(s.c.line_no, s.c.name)
        .order_by(s.c.line_no)
    )
    for row in conn.execute(repeated):
        report.add_error(
            RowProblem(
                row.line_no,
                report.label("name"),
                row.name,
                f"{row.first_line}行目と同じ人（氏名・生年月日）が同じ封筒に重複しています",
            )
        )


def _match_existing(conn: Connection, report: ImportReport) -> None:
    # One UPDATE … FROM (PostgreSQL, SQLite ≥ 3.33), touching only rows whose envelope is
    # already stored, run before the staging indexes exist: PostgreSQL rewrites every updated
    # row and its index entries, so each extra pass over a million rows costs seconds.
    conn.execute(
        text(
            "UPDATE import_staging SET envelope_id = e.id,"
            " duplicate = CASE WHEN EXISTS (SELECT 1 FROM items i WHERE i.envelope_id = e.id"
            "   AND i.name = import_staging.name AND i.birth_date = import_staging.birth_date)"
            "   THEN 1 ELSE 0 END,"
            " base_position = (SELECT MAX(i.position) FROM items i WHERE i.envelope_id = e.id)"
            " FROM envelopes e WHERE e.tracking_no = import_staging.tracking_no"
        )
    )
    conflicts = conn.execute(
        text(
            "SELECT s.line_no, s.tracking_no, e.control_no FROM import_staging s"
            " JOIN envelopes e ON e.id = s.envelope_id"
            " WHERE s.duplicate = 0 AND e.returned_on <> s.returned_on ORDER BY s.line_no"
        )
    )
    for row in conflicts:
        report.add_error(
            RowProblem(
                row.line_no,
                report.label("tracking_no"),
                row.tracking_no,
                f"このお問い合わせ番号は登録済み（管理番号 {row.control_no}）で、"
                "返戻日が異なります",
            )
        )
    report.duplicates = conn.execute(
        text("SELECT COUNT(*) FROM import_staging WHERE duplicate = 1")
    ).scalar_one()


# --- writing ------------------------------------------------------------------------------------

_ENVELOPE_COLUMNS_SQL = (
    "tracking_no, addressee, address, household_code, returned_on, return_reason,"
    " location_id, slot, intake_by, intake_at"
)
_FIRST_ROWS_SQL = (
    "SELECT * FROM import_staging WHERE line_no IN (SELECT MIN(line_no) FROM import_staging"
    " WHERE envelope_id IS NULL GROUP BY tracking_no)"
)


def _insert_envelopes(conn: Connection, actor: str, now: Any) -> int:
    params = {"actor": actor, "now": now}
    if conn.dialect.name == "postgresql":
        control = f"'{ENVELOPE_PREFIX}' || lpad(n.id::text, {ENVELOPE_DIGITS}, '0')"
        # Built from module constants only; values are bound parameters.
        sql = (
            f"INSERT INTO envelopes (id, control_no, {_ENVELOPE_COLUMNS_SQL})"  # noqa: S608
            f" SELECT n.id, {control}, n.tracking_no, n.addressee, n.address, n.household_code,"
            " n.returned_on, n.return_reason, n.location_id, n.slot, :actor, :now"
            f" FROM (SELECT nextval('envelopes_id_seq') AS id, f.* FROM ({_FIRST_ROWS_SQL}"
            " ORDER BY line_no) f) n"
        )
    else:
        # SQLite: this transaction holds the database's only write lock (BEGIN IMMEDIATE), so
        # nobody else can take ids between reading MAX(id) and inserting.
        params["base"] = conn.execute(
            text("SELECT COALESCE(MAX(id), 0) FROM envelopes")
        ).scalar_one()
        padding = "0" * ENVELOPE_DIGITS
        # Built from module constants only; values are bound parameters.
        sql = (
            f"INSERT INTO envelopes (id, control_no, {_ENVELOPE_COLUMNS_SQL})"  # noqa: S608
            f" SELECT n.id, '{ENVELOPE_PREFIX}' || substr('{padding}' || n.id, -{ENVELOPE_DIGITS}),"
            " n.tracking_no, n.addressee, n.address, n.household_code, n.returned_on,"
            " n.return_reason, n.location_id, n.slot, :actor, :now"
            " FROM (SELECT :base + ROW_NUMBER() OVER (ORDER BY f.line_no) AS id, f.*"
            f" FROM ({_FIRST_ROWS_SQL}) f) n"
        )
    # ``now`` typed as the column is: stored like every other timestamp (naive UTC text on
    # SQLite) instead of through sqlite3's datetime adapter, deprecated since Python 3.12.
    statement = text(sql).bindparams(bindparam("now", type_=UTCDateTime()))
    return conn.execute(statement, params).rowcount


def _insert_items(conn: Connection) -> int:
    sql = (
        "INSERT INTO items (control_no, envelope_id, position, kind, name, name_kana, name_key,"
        " kana_key, birth_date, relationship_to_head, status)"
        " SELECT e.control_no || '-' || CAST(p.position AS TEXT), e.id, p.position, p.kind,"
        " p.name, p.name_kana, p.name_key, p.kana_key, p.birth_date, p.relationship, :status"
        " FROM (SELECT s.*, COALESCE(s.base_position, 0)"
        "   + ROW_NUMBER() OVER (PARTITION BY s.tracking_no ORDER BY s.line_no) AS position"
        "   FROM import_staging s WHERE s.duplicate = 0) p"
        " JOIN envelopes e ON e.tracking_no = p.tracking_no"
    )
    return conn.execute(text(sql), {"status": ItemStatus.IN_CUSTODY.value}).rowcount


# --- the whole import ---------------------------------------------------------------------------


def location_lookup(session: Session) -> LocationLookup:
    """Resolve a location by name or code (any width, any case); empty → the default."""
    by_key: dict[str, int] = {}
    default_id: int | None = None
    for location in session.scalars(select(Location).where(Location.active.is_(True))):
        by_key[_location_key(location.name)] = location.id
        by_key[_location_key(location.code)] = location.id
        if location.is_default:
            default_id = location.id

    def locate(value: str) -> int | None:
        return default_id if not value.strip() else by_key.get(_location_key(value))

    return locate


def _location_key(value: str) -> str:
    return unicodedata.normalize("NFKC", value).replace(" ", "").upper()


def run_import(
    session: Session,
    path: Path,
    *,
    actor: str,
    today: date,
    now: Any,
    encoding: str = "auto",
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Validate and (unless ``dry_run`` or refused) write the file in the session's transaction.

    The caller commits when ``report.committed`` is true and rolls back otherwise; the refusal
    audit event, when there is one, is written by :func:`record_refusal` after that rollback.
    """
    if encoding not in ENCODINGS:
        raise ImportFileError(f"文字コード「{encoding}」は指定できません（auto, utf-8, cp932）")
    report = ImportReport(sha256=file_sha256(path), dry_run=dry_run)
    report.encoding = detect_encoding(path) if encoding == "auto" else encoding
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        return _run(session, conn, path, report, actor, today, now, dry_run, progress)
    # SQLite's page cache is small; a million-row import into indexed tables thrashes it. A
    # larger cap for this import only (the connection goes back to a pool) is still bounded.
    conn.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_IMPORT_CACHE_KIB}")
    try:
        return _run(session, conn, path, report, actor, today, now, dry_run, progress)
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")


def _run(
    session: Session,
    conn: Connection,
    path: Path,
    report: ImportReport,
    actor: str,
    today: date,
    now: Any,
    dry_run: bool,
    progress: Callable[[int], None] | None,
) -> ImportReport:
    _create_staging(conn)
    locate = location_lookup(session)
    with (
        _phase("validate+stage"),
        path.open(encoding=report.encoding, errors="strict", newline="") as stream,
    ):
        _stage(conn, iter_rows(stream, today=today, locate=locate, report=report), progress)
    if not dry_run:
        # SQLite: validation and staging (the long part) ran without the write lock, so
        # readers and the counter were never kept waiting; from here on, the checks against
        # stored rows and the inserts hold it, and see every envelope committed before.
        begin_writing(session)
    with _phase("match existing"):
        _match_existing(conn, report)
    with _phase("index staging"):
        _index_staging(conn)
    with _phase("cross-row checks"):
        _cross_row_checks(conn, report)
    if report.error_count:
        return report
    report.envelopes = _count_new_envelopes(conn)
    report.items = conn.execute(
        text("SELECT COUNT(*) FROM import_staging WHERE duplicate = 0")
    ).scalar_one()
    if dry_run:
        return report
    with _phase("insert envelopes"):
        inserted_envelopes = _insert_envelopes(conn, actor, now)
    with _phase("insert items"):
        inserted_items = _insert_items(conn)
    if (inserted_envelopes, inserted_items) != (report.envelopes, report.items):
        raise RuntimeError(  # the checks above make this impossible; never commit half of it
            f"import inserted {inserted_envelopes}/{inserted_items},"
            f" expected {report.envelopes}/{report.items}"
        )
    STAGING.drop(conn)
    audit.record(
        session,
        actor=actor,
        action="import.commit",
        object_type="import",
        object_id=report.sha256[:16],
        details=_audit_details(report),
    )
    report.committed = True
    return report


@contextmanager
def _phase(name: str) -> Iterator[None]:
    """Log how long each phase took (operations want to know where a slow import spends it)."""
    started = time.perf_counter()
    yield
    log.info("import phase %s: %.1f s", name, time.perf_counter() - started)


def _count_new_envelopes(conn: Connection) -> int:
    count: int = conn.execute(
        text("SELECT COUNT(DISTINCT tracking_no) FROM import_staging WHERE envelope_id IS NULL")
    ).scalar_one()
    return count


def _audit_details(report: ImportReport) -> dict[str, Any]:
    return {
        "sha256": report.sha256,
        "encoding": report.encoding,
        "rows": report.rows,
        "items": report.items,
        "envelopes": report.envelopes,
        "duplicates": report.duplicates,
        "warnings": report.warning_count,
        "errors": report.error_count,
        "dry_run": report.dry_run,
    }


def record_refusal(
    session: Session, *, actor: str, report: ImportReport | None, reason: str
) -> None:
    """After a rollback: one audit event saying an import was refused, and why (no row data)."""
    details: dict[str, Any] = {"reason": reason}
    if report is not None:
        details.update(_audit_details(report))
    audit.record(
        session,
        actor=actor,
        action="import.refused",
        object_type="import",
        object_id=report.sha256[:16] if report else None,
        outcome="refused",
        details=details,
    )


__all__ = [
    "COLUMNS",
    "ENCODINGS",
    "ImportFileError",
    "ImportReport",
    "RowProblem",
    "detect_encoding",
    "iter_rows",
    "record_refusal",
    "run_import",
]
