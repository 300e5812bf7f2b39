"""Spotting individual numbers (個人番号, My Number) so that we never store one.

SPEC §2: the card carries the number but the tracker must not; a free-text value holding a
12-digit run that passes the check digit is refused, so the database never becomes a
特定個人情報ファイル by accident. The check digit (検査用数字) is the one the My Number
ordinance of the Ministry of Internal Affairs fixes: weights 2–7 then 2–6 from the right, mod 11.

Detection errs on the side of refusing: a clerk re-typing a note costs little, a stored
individual number cannot be undone. Messages never repeat the number found.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "INDIVIDUAL_NUMBER_MESSAGE",
    "check_digit",
    "contains_individual_number",
    "find_individual_numbers",
    "is_valid_individual_number",
    "mask_individual_numbers",
]

#: Shown when a free-text value is refused; deliberately does not echo the number.
INDIVIDUAL_NUMBER_MESSAGE = (
    "個人番号（マイナンバー）とみられる12桁の数字が含まれています。"
    "この台帳には個人番号を記録できません。該当する数字を削除してください"
)

_TWELVE = re.compile(r"[0-9]{12}")
# Hyphen look-alikes NFKC leaves alone; ー is what a kana-mode IME gives for "-".
_DASHES = str.maketrans(dict.fromkeys("‐‑‒–—―−ー", "-"))
# Exactly 12 digits with no digit on either side: a longer run (a bank account with branch,
# a JAN code …) is some other number. Letters around it do not matter (ABC123456789018).
_PLAIN = re.compile(r"(?<![0-9])([0-9]{12})(?![0-9])")
# The 4-4-4 grouping printed on the card, with hyphens or spaces. A lookahead so that every
# window of a longer chain (1111-2222-3333-4444) is tried: refusing errs on the safe side.
_SEP = r"(?:\s*-\s*|\s+)"
_GROUPED = re.compile(rf"(?<![0-9])(?=([0-9]{{4}}){_SEP}([0-9]{{4}}){_SEP}([0-9]{{4}})(?![0-9]))")


def check_digit(first_eleven: str) -> int:
    """The check digit of an individual number from its first 11 digits (SPEC §2).

    P_n is the n-th digit from the right, Q_n = n + 1 for n ≤ 6 and n − 5 for n ≥ 7;
    r = Σ P_n·Q_n mod 11; the check digit is 0 if r ≤ 1, else 11 − r.
    """
    if len(first_eleven) != 11 or not first_eleven.isascii() or not first_eleven.isdigit():
        raise ValueError("check_digit needs exactly 11 ASCII digits")
    total = sum(
        int(digit) * (n + 1 if n <= 6 else n - 5)
        for n, digit in enumerate(reversed(first_eleven), start=1)
    )
    remainder = total % 11
    return 0 if remainder <= 1 else 11 - remainder


def is_valid_individual_number(digits: str) -> bool:
    """True if `digits` (after NFKC, so full-width counts) is 12 digits with a valid check."""
    normalised = unicodedata.normalize("NFKC", digits)
    if not _TWELVE.fullmatch(normalised):
        return False
    return check_digit(normalised[:11]) == int(normalised[11])


def find_individual_numbers(text: str) -> list[str]:
    """Every individual number in free text, as 12 ASCII digits, each once, in text order.

    Counts a run of exactly 12 digits (letters may touch it, digits may not) and the card's
    4-4-4 grouping with hyphens or spaces. Full-width digits and dashes count (NFKC).
    """
    normalised = unicodedata.normalize("NFKC", text).translate(_DASHES)
    candidates: list[tuple[int, str]] = [(m.start(), m[1]) for m in _PLAIN.finditer(normalised)]
    candidates += [(m.start(), m[1] + m[2] + m[3]) for m in _GROUPED.finditer(normalised)]
    found: dict[str, None] = {}
    for _, digits in sorted(candidates):
        if is_valid_individual_number(digits):
            found[digits] = None
    return list(found)


#: Runs of non-digits; applied after NFKC, which turns ① ¹ and full-width digits into 0-9.
_NOT_DIGIT = re.compile(r"\D+")


def contains_individual_number(text: str) -> bool:
    """True if `text` holds something that must not be stored (SPEC §2).

    Text with fewer than 12 digits in all cannot hold one; that cheap test (C-level passes)
    spares the full search for nearly every name and address in a million-row import.
    """
    if len(_NOT_DIGIT.sub("", unicodedata.normalize("NFKC", text))) < 12:
        return False
    return bool(find_individual_numbers(text))


#: Shown in place of each digit of an individual number that a message would otherwise quote.
MASK = "*"


def mask_individual_numbers(text: str) -> str:
    """`text` with the digits of every individual number in it replaced by :data:`MASK`.

    For messages that quote what was typed (``還付事由「…」は使えません``): the value is refused
    either way, and a refusal must not repeat a number this system may not hold (issue 10) into
    a screen, a report or a terminal log. Everything else is kept, so the person still sees
    which value is meant: ``熊本市1-2 1234-5678-9018`` → ``熊本市1-2 ****-****-****``.

    Positions are found on a character-by-character NFKC form, which keeps a map back to the
    text as typed (NFKC of the whole string could merge or split characters elsewhere). Should
    that ever find less than :func:`find_individual_numbers` does, every digit is masked.
    """
    if not contains_individual_number(text):
        return text
    parts = [unicodedata.normalize("NFKC", char).translate(_DASHES) for char in text]
    normalised = "".join(parts)
    owner = [index for index, part in enumerate(parts) for _ in part]
    masked: set[int] = set()
    spans = [
        (m.start(1), m.end(1))
        for m in _PLAIN.finditer(normalised)
        if is_valid_individual_number(m[1])
    ]
    spans += [
        (m.start(1), m.end(3))
        for m in _GROUPED.finditer(normalised)
        if is_valid_individual_number(m[1] + m[2] + m[3])
    ]
    for start, end in spans:
        masked.update(owner[position] for position in range(start, end))
    result = "".join(
        MASK * len(part) if index in masked and part.isdigit() else text[index]
        for index, part in enumerate(parts)
    )
    if contains_individual_number(result):
        return "".join(MASK if part.isdigit() else text[i] for i, part in enumerate(parts))
    return result
