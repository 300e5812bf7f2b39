"""Field rules for names as registered and unclaimed My Number cards (issue 14)."""

from __future__ import annotations

from datetime import date

import pytest

from tracker.domain.codes import ItemKind
from tracker.domain.kana import search_key
from tracker.domain.records import Checked, FieldError, check_item, check_name_kana

TODAY = date(2026, 11, 27)
RETURNED = date(2025, 3, 3)


def _item(**raw: str) -> tuple[object, Checked]:
    checked = Checked()
    base = {"name": "SMITH John", "birth_date": "1990-01-02"}
    return check_item(base | raw, TODAY, RETURNED, checked), checked


@pytest.mark.parametrize(
    "typed", ["SMITH John", "smith  john", "Ｓｍｉｔｈ　Ｊｏｈｎ", " SMITH\tJOHN "]
)
def test_latin_names_share_one_search_key_whatever_the_case_width_or_spacing(typed: str) -> None:
    assert search_key(typed) == "SMITHJOHN"


def test_kana_is_optional_and_still_must_be_kana_when_given() -> None:
    assert check_name_kana("") == ""
    assert check_name_kana("  ") == ""
    assert check_name_kana("ｽﾐｽ") == "スミス"
    with pytest.raises(FieldError, match="カタカナまたはひらがな"):
        check_name_kana("SMITH")


def test_an_item_without_kana_with_an_alias() -> None:
    item, checked = _item(alias="  須美寿 ジョン ")
    assert not checked.errors
    assert item is not None
    assert (item.name_kana, item.kana_key) == ("", "")  # type: ignore[attr-defined]
    assert item.alias == "須美寿 ジョン"  # type: ignore[attr-defined]
    assert item.alias_key == "須美寿ジョン"  # type: ignore[attr-defined]


def test_an_alias_holding_an_individual_number_is_refused() -> None:
    item, checked = _item(alias="1234 5678 9018")
    assert item is None
    assert "個人番号" in checked.errors["alias"]


def test_card_dates_for_an_unclaimed_card_in_wareki() -> None:
    item, checked = _item(
        item_kind="未受領のマイナンバーカード",
        first_notice_on="令和6年4月1日",
        renotice_on="R6.10.1",
        card_expires_on="R16.1.2",
    )
    assert not checked.errors
    assert item is not None
    assert item.kind is ItemKind.MYNUMBER_CARD  # type: ignore[attr-defined]
    assert (item.first_notice_on, item.renotice_on, item.card_expires_on) == (  # type: ignore[attr-defined]
        date(2024, 4, 1),
        date(2024, 10, 1),
        date(2034, 1, 2),
    )


@pytest.mark.parametrize(
    ("raw", "field", "words"),
    [
        (
            {"item_kind": "notification_card", "first_notice_on": "R6.4.1"},
            "first_notice_on",
            "のときだけ",
        ),
        ({"item_kind": "", "card_expires_on": "R16.1.2"}, "card_expires_on", "のときだけ"),
        (
            {"item_kind": "mynumber_card", "first_notice_on": "R6.10.1", "renotice_on": "R6.4.1"},
            "renotice_on",
            "より前",
        ),
        ({"item_kind": "mynumber_card", "renotice_on": "R9.1.1"}, "renotice_on", "未来"),
        (
            {"item_kind": "mynumber_card", "first_notice_on": "H27.12.31"},
            "first_notice_on",
            "交付開始",
        ),
        ({"item_kind": "mynumber_card", "card_expires_on": "2月30日"}, "card_expires_on", ""),
    ],
)
def test_bad_card_dates_are_refused_with_the_reason(
    raw: dict[str, str], field: str, words: str
) -> None:
    item, checked = _item(**raw)
    assert item is None
    assert words in checked.errors[field]


def test_an_unclaimed_card_cannot_have_come_back_before_cards_existed() -> None:
    checked = Checked()
    raw = {"name": "山田 太郎", "birth_date": "1990-01-02", "item_kind": "mynumber_card"}
    assert check_item(raw, TODAY, date(2015, 11, 1), checked) is None
    assert "平成28年1月" in checked.errors["item_kind"]
