"""Tracking numbers of returned registered mail (SPEC §6.3)."""

import pytest

from tracker.domain.errors import InputError
from tracker.domain.tracking import (
    TrackingNumber,
    TrackingNumberError,
    check_digit_ok,
    format_tracking_no,
    normalize_tracking_no,
    parse_tracking_no,
)

VALID = "123456789013"  # 12345678901 % 7 == 3


@pytest.mark.parametrize(
    "text",
    [
        "123456789013",
        "1234-5678-9013",
        "1234 5678 9013",
        "  1234-5678-9013  ",
        "１２３４－５６７８－９０１３",  # full-width digits and hyphen
        "１２３４　５６７８　９０１３",  # ideographic spaces
        "1234ー5678ー9013",  # long vowel mark typed as a hyphen
        "1234ｰ5678ｰ9013",  # half-width long vowel mark
        "1234‐5678‐9013",  # U+2010 hyphen
        "1234−5678−9013",  # U+2212 minus
        "1234–5678–9013",  # en dash
        "1234—5678—9013",  # em dash
        "1234﹣5678﹣9013",  # small hyphen-minus
        "1234 - 5678 - 9013",
    ],
)
def test_normalize_keeps_only_the_digits(text: str) -> None:
    assert normalize_tracking_no(text) == VALID


@pytest.mark.parametrize(
    ("text", "stray"),
    [
        ("1234-5678-901A", "A"),
        ("RR123456785JP", "RJP"),
        ("1234_5678_9013", "_"),
        ("1234.5678.9013", "."),
        ("一二三四", "一二三四"),
    ],
)
def test_normalize_refuses_other_characters_and_names_them(text: str, stray: str) -> None:
    with pytest.raises(TrackingNumberError) as caught:
        normalize_tracking_no(text)
    message = str(caught.value)
    assert "数字以外の文字" in message
    assert f"（{stray}）" in message


@pytest.mark.parametrize("text", ["", "   ", "\u3000", "--", "ー"])
def test_normalize_refuses_empty_input(text: str) -> None:
    with pytest.raises(TrackingNumberError, match="入力されていません"):
        normalize_tracking_no(text)


def test_tracking_number_error_is_a_value_error() -> None:
    assert issubclass(TrackingNumberError, InputError)
    assert issubclass(TrackingNumberError, ValueError)


@pytest.mark.parametrize(
    ("digits", "ok"),
    [
        (VALID, True),
        ("123456789012", False),
        ("123456789014", False),
        ("000000000000", True),
        ("000000000070", True),  # 7 % 7 == 0
        ("999999999994", True),  # 99999999999 % 7 == 4
        ("999999999996", False),
        ("12345678901", None),  # the rule applies to 12 digits only
        ("1234567890123", None),
        ("", None),
    ],
)
def test_check_digit(digits: str, ok: bool | None) -> None:
    assert check_digit_ok(digits) is ok


def test_parse_accepts_a_good_number_without_warning() -> None:
    assert parse_tracking_no("1234-5678-9013") == TrackingNumber(VALID, None)


def test_parse_warns_but_accepts_a_wrong_check_digit() -> None:
    result = parse_tracking_no("1234-5678-9012")
    assert result.digits == "123456789012"
    assert result.warning is not None
    assert "チェックディジット" in result.warning
    assert "1234-5678-9012" in result.warning


@pytest.mark.parametrize("text", ["12345678901", "1234567890123"])
def test_parse_warns_when_not_twelve_digits(text: str) -> None:
    result = parse_tracking_no(text)
    assert result.digits == text
    assert result.warning is not None
    assert f"{len(text)}桁" in result.warning and "12桁" in result.warning


def test_parse_still_raises_for_letters() -> None:
    with pytest.raises(TrackingNumberError):
        parse_tracking_no("ABC")


@pytest.mark.parametrize(
    ("digits", "shown"),
    [(VALID, "1234-5678-9013"), ("12345678901", "12345678901")],
)
def test_display_groups_twelve_digits_as_on_the_receipt(digits: str, shown: str) -> None:
    assert format_tracking_no(digits) == shown
    assert TrackingNumber(digits).display == shown
