"""Field rules shared by the intake form and the import: the individual-number guard covers the
household code too, and no refusal quotes an individual number back (SPEC §2, issue 10)."""

from __future__ import annotations

from datetime import date

import pytest

from tracker.domain.errors import InputError
from tracker.domain.mynumber import INDIVIDUAL_NUMBER_MESSAGE
from tracker.domain.records import (
    Checked,
    check_envelope,
    check_household_code,
    check_item,
    check_item_kind,
    check_name_kana,
    check_return_reason,
)
from tracker.domain.tracking import normalize_tracking_no

TODAY = date(2026, 11, 27)
FORMS = ["123456789018", "1234-5678-9018", "1234 5678 9018", "１２３４－５６７８－９０１８"]


@pytest.mark.parametrize("value", FORMS)
def test_an_individual_number_is_refused_as_a_household_code(value: str) -> None:
    with pytest.raises(InputError) as caught:
        check_household_code(value)
    assert str(caught.value) == INDIVIDUAL_NUMBER_MESSAGE


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        ("5001", "5001"),
        ("0012-3456", "00123456"),
        ("123456789012", "123456789012"),  # 12 digits, check digit wrong: not a card number
        ("123456789018123", "123456789018123"),  # a longer code is some other number
        ("", None),
    ],
)
def test_other_household_codes_are_kept_as_digits(value: str, stored: str | None) -> None:
    assert check_household_code(value) == stored


def test_the_envelope_check_names_the_household_column() -> None:
    checked = Checked()
    raw = {
        "tracking_no": "100000000011",
        "return_date": "H30.4.2",
        "return_reason": "TENKYO_FUMEI",
        "addressee": "山田 太郎",
        "address": "熊本市中央区1",
        "household_code": "1234-5678-9018",
    }
    assert check_envelope(raw, TODAY, checked) is None
    assert checked.errors == {"household_code": INDIVIDUAL_NUMBER_MESSAGE}


@pytest.mark.parametrize(
    "refuse",
    [
        lambda v: check_return_reason(f"理由{v}"),
        lambda v: check_item_kind(f"種別{v}", None),
        lambda v: check_household_code(f"A{v}"),
        lambda v: normalize_tracking_no(f"{v}X"),
    ],
)
@pytest.mark.parametrize("value", FORMS)
def test_refusals_quote_the_value_without_the_individual_number(refuse, value: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError) as caught:
        refuse(value)
    message = str(caught.value)
    for form in FORMS:
        assert form not in message
    assert "9018" not in message


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("ﾔﾏﾀﾞ ﾊﾅｺ", "ヤマダ ハナコ"),
        ("やまだ　はなこ", "ヤマダ　ハナコ"),
        ("ﾊﾟｸ･ｼﾞﾐﾝ", "パク・ジミン"),
        ("  ヤマダ ハナコ ", "ヤマダ ハナコ"),
    ],
)
def test_furigana_is_stored_as_full_width_katakana(typed: str, stored: str) -> None:
    assert check_name_kana(typed) == stored


def test_the_item_check_stores_katakana_and_keeps_the_search_key() -> None:
    checked = Checked()
    raw = {"name": "山田 花子", "name_kana": "ﾔﾏﾀﾞ ﾊﾅｺ", "birth_date": "S50.1.1"}
    item = check_item(raw, TODAY, date(2020, 1, 1), checked)
    assert item is not None, checked.errors
    assert (item.name_kana, item.kana_key) == ("ヤマダ ハナコ", "ヤマダハナコ")
