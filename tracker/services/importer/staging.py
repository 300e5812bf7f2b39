"""The staging table of an import and the checks that span rows, as set-based SQL (SPEC §6.4).

Good rows are loaded into a temporary table on the import's own connection, in batches; the
rules no single row can decide (rows of one envelope agree, one person once per envelope, rows
already stored are duplicates) then run over the whole table at once, so memory does not grow
with the file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import (
    Column,
    Date,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.engine import Connection

from tracker.services.importer.reading import (
    STAGED_COLUMNS as _STAGED_COLUMNS,
)
from tracker.services.importer.reading import (
    ImportReport,
    RowProblem,
    StagedRow,
)

#: Rows sent to the staging table per round trip (COPY on PostgreSQL, executemany on SQLite).
BATCH_SIZE = 5000

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
    Column("alias", String(100)),
    Column("alias_key", String(200)),
    Column("first_notice_on", Date),
    Column("renotice_on", Date),
    Column("card_expires_on", Date),
    #: Filled by the checks: the existing envelope, duplicate flag, last used item position.
    Column("envelope_id", Integer),
    Column("duplicate", Integer, nullable=False, server_default="0"),
    Column("base_position", Integer),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DROP",
)


def create(conn: Connection) -> None:
    STAGING.drop(conn, checkfirst=True)  # a previous import on this pooled connection
    STAGING.create(conn)


def load(
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
                map(_sqlite_row, batch),
            )
            cursor.close()
        staged += len(batch)
        batch.clear()
        if progress:
            progress(staged)

    for row in rows:
        batch.append(row.row)
        if len(batch) >= BATCH_SIZE:
            flush()
    if batch:
        flush()
    return staged


#: Where the date columns are in a staged row.
_DATE_POSITIONS = tuple(
    position
    for position, name in enumerate(_STAGED_COLUMNS)
    if isinstance(STAGING.c[name].type, Date)
)


def _sqlite_row(values: tuple[Any, ...]) -> list[Any]:
    """Dates as ISO text, as SQLAlchemy stores them in SQLite."""
    row = list(values)
    for position in _DATE_POSITIONS:
        value = row[position]
        if value is not None:
            row[position] = value.isoformat()
    return row


def add_indexes(conn: Connection) -> None:
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


def cross_row_checks(conn: Connection, report: ImportReport) -> None:
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


def match_existing(conn: Connection, report: ImportReport) -> None:
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


def count_new_envelopes(conn: Connection) -> int:
    count: int = conn.execute(
        text("SELECT COUNT(DISTINCT tracking_no) FROM import_staging WHERE envelope_id IS NULL")
    ).scalar_one()
    return count


def count_new_items(conn: Connection) -> int:
    count: int = conn.execute(
        text("SELECT COUNT(*) FROM import_staging WHERE duplicate = 0")
    ).scalar_one()
    return count


def drop(conn: Connection) -> None:
    STAGING.drop(conn)
