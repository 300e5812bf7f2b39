"""Names on a disposal certificate: the family name and ○○, never the given name (SPEC §5)."""

import pytest

from tracker.domain.masking import mask_address, mask_name


@pytest.mark.parametrize(
    ("full_name", "masked"),
    [
        ("髙橋 花子", "髙橋○○"),
        ("髙橋\u3000花子", "髙橋○○"),
        ("  東海林 太郎 ", "東海林○○"),
        # Latin letters (issue 14): the family name and the given names' initials.
        ("SMITH JOHN", "SMITH J."),
        ("SMITH John Paul", "SMITH J. P."),
        ("John Paul SMITH", "SMITH J. P."),  # the one token in capitals is the family name
        ("Smith John", "Smith J."),  # none in capitals: registration order, family name first
        ("ＳＭＩＴＨ　Ｊｏｈｎ", "SMITH J."),  # full-width letters, NFKC
        ("O'BRIEN Anne-Marie", "O'BRIEN A."),
        ("NGUYEN VAN AN", "NGUYEN V. A."),
        ("SMITH, John", "SMITH J."),
        ("García López, José", "García L. J."),
        ("MADONNA", "MA○○"),  # no blank: the rule for any name without one
        ("SMITH 花子", "SMITH○○"),  # not Latin throughout: the family name and ○○
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


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("熊本市中央区手取本町1-2-3", "熊本市中央区手取本町"),
        ("熊本市中央区手取本町１－２－３", "熊本市中央区手取本町"),
        ("熊本市中央区手取本町 1-2 手取ハイツ101", "熊本市中央区手取本町"),
        ("熊本市中央区手取本町ー1", "熊本市中央区手取本町"),  # an IME's hyphen
        ("〒860-0012 熊本市中央区手取本町1-2", "熊本市中央区手取本町"),
        ("熊本県熊本市中央区水前寺六丁目18番1号", "熊本県熊本市中央区水前寺"),
        ("熊本市中央区手取本町一番二号", "熊本市中央区手取本町"),
        ("阿蘇郡小国町大字宮原1567番地", "阿蘇郡小国町大字宮原"),
        # numerals that belong to the town name stay
        ("港区六本木6-10-1", "港区六本木"),
        ("千代田区三番町5", "千代田区三番町"),
        ("仙台市青葉区北二番丁1-1", "仙台市青葉区北二番丁"),
        ("世田谷区三軒茶屋2-11", "世田谷区三軒茶屋"),
        ("京都市中京区河原町通三条上る恵比須町427", "京都市中京区河原町通三条上る恵比須町"),
        ("熊本市東区センター", "熊本市東区センター"),  # no number: shown whole
        ("1-2-3", ""),
        ("", ""),
    ],
)
def test_mask_address_keeps_the_ward_and_town_only(address: str, masked: str) -> None:
    assert mask_address(address) == masked


@pytest.mark.parametrize("address", ["熊本市中央区手取本町1-2-3 101号室", "水前寺六丁目18番1号"])
def test_mask_address_never_shows_a_block_number(address: str) -> None:
    shown = mask_address(address)
    assert not any(char.isdigit() for char in shown)
    assert "丁目" not in shown and "番" not in shown and "号" not in shown
