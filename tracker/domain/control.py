"""Office control numbers (管理番号), printed as barcodes on envelope labels.

An envelope's number is ``E`` and its row id in nine digits (``E000000123``); an item's adds its
position in the envelope (``E000000123-2``). The import builds the same strings in SQL
(``tracker.services.importer.writing``), so the format lives here once.
"""

from __future__ import annotations

import re
import unicodedata

ENVELOPE_PREFIX = "E"
ENVELOPE_DIGITS = 9

# Dash look-alikes a Japanese keyboard or IME gives for "-" (NFKC leaves these as they are;
# ー is the long vowel mark a kana-mode IME types for the hyphen key).
_DASHES = re.compile(r"[‐‑‒–—―−ー]")
_ENVELOPE = re.compile(r"E(\d{9})")
_ITEM = re.compile(r"E(\d{9})-(\d{1,3})")


def envelope_control_no(envelope_id: int) -> str:
    return f"{ENVELOPE_PREFIX}{envelope_id:0{ENVELOPE_DIGITS}d}"


def item_control_no(envelope_control: str, position: int) -> str:
    return f"{envelope_control}-{position}"


def parse_control_no(text: str) -> tuple[int, int | None] | None:
    """``(envelope id, item position or None)`` when ``text`` is a control number, else None.

    Accepts what a barcode scanner or a person types: any width, lower case, spaces around,
    any dash between the envelope and the item number (``ｅ０００００００１２ー２``).
    """
    value = _DASHES.sub("-", unicodedata.normalize("NFKC", text).strip().upper())
    if match := _ENVELOPE.fullmatch(value):
        return int(match.group(1)), None
    if match := _ITEM.fullmatch(value):
        return int(match.group(1)), int(match.group(2))
    return None
