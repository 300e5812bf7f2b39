"""The tables the generator draws from: names, 熊本市 addresses, and how often each way of
writing a cell occurs. A :class:`Weighted` table is picked by relative weight; a plain tuple
is drawn from uniformly (``rng.choice``).
"""

from __future__ import annotations

from bisect import bisect
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import accumulate
from random import Random
from typing import Generic, Literal, TypeVar

from tracker.domain.codes import ReturnReason

_T = TypeVar("_T")


class Weighted(Generic[_T]):
    """Items with relative weights, picked with one ``random()`` and a bisect."""

    def __init__(self, pairs: Iterable[tuple[_T, float]]) -> None:
        items, weights = zip(*pairs, strict=True)
        self.items: tuple[_T, ...] = tuple(items)
        self.cumulative = tuple(accumulate(weights))
        self.total = self.cumulative[-1]

    def pick(self, rng: Random) -> _T:
        return self.items[bisect(self.cumulative, rng.random() * self.total)]


@dataclass(frozen=True)
class FamilyName:
    kanji: str
    kana: str
    #: 異体字 spellings (SPEC §6.2), e.g. 髙橋 for 高橋.
    variants: tuple[str, ...] = ()


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


def _family_names(table: str) -> Weighted[FamilyName]:
    pairs = []
    for entry in table.split():
        kanji, kana, weight, *variants = entry.split(":")
        spellings = tuple(variants[0].split("/")) if variants else ()
        pairs.append((FamilyName(kanji, kana, spellings), float(weight)))
    return Weighted(pairs)


FAMILY_NAMES = _family_names(_FAMILY_NAME_TABLE)
#: Share of households whose family name is written in a variant form, where one exists.
VARIANT_SHARE = 0.2

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


COHORT_STARTS: tuple[int, ...] = tuple(start for start, _, _ in _GIVEN_NAME_COHORTS)
GIVEN_NAMES: tuple[dict[str, tuple[tuple[str, str], ...]], ...] = tuple(
    {"M": _parse_names(male), "F": _parse_names(female)} for _, male, female in _GIVEN_NAME_COHORTS
)

# Foreign residents (technical interns, students, spouses): registered name and reading.
# Latin names are written as registered (family name first, upper case).
FOREIGN_NAMES: tuple[tuple[str, str, str, str], ...] = (
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
FOREIGN_SHARE = 0.02

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
class Ward:
    name: str
    location_code: str
    location_name: str
    towns: tuple[tuple[str, int], ...]


WARDS: Weighted[Ward] = Weighted(
    (
        Ward(
            ward,
            code,
            location,
            tuple((t, int(n)) for t, n in (e.split(":") for e in towns.split())),
        ),
        weight,
    )
    for ward, code, location, weight, towns in _WARD_TABLE
)
BUILDING_STEMS = (
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
BUILDING_WORDS = (
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
KANJI_DIGITS = "〇一二三四五六七八九"
FULL_WIDTH = str.maketrans("0123456789-", "０１２３４５６７８９－")

REASONS: Weighted[ReturnReason] = Weighted(
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
HOUSEHOLD_SIZES: Weighted[int] = Weighted([(1, 44), (2, 25), (3, 15), (4, 10), (5, 4), (6, 2)])
DateStyle = Literal["iso", "slash", "wareki", "short", "short0", "wareki_fw"]
DATE_STYLES: Weighted[DateStyle] = Weighted(
    [("iso", 35), ("slash", 20), ("wareki", 20), ("short", 15), ("short0", 7), ("wareki_fw", 3)]
)
KanaStyle = Literal["katakana", "hiragana", "half"]
KANA_STYLES: Weighted[KanaStyle] = Weighted([("katakana", 80), ("hiragana", 12), ("half", 8)])
NAME_SEPARATORS: Weighted[str] = Weighted([("\u3000", 55), (" ", 25), ("", 20)])
