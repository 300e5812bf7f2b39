"""Individual numbers must be recognised so that they are never stored (SPEC §2)."""

import pytest

from tracker.domain.mynumber import (
    INDIVIDUAL_NUMBER_MESSAGE,
    check_digit,
    contains_individual_number,
    find_individual_numbers,
    is_valid_individual_number,
    mask_individual_numbers,
)

VALID = "123456789018"
OTHER_VALID = "999999999996"  # 9 × (2+3+4+5+6+7 + 2+3+4+5+6) = 423; 423 % 11 = 5; 11 − 5


@pytest.mark.parametrize(
    ("first_eleven", "digit"),
    [
        ("12345678901", 8),  # the published example
        ("99999999999", 6),
        ("00000000000", 0),  # remainder 0 → 0
        ("00000000006", 0),  # 6·2 = 12, remainder 1 → 0
        ("00000000005", 1),  # 5·2 = 10, remainder 10 → 1
        ("00000000001", 9),  # weight of the rightmost digit is 2
        ("00000100000", 4),  # 6th from the right weighs 7
        ("00001000000", 9),  # 7th from the right weighs 2 again
        ("10000000000", 5),  # 11th from the right weighs 6
    ],
)
def test_check_digit_worked_by_hand(first_eleven: str, digit: int) -> None:
    assert check_digit(first_eleven) == digit


@pytest.mark.parametrize(
    "bad", ["", "1234567890", "123456789012", "1234567890a", "１２３４５６７８９０１"]
)
def test_check_digit_needs_eleven_ascii_digits(bad: str) -> None:
    with pytest.raises(ValueError, match="11"):
        check_digit(bad)


@pytest.mark.parametrize(
    ("digits", "valid"),
    [
        (VALID, True),
        (OTHER_VALID, True),
        ("１２３４５６７８９０１８", True),  # full-width
        ("123456789017", False),
        ("123456789019", False),
        ("12345678901", False),
        ("1234567890180", False),
        ("1234-5678-9018", False),  # only bare digits here; find_… handles grouping
        ("", False),
        ("abcdefghijkl", False),
    ],
)
def test_is_valid_individual_number(digits: str, valid: bool) -> None:
    assert is_valid_individual_number(digits) is valid


def test_exactly_one_check_digit_in_ten_is_valid() -> None:
    valid = [d for d in "0123456789" if is_valid_individual_number("12345678901" + d)]
    assert valid == ["8"]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        (VALID, [VALID]),
        (f"備考: {VALID} を確認", [VALID]),
        ("１２３４５６７８９０１８", [VALID]),
        (f"ABC{VALID}", [VALID]),  # letters may touch it
        (f"{VALID}xyz", [VALID]),
        (f"番号{VALID}です", [VALID]),
        ("1234-5678-9018", [VALID]),  # as printed on the card
        ("1234 5678 9018", [VALID]),
        ("1234\u30005678\u30009018", [VALID]),
        ("１２３４－５６７８－９０１８", [VALID]),
        ("1234ー5678ー9018", [VALID]),
        ("1234−5678−9018", [VALID]),
        ("1234 - 5678 - 9018", [VALID]),
        (f"{VALID} と {OTHER_VALID}", [VALID, OTHER_VALID]),
        (f"{OTHER_VALID} と 1234-5678-9018", [OTHER_VALID, VALID]),  # in text order
        (f"{VALID} / 1234-5678-9018", [VALID]),  # each once
    ],
)
def test_find_individual_numbers_in_free_text(text: str, found: list[str]) -> None:
    assert find_individual_numbers(text) == found
    assert contains_individual_number(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "熊本市中央区手取本町1-1",
        "123456789017",  # wrong check digit
        "1234-5678-9017",
        f"1{VALID}",  # 13 consecutive digits are some other number
        f"{VALID}0",
        f"99{VALID}99",
        "12345678901",  # 11 digits
        "123-4567-89018",  # not the 4-4-4 grouping
        "12345-678-9018",
        "1234.5678.9018",  # dots are not a grouping of the card
        "123456 789018",
    ],
)
def test_find_individual_numbers_ignores_other_numbers(text: str) -> None:
    assert find_individual_numbers(text) == []
    assert not contains_individual_number(text)


def test_grouped_number_inside_a_longer_chain_is_still_refused() -> None:
    # Refusing errs on the safe side: a stored individual number cannot be undone.
    assert VALID in find_individual_numbers("0000-1234-5678-9018")


def test_rejection_message_says_why() -> None:
    assert "個人番号" in INDIVIDUAL_NUMBER_MESSAGE
    assert "記録できません" in INDIVIDUAL_NUMBER_MESSAGE


def test_digits_that_only_become_digits_under_nfkc_are_still_caught() -> None:
    """The quick pre-check must not let ① or superscript digits slip past the full search."""
    assert contains_individual_number("①②③④⑤⑥⑦⑧⑨０¹⁸")
    assert not contains_individual_number("①②③ 熊本市中央区1-2-3")


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (VALID, "************"),
        ("1234-5678-9018", "****-****-****"),
        ("1234 5678 9018", "**** **** ****"),
        ("１２３４－５６７８－９０１８", "****－****－****"),  # full width, kept as typed
        ("熊本市中央区1-2 123456789018号", "熊本市中央区1-2 ************号"),
        ("世帯主999999999996と123456789018", "世帯主************と************"),
        ("㈱" + VALID, "㈱************"),  # NFKC makes ㈱ three characters
    ],
)
def test_mask_hides_every_individual_number_and_keeps_the_rest(text: str, shown: str) -> None:
    masked = mask_individual_numbers(text)
    assert masked == shown
    assert not contains_individual_number(masked)


@pytest.mark.parametrize(
    "text", ["", "山田 太郎", "123456789012", "1234567890185", "熊本市中央区手取本町1-1"]
)
def test_mask_leaves_text_without_an_individual_number_alone(text: str) -> None:
    assert mask_individual_numbers(text) == text
