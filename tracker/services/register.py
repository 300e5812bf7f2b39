"""Resident-register results (住基照合, SPEC §2, §7.1): record one, import a file, list 現住.

One current result per item (:class:`~tracker.models.RegisterResult`); recording is an upsert
that says what it did: ``new`` (no result yet), ``changed`` (a different outcome, event date
or note: the row is replaced, the audit log keeps the history) or ``unchanged`` (the same
finding again: the row is left as it is, so re-importing a file changes nothing).

- On screen: :func:`record` writes one ``register.record`` event per entry (control number,
  outcome code, source; never the person's name or dates).
- From a file (``tracker register-check`` and the upload page): :func:`check_file` reads it
  with the bulk import's encoding rules (:mod:`tracker.services.importer.reading`: BOM → UTF-8
  → CP932, overridable), checks every row, names every bad one (line, the file's own column
  header, value, reason), and writes only when no row is bad: all or nothing, with one
  ``register.import`` event (the file's SHA-256 and counts). A refused file gets one
  ``register.import_refused`` event. A register file covers one batch of checks (hundreds or
  thousands of rows), so the rows checked are kept in memory, one small record each.
- :func:`investigation_list`: items in custody whose addressee is still registered at the
  address (現住), the candidates for a 実態調査 and 職権消除.

Writers take ``transitions.serialise(session, "register-results")`` before reading the stored
result they compare with, so two officers recording the same item one after the other both
see what the first wrote (PostgreSQL advisory lock; SQLite's write lock).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.domain import register as rules
from tracker.domain.codes import (
    AuditAction,
    ItemStatus,
    ObjectType,
    RegisterOutcome,
    RegisterSource,
)
from tracker.domain.control import envelope_control_no, item_control_no, parse_control_no
from tracker.domain.errors import InputError
from tracker.domain.kana import search_key
from tracker.domain.mynumber import mask_individual_numbers
from tracker.domain.records import clean_text
from tracker.domain.register import RegisterEntry
from tracker.domain.tracking import normalize_tracking_no
from tracker.domain.wareki import parse_date
from tracker.models import Envelope, Item, RegisterResult
from tracker.services import audit, protection, transitions
from tracker.services.importer import PHASE_CHECKING, PHASE_READING, PHASE_WRITING
from tracker.services.importer.reading import (
    ENCODINGS,
    REPORT_LIMIT,
    ImportFileError,
    RowProblem,
    detect_encoding,
    file_sha256,
    header_and_records,
    header_key,
    shape_problem,
)

#: Name of the lock every writer of register results takes (see the module docstring).
LOCK = "register-results"
#: Stored results are read this many items at a time (bound parameters stay well below limits).
CHUNK = 500


class Change(StrEnum):
    """What recording a result did."""

    NEW = "new"
    CHANGED = "changed"
    UNCHANGED = "unchanged"


# --- one result -----------------------------------------------------------------------------


def current(session: Session, item_id: int) -> RegisterResult | None:
    """The item's current result, if it was ever checked."""
    return session.get(RegisterResult, item_id)


def results_for(session: Session, item_ids: Iterable[int]) -> dict[int, RegisterResult]:
    """Item id → current result, for a page of items (one query per :data:`CHUNK`)."""
    wanted = sorted(set(item_ids))
    found: dict[int, RegisterResult] = {}
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        for result in session.scalars(
            select(RegisterResult).where(RegisterResult.item_id.in_(chunk))
        ):
            found[result.item_id] = result
    return found


