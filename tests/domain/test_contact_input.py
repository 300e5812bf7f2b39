"""What a person types for the contact log (issue 15): times of day, pasted control numbers."""

from __future__ import annotations

from datetime import time

import pytest

from tracker.domain.contacts import PastedLine, parse_time, pasted_control_numbers
from tracker.domain.errors import InputError


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("9:05", time(9, 5)),
        ("09:05", time(9, 5)),
        ("１７：３０", time(17, 30)),
        ("0930", time(9, 30)),
    ],
)
def test_times_as_typed(typed: str, expected: time) -> None:
    assert parse_time(typed) == expected


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "時刻を入力してください"),
        ("24:00", "ありえない時刻"),
        ("9時", "時:分"),
        ("930", "時:分"),
    ],
)
def test_bad_times_say_why(typed: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_time(typed)


def test_pasted_lines_keep_their_numbers_and_read_like_the_scan_box() -> None:
    text = "E000000123-1\n\n ｅ００００００１２３ー２ \nE000000123\n山田\n"
    assert pasted_control_numbers(text) == [
        PastedLine(1, "E000000123-1", "E000000123-1"),
        PastedLine(3, "ｅ００００００１２３ー２", "E000000123-2"),
        PastedLine(4, "E000000123", None),  # an envelope: the notice went to one person
        PastedLine(5, "山田", None),
    ]
