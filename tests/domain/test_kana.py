"""Search keys and kana helpers for names (SPEC §6.2)."""

import pytest

from tracker.domain.kana import (
    SEARCH_FOLDS,
    is_kana,
    private_use_chars,
    private_use_warning,
    search_key,
    to_katakana,
)

YOSHI = "\U00020bb7"  # 𠮷 (tsuchi-yoshi), outside the BMP
KATSU_IVS = "葛\U000e0100"  # 葛 with an ideographic variation selector


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        # hiragana, half-width and full-width katakana all meet
        ("やまだたろう", "ヤマダ　タロウ"),
        ("ﾔﾏﾀﾞ ﾀﾛｳ", "ヤマダ タロウ"),
        ("ﾊﾟｸ", "パク"),
        ("ゔぃおら", "ヴィオラ"),
        # spaces of every kind vanish
        ("山田太郎", "山田　太郎"),
        ("山田 太郎", "山田\t太郎"),
        # 異体字 (SPEC §6.2)
        ("高橋", "髙橋"),
        ("山崎", "山﨑"),
        ("渡辺", "渡邊"),
        ("渡辺", "渡邉"),
        ("斎藤", "齋藤"),
        ("斎藤", "齊藤"),
        ("沢田", "澤田"),
        ("浜田", "濱田"),
        ("広田", "廣田"),
        ("国井", "國井"),
        ("桜井", "櫻井"),
        # Latin, full-width or lower case
        ("SMITH JOHN", "ｓｍｉｔｈ　ｊｏｈｎ"),
        ("nguyen van an", "NGUYEN VAN AN"),
        # compatibility ideographs fold to the unified one (search keys only)
        ("神田", "\ufa19田"),
        # a glyph variant chosen by an IVS is the same name
        ("葛飾", f"{KATSU_IVS}飾"),
        # invisible characters a pasted value may carry
        ("山田", "\ufeff山\u200b田"),
    ],
)
def test_two_spellings_of_one_name_share_a_search_key(typed: str, stored: str) -> None:
    assert search_key(typed) == search_key(stored)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("やまだ　たろう", "ヤマダタロウ"),
        ("ﾔﾏﾀﾞ ﾀﾛｳ", "ヤマダタロウ"),
        ("髙﨑 邊邉 齋齊 澤濱廣國櫻", "高崎辺辺斎斎沢浜広国桜"),
        ("Smith, John", "SMITH,JOHN"),
        ("１２３", "123"),
        ("", ""),
    ],
)
def test_search_key_values(text: str, key: str) -> None:
    assert search_key(text) == key


def test_search_keys_keep_different_names_apart() -> None:
    assert search_key("高橋") != search_key("高崎")
    assert search_key("ヨシダ") != search_key("ヨシタ")  # dakuten matters
    assert search_key("ア") != search_key("ァ")  # small kana are not folded


def test_non_bmp_name_survives_in_search_key() -> None:
    assert search_key(f"{YOSHI}田 花子") == f"{YOSHI}田花子"
    assert search_key(f"{YOSHI}田") != search_key("吉田")  # not in the SPEC §6.2 fold table


def test_fold_table_holds_every_pair_named_in_the_spec() -> None:
    expected = {
        "髙": "高",
        "﨑": "崎",
        "邊": "辺",
        "邉": "辺",
        "齋": "斎",
        "齊": "斎",
        "澤": "沢",
        "濱": "浜",
        "廣": "広",
        "國": "国",
        "櫻": "桜",
    }
    assert expected.items() <= SEARCH_FOLDS.items()
    for variant, plain in SEARCH_FOLDS.items():
        assert len(variant) == 1 and len(plain) == 1  # str.translate maps single characters


@pytest.mark.parametrize(
    "text",
    [
        "ヤマダ タロウ",
        "やまだ　たろう",
        "ﾔﾏﾀﾞ ﾀﾛｳ",
        "スミス・ジョン",
        "サトー",
        "ヴィ",
        "ゝゞヽヾ",
        "ㇰㇱ",  # small katakana extension, used for Ainu names
    ],
)
def test_is_kana_accepts_plausible_furigana(text: str) -> None:
    assert is_kana(text)


@pytest.mark.parametrize(
    "text",
    ["山田 太郎", "ヤマダ 太郎", "YAMADA", "ヤマダ1", "ヤマダ.", "", "   ", "ー", "・", YOSHI],
)
def test_is_kana_refuses_anything_else(text: str) -> None:
    assert not is_kana(text)


@pytest.mark.parametrize(
    ("text", "katakana"),
    [
        ("やまだ たろう", "ヤマダ タロウ"),
        ("ﾔﾏﾀﾞ ﾀﾛｳ", "ヤマダ タロウ"),
        ("ﾊﾟｸ･ｼﾞﾐﾝ", "パク・ジミン"),
        ("ゔぁ", "ヴァ"),
        ("ヤマダ", "ヤマダ"),
        # everything that is not kana is left exactly as it was
        ("山田 ABC 123", "山田 ABC 123"),
        ("ｱ ＡＢＣ　１", "ア ＡＢＣ　１"),
        (f"{YOSHI}だ", f"{YOSHI}ダ"),
    ],
)
def test_to_katakana(text: str, katakana: str) -> None:
    assert to_katakana(text) == katakana


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("山田太郎", []),
        (f"{YOSHI}田", []),  # a real (non-BMP) character, not 外字
        ("\ue000", ["\ue000"]),
        ("\uf8ff", ["\uf8ff"]),
        ("山\ue001田\ue000\ue001", ["\ue001", "\ue000"]),
        ("\U000f0000 \U0010fffd", ["\U000f0000", "\U0010fffd"]),
        ("\udfff\ud800", []),  # lone surrogates are not private use
    ],
)
def test_private_use_chars_finds_gaiji(text: str, found: list[str]) -> None:
    assert private_use_chars(text) == found


def test_private_use_warning_names_the_code_points() -> None:
    assert private_use_warning("山田太郎") is None
    warning = private_use_warning("山\ue000田\U000f0001")
    assert warning is not None
    assert "外字" in warning
    assert "U+E000" in warning and "U+F0001" in warning