def _upsert(
    session: Session,
    stored: RegisterResult | None,
    item_id: int,
    entry: RegisterEntry,
    *,
    checked_on: date,
    actor: str,
    source: RegisterSource,
    now: datetime,
) -> Change:
    if stored is None:
        session.add(
            RegisterResult(
                item_id=item_id,
                outcome=entry.outcome.value,
                event_on=entry.event_on,
                checked_on=checked_on,
                checked_by=actor,
                source=source.value,
                note=entry.note,
                recorded_at=now,
            )
        )
        return Change.NEW
    if entry.same_as(stored.outcome, stored.event_on, stored.note):
        return Change.UNCHANGED
    stored.outcome = entry.outcome.value
    stored.event_on = entry.event_on
    stored.note = entry.note
    stored.checked_on = checked_on
    stored.checked_by = actor
    stored.source = source.value
    stored.recorded_at = now
    return Change.CHANGED


def record(
    session: Session,
    *,
    item: Item,
    entry: RegisterEntry,
    checked_on: date,
    actor: str,
    now: datetime,
    source: RegisterSource = RegisterSource.COUNTER,
) -> Change:
    """Record one result entered on screen, with its ``register.record`` event. Flushes."""
    transitions.serialise(session, LOCK)
    change = _upsert(
        session,
        current(session, item.id),
        item.id,
        entry,
        checked_on=checked_on,
        actor=actor,
        source=source,
        now=now,
    )
    audit.record(
        session,
        actor=actor,
        action=AuditAction.REGISTER_RECORD,
        object_type=ObjectType.ITEM,
        object_id=item.id,
        details={
            "control_no": item.control_no,
            "register_outcome": entry.outcome.value,
            "register_source": source.value,
            "register_change": change.value,
        },
    )
    session.flush()
    return change


# --- a file -----------------------------------------------------------------------------------


@dataclass
class RegisterReport:
    """What a register file held and what importing it did (or would do)."""

    sha256: str = ""
    encoding: str = ""
    rows: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    error_count: int = 0
    errors: list[RowProblem] = field(default_factory=list)
    dry_run: bool = False
    committed: bool = False
    #: How the file itself heads each known column, so the report uses the file's words.
    column_labels: dict[str, str] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)
    #: The register import has no warnings; kept so the report prints like the return import's.
    warnings: list[RowProblem] = field(default_factory=list)
    warning_count: int = 0

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def label(self, name: str) -> str:
        return self.column_labels.get(name) or rules.JAPANESE_HEADERS[name]

    def add_problem(self, problem: RowProblem) -> None:
        self.error_count += 1
        if len(self.errors) < REPORT_LIMIT:
            self.errors.append(problem)

    def add_error(self, line: int, name: str, value: str | None, message: str) -> None:
        """A bad cell, named by the file's own header, its value quoted with individual
        numbers masked (SPEC §2)."""
        shown = mask_individual_numbers(clean_text(value))
        self.add_problem(RowProblem(line, self.label(name), shown, message))

    def counts_line(self) -> str:
        """SPEC §7.1: the one line of counts ``tracker register-check`` prints."""
        return f"rows={self.rows} new={self.new} changed={self.changed} unchanged={self.unchanged}"


@dataclass(frozen=True)
class _Row:
    line: int
    item_id: int
    entry: RegisterEntry


@dataclass(frozen=True)
class Settled:
    """An import as its caller reports it: the report, or why the file was refused."""

    report: RegisterReport | None
    refusal: str | None = None

    @property
    def ok(self) -> bool:
        return self.report is not None and self.report.ok


_ALIASES: dict[str, str] = {}
for _column in rules.COLUMNS:
    _ALIASES[header_key(_column.name)] = _column.name
    _ALIASES[header_key(_column.japanese)] = _column.name


