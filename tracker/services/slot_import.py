"""``tracker slots import`` and its upload page: a season's pickup days from a CSV file.

The file (UTF-8 with or without BOM, or CP932; detected like the other imports) has a header
``date,start,end,slot_minutes,capacity,breaks`` (or in Japanese
``日付,開始,終了,枠の長さ,定員,休憩``, in any order). Each row is one range of a day cut
into slots of ``slot_minutes`` holding ``capacity`` each, minus its ``breaks``
(``12:00-13:00``, several separated by ``;``). Several
rows may name the same date: they add ranges (that is how "10 in the last slot" is written).

All or nothing: every bad row is reported (line, the file's own column header, value, reason)
and nothing is written when one is bad. A date already open at the location, or before
``today``, is an error. A good import writes the days through :func:`pickup.open_day` and one
``pickup.slots_import`` event (counts and dates).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.domain.codes import AuditAction, ObjectType
from tracker.domain.errors import InputError
from tracker.domain.pickup import PatternError, Range, SlotSpec, check_slots, cut
from tracker.domain.records import clean_text
from tracker.domain.wareki import format_wareki, parse_date
from tracker.models import Location, PickupDay
from tracker.services import audit, pickup, transitions
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

#: The columns: English name → Japanese header. All are required except ``breaks``.
COLUMNS: dict[str, str] = {
    "date": "日付",
    "start": "開始",
    "end": "終了",
    "slot_minutes": "枠の長さ",
    "capacity": "定員",
    "breaks": "休憩",
}
REQUIRED = ("date", "start", "end", "slot_minutes", "capacity")
_ALIASES = {header_key(k): k for k in COLUMNS} | {header_key(v): k for k, v in COLUMNS.items()}
_TIME = re.compile(r"(\d{1,2}):(\d{2})")
_DASHES = str.maketrans({"–": "-", "—": "-", "〜": "-", "～": "-", "−": "-", "ー": "-"})


def parse_time(text: str) -> time:
    """``9:00`` or ``09:00`` (full-width digits too), 0:00–23:59."""
    normalised = unicodedata.normalize("NFKC", text).strip()
    match = _TIME.fullmatch(normalised)
    if match is None:
        raise InputError("時刻は 9:00 や 13:30 のように「時:分」で入力してください")
    hour, minute = int(match[1]), int(match[2])
    if hour > 23 or minute > 59:
        raise InputError("0:00〜23:59 の時刻を入力してください")
    return time(hour, minute)


def parse_breaks(text: str) -> tuple[tuple[time, time], ...]:
    """``12:00-13:00`` (several separated by ``;``); empty → none."""
    normalised = unicodedata.normalize("NFKC", text or "").translate(_DASHES).strip()
    found: list[tuple[time, time]] = []
    for part in filter(None, (p.strip() for p in normalised.replace("；", ";").split(";"))):
        first, dash, last = part.partition("-")
        if not dash:
            raise InputError(
                f"休憩「{part}」は 12:00-13:00 のように「開始-終了」で入力してください"
            )
        found.append((parse_time(first), parse_time(last)))
    return tuple(found)


def parse_count(text: str, what: str, low: int, high: int) -> int:
    normalised = unicodedata.normalize("NFKC", text or "").strip()
    if not normalised.isdigit():
        raise InputError(f"{what}は数字（{low}〜{high}）で入力してください")
    value = int(normalised)
    if not low <= value <= high:
        raise InputError(f"{what}は{low}〜{high}で入力してください")
    return value


@dataclass
class SlotImportReport:
    """What a slots file held and what importing it did (or would do)."""

    sha256: str = ""
    encoding: str = ""
    location: str = ""
    rows: int = 0
    days: int = 0
    slots: int = 0
    places: int = 0
    dates: list[date] = field(default_factory=list)
    error_count: int = 0
    errors: list[RowProblem] = field(default_factory=list)
    dry_run: bool = False
    committed: bool = False
    column_labels: dict[str, str] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)
    #: Printed like the other imports' reports, which have warnings.
    warnings: list[RowProblem] = field(default_factory=list)
    warning_count: int = 0

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def add_error(self, line: int, name: str, value: str | None, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < REPORT_LIMIT:
            label = self.column_labels.get(name, COLUMNS.get(name, name))
            self.errors.append(RowProblem(line, label, clean_text(value)[:60], message))

    def counts_line(self) -> str:
        return f"days={self.days} slots={self.slots} places={self.places}"


@dataclass(frozen=True)
class _Row:
    line: int
    day: date
    span: Range


def _read_header(cells: list[str], report: SlotImportReport) -> dict[str, int]:
    index: dict[str, int] = {}
    for position, cell in enumerate(cells):
        name = _ALIASES.get(header_key(cell))
        if name is None:
            if cell.strip():
                report.ignored_columns.append(cell.strip()[:40])
            continue
        if name in index:
            raise ImportFileError(
                f"見出し行に「{COLUMNS[name]}（{name}）」の列が2つあります"
                f"（{index[name] + 1}列目と{position + 1}列目）"
            )
        index[name] = position
        report.column_labels[name] = cell.strip().lstrip("\ufeff")
    missing = [f"{COLUMNS[n]}（{n}）" for n in REQUIRED if n not in index]
    if missing:
        raise ImportFileError(
            "1行目の見出しに必須の列がありません: "
            + "、".join(missing)
            + "。見出しは日本語・英語どちらでも構いません"
        )
    return index


def _check_row(
    raw: dict[str, str], line: int, today: date, report: SlotImportReport
) -> _Row | None:
    before = report.error_count
    day: date | None = None
    try:
        day = parse_date(clean_text(raw["date"]))
    except InputError as error:
        report.add_error(line, "date", raw["date"], str(error))
    if day is not None and day < today:
        report.add_error(
            line, "date", raw["date"], f"{format_wareki(day)}は過去の日付です（今日以降を指定）"
        )
    times: dict[str, time] = {}
    for name in ("start", "end"):
        try:
            times[name] = parse_time(raw[name])
        except InputError as error:
            report.add_error(line, name, raw[name], str(error))
    minutes = capacity = None
    try:
        minutes = parse_count(raw["slot_minutes"], "枠の長さ（分）", 5, 480)
    except InputError as error:
        report.add_error(line, "slot_minutes", raw["slot_minutes"], str(error))
    try:
        capacity = parse_count(raw["capacity"], "定員", 0, 999)
    except InputError as error:
        report.add_error(line, "capacity", raw["capacity"], str(error))
    breaks: tuple[tuple[time, time], ...] = ()
    try:
        breaks = parse_breaks(raw.get("breaks", ""))
    except InputError as error:
        report.add_error(line, "breaks", raw.get("breaks"), str(error))
    if report.error_count > before or day is None or minutes is None or capacity is None:
        return None
    span = Range(times["start"], times["end"], minutes, capacity, breaks)
    try:
        cut(span)
    except PatternError as error:
        message = str(error)
        column = (
            "breaks"
            if "休憩" in message
            else "slot_minutes"
            if "枠の長さ" in message or "割り切れません" in message
            else "end"
        )
        report.add_error(line, column, raw.get(column, ""), message)
        return None
    return _Row(line, day, span)


def _read_rows(path: Path, today: date, report: SlotImportReport) -> list[_Row]:
    rows: list[_Row] = []
    with path.open(encoding=report.encoding, errors="strict", newline="") as stream:
        header, records = header_and_records(stream)
        index = _read_header(header, report)
        for line, cells in records:
            report.rows += 1
            problem = shape_problem(cells, line, len(header))
            if problem is not None:
                report.error_count += 1
                report.errors.append(problem)
                continue
            raw = {n: cells[i] if i < len(cells) else "" for n, i in index.items()}
            row = _check_row(raw, line, today, report)
            if row is not None:
                rows.append(row)
    if report.rows == 0:
        raise ImportFileError("データ行がありません。2行目から1行に1つの時間帯を記入してください")
    return rows


def _location(session: Session, code: str | None) -> Location:
    if code is None:
        found = pickup.default_location(session)
        if found is None:
            raise ImportFileError("保管場所（受取場所）が登録されていません")
        return found
    location = session.scalar(select(Location).where(Location.code == code))
    if location is None or not location.active:
        raise ImportFileError(f"--location: 使用中の保管場所「{code}」が見つかりません")
    return location


def run_import(
    session: Session,
    path: Path,
    *,
    actor: str,
    today: date,
    now: datetime,
    location_code: str | None = None,
    encoding: str = "auto",
    dry_run: bool = False,
) -> SlotImportReport:
    """Check the file and (unless ``dry_run`` or a row is bad) open its days, all or nothing.

    Raises :class:`ImportFileError` when the file as a whole cannot be read or the location is
    unknown."""
    if encoding not in ENCODINGS:
        raise ImportFileError(f"文字コード「{encoding}」は指定できません（auto, utf-8, cp932）")
    location = _location(session, location_code)
    report = SlotImportReport(sha256=file_sha256(path), dry_run=dry_run, location=location.code)
    report.encoding = detect_encoding(path) if encoding == "auto" else encoding
    rows = _read_rows(path, today, report)
    by_day: dict[date, list[_Row]] = {}
    for row in rows:
        by_day.setdefault(row.day, []).append(row)
    if not dry_run:
        transitions.serialise(session, f"pickup-import:{location.id}")
    open_already = set(
        session.scalars(
            select(PickupDay.day).where(
                PickupDay.location_id == location.id, PickupDay.day.in_(list(by_day))
            )
        )
    )
    planned: dict[date, list[SlotSpec]] = {}
    for day, day_rows in sorted(by_day.items()):
        if day in open_already:
            for row in day_rows:
                report.add_error(
                    row.line,
                    "date",
                    day.isoformat(),
                    f"{format_wareki(day)}は{location.name}で既に受取予約日になっています",
                )
            continue
        slots = sorted(slot for row in day_rows for slot in cut(row.span))
        try:
            check_slots(slots)
        except PatternError as error:
            last = day_rows[-1]
            lines = "・".join(str(r.line) for r in day_rows)
            report.add_error(last.line, "date", day.isoformat(), f"{lines}行目の時間帯: {error}")
            continue
        planned[day] = slots
    report.days = len(planned)
    report.slots = sum(len(s) for s in planned.values())
    report.places = sum(slot.capacity for s in planned.values() for slot in s)
    report.dates = sorted(planned)
    if not report.ok or dry_run:
        return report
    for day, slots in sorted(planned.items()):
        pickup.open_day(
            session, actor=actor, day=day, location=location, slots=slots, note=None, now=now
        )
    audit.record(
        session,
        actor=actor,
        action=AuditAction.PICKUP_SLOTS_IMPORT,
        object_type=ObjectType.PICKUP_DAY.value,
        object_id=None,
        details={
            "sha256": report.sha256,
            "location": location.code,
            "pickup_days": report.days,
            "pickup_slots": report.slots,
            "places": report.places,
            "dates": [d.isoformat() for d in report.dates],
        },
    )
    session.flush()
    report.committed = True
    return report


@dataclass(frozen=True)
class Settled:
    report: SlotImportReport | None
    refusal: str | None = None


def import_file(
    session: Session,
    path: Path,
    *,
    actor: str,
    today: date,
    now: datetime,
    location_code: str | None = None,
    encoding: str = "auto",
    dry_run: bool = False,
) -> Settled:
    """:func:`run_import`, with a file refused as a whole turned into ``Settled.refusal``."""
    try:
        report = run_import(
            session,
            path,
            actor=actor,
            today=today,
            now=now,
            location_code=location_code,
            encoding=encoding,
            dry_run=dry_run,
        )
    except ImportFileError as refusal:
        return Settled(None, str(refusal))
    return Settled(report)
