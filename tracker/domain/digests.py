"""Keyed digests of personal values, and the rule that keeps such values out of audit details.

Issue 16: audit events are hash-chained and can never be erased, so they must not hold names,
addresses, birth dates or text typed by people. An event that needs to say *which* value a
field had holds a keyed digest of it instead:

    digest = HMAC-SHA-256(key, canonical(value)), as 64 lower-case hex digits

with a per-installation key kept outside the database (``tracker.config``). Whoever holds the
key (the app, on an auditor's request) can confirm "was the name X?"; the log alone reveals
nothing, not even by guessing common names, as long as the key stays secret.

Canonicalisation (:func:`canonical`), so that a digest can be recomputed years later:
- text exactly as stored (no normalisation: names may hold 外字 or variation selectors);
- a date as ISO ``YYYY-MM-DD``;
- an integer in decimal; ``True``/``False`` as ``true``/``false``;
- no value (``None``) and the empty text are the same: ``""``.
The result is encoded as UTF-8.

:func:`personal_keys_in` is the write-time guard ``tracker.services.audit.record`` applies: a
details key (at any depth) that names a personal field is refused unless it holds a digest.
Pure: no Flask, no database, no clock.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from datetime import date
from typing import Any

#: Bytes of a newly made key (256 bits, the HMAC-SHA-256 block is 512: any length up to it).
KEY_BYTES = 32

#: Keys of audit details that would hold a person's data or text typed by people. An event
#: may use such a key only for digests (``{"name": {"old_digest": "…", "new_digest": "…"}}``)
#: or for nothing (``null``: changed, no digest); else the key ends in ``_digest``
#: (``purpose_digest``) and holds the hex digest.
PERSONAL_KEYS = frozenset(
    {
        "name",
        "name_kana",
        "kana",
        "alias",
        "birth_date",
        "address",
        "addressee",
        "recipient_name",
        "relationship",
        "relationship_to_head",
        "phone",
        "note",
        "notes",
        "circumstances",
        "purpose",
        "reason",
        "requested_by_whom",
        "person",
    }
)

#: Keys that may also hold a code written by the system (``"reason": "wrong_password"``):
#: lower-case ASCII words, never text a person typed. In a refused or failed event they may
#: hold the system's own refusal message (an import file without rows).
CODED_KEYS = frozenset({"reason"})

#: Personal-looking keys allowed for one action: a storage place's name (保管場所) is the
#: name of an office, and an ID document's name (運転免許証) that of a kind of document.
NOT_PERSONAL: frozenset[tuple[str, str]] = frozenset(
    {
        ("location.create", "name"),
        ("location.change", "name"),
        ("location.retire", "name"),
        ("identity_policy.change", "name"),
    }
)

_CODE = re.compile(r"[a-z][a-z0-9_]*")
_HEX64 = re.compile(r"[0-9a-f]{64}")


def canonical(value: Any) -> str:
    """The text a value is digested as (see the module text)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | str):
        return str(value)
    raise TypeError(f"cannot digest a {type(value).__name__}")


def keyed_digest(key: bytes, value: Any) -> str:
    """HMAC-SHA-256 of the value's canonical text under the installation's key, as hex."""
    if not key:
        raise ValueError("a digest needs a key")
    return hmac.new(key, canonical(value).encode("utf-8"), hashlib.sha256).hexdigest()


def matches(key: bytes, digest: str, candidate: Any) -> bool:
    """Whether ``candidate`` is the value ``digest`` was made from (constant-time compare)."""
    return hmac.compare_digest(keyed_digest(key, candidate), digest)


def digest_object(key: bytes, value: Any) -> dict[str, str]:
    """``{"digest": hex}``: the form a personal key may take in audit details."""
    return {"digest": keyed_digest(key, value)}


def is_digest(value: Any) -> bool:
    """Empty, a 64-hex text, or an object made only of digests under the key ``digest`` or
    keys ending in ``_digest`` (``{"old_digest": hex, "new_digest": hex}``)."""
    if value is None:
        return True
    if isinstance(value, str):
        return bool(_HEX64.fullmatch(value))
    if isinstance(value, Mapping):
        return bool(value) and all(
            (key == "digest" or str(key).endswith("_digest"))
            and (inner is None or (isinstance(inner, str) and is_digest(inner)))
            for key, inner in value.items()
        )
    return False


def personal_keys_in(details: Mapping[str, Any], *, action: str, outcome: str = "ok") -> list[str]:
    """Paths (``changes.name``) of details keys that hold a personal value, not a digest.

    Empty when the details are fine. Keys are matched exactly, at any depth, in objects
    nested in objects or lists; a key ending in ``_digest`` must hold a digest.
    """
    found: list[str] = []

    def walk(value: Any, path: str) -> None:
        if isinstance(value, Mapping):
            for key, inner in value.items():
                where = f"{path}.{key}" if path else str(key)
                if _refused(str(key), inner, action=action, outcome=outcome):
                    found.append(where)
                elif not is_digest(inner) or not str(key).endswith("_digest"):
                    walk(inner, where)
        elif isinstance(value, list | tuple):
            for index, inner in enumerate(value):
                walk(inner, f"{path}[{index}]")

    walk(details, "")
    return found


def _refused(key: str, value: Any, *, action: str, outcome: str) -> bool:
    if key.endswith("_digest"):
        return not is_digest(value)
    if key not in PERSONAL_KEYS or (action, key) in NOT_PERSONAL:
        return False
    if is_digest(value) and not isinstance(value, str):
        return False  # {"digest": …} or null
    if key in CODED_KEYS and isinstance(value, str):
        return not (_CODE.fullmatch(value) or outcome != "ok")
    return True


def digest_paths(details: Mapping[str, Any]) -> dict[str, str]:
    """Every digest in an event's details by its path (``changes.name.old_digest``)."""
    found: dict[str, str] = {}

    def walk(value: Any, path: str) -> None:
        if isinstance(value, Mapping):
            for key, inner in value.items():
                where = f"{path}.{key}" if path else str(key)
                if (key == "digest" or str(key).endswith("_digest")) and isinstance(inner, str):
                    if _HEX64.fullmatch(inner):
                        found[where] = inner
                else:
                    walk(inner, where)
        elif isinstance(value, list):
            for index, inner in enumerate(value):
                walk(inner, f"{path}[{index}]")

    walk(details, "")
    return found