def _read_header(cells: list[str], report: RegisterReport) -> dict[str, int]:
    index: dict[str, int] = {}
    for position, cell in enumerate(cells):
        name = _ALIASES.get(header_key(cell))
        if name is None:
            if cell.strip():
                report.ignored_columns.append(mask_individual_numbers(cell.strip()))
            continue
        if name in index:
            raise ImportFileError(
                f"見出し行に「{rules.JAPANESE_HEADERS[name]}（{name}）」の列が2つあります"
                f"（{index[name] + 1}列目と{position + 1}列目）"
            )
        index[name] = position
        report.column_labels[name] = cell.strip().lstrip("\ufeff")
    if "register_outcome" not in index:
        raise ImportFileError(
            "1行目の見出しに必須の列がありません: 異動区分（register_outcome）。"
            "見出しは日本語・英語どちらでも構いません"
        )
    if "control_no" not in index and not all(name in index for name in rules.PERSON_COLUMNS):
        raise ImportFileError(
            "1行目の見出しに、通知物を指定する列がありません: 管理番号（control_no）、または"
            "お問い合わせ番号（tracking_no）・氏名（name）・生年月日（birth_date）の3列が必要です"
        )
    return index


def _find_item(
    session: Session, raw: dict[str, str], line: int, report: RegisterReport
) -> int | None:
    """The item a row names, or None with the reason added to the report."""
    control_text = clean_text(raw.get("control_no"))
    if control_text:
        control = parse_control_no(control_text)
        position = control[1] if control is not None else None
        if control is None or position is None:
            report.add_error(
                line,
                "control_no",
                control_text,
                "通知物の管理番号（例: E000000123-2）として読み取れません",
            )
            return None
        envelope_id = control[0]
        # by the card's own number: a re-mailed card that came back sits in another envelope
        item_id = session.scalar(
            select(Item.id).where(
                Item.control_no == item_control_no(envelope_control_no(envelope_id), position)
            )
        )
        if item_id is None:
            report.add_error(
                line, "control_no", control_text, "この管理番号の通知物は登録されていません"
            )
        return item_id
    if not all(name in report.column_labels for name in rules.PERSON_COLUMNS):
        report.add_error(line, "control_no", "", "管理番号を入力してください")
        return None
    if not any(clean_text(raw.get(name)) for name in rules.PERSON_COLUMNS):
        report.add_error(
            line,
            "control_no",
            "",
            "管理番号、またはお問い合わせ番号・氏名・生年月日を入力してください",
        )
        return None
    try:
        digits = normalize_tracking_no(raw.get("tracking_no", ""))
    except InputError as error:
        report.add_error(line, "tracking_no", raw.get("tracking_no"), str(error))
        return None
    name_key = search_key(clean_text(raw.get("name")))
    if not name_key:
        report.add_error(line, "name", "", "氏名を入力してください")
        return None
    try:
        born = parse_date(clean_text(raw.get("birth_date")))
    except InputError as error:
        report.add_error(line, "birth_date", raw.get("birth_date"), str(error))
        return None
    found = list(
        session.scalars(
            select(Item.id)
            .join(Envelope, Envelope.id == Item.envelope_id)
            .where(
                Envelope.tracking_no == digits,
                Item.name_key == name_key,
                Item.birth_date == born,
            )
            .limit(2)
        )
    )
    if not found:
        report.add_error(
            line,
            "tracking_no",
            raw.get("tracking_no"),
            "このお問い合わせ番号・氏名・生年月日に一致する通知物はありません",
        )
        return None
    if len(found) > 1:
        report.add_error(
            line,
            "tracking_no",
            raw.get("tracking_no"),
            "このお問い合わせ番号・氏名・生年月日に一致する通知物が複数あります。"
            "管理番号で指定してください",
        )
        return None
    return found[0]


