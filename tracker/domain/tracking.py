"""Tracking numbers (お問い合わせ番号) of returned registered mail.

SPEC §6.3: digits only once hyphens, spaces and full-width forms are removed. A domestic
number has 12 digits whose last is the first 11, read as one number, mod 7. A wrong check
digit is only a warning: the number printed on the envelope is what it is, and the clerk must
be able to record it; the warning tells them to look again for a typing slip.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from tracker.domain.errors import TrackingNumberError
from tracker.domain.mynumber import mask_individual_numbers

__all__ = [
    "DOMESTIC_LENGTH",
    "TrackingNumber",
    "TrackingNumberError",
    "check_digit_ok",
    "expected_check_digit",
    "format_tracking_no",
    "normalize_tracking_no",
    "parse_tracking_no",
]

DOMESTIC_LENGTH = 12
#: The longest number the ledger stores (international items have 13 characters; 20 leaves room).
MAX_LENGTH = 20

# After NFKC, ASCII "-" stands for －﹣; these dash look-alikes are left as they are by NFKC.
# ー (long vowel mark) is what a Japanese IME often gives for a hyphen typed in kana mode.
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―−ー]+")
_DIGITS = re.compile(r"[0-9]+")


def normalize_tracking_no(text: str) -> str:
    """The digits of a tracking number; TrackingNumberError if anything else is left over."""
    digits = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text))
    if not digits:
        raise TrackingNumberError("お問い合わせ番号が入力されていません")
    if not _DIGITS.fullmatch(digits):
        stray = "".join(dict.fromkeys(c for c in digits if not ("0" <= c <= "9")))
        raise TrackingNumberError(
            # A refusal quotes what was typed with any individual number masked (SPEC §2).
            f"お問い合わせ番号「{mask_individual_numbers(text.strip())}」に数字以外の文字"
            f"（{stray}）が含まれています。"
            "数字とハイフンだけで入力してください"
        )
    if len(digits) > MAX_LENGTH:
        raise TrackingNumberError(
            f"お問い合わせ番号が長すぎます（{len(digits)}桁）。{MAX_LENGTH}桁以内で入力してください"
        )
    return digits


def expected_check_digit(digits: str) -> int | None:
    """The check digit a 12-digit number should end with; None for other lengths."""
    if len(digits) != DOMESTIC_LENGTH or not _DIGITS.fullmatch(digits):
        return None
    return int(digits[:11]) % 7


def check_digit_ok(digits: str) -> bool | None:
    """Whether a 12-digit number's last digit is the first 11 mod 7 (SPEC §6.3).

    None when the rule does not apply (not 12 digits), so callers cannot mistake
    "not checked" for "checked and fine".
    """
    expected = expected_check_digit(digits)
    if expected is None:
        return None
    return int(digits[-1]) == expected


def format_tracking_no(digits: str) -> str:
    """``1234-5678-9012`` for 12 digits, as printed on the receipt; other lengths unchanged."""
    if len(digits) != DOMESTIC_LENGTH:
        return digits
    return f"{digits[:4]}-{digits[4:8]}-{digits[8:]}"


@dataclass(frozen=True)
class TrackingNumber:
    """A normalised tracking number and, if something looks wrong, a warning to show."""

    digits: str
    warning: str | None = None

    @property
    def display(self) -> str:
        return format_tracking_no(self.digits)


def parse_tracking_no(text: str) -> TrackingNumber:
    """Normalise `text` and check it; errors raise, doubts become `warning`.

    Warnings: a wrong check digit, and a length other than 12 (domestic numbers have 12
    digits, so another length is more often a typing slip than a foreign item).
    """
    digits = normalize_tracking_no(text)
    ok = check_digit_ok(digits)
    if ok is None:
        return TrackingNumber(
            digits,
            f"お問い合わせ番号が{len(digits)}桁です。国内の郵便物の番号は12桁です。"
            "番号を確認してください",
        )
    if not ok:
        return TrackingNumber(
            digits,
            # Not naming the expected last digit: the slip may be anywhere in the number.
            f"お問い合わせ番号 {format_tracking_no(digits)} のチェックディジット（末尾の数字）が"
            "合いません。打ち間違いがないか、封筒の番号と照合してください",
        )
    return TrackingNumber(digits)
