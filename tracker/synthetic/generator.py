"""Synthetic returned-mail rows for tests, demos and benchmarks (SPEC §6.4 import CSV).

Pure and deterministic: no Flask, no database, no clock. The same ``seed`` gives the same rows,
byte for byte, on the pinned Python (``random.Random`` with an integer seed is stable).
Nothing is real: names are drawn from tables of common names, house numbers are random, and no
free-text cell holds a digit run longer than four, so none can be an individual number (SPEC §2).

What it imitates, so that an importer meets what a Kumamoto office would feed it:

* one envelope per household (1–6 members, mostly 1–3), addressed to the household head
  (世帯主), who is the first row; the other rows are 妻/夫, 子, 父/母, 子の妻, 孫 with birth dates
  that make sense (parents older than children; the oldest born in 大正 or 明治);
* 熊本市 addresses (five wards, real town names, 丁目-番-号 written in three ways, some with a
  building and room, some in full-width digits);
* common family and given names by birth cohort with their readings, 異体字 spellings (髙橋,
  山﨑, 渡邊/渡邉, 齋藤, 𠮷田 …), a few foreign residents; フリガナ in katakana, hiragana or
  half-width kana, with a U+3000, an ASCII space or nothing between family and given name;
* every SPEC §6.1 date shape (``2018-04-01``, ``2018/4/1``, ``平成30年4月1日``, ``H30.4.1``,
  ``R02.03.31``, full-width digits), every return reason as code or label, item kinds that
  agree with the return date (通知カード before 2020-05-25, 個人番号通知書 from then);
* tracking numbers that are unique without remembering them (see :func:`tracking_number`),
  about 0.5 % with a wrong check digit, so that an import reports SPEC §6.3 warnings.

Rows are generated one household at a time, so memory does not grow with the row count.
The columns, in the order written, and their English or Japanese headers are the importer's own
table (:mod:`tracker.domain.import_columns`).

Command line (``scripts/gen-returns`` wraps it)::

    python -m tracker.synthetic N [--seed S] [--encoding utf-8|utf-8-sig|cp932]
                                  [--header en|ja] [--start DATE] [--end DATE] [--output FILE]
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
from bisect import bisect
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import accumulate
from random import Random
from typing import BinaryIO, Final, Generic, Literal, TypeVar

import jaconv

from tracker.domain.codes import RETURN_REASON_LABELS, ItemKind, ReturnReason
from tracker.domain.import_columns import COLUMN_NAMES as COLUMNS
from tracker.domain.import_columns import ENVELOPE_COLUMNS, JAPANESE_HEADERS
from tracker.domain.records import FIRST_MAILING, NOTICE_START
from tracker.domain.tracking import expected_check_digit
from tracker.domain.wareki import era_of, format_wareki, format_wareki_short

__all__ = [
    "COLUMNS",
    "ENVELOPE_COLUMNS",
    "JAPANESE_HEADERS",
    "MAX_ROWS",
    "format_date",
    "generate_rows",
    "household_code",
    "main",
    "tracking_number",
    "write_csv",
]

Encoding = Literal["utf-8", "utf-8-sig", "cp932"]
HeaderLanguage = Literal["en", "ja"]

# -- unique numbers without memory ---------------------------------------------------------------
#
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


# -- tables --------------------------------------------------------------------------------------

_T = TypeVar("_T")


class _Weighted(Generic[_T]):
    """Items with relative weights, picked with one ``random()`` and a bisect."""

    def __init__(self, pairs: Iterable[tuple[_T, float]]) -> None:
        items, weights = zip(*pairs, strict=True)
        self.items: tuple[_T, ...] = tuple(items)
        self.cumulative = tuple(accumulate(weights))
        self.total = self.cumulative[-1]

    def pick(self, rng: Random) -> _T:
        return self.items[bisect(self.cumulative, rng.random() * self.total)]


@dataclass(frozen=True)
class _FamilyName:
    kanji: str
    kana: str
    #: 異体字 spellings (SPEC §6.2), e.g. 髙橋 for 高橋.
    variants: tuple[str, ...] = ()


def _cp932_ok(text: str) -> bool:
    """Whether CP932 can hold `text` (𠮷 and IVS it cannot)."""
    try:
        text.encode("cp932")
    except UnicodeEncodeError:
        return False
    return True


# Common names nationally and in 熊本 (緒方, 古閑, 田上, 光永 …): "漢字:カナ:weight[:異体字/…]",
# weights roughly by frequency. 葛西's variant carries an IVS (U+E0100), so only outside CP932.
_FAMILY_NAME_TABLE = (
    "田中:タナカ:6 中村:ナカムラ:6 松本:マツモト:5 井上:イノウエ:5 村上:ムラカミ:4 "
    "坂本:サカモト:4 緒方:オガタ:4 宮本:ミヤモト:3 西村:ニシムラ:4 荒木:アラキ:3 山下:ヤマシタ:4 "
    "吉田:ヨシダ:5:𠮷田 吉永:ヨシナガ:2:𠮷永 林田:ハヤシダ:3 本田:ホンダ:3 上田:ウエダ:3 "
    "前田:マエダ:4 森:モリ:4 福田:フクダ:3 松永:マツナガ:2 永田:ナガタ:2 古閑:コガ:2 園田:ソノダ:2 "
    "米村:ヨネムラ:2 宮崎:ミヤザキ:3:宮﨑 西田:ニシダ:3 坂口:サカグチ:2 藤本:フジモト:3 "
    "野田:ノダ:2 "
    "村田:ムラタ:3 岩永:イワナガ:2 内田:ウチダ:3 田上:タノウエ:2 光永:ミツナガ:1 上村:ウエムラ:3 "
    "山口:ヤマグチ:4 山本:ヤマモト:5 佐藤:サトウ:5 鈴木:スズキ:3 高橋:タカハシ:4:髙橋 "
    "高木:タカギ:2:髙木 伊藤:イトウ:3 渡辺:ワタナベ:4:渡邊/渡邉 小林:コバヤシ:3 加藤:カトウ:2 "
    "山田:ヤマダ:4 佐々木:ササキ:2 山崎:ヤマサキ:3:山﨑 斎藤:サイトウ:3:齋藤/齊藤 清水:シミズ:2 "
    "池田:イケダ:3 橋本:ハシモト:3 石川:イシカワ:2 中島:ナカシマ:3 原田:ハラダ:3 小川:オガワ:2 "
    "岡本:オカモト:2 松田:マツダ:3 中野:ナカノ:2 藤田:フジタ:3 後藤:ゴトウ:2 岡田:オカダ:2 "
    "長谷川:ハセガワ:1 石井:イシイ:2 近藤:コンドウ:2 木村:キムラ:3 林:ハヤシ:3 清田:キヨタ:1 "
    "田尻:タジリ:1 浜田:ハマダ:2:濱田 中沢:ナカザワ:1:中澤 広瀬:ヒロセ:1:廣瀬 国武:クニタケ:1:國武 "
    "桜井:サクライ:1:櫻井 葛西:カサイ:1:葛\U000e0100西 渕上:フチガミ:1 今村:イマムラ:2 "
    "星野:ホシノ:1 "
    "東:ヒガシ:1 江藤:エトウ:1 福島:フクシマ:2 竹下:タケシタ:2 増田:マスダ:1 冨田:トミタ:1 "
    "森田:モリタ:2 岩下:イワシタ:1 松岡:マツオカ:1 北村:キタムラ:2 平野:ヒラノ:1 野口:ノグチ:2 "
    "宮川:ミヤガワ:1 浦田:ウラタ:1 甲斐:カイ:1 坂田:サカタ:1 岩田:イワタ:1"
)


def _family_names(table: str) -> _Weighted[_FamilyName]:
    pairs = []
    for entry in table.split():
        kanji, kana, weight, *variants = entry.split(":")
        spellings = tuple(variants[0].split("/")) if variants else ()
        pairs.append((_FamilyName(kanji, kana, spellings), float(weight)))
    return _Weighted(pairs)


_FAMILY_NAMES = _family_names(_FAMILY_NAME_TABLE)
#: Share of households whose family name is written in a variant form, where one exists.
_VARIANT_SHARE = 0.2

# Given names by the birth year of the cohort that favoured them: (first year, male, female).
# Each name is "kanji:カナ"; older women's names are often katakana (ハル).
_GIVEN_NAME_COHORTS: tuple[tuple[int, str, str], ...] = (
    (
        0,
        "正:タダシ 清:キヨシ 茂:シゲル 勇:イサム 実:ミノル 進:ススム 一郎:イチロウ 三郎:サブロウ "
        "正雄:マサオ 武:タケシ 義雄:ヨシオ 秀雄:ヒデオ 勝:マサル 金次郎:キンジロウ 利夫:トシオ",
        "ハル:ハル キヨ:キヨ ミツ:ミツ 千代:チヨ 文子:フミコ 和子:カズコ 幸子:サチコ 久子:ヒサコ "
        "静子:シズコ 節子:セツコ 芳子:ヨシコ 光子:ミツコ 八重子:ヤエコ ツル:ツル トミ:トミ",
    ),
    (
        1936,
        "和夫:カズオ 隆:タカシ 弘:ヒロシ 稔:ミノル 昭:アキラ 修:オサム 豊:ユタカ 博:ヒロシ "
        "健一:ケンイチ 幸雄:ユキオ 孝:タカシ 勝利:カツトシ 光男:ミツオ 勝也:カツヤ 哲夫:テツオ",
        "恵子:ケイコ 洋子:ヨウコ 京子:キョウコ 幸子:サチコ 和子:カズコ 悦子:エツコ 美智子:ミチコ "
        "久美子:クミコ 典子:ノリコ 順子:ジュンコ 弘子:ヒロコ 信子:ノブコ 敏子:トシコ 啓子:ケイコ",
    ),
    (
        1956,
        "誠:マコト 浩:ヒロシ 剛:ツヨシ 浩二:コウジ 哲也:テツヤ 直樹:ナオキ 秀樹:ヒデキ 聡:サトシ "
        "和也:カズヤ 学:マナブ 英樹:ヒデキ 博之:ヒロユキ 淳:ジュン 浩一:コウイチ 智:サトシ",
        "由美子:ユミコ 裕子:ユウコ 真由美:マユミ 明美:アケミ 智子:トモコ 直美:ナオミ 恵美:エミ "
        "美穂:ミホ 陽子:ヨウコ 純子:ジュンコ 理恵:リエ 香織:カオリ 恵:メグミ 由香:ユカ",
    ),
    (
        1976,
        "大輔:ダイスケ 拓也:タクヤ 健太:ケンタ 翔太:ショウタ 達也:タツヤ 直人:ナオト 亮:リョウ "
        "大樹:ダイキ 和樹:カズキ 翔:ショウ 健太郎:ケンタロウ 雄太:ユウタ 勇気:ユウキ 祐介:ユウスケ",
        "愛:アイ 彩:アヤ 舞:マイ 麻衣:マイ 千尋:チヒロ 沙織:サオリ 由佳:ユカ 彩香:アヤカ "
        "明日香:アスカ 真由:マユ 愛美:マナミ 瞳:ヒトミ 絵美:エミ 美香:ミカ 智美:トモミ",
    ),
    (
        1996,
        "大輝:ダイキ 拓海:タクミ 颯太:ソウタ 陸:リク 悠斗:ユウト 大翔:ヒロト 駿:シュン "
        "海斗:カイト 陽斗:ハルト 涼太:リョウタ 翔太:ショウタ 蓮:レン 優太:ユウタ 拓真:タクマ",
        "美咲:ミサキ 陽菜:ヒナ さくら:サクラ 葵:アオイ 結衣:ユイ 七海:ナナミ 美羽:ミウ "
        "彩乃:アヤノ 優奈:ユウナ 莉子:リコ 美優:ミユ 花音:カノン 遥:ハルカ 真央:マオ",
    ),
    (
        2011,
        "蓮:レン 陽翔:ハルト 湊:ミナト 蒼:アオイ 樹:イツキ 悠真:ユウマ 大和:ヤマト 朝陽:アサヒ "
        "陽太:ヒナタ 颯真:ソウマ 律:リツ 新:アラタ 悠人:ユウト 蒼空:ソラ 結翔:ユイト",
        "陽葵:ヒマリ 凛:リン 結菜:ユイナ 紬:ツムギ 芽依:メイ 結愛:ユア 杏:アン 澪:ミオ "
        "咲良:サクラ 心春:コハル 花:ハナ 詩:ウタ 莉子:リコ 葵:アオイ 陽菜:ヒナ",
    ),
)


def _parse_names(text: str) -> tuple[tuple[str, str], ...]:
    pairs = []
    for entry in text.split():
        kanji, kana = entry.split(":")
        pairs.append((kanji, kana))
    return tuple(pairs)


_COHORT_STARTS: tuple[int, ...] = tuple(start for start, _, _ in _GIVEN_NAME_COHORTS)
_GIVEN_NAMES: tuple[dict[str, tuple[tuple[str, str], ...]], ...] = tuple(
    {"M": _parse_names(male), "F": _parse_names(female)} for _, male, female in _GIVEN_NAME_COHORTS
)

# Foreign residents (technical interns, students, spouses): registered name and reading.
# Latin names are written as registered (family name first, upper case).
_FOREIGN_NAMES: tuple[tuple[str, str, str, str], ...] = (
    ("NGUYEN", "VAN NAM", "グエン", "バン　ナム"),
    ("NGUYEN", "THI HUONG", "グエン", "ティ　フオン"),
    ("TRAN", "THI HOA", "チャン", "ティ　ホア"),
    ("LE", "VAN DUNG", "レ", "バン　ズン"),
    ("PHAM", "THI LAN", "ファム", "ティ　ラン"),
    ("SANTOS", "MARIA CRISTINA", "サントス", "マリア　クリスティナ"),
    ("REYES", "JOSE", "レジェス", "ホセ"),
    ("SMITH", "JAMES", "スミス", "ジェームズ"),
    ("王", "芳", "オウ", "ホウ"),
    ("李", "明", "リ", "メイ"),
    ("陳", "建国", "チン", "ケンコク"),
    ("金", "美英", "キム", "ミヨン"),
)
_FOREIGN_SHARE = 0.02

# 熊本市 wards: (ward, location code, location name, weight ≈ population, towns). "town:N" has
# N 丁目; N = 0 is a rural 番地 address without 丁目. Location names as tracker.services.seed.
_WARD_TABLE: tuple[tuple[str, str, str, int, str], ...] = (
    (
        "中央区",
        "CHUO",
        "中央区役所1階 熊本市マイナンバーセンター",
        186,
        "水前寺:6 帯山:9 渡鹿:8 大江:6 九品寺:5 本荘:6 黒髪:7 京町:2 新町:4 坪井:6 出水:8 国府:4 "
        "神水:2 保田窪:5 新屋敷:3 白山:3 南熊本:5 下通:2 琴平:2 手取本町:0 八王寺町:0 萩原町:0",
    ),
    (
        "東区",
        "HIGASHI",
        "東区役所",
        190,
        "健軍:5 長嶺南:8 長嶺東:8 尾ノ上:4 新南部:6 月出:8 花立:6 若葉:6 佐土原:3 桜木:6 東町:4 "
        "沼山津:4 湖東:3 下南部:3 江津:2 御領:8 画図町:0 戸島町:0",
    ),
    (
        "西区",
        "NISHI",
        "西区役所",
        93,
        "島崎:7 上熊本:3 春日:7 田崎:3 池田:4 花園:7 小島:9 上代:9 二本木:5 横手:5 蓮台寺:5 "
        "城山下代:4 河内町船津:0 松尾町近津:0",
    ),
    (
        "南区",
        "MINAMI",
        "南区役所",
        127,
        "田井島:3 江越:2 近見:9 御幸笛田:8 良町:5 刈草:3 川尻:6 八幡:11 出仲間:9 南高江:7 "
        "田迎:6 馬渡:2 日吉:2 白藤:5 城南町隈庄:0 富合町清藤:0",
    ),
    (
        "北区",
        "KITA",
        "北区役所",
        144,
        "楠:8 武蔵ケ丘:9 龍田:9 八景水谷:4 麻生田:5 兎谷:3 高平:3 鶴羽田:4 徳王:2 清水亀井町:0 "
        "四方寄町:0 植木町岩野:0 打越町:0",
    ),
)


@dataclass(frozen=True)
class _Ward:
    name: str
    location_code: str
    location_name: str
    towns: tuple[tuple[str, int], ...]


_WARDS: _Weighted[_Ward] = _Weighted(
    (
        _Ward(
            ward,
            code,
            location,
            tuple((t, int(n)) for t, n in (e.split(":") for e in towns.split())),
        ),
        weight,
    )
    for ward, code, location, weight, towns in _WARD_TABLE
)
_BUILDING_STEMS = (
    "コーポ",
    "ハイツ",
    "メゾン",
    "パークハイツ",
    "サンハイム",
    "グランドール",
    "レジデンス",
    "エステート",
    "シャトー",
    "ヴィラ",
)
_BUILDING_WORDS = (
    "熊本",
    "江津湖",
    "さくら",
    "グリーン",
    "ひまわり",
    "白川",
    "銀杏",
    "肥後",
    "城東",
)
_KANJI_DIGITS = "〇一二三四五六七八九"
_FULL_WIDTH = str.maketrans("0123456789-", "０１２３４５６７８９－")

_REASONS: _Weighted[ReturnReason] = _Weighted(
    [
        (ReturnReason.HOKAN_KEIKA, 55),  # nobody home for the 7-day holding period
        (ReturnReason.ATESHO_NASHI, 20),
        (ReturnReason.TENKYO_FUMEI, 10),
        (ReturnReason.ATENA_FUKANZEN, 4),
        (ReturnReason.UKETORI_KYOZETSU, 4),
        (ReturnReason.OTHER, 7),
    ]
)
# Single-person households come back more often (students, workers who moved without notice).
_HOUSEHOLD_SIZES: _Weighted[int] = _Weighted([(1, 44), (2, 25), (3, 15), (4, 10), (5, 4), (6, 2)])
DateStyle = Literal["iso", "slash", "wareki", "short", "short0", "wareki_fw"]
_DATE_STYLES: _Weighted[DateStyle] = _Weighted(
    [("iso", 35), ("slash", 20), ("wareki", 20), ("short", 15), ("short0", 7), ("wareki_fw", 3)]
)
KanaStyle = Literal["katakana", "hiragana", "half"]
_KANA_STYLES: _Weighted[KanaStyle] = _Weighted([("katakana", 80), ("hiragana", 12), ("half", 8)])
_NAME_SEPARATORS: _Weighted[str] = _Weighted([("\u3000", 55), (" ", 25), ("", 20)])


def format_date(d: date, style: DateStyle) -> str:
    """`d` written the way `style` says; every style is one SPEC §6.1 accepts."""
    if style == "iso":
        return d.isoformat()
    if style == "slash":
        return f"{d.year}/{d.month}/{d.day}"
    if style == "wareki":
        return format_wareki(d)
    if style == "short":
        return format_wareki_short(d)
    if style == "short0":
        era = era_of(d)
        return f"{era.letter}{era.year_of(d):02}.{d.month:02}.{d.day:02}"
    return format_wareki(d).translate(_FULL_WIDTH)


def _kana(text: str, style: KanaStyle) -> str:
    if style == "hiragana":
        return str(jaconv.kata2hira(text))
    if style == "half":
        return str(jaconv.z2h(text.replace("\u3000", " "), kana=True, ascii=False, digit=False))
    return text


def _business_day(d: date, start: date, end: date) -> date:
    """The next weekday outside 年末年始 (12/29–1/3) within [start, end], else the previous."""

    def closed(day: date) -> bool:
        return (
            day.weekday() >= 5 or (day.month, day.day) >= (12, 29) or (day.month, day.day) <= (1, 3)
        )

    forward = d
    while closed(forward) and forward < end:
        forward += timedelta(days=1)
    if not closed(forward):
        return forward
    backward = d
    while closed(backward) and backward > start:
        backward -= timedelta(days=1)
    return backward if not closed(backward) else d


@dataclass(frozen=True)
class _Person:
    relationship: str
    gender: Literal["M", "F"]
    age: int


# -- the generator -------------------------------------------------------------------------------


class _Households:
    """Makes one household's rows at a time from one seeded random stream."""

    def __init__(self, seed: int, start: date, end: date, cp932_safe: bool) -> None:
        self.seed = seed
        self.rng = Random(seed)  # noqa: S311 - test data, not secrets
        self.start = start
        self.span = (end - start).days + 1
        self.end = end
        self.cp932_safe = cp932_safe

    def rows(self, index: int, size: int) -> list[dict[str, str]]:
        """The rows of household `index` (at most six: memory stays flat)."""
        rng = self.rng
        returned = _business_day(
            self.start + timedelta(days=rng.randrange(self.span)), self.start, self.end
        )
        kind = ItemKind.NUMBER_NOTICE if returned >= NOTICE_START else ItemKind.NOTIFICATION_CARD
        ward = _WARDS.pick(rng)
        envelope = {
            "tracking_no": self._tracking_no(index),
            "return_date": format_date(returned, _DATE_STYLES.pick(rng)),
            "return_reason": self._reason(),
            "address": self._address(ward.name, ward.towns),
            "household_code": household_code(self.seed, index) if rng.random() < 0.7 else "",
            "location": self._location(ward.location_code, ward.location_name),
            "slot": self._slot(returned) if rng.random() < 0.85 else "",
        }
        item_kind = self._item_kind(kind)
        birth_style = _DATE_STYLES.pick(rng)
        kana_style = _KANA_STYLES.pick(rng)
        separator = _NAME_SEPARATORS.pick(rng)
        if kana_style == "half":
            kana_separator = " "
        elif separator:
            kana_separator = separator
        else:
            kana_separator = "\u3000" if rng.random() < 0.6 else ""

        if size == 1 and rng.random() < _FOREIGN_SHARE:
            family, given, family_kana, given_kana = rng.choice(_FOREIGN_NAMES)
            name = f"{family} {given}" if family.isascii() else f"{family}{separator}{given}"
            kana = f"{family_kana}{kana_separator}{given_kana}"
            # Foreign names are read in katakana (never hiragana); half-width where the file is.
            if kana_style == "half":
                kana = _kana(kana, "half")
            born = returned - timedelta(days=rng.randrange(19 * 365, 40 * 365))
            envelope["addressee"] = name
            return [
                envelope
                | {
                    "name": name,
                    "name_kana": kana,
                    "birth_date": format_date(born, birth_style),
                    "relationship": "世帯主",
                    "item_kind": item_kind,
                }
            ]

        family_name = _FAMILY_NAMES.pick(rng)
        family = family_name.kanji
        if family_name.variants and rng.random() < _VARIANT_SHARE:
            variant = rng.choice(family_name.variants)
            # Draw first, substitute after: the CP932 file holds the same people as the UTF-8 one.
            if not (self.cp932_safe and not _cp932_ok(variant)):
                family = variant

        rows: list[dict[str, str]] = []
        used: set[str] = set()
        for person in self._members(size):
            born = self._birth_date(returned, person.age)
            given, given_kana = self._given_name(born.year, person.gender, used)
            rows.append(
                {
                    "name": f"{family}{separator}{given}",
                    "name_kana": _kana(
                        f"{family_name.kana}{kana_separator}{given_kana}", kana_style
                    ),
                    "birth_date": format_date(born, birth_style),
                    "relationship": person.relationship,
                    "item_kind": item_kind,
                }
            )
        envelope["addressee"] = rows[0]["name"]
        return [envelope | row for row in rows]

    def _tracking_no(self, index: int) -> str:
        rng = self.rng
        corrupt = rng.randint(1, 9) if rng.random() < 0.005 else 0
        digits = tracking_number(self.seed, index, corrupt=corrupt)
        style = rng.random()
        if style < 0.15:  # as printed on the label
            return f"{digits[:4]}-{digits[4:8]}-{digits[8:]}"
        if style < 0.17:  # typed with a Japanese IME in full-width mode
            return digits.translate(_FULL_WIDTH)
        return digits

    def _reason(self) -> str:
        reason = _REASONS.pick(self.rng)
        return reason.value if self.rng.random() < 0.6 else RETURN_REASON_LABELS[reason]

    def _item_kind(self, kind: ItemKind) -> str:
        roll = self.rng.random()
        if kind is ItemKind.NOTIFICATION_CARD:
            return "" if roll < 0.2 else ("通知カード" if roll < 0.4 else kind.value)
        return "個人番号通知書" if roll < 0.3 else kind.value

    def _location(self, code: str, name: str) -> str:
        roll = self.rng.random()
        if roll < 0.75:
            return ""  # the default location
        return code if roll < 0.87 else name

    def _slot(self, returned: date) -> str:
        era = era_of(returned)
        box = self.rng.randint(1, 60)
        return f"{era.letter}{era.year_of(returned):02}-{returned.month:02}-B{box:03}"

    def _address(self, ward: str, towns: tuple[tuple[str, int], ...]) -> str:
        rng = self.rng
        town, chome_count = rng.choice(towns)
        prefix = "熊本県熊本市" if rng.random() < 0.3 else "熊本市"
        if chome_count:
            chome = rng.randint(1, chome_count)
            ban, go = rng.randint(1, 40), rng.randint(1, 30)
            style = rng.random()
            if style < 0.6:
                street = f"{chome}丁目{ban}-{go}"
            elif style < 0.8:
                street = f"{_KANJI_DIGITS[chome] if chome < 10 else chome}丁目{ban}番{go}号"
            else:
                street = f"{chome}-{ban}-{go}"
        else:
            banchi = rng.randint(1, 3999)
            street = f"{banchi}-{rng.randint(1, 12)}" if rng.random() < 0.4 else f"{banchi}"
        address = f"{prefix}{ward}{town}{street}"
        if rng.random() < 0.3:
            # Buildings are often named after their area (コーポ健軍), else after something nice.
            area = town if len(town) <= 3 and rng.random() < 0.6 else rng.choice(_BUILDING_WORDS)
            building = rng.choice(_BUILDING_STEMS) + area
            if rng.random() < 0.3:
                building += f"{'ABC'[rng.randrange(3)]}棟"
            room = f"{rng.randint(1, 12)}{rng.randint(1, 12):02}"
            address += (
                rng.choice(("\u3000", " ", ""))
                + building
                + rng.choice(("\u3000", " "))
                + room
                + ("号室" if rng.random() < 0.5 else "")
            )
        if rng.random() < 0.15:
            address = address.translate(_FULL_WIDTH)
        return address

    def _members(self, size: int) -> list[_Person]:
        """Who lives in the household: the head first, then spouse, parents, children."""
        rng = self.rng
        if size == 1:
            head_male = rng.random() < 0.55
            head_age = int(rng.triangular(18, 96, 24))
        else:
            head_male = rng.random() < 0.8
            head_age = int(rng.triangular(24, 92, 44))
        head: Literal["M", "F"] = "M" if head_male else "F"
        other: Literal["M", "F"] = "F" if head_male else "M"
        people = [_Person("世帯主", head, head_age)]
        rest = size - 1
        # Children's ages follow from the mother's where there is one, else the head's.
        mother_age = head_age
        if rest and rng.random() < 0.85:
            spouse_age = min(100, max(18, head_age + rng.randint(-6, 3 if head_male else 8)))
            people.append(_Person("妻" if head_male else "夫", other, spouse_age))
            mother_age = spouse_age if head_male else head_age
            rest -= 1
        if rest and head_age <= 62 and rng.random() < (0.12 if rest == 1 else 0.3):
            grandmother_age = head_age + rng.randint(22, 36)
            people.append(_Person("母", "F", grandmother_age))
            rest -= 1
            if rest and rng.random() < 0.4:
                people.append(_Person("父", "M", min(100, grandmother_age + rng.randint(0, 5))))
                rest -= 1
        if rest >= 2 and mother_age >= 56 and rng.random() < 0.5:
            # Three generations: an adult son, his wife and their children.
            son_age = mother_age - rng.randint(22, 34)
            people.append(_Person("子", "M", son_age))
            people.append(_Person("子の妻", "F", max(18, son_age + rng.randint(-4, 3))))
            rest -= 2
            for _ in range(rest):
                gap = rng.randint(22, 40)
                age = son_age - gap if son_age - gap >= 0 else rng.randint(0, max(0, son_age - 22))
                people.append(_Person("孫", "M" if rng.random() < 0.5 else "F", age))
            return people
        for _ in range(rest):
            gap = rng.randint(20, 40)
            age = mother_age - gap if mother_age >= gap else rng.randint(0, max(0, mother_age - 20))
            people.append(_Person("子", "M" if rng.random() < 0.5 else "F", age))
        return people

    def _birth_date(self, returned: date, age: int) -> date:
        """A birthday that makes the person `age` on the return date (a newborn: weeks old)."""
        if age <= 0:
            return returned - timedelta(days=self.rng.randint(21, 364))
        return returned - timedelta(days=age * 365 + age // 4 + self.rng.randint(0, 364))

    def _given_name(
        self, birth_year: int, gender: Literal["M", "F"], used: set[str]
    ) -> tuple[str, str]:
        names = _GIVEN_NAMES[bisect(_COHORT_STARTS, birth_year) - 1][gender]
        for _ in range(20):
            given, kana = self.rng.choice(names)
            if given not in used:
                break
        # Two members with one given name would read as one person twice (the import refuses
        # that); 20 draws from 15 names practically always find a free one.
        used.add(given)
        return given, kana


def generate_rows(
    n_rows: int,
    seed: int,
    *,
    start: date = date(2016, 1, 1),
    end: date = date(2021, 12, 31),
    cp932_safe: bool = False,
) -> Iterator[dict[str, str]]:
    """Exactly `n_rows` SPEC §6.4 rows (English keys, :data:`COLUMNS`), lazily.

    A household's rows are consecutive and share the envelope columns; the last household is
    cut short if needed to hit `n_rows`. Return dates lie in [`start`, `end`] on weekdays.
    `cp932_safe` replaces the few spellings CP932 cannot hold (𠮷, IVS) by their plain forms;
    everything else is identical, so the same seed gives the same people in both encodings.
    """
    if n_rows < 0:
        raise ValueError("n_rows must not be negative")
    if n_rows > MAX_ROWS:
        raise ValueError(f"at most {MAX_ROWS:,} rows per seed (tracking numbers would repeat)")
    if start > end:
        raise ValueError(f"start {start.isoformat()} is after end {end.isoformat()}")
    if start < FIRST_MAILING:
        raise ValueError(
            f"start {start.isoformat()} is before the first mailing ({FIRST_MAILING.isoformat()})"
        )
    # Checked above, eagerly; the rows themselves come lazily from the generator below.
    return _generate(n_rows, _Households(seed, start, end, cp932_safe))


def _generate(n_rows: int, households: _Households) -> Iterator[dict[str, str]]:
    remaining = n_rows
    index = 0
    while remaining > 0:
        size = min(_HOUSEHOLD_SIZES.pick(households.rng), remaining)
        rows = households.rows(index, size)
        yield from rows
        remaining -= len(rows)
        index += 1


def write_csv(
    target: str | os.PathLike[str] | BinaryIO,
    rows: Iterable[Mapping[str, str]],
    *,
    encoding: Encoding = "utf-8",
    header: HeaderLanguage = "en",
) -> int:
    """Write a header row and `rows` as CSV, CRLF like Excel; returns the number of rows.

    `target` is a path or a binary stream (``sys.stdout.buffer``, ``io.BytesIO``), left open.
    Encoding is strict: a character the encoding cannot hold raises UnicodeEncodeError (for
    CP932 generate with ``cp932_safe=True``).
    """
    names = COLUMNS if header == "en" else tuple(JAPANESE_HEADERS[c] for c in COLUMNS)
    if isinstance(target, str | os.PathLike):
        with open(target, "w", encoding=encoding, errors="strict", newline="") as stream:
            return _write(stream, names, rows)
    wrapper = io.TextIOWrapper(target, encoding=encoding, errors="strict", newline="")
    try:
        return _write(wrapper, names, rows)
    finally:
        wrapper.flush()
        wrapper.detach()


def _write(
    stream: io.TextIOBase | io.TextIOWrapper,
    names: Sequence[str],
    rows: Iterable[Mapping[str, str]],
) -> int:
    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerow(names)
    count = 0
    for row in rows:
        writer.writerow([row[column] for column in COLUMNS])
        count += 1
    return count


def _progress(rows: Iterator[dict[str, str]], every: int = 100_000) -> Iterator[dict[str, str]]:
    for count, row in enumerate(rows, start=1):
        yield row
        if count % every == 0:
            print(f"{count:,} rows", file=sys.stderr, flush=True)


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date (YYYY-MM-DD): {text!r}") from None


def _row_count(text: str) -> int:
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of rows: {text!r}") from None
    if not 0 <= value <= MAX_ROWS:
        raise argparse.ArgumentTypeError(f"rows must be 0…{MAX_ROWS:,}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m tracker.synthetic N …``: write N synthetic rows as CSV (stdout by default)."""
    parser = argparse.ArgumentParser(
        prog="gen-returns",
        description="Write N synthetic returned-mail rows as a SPEC §6.4 import CSV.",
    )
    parser.add_argument("rows", type=_row_count, help="number of item rows (not households)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--encoding", choices=("utf-8", "utf-8-sig", "cp932"), default="utf-8")
    parser.add_argument("--header", choices=("en", "ja"), default="en")
    parser.add_argument(
        "--start", type=_iso_date, default=date(2016, 1, 1), help="first return date"
    )
    parser.add_argument(
        "--end", type=_iso_date, default=date(2021, 12, 31), help="last return date"
    )
    parser.add_argument("--output", "-o", help="file to write (default: stdout)")
    args = parser.parse_args(argv)
    try:
        rows = generate_rows(
            args.rows,
            args.seed,
            start=args.start,
            end=args.end,
            cp932_safe=args.encoding == "cp932",
        )
    except ValueError as error:
        parser.error(str(error))
    try:
        if args.output:
            count = write_csv(
                args.output, _progress(rows), encoding=args.encoding, header=args.header
            )
            print(f"wrote {count:,} rows to {args.output}", file=sys.stderr)
        else:
            write_csv(sys.stdout.buffer, rows, encoding=args.encoding, header=args.header)
            sys.stdout.flush()
    except BrokenPipeError:
        # `gen-returns 1000 | head`: the reader left; say nothing more, like other Unix tools.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
