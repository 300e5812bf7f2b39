"""Names on a disposal certificate: the family name and ○○, never the given name (SPEC §5)."""

import pytest

from tracker.domain.masking import mask_name


@pytest.mark.parametrize(
    ("full_name", "masked"),
    [
        ("髙橋 花子", "髙橋○○"),
        ("髙橋\u3000花子", "髙橋○○"),
        ("  東海林 太郎 ", "東海林○○"),
        ("SMITH JOHN", "SMITH○○"),
        ("𠮷田 太郎", "𠮷田○○"),
        # No blank: one character up to four (林美智子 is 1 + 3), two from five on.
        ("佐藤一", "佐○○"),
        ("林美智子", "林○○"),
        ("佐藤由美子", "佐藤○○"),
        ("葛\U000e0100城太郎", "葛\U000e0100○○"),  # the variation selector stays with 葛
        ("", "○○"),
    ],
)
def test_mask_name_keeps_the_family_name_only(full_name: str, masked: str) -> None:
    assert mask_name(full_name) == masked
