"""Pickup slots from a pattern (issue 15): the seed's weekend pattern, and refusals."""

from __future__ import annotations

from datetime import time

import pytest

from tracker.domain.pickup import (
    PatternError,
    Range,
    SlotSpec,
    check_slots,
    cut,
    day_slots,
    seed_weekend_slots,
)


def test_the_seed_weekend_pattern_has_twelve_slots_with_lunch_and_smaller_last_slots() -> None:
    slots = seed_weekend_slots()
    assert [(s.starts_at.strftime("%H:%M"), s.capacity) for s in slots] == [
        ("09:00", 15), ("09:30", 15), ("10:00", 15), ("10:30", 15), ("11:00", 15),
        ("11:30", 10),
        ("13:00", 15), ("13:30", 15), ("14:00", 15), ("14:30", 15), ("15:00", 15),
        ("15:30", 10),
    ]  # fmt: skip
    assert slots[5].ends_at == time(12, 0) and slots[-1].ends_at == time(16, 0)
    assert sum(s.capacity for s in slots) == 170


def test_a_break_inside_a_range_is_left_out() -> None:
    slots = cut(Range(time(9, 0), time(16, 0), 60, 5, breaks=((time(12, 0), time(13, 0)),)))
    assert [s.starts_at.hour for s in slots] == [9, 10, 11, 13, 14, 15]


@pytest.mark.parametrize(
    ("span", "message"),
    [
        (Range(time(9, 0), time(9, 45), 30, 5), "45分は30分の枠で割り切れません"),
        (Range(time(10, 0), time(9, 0), 30, 5), "終了時刻が開始時刻より前です"),
        (Range(time(9, 0), time(12, 0), 30, -1), "定員は0〜999人"),
        (Range(time(9, 0), time(12, 0), 2, 5), "1枠の長さは5〜480分"),
        (
            Range(time(9, 0), time(12, 0), 30, 5, breaks=((time(10, 15), time(11, 0)),)),
            "休憩 10:15–11:00 が30分の枠の区切りに合いません",
        ),
        (
            Range(time(9, 0), time(12, 0), 30, 5, breaks=((time(11, 0), time(13, 0)),)),
            "時間帯の外",
        ),
    ],
)
def test_a_pattern_that_cannot_make_slots_says_where_and_why(span: Range, message: str) -> None:
    with pytest.raises(PatternError, match=message):
        cut(span)


def test_overlapping_ranges_are_refused_by_name() -> None:
    with pytest.raises(PatternError, match="9:30–10:00 と 9:30–10:30 が重なっています"):
        day_slots([Range(time(9, 0), time(10, 0), 30, 5), Range(time(9, 30), time(10, 30), 60, 5)])


def test_an_empty_day_is_refused() -> None:
    with pytest.raises(PatternError, match="予約枠がありません"):
        check_slots([])
    check_slots([SlotSpec(time(9, 0), time(9, 30), 0)])  # a closed slot is still a slot