def _check_row(
    session: Session,
    cells: list[str],
    line: int,
    index: dict[str, int],
    width: int,
    today: date,
    report: RegisterReport,
) -> _Row | None:
    problem = shape_problem(cells, line, width)
    if problem is not None:
        report.add_problem(problem)
        return None
    raw = {name: cells[i] if i < len(cells) else "" for name, i in index.items()}
    errors_before = report.error_count
    item_id = _find_item(session, raw, line, report)
    outcome: RegisterOutcome | None = None
    try:
        outcome = rules.check_outcome(raw.get("register_outcome"))
    except InputError as error:
        report.add_error(line, "register_outcome", raw.get("register_outcome"), str(error))
    event_on: date | None = None
    if outcome is not None:
        try:
            event_on = rules.check_event_on(raw.get("register_event_on"), outcome, today)
        except InputError as error:
            column = "register_event_on"
            report.add_error(line, column, raw.get(column), str(error))
    note: str | None = None
    try:
        note = rules.check_note(raw.get("note"))
    except InputError as error:
        report.add_error(line, "note", raw.get("note"), str(error))
    if report.error_count > errors_before or item_id is None or outcome is None:
        return None
    return _Row(line, item_id, RegisterEntry(outcome, event_on, note))


#: ``observe(phase, rows_validated, rows_written)``: a background job's progress (issue 17),
#: told every :data:`OBSERVE_EVERY` rows and at each phase (importer's phase names). From the
#: checking phase on (before the lock is taken), SQLite's write lock is held: an observer must
#: not write elsewhere then.
RegisterObserver = Callable[[str, int, int], None]
OBSERVE_EVERY = 500


def _read_rows(
    session: Session,
    path: Path,
    today: date,
    report: RegisterReport,
    observe: RegisterObserver | None = None,
) -> list[_Row]:
    rows: list[_Row] = []
    first_line: dict[int, int] = {}
    with path.open(encoding=report.encoding, errors="strict", newline="") as stream:
        header, records = header_and_records(stream)
        index = _read_header(header, report)
        for line, cells in records:
            report.rows += 1
            if observe is not None and report.rows % OBSERVE_EVERY == 0:
                observe(PHASE_READING, report.rows, 0)
            row = _check_row(session, cells, line, index, len(header), today, report)
            if row is None:
                continue
            if row.item_id in first_line:
                name = "control_no" if "control_no" in index else "tracking_no"
                report.add_error(
                    line,
                    name,
                    cells[index[name]] if index[name] < len(cells) else "",
                    f"同じ通知物が{first_line[row.item_id]}行目にもあります",
                )
                continue
            first_line[row.item_id] = line
            rows.append(row)
    if report.rows == 0:
        raise ImportFileError(
            "データ行がありません。2行目から1行に1通知物ずつ記入したファイルを指定してください"
        )
    return rows


def run_check(
    session: Session,
    path: Path,
    *,
    actor: str,
    today: date,
    now: datetime,
    encoding: str = "auto",
    dry_run: bool = False,
    observe: RegisterObserver | None = None,
) -> RegisterReport:
    """Check the file and (unless ``dry_run`` or a row is bad) write it, all or nothing.

    Raises :class:`ImportFileError` when the file as a whole cannot be read. Results are
    checked on ``today`` (照合日) by ``actor``; an event date may not be after it.
    """
    if encoding not in ENCODINGS:
        raise ImportFileError(f"文字コード「{encoding}」は指定できません（auto, utf-8, cp932）")
    report = RegisterReport(sha256=file_sha256(path), dry_run=dry_run)
    report.encoding = detect_encoding(path) if encoding == "auto" else encoding
    rows = _read_rows(session, path, today, report, observe)
    if observe is not None:
        observe(PHASE_CHECKING, report.rows, 0)
    if not report.ok:
        return report
    if not dry_run:
        transitions.serialise(session, LOCK)
    stored = results_for(session, (row.item_id for row in rows))
    for written, row in enumerate(rows):
        if observe is not None and not dry_run and written % OBSERVE_EVERY == 0:
            observe(PHASE_WRITING, report.rows, written)
        before = stored.get(row.item_id)
        if before is None:
            report.new += 1
        elif row.entry.same_as(before.outcome, before.event_on, before.note):
            report.unchanged += 1
        else:
            report.changed += 1
        if not dry_run:
            _upsert(
                session,
                before,
                row.item_id,
                row.entry,
                checked_on=today,
                actor=actor,
                source=RegisterSource.FILE,
                now=now,
            )
    if dry_run:
        return report
    audit.record(
        session,
        actor=actor,
        action=AuditAction.REGISTER_IMPORT,
        object_type=ObjectType.REGISTER_IMPORT,
        object_id=report.sha256[:16],
        details=_audit_details(report),
    )
    session.flush()
    report.committed = True
    return report


