"""The audit hash chain as pure functions (SPEC §8): canonical form, hash and verification."""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from json.encoder import encode_basestring
from typing import Any

#: ``prev_hash`` of the first event.
GENESIS_HASH = "0" * 64

#: The columns of one event, in the order :func:`verify_rows` takes them.
ROW_COLUMNS = (
    "seq",
    "occurred_at",
    "actor",
    "action",
    "object_type",
    "object_id",
    "outcome",
    "details",
    "prev_hash",
    "hash",
)

#: What ``json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` does,
#: built once (json.dumps builds an encoder on every call when given options).
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _no_float(text: str) -> Any:
    raise ValueError(f"a float in audit details: {text[:20]}")


#: Reads details text, refusing floats (``1.5``, ``1e3``, ``NaN``) as :func:`canonical_json` does.
_DECODER = json.JSONDecoder(parse_float=_no_float, parse_constant=_no_float)


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 kept as is. Floats are refused: their text is not stable."""
    _refuse_floats(value)
    return _ENCODER.encode(value)


def is_canonical(details: str) -> bool:
    """Whether ``details`` is exactly the canonical text of what it parses to: a stored text is
    hashed as stored, and ``{"n":99,"n":1}`` parses like ``{"n":1}``."""
    try:
        value, end = _DECODER.raw_decode(details)  # canonical text has no leading space
        return end == len(details) and _ENCODER.encode(value) == details
    except (ValueError, TypeError, RecursionError):
        return False


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
    moment = moment.astimezone(UTC)
    if moment.year < 1000:  # strftime's %Y does not pad to four digits on every platform
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return moment.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def _string_or_null(value: str | None) -> str:
    return "null" if value is None else encode_basestring(value)


def event_body(
    seq: int,
    occurred_at: datetime | str,
    actor: str,
    action: str,
    object_type: str | None,
    object_id: str | None,
    outcome: str,
    details: str,
) -> str:
    """The hashed text of one event: the canonical JSON object of its fields, with ``details``
    (which must be canonical, :func:`is_canonical`) inserted as it is, not parsed and dumped
    again. Keys in sorted order; strings quoted by the json module's own quoting.
    ``occurred_at`` may be given already formatted (:func:`format_timestamp`'s text, e.g. as
    the database printed it).
    """
    if type(seq) is not int:
        raise TypeError("seq must be an integer")
    if isinstance(occurred_at, datetime):
        occurred_at = format_timestamp(occurred_at)
    elif not isinstance(occurred_at, str):
        raise TypeError("occurred_at must be a datetime or its formatted text")
    return (
        f'{{"action":{encode_basestring(action)},"actor":{encode_basestring(actor)},'
        f'"details":{details},"object_id":{_string_or_null(object_id)},'
        f'"object_type":{_string_or_null(object_type)},"occurred_at":"{occurred_at}",'
        f'"outcome":{encode_basestring(outcome)},"seq":{seq}}}'
    )


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
        if not is_canonical(self.details):
            raise ValueError("audit details must be canonical JSON text (canonical_json)")
        return event_body(
            self.seq,
            self.occurred_at,
            self.actor,
            self.action,
            self.object_type,
            self.object_id,
            self.outcome,
            self.details,
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
    """:func:`verify_rows` over ``(event, stored_hash)`` pairs."""
    return verify_rows(
        (
            (
                event.seq,
                event.occurred_at,
                event.actor,
                event.action,
                event.object_type,
                event.object_id,
                event.outcome,
                event.details,
                event.prev_hash,
                stored_hash,
            )
            for event, stored_hash in events
        ),
        checkpoint,
    )


def verify_rows(rows: Iterable[Any], checkpoint: Checkpoint | None = None) -> Verification:
    """Walk stored events (tuples of :data:`ROW_COLUMNS`, ``occurred_at`` as a datetime or as
    :func:`format_timestamp`'s text) in ``seq`` order and report the first break.

    Detects an edited row (its hash no longer matches), a deleted row (a gap in ``seq`` or a
    ``prev_hash`` that names a missing event) and rows inserted or reordered (``prev_hash`` not
    equal to the stored hash of the event before). Each event's details are parsed and dumped
    once: the canonical check, after which the stored text itself is what is hashed.
    """
    return _with_tail_check(_walk(rows, checkpoint, 1, GENESIS_HASH), checkpoint)


def _with_tail_check(result: Verification, checkpoint: Checkpoint | None) -> Verification:
    checked = result.checked
    if result.ok and checkpoint is not None and checked < checkpoint.seq:
        return Verification(
            False,
            checked,
            result.head_hash,
            checked + 1,
            f"the chain ends at event {checked}, but event {checkpoint.seq} was recorded:"
            " the newest events were deleted",
        )
    return result


def _walk(
    rows: Iterable[Any], checkpoint: Checkpoint | None, expected_seq: int, prev_hash: str
) -> Verification:
    """The walk of :func:`verify_rows` from ``expected_seq`` after ``prev_hash``; ``checked``
    counts this walk's events, so the last one it accepted is ``expected_seq + checked - 1``."""
    checked = 0
    sha256 = hashlib.sha256
    for row in rows:
        seq, occurred_at, actor, action, object_type, object_id, outcome, details, link, stored = (
            row
        )
        if seq != expected_seq:
            problem = f"event {expected_seq} is missing (next event found is {seq})"
            return Verification(False, checked, prev_hash, seq, problem)
        if link != prev_hash:
            problem = (
                f"event {seq} does not follow event {seq - 1}: its prev_hash "
                "differs (a row was removed, inserted or reordered)"
            )
            return Verification(False, checked, prev_hash, seq, problem)
        try:
            body = event_body(
                seq, occurred_at, actor, action, object_type, object_id, outcome, details
            )
            intact = (
                is_canonical(details)
                and sha256((link + body).encode("utf-8")).hexdigest() == stored
            )
        except (ValueError, TypeError):
            intact = False
        if not intact:
            problem = f"event {seq} was altered: its content does not match its hash"
            return Verification(False, checked, prev_hash, seq, problem)
        if checkpoint is not None and seq == checkpoint.seq and stored != checkpoint.hash:
            problem = f"event {seq} differs from the recorded head {checkpoint.hash[:16]}…"
            return Verification(False, checked, prev_hash, seq, problem)
        prev_hash = stored
        expected_seq += 1
        checked += 1
    return Verification(True, checked, prev_hash)


@dataclass(frozen=True)
class Segment:
    """What one worker found in the events of a ``seq`` range (:func:`verify_segment`), for
    :func:`join_segments` to put together in order. Its first event's ``seq`` and ``prev_hash``
    are taken as they are: only the join can check them against the range before."""

    first_seq: int | None  # None: no event in the range
    first_link: str | None
    walk: Verification | None


def verify_segment(rows: Iterable[Any], checkpoint: Checkpoint | None = None) -> Segment:
    """The walk of :func:`verify_rows` over one ``seq`` range of the stored events, in order."""
    iterator = iter(rows)
    first = next(iterator, None)
    if first is None:
        return Segment(None, None, None)
    seq, link = first[0], first[8]
    return Segment(seq, link, _walk(itertools.chain([first], iterator), checkpoint, seq, link))


def join_segments(
    segments: Iterable[Segment], checkpoint: Checkpoint | None = None
) -> Verification:
    """The :func:`verify_rows` outcome of the whole chain from the walks of consecutive ``seq``
    ranges, the same event and message it would name (tests/domain/test_chain_segments.py)."""
    expected_seq, prev_hash, checked = 1, GENESIS_HASH, 0
    for segment in segments:
        if segment.walk is None or segment.first_seq is None:
            continue  # nothing stored in this range: the next one's first event tells
        seq = segment.first_seq
        if seq != expected_seq:
            problem = f"event {expected_seq} is missing (next event found is {seq})"
            return Verification(False, checked, prev_hash, seq, problem)
        if segment.first_link != prev_hash:
            problem = (
                f"event {seq} does not follow event {seq - 1}: its prev_hash "
                "differs (a row was removed, inserted or reordered)"
            )
            return Verification(False, checked, prev_hash, seq, problem)
        walk = segment.walk
        if not walk.ok:
            return Verification(
                False, checked + walk.checked, walk.head_hash, walk.broken_seq, walk.problem
            )
        checked += walk.checked
        prev_hash = walk.head_hash
        expected_seq = seq + walk.checked
    return _with_tail_check(Verification(True, checked, prev_hash), checkpoint)
