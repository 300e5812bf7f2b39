"""``tracker audit-verify`` in several processes (issue 18): each walks a ``seq`` range and the
walks are joined. Whatever was done to the stored rows, the joined answer must be the one
walk's answer, to the event and the message."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.domain.test_chain import chain
from tracker.domain.chain import (
    Checkpoint,
    join_segments,
    verify_rows,
    verify_segment,
)

Row = tuple[Any, ...]


def stored_rows(count: int) -> list[Row]:
    return [
        (e.seq, e.occurred_at, e.actor, e.action, e.object_type, e.object_id, e.outcome,
         e.details, e.prev_hash, stored)
        for e, stored in chain(count)
    ]  # fmt: skip


def tamper(rows: list[Row], how: str, at: int, other: int) -> list[Row]:
    """What someone with write access to the table could do to it; rows stay in ``seq``
    order, as the database returns them."""
    rows = list(rows)
    if not rows:
        return rows
    at, other = at % len(rows), other % len(rows)
    if how == "delete":
        del rows[at]
    elif how == "delete-run":
        del rows[min(at, other) : max(at, other) + 1]
    elif how == "edit":
        rows[at] = (*rows[at][:2], "someone else", *rows[at][3:])
    elif how == "relink":
        rows[at] = (*rows[at][:8], "f" * 64, rows[at][9])
    elif how == "swap":  # two events' contents exchanged, each keeping its place in seq
        first, second = rows[at], rows[other]
        rows[at], rows[other] = (first[0], *second[1:]), (second[0], *first[1:])
    elif how == "rehash":  # an edit whose own hash was recomputed, but not the next link
        rows[at] = (*rows[at][:9], "e" * 64)
    return rows


def segmented(rows: list[Row], bounds: list[int], checkpoint: Checkpoint | None) -> Any:
    """Walk each ``seq`` range [b_i, b_i+1) on its own, as the workers do, and join."""
    edges = [1, *sorted(bounds), 10**9]
    parts = [
        verify_segment([r for r in rows if low <= r[0] < high], checkpoint)
        for low, high in itertools.pairwise(edges)
    ]
    return join_segments(parts, checkpoint)


@settings(max_examples=300, deadline=None)
@given(
    count=st.integers(0, 25),
    how=st.sampled_from(["none", "delete", "delete-run", "edit", "relink", "swap", "rehash"]),
    at=st.integers(0, 100),
    other=st.integers(0, 100),
    bounds=st.lists(st.integers(1, 30), max_size=5),
    head=st.one_of(st.none(), st.integers(1, 30)),
)
def test_joined_segments_name_the_same_break_as_one_walk(
    count: int, how: str, at: int, other: int, bounds: list[int], head: int | None
) -> None:
    intact = stored_rows(count)
    checkpoint = None
    if head is not None:  # a head recorded earlier, e.g. on a certificate
        recorded = intact[head - 1][9] if head <= count else "a" * 64
        checkpoint = Checkpoint(head, recorded)
    rows = intact if how == "none" else tamper(intact, how, at, other)

    assert segmented(rows, bounds, checkpoint) == verify_rows(rows, checkpoint)


def test_an_intact_chain_in_three_ranges_is_intact_with_every_event_counted() -> None:
    rows = stored_rows(20)
    joined = segmented(rows, [8, 15], None)

    assert joined.ok and joined.checked == 20 and joined.head_hash == rows[-1][9]


def test_a_range_left_empty_by_deletion_names_the_first_missing_event() -> None:
    rows = [r for r in stored_rows(20) if not 8 <= r[0] < 15]
    joined = segmented(rows, [8, 15], None)

    assert not joined.ok and joined.broken_seq == 15
    assert joined.problem == "event 8 is missing (next event found is 15)"
    assert joined.checked == 7
