"""Control numbers as a scanner or a person types them (issue 12: item numbers open the item)."""

from __future__ import annotations

import pytest

from tracker.domain.control import parse_control_no


@pytest.mark.parametrize(
    ("typed", "parsed"),
    [
        ("E000000490", (490, None)),
        (" e000000490 ", (490, None)),
        ("Ｅ００００００４９０", (490, None)),
        ("E000000490-2", (490, 2)),
        ("ｅ000000490-2", (490, 2)),
        ("Ｅ００００００４９０－２", (490, 2)),
        ("E000000490ー2", (490, 2)),  # a kana-mode IME's hyphen
        ("E000000490‐12", (490, 12)),
    ],
)
def test_envelope_and_item_numbers_in_any_width_and_case(
    typed: str, parsed: tuple[int, int | None]
) -> None:
    assert parse_control_no(typed) == parsed


@pytest.mark.parametrize("typed", ["", "E49", "E000000490-", "E000000490-2-3", "123456789015"])
def test_other_text_is_not_a_control_number(typed: str) -> None:
    assert parse_control_no(typed) is None
