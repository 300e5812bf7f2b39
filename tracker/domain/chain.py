"""The audit hash chain as pure functions (SPEC §8): canonical form, hash and verification."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

#: ``prev_hash`` of the first event.
GENESIS_HASH = "0" * 64


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 kept as is. Floats are refused: their text is not stable."""
    _refuse_floats(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _refuse_floats(value: Any) -> None:
    if isinstance(value, float):
        raise TypeError("audit details must not hold floats; use a string or an integer")
    if isinstance(value, Mapping):
        for key, inner in value.items():
            if not isinstance(key, str):
                raise TypeError("audit detail keys must be strings")
            _refuse_floats(inner)
    elif isinstance(value, list | tuple):
        for inner in value:
            _refuse_floats(inner)
    elif value is not None and not isinstance(value, str | int | bool):
        raise TypeError(f"audit details cannot hold {type(value).__name__}")


def format_timestamp(moment: datetime) -> str:
    """UTC with microseconds, e.g. ``2020-03-31T15:30:00.000000Z``."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime in the audit chain")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class ChainEvent:
    """The hashed content of one audit event."""

    seq: int
    occurred_at: datetime
    actor: str
    action: str
    object_type: str | None
    object_id: str | None
    outcome: str
    details: str  # canonical JSON text
    prev_hash: str

    def body(self) -> str:
        return canonical_json(
            {
                "seq": self.seq,
                "occurred_at": format_timestamp(self.occurred_at),
                "actor": self.actor,
                "action": self.action,
                "object_type": self.object_type,
                "object_id": self.object_id,
                "outcome": self.outcome,
                "details": json.loads(self.details),
            }
        )

    def compute_hash(self) -> str:
        return hashlib.sha256((self.prev_hash + self.body()).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Verification:
    """Outcome of a chain check. ``broken_seq`` is the first event that does not fit."""

    ok: bool
    checked: int
    head_hash: str
    broken_seq: int | None = None
    problem: str | None = None


@dataclass(frozen=True)
class Checkpoint:
    """A head recorded outside the database (e.g. on a disposal certificate): ``seq`` had
    ``hash``. The chain alone cannot show that its newest events were deleted; this can."""

    seq: int
    hash: str

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        seq, _, digest = text.partition(":")
        if not seq.isdigit() or len(digest) != 64:
            raise ValueError("expected SEQ:HASH, e.g. 1234:3f2a… (64 hex digits)")
        return cls(int(seq), digest.lower())


def verify(
    events: Iterable[tuple[ChainEvent, str]], checkpoint: Checkpoint | None = None
) -> Verification:
    """Walk ``(event, stored_hash)`` pairs in ``seq`` order and report the first break.

    Detects an edited row (its hash no longer matches), a deleted row (a gap in ``seq`` or a
    ``prev_hash`` that names a missing event) and rows inserted or reordered (``prev_hash`` not
    equal to the stored hash of the event before).
    """
    expected_seq = 1
    prev_hash = GENESIS_HASH
    checked = 0
    for event, stored_hash in events:
        if event.seq != expected_seq:
            return Verification(
                False,
                checked,
                prev_hash,
                event.seq,
                f"event {expected_seq} is missing (next event found is {event.seq})",
            )
        if event.prev_hash != prev_hash:
            return Verification(
                False,
                checked,
                prev_hash,
                event.seq,
                f"event {event.seq} does not follow event {event.seq - 1}: its prev_hash "
                "differs (a row was removed, inserted or reordered)",
            )
        try:
            recomputed = event.compute_hash()
            # the stored text itself must be canonical: {"n":99,"n":1} parses like {"n":1}
            canonical = canonical_json(json.loads(event.details)) == event.details
        except (ValueError, TypeError):
            recomputed, canonical = None, False
        if recomputed != stored_hash or not canonical:
            return Verification(
                False,
                checked,
                prev_hash,
                event.seq,
                f"event {event.seq} was altered: its content does not match its hash",
            )
        if (
            checkpoint is not None
            and event.seq == checkpoint.seq
            and stored_hash != checkpoint.hash
        ):
            return Verification(
                False,
                checked,
                prev_hash,
                event.seq,
                f"event {event.seq} differs from the recorded head {checkpoint.hash[:16]}…",
            )
        prev_hash = stored_hash
        expected_seq += 1
        checked += 1
    if checkpoint is not None and checked < checkpoint.seq:
        return Verification(
            False,
            checked,
            prev_hash,
            checked + 1,
            f"the chain ends at event {checked}, but event {checkpoint.seq} was recorded:"
            " the newest events were deleted",
        )
    return Verification(True, checked, prev_hash)
