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

This module runs those phases in order: :mod:`.reading` reads the file and checks it row by row
(step 1), :mod:`.staging` loads the good rows into the staging table and runs the set-based
checks (step 2), :mod:`.writing` inserts (step 3).
"""

from __future__ import annotations

import logging
import os
import time
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from tracker import metrics
from tracker.db import SQLITE_CACHE_KIB, begin_writing
from tracker.domain.codes import AuditAction
from tracker.models import Location
from tracker.services import audit
from tracker.services.importer import remailed, staging, writing
from tracker.services.importer.reading import (
    COLUMNS,
    ENCODINGS,
    ImportFileError,
    ImportReport,
    LocationLookup,
    RowProblem,
    detect_encoding,
    file_sha256,
    iter_rows,
)
from tracker.services.importer.staging import BATCH_SIZE

log = logging.getLogger(__name__)

#: The phases an observer is told about (a job's progress bar, issue 17): reading and checking
#: rows one by one into staging, the checks that span rows, the inserts.
PHASE_READING = "reading"
PHASE_CHECKING = "checking"
PHASE_WRITING = "writing"
#: ``observe(phase, report, staged_rows)``: called at each phase and after each staging batch
#: (every :data:`BATCH_SIZE` rows), so watching costs nothing per row. From the writing phase
#: on, SQLite's write lock is held by the import: an observer must not write elsewhere then.
Observer = Callable[[str, "ImportReport", int], None]

SQLITE_IMPORT_CACHE_KIB = 64 * 1024


def location_lookup(session: Session) -> LocationLookup:
    """Resolve a location by name or code (any width, any case); empty → the default."""
    by_key: dict[str, int] = {}
    default_id: int | None = None
    for location in session.scalars(select(Location).where(Location.active.is_(True))):
        by_key[_location_key(location.name)] = location.id
        by_key[_location_key(location.code)] = location.id
        if location.is_default:
            default_id = location.id
    return Locations(by_key, default_id)


class Locations:
    """The active locations by name and code: a plain object, so that the workers that check
    rows (``reading.iter_rows(processes=N)``) can be sent a copy."""

    def __init__(self, by_key: dict[str, int], default_id: int | None) -> None:
        self.by_key, self.default_id = by_key, default_id
        # Every row names its location; a file holds a handful of spellings, each resolved once.
        self.seen: dict[str, int | None] = {}

    def __call__(self, value: str) -> int | None:
        try:
            return self.seen[value]
        except KeyError:
            found = self.default_id if not value.strip() else self.by_key.get(_location_key(value))
            if len(self.seen) < 10_000:
                self.seen[value] = found
            return found


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
    observe: Observer | None = None,
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
        return _counted(
            _run(session, conn, path, report, actor, today, now, dry_run, progress, observe)
        )
    # SQLite's page cache is small; a million-row import into indexed tables thrashes it. A
    # larger cap for this import only (the connection goes back to a pool) is still bounded.
    conn.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_IMPORT_CACHE_KIB}")
    try:
        return _counted(
            _run(session, conn, path, report, actor, today, now, dry_run, progress, observe)
        )
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")


#: Files from this size on have their rows checked in several processes: below it, starting
#: them costs more than they save (~20,000 rows of SPEC §6.4 columns).
PARALLEL_MIN_BYTES = 4_000_000
#: At most this many checking processes, whatever the CPUs (this process stages their rows).
MAX_CHECK_PROCESSES = 8


def check_processes(path: Path) -> int:
    """How many processes check the rows of ``path``: the CPUs this process may use (at most
    :data:`MAX_CHECK_PROCESSES`) for a large file, one otherwise."""
    if path.stat().st_size < PARALLEL_MIN_BYTES:
        return 1
    return max(1, min(len(os.sched_getaffinity(0)), MAX_CHECK_PROCESSES))


def _counted(report: ImportReport) -> ImportReport:
    """Count the finished import for ``/metrics`` (issue 17)."""
    outcome = "committed" if report.committed else "refused" if report.error_count else "dry_run"
    metrics.imports_total.labels(outcome=outcome).inc()
    return report


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
    observe: Observer | None,
) -> ImportReport:
    staging.create(conn)
    locate = location_lookup(session)
    staged_count = 0

    def staged(count: int) -> None:
        nonlocal staged_count
        staged_count = count
        if progress:
            progress(count)
        if observe:
            observe(PHASE_READING, report, count)

    if observe:
        observe(PHASE_READING, report, 0)
    with (
        _phase("validate+stage"),
        path.open(encoding=report.encoding, errors="strict", newline="") as stream,
    ):
        rows = iter_rows(
            stream, today=today, locate=locate, report=report, processes=check_processes(path)
        )
        staging.load(conn, rows, staged)
    if observe:
        # Before SQLite's write lock is taken below: an observer writing its progress from
        # another connection must not wait for it.
        observe(PHASE_CHECKING, report, staged_count)
    if not dry_run:
        # SQLite: validation and staging (the long part) ran without the write lock, so
        # readers and the counter were never kept waiting; from here on, the checks against
        # stored rows and the inserts hold it, and see every envelope committed before.
        begin_writing(session)
    with _phase("match existing"):
        staging.match_existing(conn, report)
        returns = remailed.match(conn, report)  # re-mailed cards coming back (issue 13)
    with _phase("index staging"):
        staging.add_indexes(conn)
    with _phase("cross-row checks"):
        staging.cross_row_checks(conn, report)
    if report.error_count:
        return report
    report.envelopes = staging.count_new_envelopes(conn)
    report.items = staging.count_new_items(conn)
    if dry_run:
        return report
    if observe:
        observe(PHASE_WRITING, report, staged_count)
    with _phase("insert envelopes"):
        inserted_envelopes = writing.insert_envelopes(conn, actor, now)
    with _phase("insert items"):
        inserted_items = writing.insert_items(conn)
    if (inserted_envelopes, inserted_items) != (report.envelopes, report.items):
        raise RuntimeError(  # the checks above make this impossible; never commit half of it
            f"import inserted {inserted_envelopes}/{inserted_items},"
            f" expected {report.envelopes}/{report.items}"
        )
    staging.drop(conn)
    with _phase("statistics"):
        writing.refresh_statistics(conn, inserted_envelopes, inserted_items)
    remailed.record(session, returns, actor=actor, now=now)
    audit.record(
        session,
        actor=actor,
        action=AuditAction.IMPORT_COMMIT,
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
    """One audit event saying an import was refused, and why (no row data)."""
    details: dict[str, Any] = {"reason": reason}
    if report is not None:
        details.update(_audit_details(report))
    audit.record(
        session,
        actor=actor,
        action=AuditAction.IMPORT_REFUSED,
        object_type="import",
        object_id=report.sha256[:16] if report else None,
        outcome="refused",
        details=details,
    )


@dataclass(frozen=True)
class Settled:
    """An import as its caller reports it: the report, or the reason the file was refused."""

    report: ImportReport | None
    refusal: str | None = None

    @property
    def ok(self) -> bool:
        return self.report is not None and self.report.ok


def import_file(
    session: Session,
    path: Path,
    *,
    actor: str,
    today: date,
    now: Any,
    encoding: str = "auto",
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
    observe: Observer | None = None,
) -> Settled:
    """Run an import and settle it, in the caller's unit of work (commit once when it returns).

    A refused file or a file with bad rows has written nothing to the stored tables (only the
    staging table, which is discarded), so its refusal event is simply added; a dry run
    writes nothing else; a good file is written whole. The web upload and ``tracker import``
    both come through here.
    """
    try:
        report = run_import(
            session,
            path,
            actor=actor,
            today=today,
            now=now,
            encoding=encoding,
            dry_run=dry_run,
            progress=progress,
            observe=observe,
        )
    except ImportFileError as refusal:
        record_refusal(session, actor=actor, report=None, reason=str(refusal))
        return Settled(None, str(refusal))
    if not report.ok:
        record_refusal(session, actor=actor, report=report, reason="invalid rows")
    return Settled(report)


__all__ = [
    "BATCH_SIZE",
    "COLUMNS",
    "ENCODINGS",
    "ImportFileError",
    "ImportReport",
    "Observer",
    "RowProblem",
    "Settled",
    "detect_encoding",
    "import_file",
    "iter_rows",
    "location_lookup",
    "record_refusal",
    "run_import",
]
