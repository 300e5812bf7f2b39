"""Writing an import: envelopes and items inserted from the staging table (SPEC §6.4).

Each is one ``INSERT … SELECT`` in the caller's transaction, run only when no row had an error.
Envelope control numbers (:mod:`tracker.domain.control`) are built in SQL from the new ids.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection

from tracker.domain.codes import ItemStatus
from tracker.domain.control import ENVELOPE_DIGITS, ENVELOPE_PREFIX
from tracker.models.base import UTCDateTime

_ENVELOPE_COLUMNS_SQL = (
    "tracking_no, addressee, address, household_code, returned_on, return_reason,"
    " location_id, slot, intake_by, intake_at"
)
_FIRST_ROWS_SQL = (
    "SELECT * FROM import_staging WHERE line_no IN (SELECT MIN(line_no) FROM import_staging"
    " WHERE envelope_id IS NULL GROUP BY tracking_no)"
)


def insert_envelopes(conn: Connection, actor: str, now: Any) -> int:
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


def insert_items(conn: Connection) -> int:
    sql = (
        "INSERT INTO items (control_no, envelope_id, position, kind, name, name_kana, name_key,"
        " kana_key, birth_date, relationship_to_head, alias, alias_key, first_notice_on,"
        " renotice_on, card_expires_on, status)"
        " SELECT e.control_no || '-' || CAST(p.position AS TEXT), e.id, p.position, p.kind,"
        " p.name, p.name_kana, p.name_key, p.kana_key, p.birth_date, p.relationship,"
        " p.alias, p.alias_key, p.first_notice_on, p.renotice_on, p.card_expires_on, :status"
        " FROM (SELECT s.*, COALESCE(s.base_position, 0)"
        "   + ROW_NUMBER() OVER (PARTITION BY s.tracking_no ORDER BY s.line_no) AS position"
        "   FROM import_staging s WHERE s.duplicate = 0) p"
        " JOIN envelopes e ON e.tracking_no = p.tracking_no"
    )
    return conn.execute(text(sql), {"status": ItemStatus.IN_CUSTODY.value}).rowcount


#: A write of at least this share of what a table held at its last ANALYZE refreshes its
#: statistics (the share autovacuum's own analyze waits for by default), and never fewer rows
#: than :data:`ANALYZE_MIN_ROWS` unless it was never analyzed: a web upload of a few rows into
#: a large table need not pay for a 30,000-row sample.
ANALYZE_SHARE = 0.1
ANALYZE_MIN_ROWS = 1_000


def refresh_statistics(conn: Connection, envelopes: int, items: int) -> list[str]:
    """``ANALYZE`` the tables an import grew by a large share, in its transaction (PostgreSQL).

    The planner reads ``pg_statistic``: planned from the statistics of an empty table, or of
    one a tenth as large, the search page read every match of a kana prefix and sorted it
    instead of reading 50 in index order (issue 18: 2.1 pages a second at 10,000,000 items).
    Autovacuum would analyze later, if it runs at all; the counter needs the plan at once.
    ANALYZE counts the transaction's own new rows, and its statistics commit or roll back with
    them. The app role may not ANALYZE (it owns no table): ``tracker_analyze`` (migration
    0018) does it as the owner. SQLite plans from its indexes alone (no ``sqlite_stat1`` is
    kept): nothing to do there. Returns the tables analyzed.
    """
    if conn.dialect.name != "postgresql":
        return []
    analyzed = []
    for table, written in (("envelopes", envelopes), ("items", items)):
        if not written:
            continue
        # reltuples: the row count at the last ANALYZE (-1 never, 0 empty)
        before = conn.execute(
            text("SELECT reltuples FROM pg_class WHERE oid = CAST(:t AS regclass)"), {"t": table}
        ).scalar_one()
        if before <= 0 or written >= max(ANALYZE_MIN_ROWS, ANALYZE_SHARE * before):
            conn.execute(text("SELECT tracker_analyze(:t)"), {"t": table})
            analyzed.append(table)
    return analyzed