def _audit_details(report: RegisterReport) -> dict[str, Any]:
    return {
        "sha256": report.sha256,
        "encoding": report.encoding,
        "rows": report.rows,
        "results_new": report.new,
        "results_changed": report.changed,
        "results_unchanged": report.unchanged,
        "errors": report.error_count,
        "dry_run": report.dry_run,
    }


def record_refusal(
    session: Session, *, actor: str, report: RegisterReport | None, reason: str
) -> None:
    """One ``register.import_refused`` event saying why (no row data)."""
    details: dict[str, Any] = {"reason": reason}
    if report is not None:
        details.update(_audit_details(report))
    audit.record(
        session,
        actor=actor,
        action=AuditAction.REGISTER_IMPORT_REFUSED,
        object_type=ObjectType.REGISTER_IMPORT,
        object_id=report.sha256[:16] if report else None,
        outcome="refused",
        details=details,
    )


def check_file(
    session: Session,
    path: Path,
    *,
    actor: str,
    today: date,
    now: datetime,
    encoding: str = "auto",
    dry_run: bool = False,
    observe: RegisterObserver | None = None,
) -> Settled:
    """Run :func:`run_check` and settle it in the caller's unit of work (commit once after).

    A refused file or a file with bad rows has written nothing but its refusal event.
    ``tracker register-check`` and the upload page both come through here.
    """
    try:
        report = run_check(
            session,
            path,
            actor=actor,
            today=today,
            now=now,
            encoding=encoding,
            dry_run=dry_run,
            observe=observe,
        )
    except ImportFileError as refusal:
        record_refusal(session, actor=actor, report=None, reason=str(refusal))
        return Settled(None, str(refusal))
    if not report.ok:
        record_refusal(session, actor=actor, report=report, reason="invalid rows")
    return Settled(report)


# --- 実態調査依頼 ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class InvestigationRow:
    """One item in custody whose addressee is still registered at the address (現住)."""

    item_id: int
    control_no: str
    name: str
    name_kana: str
    birth_date: date
    address: str
    household_code: str | None
    returned_on: date
    checked_on: date
    checked_by: str


def investigation_list(session: Session) -> Sequence[InvestigationRow]:
    """Items in custody whose current result is 現住, by envelope and position."""
    query = (
        select(
            Item.id,
            Item.control_no,
            Item.name,
            Item.name_kana,
            Item.birth_date,
            Envelope.address,
            Envelope.household_code,
            Envelope.returned_on,
            RegisterResult.checked_on,
            RegisterResult.checked_by,
            Item.envelope_id,
        )
        .join(RegisterResult, RegisterResult.item_id == Item.id)
        .join(Envelope, Envelope.id == Item.envelope_id)
        .where(
            Item.status == ItemStatus.IN_CUSTODY.value,
            RegisterResult.outcome == RegisterOutcome.RESIDENT.value,
        )
        .order_by(Item.envelope_id, Item.position)
    )
    rows = list(session.execute(query))
    # 支援措置 (issue 14): the household's address never reaches the list, CSV or PDF
    masked = protection.protected_envelope_ids(session, (row[10] for row in rows))
    return [
        InvestigationRow(
            item_id=row[0],
            control_no=row[1],
            name=row[2],
            name_kana=row[3],
            birth_date=row[4],
            address=protection.MASKED if row[10] in masked else row[5],
            household_code=row[6],
            returned_on=row[7],
            checked_on=row[8],
            checked_by=row[9],
        )
        for row in rows
    ]
