"""Figures for the office dashboard (issue 6): read-only counts, no personal data in any of them.

Every figure comes from aggregate queries (``GROUP BY`` or conditional counts), so the page
stays fast with a million items: no item row is ever loaded into Python. Where a figure needs
calendar arithmetic that SQLite and PostgreSQL spell differently (fiscal years, JST weeks), the
query groups by something portable (location and return date; a ``CASE`` over precomputed week
boundaries) and Python folds the few thousand resulting rows. The items in custody are scanned
once (`custody_groups`) for location, fiscal year, the eligibility calendar and coverage gaps
together; the calendar's correction for held, extended and event-rule items starts from those
few rows rather than testing every item in custody.

Glossary: 保管中 in custody · 交付済 handed over · 廃棄済 destroyed · 返戻年度 fiscal year of
return (April–March) · 廃棄処理 disposal batch · 基準の空白 coverage gap.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from tracker.clock import JST
from tracker.domain.codes import BatchStatus, ItemStatus
from tracker.domain.retention import fiscal_year_of
from tracker.domain.wareki import era_of
from tracker.models import (
    DisposalBatch,
    DisposalBatchItem,
    Envelope,
    Handover,
    HandoverItem,
    Item,
    Location,
)
from tracker.services import retention

#: Batches not yet executed nor cancelled (SPEC §5).
OPEN_BATCH_STATUSES = BatchStatus.open()
WEEKS = 12
ELIGIBLE_MONTHS = 3


@dataclass(frozen=True)
class Totals:
    in_custody: int
    handed_over: int
    destroyed: int
    #: issue 13: out of custody on a re-mailing, delivered by one, confirmed lost
    remailed: int = 0
    redelivered: int = 0
    lost: int = 0


@dataclass(frozen=True)
class LocationCount:
    name: str
    count: int


@dataclass(frozen=True)
class FiscalYearCount:
    fiscal_year: int  #: named by its starting year: 2018 is 2018-04-01 … 2019-03-31
    label: str  #: 平成30年度
    count: int


@dataclass(frozen=True)
class WeekCount:
    monday: date  #: the JST Monday that starts the ISO week
    label: str  #: 2026-W48
    handovers: int
    items: int


@dataclass(frozen=True)
class MonthCount:
    month: date  #: the first day of the month
    count: int


@dataclass(frozen=True)
class OpenBatch:
    batch_id: int
    certificate_no: str
    status: str
    as_of: date
    items: int


@dataclass(frozen=True)
class Dashboard:
    today: date
    totals: Totals
    by_location: list[LocationCount]
    by_fiscal_year: list[FiscalYearCount]
    handovers_by_week: list[WeekCount]
    eligible_by_month: list[MonthCount]
    open_batches: list[OpenBatch]
    coverage_gaps: int

    @property
    def eligible_soon(self) -> int:
        """Items becoming eligible within the months shown (already eligible ones included)."""
        return sum(month.count for month in self.eligible_by_month)


def dashboard(session: Session, today: date) -> Dashboard:
    """All dashboard figures as of ``today`` (the JST date, SPEC §3)."""
    rules = [stored.rule for stored in retention.load_rules(session)]
    groups = custody_groups(session)
    custody: CustodyCounts = Counter()
    per_date: Counter[tuple[date, str]] = Counter()
    per_gap_group: Counter[tuple[date, str, retention.Missing]] = Counter()
    for (location_id, returned_on, kind, missing), count in groups.items():
        custody[(location_id, returned_on)] += count
        per_date[(returned_on, kind)] += count
        per_gap_group[(returned_on, kind, missing)] += count
    return Dashboard(
        today=today,
        totals=totals(session),
        by_location=in_custody_by_location(session, custody),
        by_fiscal_year=in_custody_by_fiscal_year(custody),
        handovers_by_week=handovers_by_week(session, today),
        eligible_by_month=[
            MonthCount(month, count)
            for month, count in retention.calendar(
                session, today, months=ELIGIBLE_MONTHS, rules=rules, per_date=per_date
            )
        ],
        open_batches=open_batches(session),
        coverage_gaps=retention.coverage_gap_count(session, rules, per_gap_group),
    )


def totals(session: Session) -> Totals:
    counts: dict[str, int] = {
        status: count
        for status, count in session.execute(
            select(Item.status, func.count()).group_by(Item.status)
        )
    }
    return Totals(
        in_custody=counts.get(ItemStatus.IN_CUSTODY.value, 0),
        handed_over=counts.get(ItemStatus.HANDED_OVER.value, 0),
        destroyed=counts.get(ItemStatus.DESTROYED.value, 0),
        remailed=counts.get(ItemStatus.REMAILED.value, 0),
        redelivered=counts.get(ItemStatus.REDELIVERED.value, 0),
        lost=counts.get(ItemStatus.LOST.value, 0),
    )


#: In-custody item counts per (location id, return date): a few thousand rows at most.
CustodyCounts = Counter[tuple[int, date]]


#: In-custody item counts per (location id, return date, kind, which item dates are missing).
CustodyGroups = dict[tuple[int, date, str, "retention.Missing"], int]


def custody_groups(session: Session) -> CustodyGroups:
    """One scan of the items in custody, grouped by location, return date, kind and which of
    the item dates rules count from are missing: a few thousand rows at most.

    Four figures (per location, per fiscal year, the calendar's counts per return date and
    kind, coverage gaps) are folded from it in Python, so the million-row join runs once per
    page instead of four times.
    """
    missing = [column.is_(None) for column in retention.ITEM_DATE_COLUMNS.values()]
    rows = session.execute(
        select(Envelope.location_id, Envelope.returned_on, Item.kind, *missing, func.count())
        .select_from(Item)
        .join(Envelope, Envelope.id == Item.envelope_id)
        .where(Item.status == ItemStatus.IN_CUSTODY.value)
        .group_by(Envelope.location_id, Envelope.returned_on, Item.kind, *missing)
    )
    groups: CustodyGroups = {}
    for location_id, returned_on, kind, *rest in rows:
        key = (location_id, returned_on, kind, tuple(bool(gone) for gone in rest[:-1]))
        groups[key] = groups.get(key, 0) + int(rest[-1])
    return groups


def in_custody_by_location(session: Session, custody: CustodyCounts) -> list[LocationCount]:
    """Every active location (also when empty) and any inactive one that still holds items."""
    per_location: Counter[int] = Counter()
    for (location_id, _returned_on), count in custody.items():
        per_location[location_id] += count
    locations = session.execute(
        select(Location.id, Location.name, Location.active).order_by(
            Location.sort_order, Location.id
        )
    )
    return [
        LocationCount(name, per_location[location_id])
        for location_id, name, active in locations
        if active or per_location[location_id]
    ]


def in_custody_by_fiscal_year(custody: CustodyCounts) -> list[FiscalYearCount]:
    """Return dates folded into 年度 (April–March) here: portable, and a few thousand rows."""
    years: Counter[int] = Counter()
    for (_location_id, returned_on), count in custody.items():
        years[fiscal_year_of(returned_on)] += count
    return [FiscalYearCount(year, fiscal_year_label(year), years[year]) for year in sorted(years)]


def fiscal_year_label(year: int) -> str:
    """``平成30年度`` for 2018; 2019 is ``令和元年度`` (the year the era changed in May).

    A fiscal year is named in the era in force at its end, unless that era began after the
    fiscal year did (1988 is 昭和63年度, not 平成0年度).
    """
    era = era_of(date(year + 1, 3, 31))
    if year < era.first_day.year:
        era = era_of(date(year, 4, 1))
    era_year = year - era.first_day.year + 1
    return f"{era.name}{'元' if era_year == 1 else era_year}年度"


def week_starts(today: date, weeks: int = WEEKS) -> list[date]:
    """The Mondays of the last ``weeks`` ISO weeks, oldest first, this week last."""
    this_monday = today - timedelta(days=today.weekday())
    return [this_monday - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]


def _jst_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=JST)


def handovers_by_week(session: Session, today: date, weeks: int = WEEKS) -> list[WeekCount]:
    """Handovers (and the items in them) per JST week: one range scan on ``handed_over_at``.

    The week of each row is a ``CASE`` over the weeks' starting instants (JST midnight on
    Monday, as UTC timestamps), which both databases evaluate the same way.
    """
    mondays = week_starts(today, weeks)
    starts = [_jst_midnight(monday) for monday in mondays]
    end = _jst_midnight(mondays[-1] + timedelta(weeks=1))
    week = case(
        *(
            (Handover.handed_over_at >= start, index)
            for index, start in reversed(list(enumerate(starts)))
        ),
        else_=-1,
    ).label("week")
    rows = session.execute(
        select(week, func.count(func.distinct(Handover.id)), func.count(HandoverItem.item_id))
        .select_from(Handover)
        .outerjoin(HandoverItem, HandoverItem.handover_id == Handover.id)
        .where(Handover.handed_over_at >= starts[0], Handover.handed_over_at < end)
        .group_by(week)
    )
    found = {int(index): (int(handovers), int(items)) for index, handovers, items in rows}
    result = []
    for index, monday in enumerate(mondays):
        handovers, items = found.get(index, (0, 0))
        iso = monday.isocalendar()
        result.append(WeekCount(monday, f"{iso.year}-W{iso.week:02d}", handovers, items))
    return result


def open_batches(session: Session) -> list[OpenBatch]:
    rows = session.execute(
        select(
            DisposalBatch.id,
            DisposalBatch.certificate_no,
            DisposalBatch.status,
            DisposalBatch.as_of,
            func.count(DisposalBatchItem.item_id),
        )
        .select_from(DisposalBatch)
        .outerjoin(DisposalBatchItem, DisposalBatchItem.batch_id == DisposalBatch.id)
        .where(DisposalBatch.status.in_(OPEN_BATCH_STATUSES))
        .group_by(
            DisposalBatch.id,
            DisposalBatch.certificate_no,
            DisposalBatch.status,
            DisposalBatch.as_of,
        )
        .order_by(DisposalBatch.id)
    )
    return [OpenBatch(*row) for row in rows]
