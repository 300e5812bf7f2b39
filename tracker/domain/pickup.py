"""Pickup slots (受取予約枠, issue 15): a day's slots from a pattern, and the seed's pattern.

A pattern is what an office announces: "9:00–12:00 in 30-minute slots, 15 people each, 10 in
the last one; lunch 12:00–13:00; 13:00–16:00 the same". It is written as ranges, each cut into
slots of N minutes with one capacity; breaks inside a range are left out. Slot times are JST
wall-clock times. Pure: no database, no clock.

Decisions:
- A range whose length is not a multiple of the slot length is refused (a short last slot
  would be a surprise on the phone), as is a break that does not fall on slot boundaries.
- Slots never overlap and never cross midnight; a day has at most :data:`MAX_SLOTS_PER_DAY`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from itertools import pairwise

from tracker.domain.errors import InputError

MAX_SLOTS_PER_DAY = 96
MAX_CAPACITY = 999
SLOT_MINUTES = range(5, 481)


class PatternError(InputError):
    """A pattern that cannot make slots; the message says which part and why."""


@dataclass(frozen=True, order=True)
class SlotSpec:
    """One slot: start and end (JST wall-clock) and its capacity."""

    starts_at: time
    ends_at: time
    capacity: int


@dataclass(frozen=True)
class Range:
    """A span of the day cut into slots: ``start``–``end`` in ``minutes``-long slots holding
    ``capacity`` each, minus ``breaks`` (start, end) inside it."""

    start: time
    end: time
    minutes: int
    capacity: int
    breaks: tuple[tuple[time, time], ...] = ()


def _at(moment: time) -> datetime:
    return datetime.combine(datetime(2000, 1, 1).date(), moment)


def hm(moment: time) -> str:
    """``9:00`` style, as offices write times."""
    return f"{moment.hour}:{moment.minute:02d}"


def cut(span: Range) -> list[SlotSpec]:
    """The slots of one range, or :class:`PatternError`."""
    where = f"{hm(span.start)}–{hm(span.end)}"
    if span.minutes not in SLOT_MINUTES:
        raise PatternError(
            f"{where}: 1枠の長さは{SLOT_MINUTES.start}〜{SLOT_MINUTES.stop - 1}分で指定してください"
        )
    if not 0 <= span.capacity <= MAX_CAPACITY:
        raise PatternError(f"{where}: 定員は0〜{MAX_CAPACITY}人で指定してください")
    if span.end <= span.start:
        raise PatternError(f"{where}: 終了時刻が開始時刻より前です")
    length = (_at(span.end) - _at(span.start)) // timedelta(minutes=1)
    if length % span.minutes:
        raise PatternError(f"{where}: {length}分は{span.minutes}分の枠で割り切れません")
    step = timedelta(minutes=span.minutes)
    for first, last in span.breaks:
        if not (span.start <= first < last <= span.end):
            raise PatternError(
                f"{where}: 休憩 {hm(first)}–{hm(last)} が時間帯の外か、終了が開始より前です"
            )
        for edge in (first, last):
            if ((_at(edge) - _at(span.start)) // timedelta(minutes=1)) % span.minutes:
                raise PatternError(
                    f"{where}: 休憩 {hm(first)}–{hm(last)} が"
                    f"{span.minutes}分の枠の区切りに合いません"
                )
    slots = []
    moment = _at(span.start)
    while moment < _at(span.end):
        start, end = moment.time(), (moment + step).time()
        if not any(first <= start < last for first, last in span.breaks):
            slots.append(SlotSpec(start, end, span.capacity))
        moment += step
    return slots


def day_slots(ranges: Iterable[Range]) -> list[SlotSpec]:
    """All slots of a day from its ranges, in time order; overlaps are refused."""
    slots = sorted(slot for span in ranges for slot in cut(span))
    check_slots(slots)
    return slots


def check_slots(slots: Sequence[SlotSpec]) -> None:
    """Refuse overlapping slots, empty days and days with too many slots."""
    if not slots:
        raise PatternError("予約枠がありません")
    if len(slots) > MAX_SLOTS_PER_DAY:
        raise PatternError(f"1日の予約枠は{MAX_SLOTS_PER_DAY}枠までです（{len(slots)}枠）")
    ordered = sorted(slots)
    for before, after in pairwise(ordered):
        if after.starts_at < before.ends_at:
            raise PatternError(
                f"予約枠 {hm(before.starts_at)}–{hm(before.ends_at)} と "
                f"{hm(after.starts_at)}–{hm(after.ends_at)} が重なっています"
            )


#: The seed's weekend pattern (熊本市マイナンバーセンター, weekend pickups by phone
#: reservation): 9:00–12:00 in 30-minute slots of 15, 10 in the last; lunch 12:00–13:00;
#: 13:00–16:00 the same.
SEED_WEEKEND_RANGES: tuple[Range, ...] = (
    Range(time(9, 0), time(11, 30), 30, 15),
    Range(time(11, 30), time(12, 0), 30, 10),
    Range(time(13, 0), time(15, 30), 30, 15),
    Range(time(15, 30), time(16, 0), 30, 10),
)


def seed_weekend_slots() -> list[SlotSpec]:
    """The 12 slots of the seed's weekend pattern (170 places)."""
    return day_slots(SEED_WEEKEND_RANGES)
