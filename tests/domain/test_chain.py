"""The audit chain's hashed form (SPEC §8) must never change: existing chains must verify."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from tracker.domain.chain import (
    GENESIS_HASH,
    ChainEvent,
    canonical_json,
    format_timestamp,
    is_canonical,
    verify,
)

JST = timezone(timedelta(hours=9))

#: Hashes computed by the chain code as first released (json.dumps of the whole event).
PINNED = [
    (
        ChainEvent(
            1,
            datetime(2026, 11, 27, 9, 30, tzinfo=UTC),
            "clerk1",
            "item.view",
            "item",
            "42",
            "ok",
            canonical_json({"n": 1, "slot": "髙橋 𠮷田"}),
            GENESIS_HASH,
        ),
        "5f9e087c063ce0e5bb247d6263c055b811ca068cd13dc4ff078d45fedd7c2802",
    ),
    (
        ChainEvent(
            7,
            datetime(2026, 3, 31, 15, 30, 0, 123456, tzinfo=JST),
            'cli:o"brien\\',
            "auth.login",
            None,
            None,
            "refused",
            canonical_json({"z": [1, None, True, {"b": "\u2028\x00\t", "a": "é"}], "a": -5}),
            "ab" * 32,
        ),
        "e07ad8bcba943fe7f12a57964d73c5729965aa77deecdaa22b189d862984ce35",
    ),
]


@pytest.mark.parametrize(("event", "expected"), PINNED)
def test_the_hash_of_an_event_is_what_it_always_was(event: ChainEvent, expected: str) -> None:
    assert event.compute_hash() == expected


def reference_body(event: ChainEvent) -> str:
    """The hashed text as SPEC §8 defines it: the canonical JSON of all fields."""
    return json.dumps(
        {
            "seq": event.seq,
            "occurred_at": event.occurred_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "actor": event.actor,
            "action": event.action,
            "object_type": event.object_type,
            "object_id": event.object_id,
            "outcome": event.outcome,
            "details": json.loads(event.details),
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )


@pytest.mark.parametrize(
    "text",
    ['a"b\\c', "改行\n\r\t\x01\x7f", "\u2028\u2029", "𠮷\ud800", "", "null", "{}"],
)
def test_any_text_is_hashed_as_the_canonical_json_of_the_event(text: str) -> None:
    event = ChainEvent(
        123456789,
        datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=JST),
        text,
        text,
        text,
        text,
        text,
        canonical_json({text: [text, 0, -(10**30), False, None], "k": {"": {}}}),
        "f" * 64,
    )
    assert event.body() == reference_body(event)


def test_a_timestamp_is_utc_with_microseconds() -> None:
    assert format_timestamp(datetime(2020, 4, 1, 0, 30, tzinfo=JST)) == (
        "2020-03-31T15:30:00.000000Z"
    )
    with pytest.raises(ValueError, match="naive"):
        format_timestamp(datetime(2020, 4, 1))


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ('{"a":1,"b":[true,null]}', True),
        ('{"b":1,"a":2}', False),  # keys out of order
        ('{"n":99,"n":1}', False),  # parses like {"n":1}
        ('{"a": 1}', False),  # a space
        ('{"a":"\\u9ad9"}', False),  # escaped where UTF-8 is kept
        ('{"a":1.5}', False),  # floats are refused
        ('{"a":NaN}', False),
        ('{"a":1e3}', False),
        ("{", False),
    ],
)
def test_only_canonical_details_text_is_accepted(text: str, canonical: bool) -> None:
    assert is_canonical(text) is canonical


def chain(count: int) -> list[tuple[ChainEvent, str]]:
    events, prev = [], GENESIS_HASH
    for seq in range(1, count + 1):
        event = ChainEvent(
            seq,
            datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=seq),
            "clerk1",
            "item.view",
            "item",
            str(seq),
            "ok",
            canonical_json({"n": seq}),
            prev,
        )
        prev = event.compute_hash()
        events.append((event, prev))
    return events


def test_a_non_canonical_detail_text_breaks_the_chain_even_with_a_matching_hash() -> None:
    events = chain(3)
    smuggled = ChainEvent(**{**vars(events[1][0]), "details": '{"n":99,"n":2}'})
    digest = hashlib.sha256((smuggled.prev_hash + reference_body(smuggled)).encode()).hexdigest()
    assert digest == events[1][1]  # the reference hash cannot tell them apart
    result = verify([events[0], (smuggled, digest), events[2]])
    assert not result.ok and result.broken_seq == 2 and result.checked == 1
    assert verify(events).ok
