"""Tracking numbers and household codes that are unique without remembering them."""

from __future__ import annotations

from typing import Final

from tracker.domain.tracking import expected_check_digit

# An affine map i ↦ (A·i + B) mod M is a bijection of [0, M) when gcd(A, M) = 1, so distinct
# household indexes give distinct numbers and nothing needs remembering. Each seed (mod
# SEED_BLOCKS) gets its own MAX_ROWS indexes, so files made with different seeds can be
# imported into one database without their tracking numbers colliding.

#: Households (hence rows) one seed can number without repeating a tracking number.
MAX_ROWS: Final = 100_000_000
SEED_BLOCKS: Final = 900
_TRACKING_SPAN: Final = 9 * 10**10  # 11-digit bodies 10000000000 … 99999999999
_TRACKING_A: Final = 61_803_398_887  # odd, not a multiple of 3 or 5: coprime to the span
_TRACKING_B: Final = 27_182_818_284
_HOUSEHOLD_SPAN: Final = 9 * 10**9  # 10-digit household codes, no leading zero
_HOUSEHOLD_A: Final = 1_414_213_567
_HOUSEHOLD_B: Final = 3_141_592_653


def _global_index(seed: int, index: int) -> int:
    if not 0 <= index < MAX_ROWS:
        raise ValueError(f"household index {index} outside 0…{MAX_ROWS - 1}")
    # Interleaved rather than blocked, so that the first households of two seeds do not share
    # their low digits; (index, seed mod 900) ↦ index·900 + seed mod 900 is still one-to-one.
    return index * SEED_BLOCKS + seed % SEED_BLOCKS


def tracking_number(seed: int, index: int, *, corrupt: int = 0) -> str:
    """The 12-digit tracking number of household `index` of a file made with `seed`.

    Unique per (seed mod 900, index). The last digit is the SPEC §6.3 check digit; `corrupt`
    (1–9) shifts it to a wrong digit so that an importer has something to warn about.
    """
    body = 10**10 + (_TRACKING_A * _global_index(seed, index) + _TRACKING_B) % _TRACKING_SPAN
    digits = str(body)
    check = expected_check_digit(digits + "0")  # SPEC §6.3: reads only the first 11 digits
    assert check is not None  # always 12 digits here
    if corrupt:
        if not 1 <= corrupt <= 9:
            raise ValueError("corrupt must be 0 (a valid number) or 1…9")
        check = (check + corrupt) % 10  # never the valid digit again: 1…9 ≢ 0 (mod 10)
    return digits + str(check)


def household_code(seed: int, index: int) -> str:
    """A 10-digit household code (世帯番号), unique per household within one file."""
    code = (_HOUSEHOLD_A * _global_index(seed, index) + _HOUSEHOLD_B) % _HOUSEHOLD_SPAN
    return str(10**9 + code)
