"""Call-back phone numbers (折り返し電話番号) taken on the phone for a pickup reservation.

A Japanese number is 10 digits (fixed lines, 0X-XXXX-XXXX) or 11 (mobiles, 090/080/070/050).
People say it with hyphens or brackets (``096(328)2111``); those, blanks and full-width digits
are accepted and the number is stored as digits only. It must start with 0. Pure.

Decision: a 12-digit individual number can never pass (12 digits are refused), and the refusal
never quotes what was typed, in case it was one.
"""

from __future__ import annotations

import re
import unicodedata

from tracker.domain.errors import InputError

_SEPARATORS = re.compile(r"[-()\s‐－ー−]")
DIGITS = range(10, 12)


def normalise_phone(value: str | None, *, label: str = "電話番号") -> str:
    """The number as digits only, or :class:`InputError` saying what is wrong."""
    text = unicodedata.normalize("NFKC", value or "").strip()
    if not text:
        raise InputError(f"{label}を入力してください（折り返しの連絡先）")
    digits = _SEPARATORS.sub("", text)
    if not digits.isascii() or not digits.isdigit():
        raise InputError(f"{label}は数字とハイフン・かっこだけで入力してください")
    if len(digits) not in DIGITS:
        raise InputError(
            f"{label}は市外局番から10桁または11桁で入力してください（{len(digits)}桁です）"
        )
    if not digits.startswith("0"):
        raise InputError(f"{label}は0から始まる番号を入力してください")
    return digits


def format_phone(digits: str) -> str:
    """For reading out: 11-digit numbers (mobiles, 050) as 3-4-4; 10-digit numbers as stored,
    since where their area code ends depends on the area (03-…, 096-…, 0966-…)."""
    if len(digits) == 11:
        return f"{digits[:3]}-{digits[3:7]}-{digits[7:]}"
    return digits
