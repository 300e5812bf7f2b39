"""Search keys and kana helpers for Japanese names.

SPEC §6.2: names are stored exactly as given (外字, IVS and 𠮷 included); only the search key is
normalised, so that a clerk typing ``やまだ たろう`` or ``ﾔﾏﾀﾞ`` finds ``ヤマダ　タロウ`` and a
clerk typing ``高橋`` finds ``髙橋``.
"""

from __future__ import annotations

import re
import unicodedata

import jaconv

__all__ = [
    "SEARCH_FOLDS",
    "is_kana",
    "private_use_chars",
    "private_use_warning",
    "search_key",
    "to_katakana",
]

#: 異体字 folded to the everyday form, for search keys only (SPEC §6.2). Extend here.
SEARCH_FOLDS: dict[str, str] = {
    "髙": "高",  # U+9AD9 はしごだか
    "﨑": "崎",  # U+FA11 たつさき; a unified ideograph, so NFKC keeps it
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
_FOLD_TABLE = str.maketrans(SEARCH_FOLDS)

# Variation selectors (IVS U+E0100–E01EF, standard U+FE00–FE0F) pick a glyph, not a character:
# 葛 with or without an IVS is the same name to a person searching for it.
# Zero-width characters and the BOM are invisible, so a key must not depend on them.
_INVISIBLE = re.compile("[\ufe00-\ufe0f\U000e0100-\U000e01ef\u200b-\u200d\u2060\ufeff]")

# After NFKC: hiragana incl. ゝゞゟ, katakana incl. ヽヾヿ and the small katakana extension
# (ㇰ …). Marks that may stand beside them: ー, ・ and the (han)dakuten, which NFKC turns
# into combining characters when typed on their own.
_KANA_LETTER = re.compile("[\u3041-\u3096\u309d-\u309f\u30a1-\u30fa\u30fd-\u30ff\u31f0-\u31ff]")
_KANA_MARKS = "ー・\u3099\u309a\u309b\u309c"
# is_kana in one pass in C: kana letters, those marks and whitespace (``\s`` is exactly
# ``str.isspace`` for str patterns).
_KANA_ONLY = re.compile(
    "[\u3041-\u3096\u309d-\u309f\u30a1-\u30fa\u30fd-\u30ff\u31f0-\u31ff" + _KANA_MARKS + "\\s]*"
)
# What jaconv's hira2kata and h2z(kana=True) can change: hiragana and half-width kana. A text
# without them comes back unchanged, so the (pure-Python) conversion is skipped.
_CONVERTIBLE = re.compile("[\u3041-\u309f\uff61-\uff9f]")


def search_key(text: str) -> str:
    """The key two spellings of one name share (SPEC §6.2).

    NFKC (full-width Latin and digits, half-width kana, compatibility ideographs such as 神
    U+FA19 → 神 U+795E — acceptable here because the key is never shown), hiragana →
    katakana, every space removed (U+3000 too), 異体字 folded, Latin upper-cased.
    """
    key = unicodedata.normalize("NFKC", text)
    key = _INVISIBLE.sub("", key)
    if _CONVERTIBLE.search(key):
        key = jaconv.hira2kata(key)
    key = "".join(key.split())
    return key.translate(_FOLD_TABLE).upper()


def is_kana(text: str) -> bool:
    """True if `text` is a plausible フリガナ: kana, ー, ・ and spaces only, at least one kana.

    Hiragana and half-width kana count: the import accepts all three (SPEC §6.4).
    """
    normalised = unicodedata.normalize("NFKC", text)
    return bool(_KANA_ONLY.fullmatch(normalised) and _KANA_LETTER.search(normalised))


def to_katakana(text: str) -> str:
    """Hiragana and half-width kana → full-width katakana; every other character unchanged.

    A helper for showing a フリガナ in one script. It does not trim or change spaces, Latin
    letters or kanji; names themselves are always stored exactly as given (SPEC §6.2).
    """
    if not _CONVERTIBLE.search(text):
        return text  # already katakana (the common case): nothing to convert
    full_width = jaconv.h2z(text, kana=True, ascii=False, digit=False)
    return jaconv.hira2kata(full_width)


_PRIVATE_USE = re.compile("[\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd]")


def private_use_chars(text: str) -> list[str]:
    """The private-use characters (外字) in `text`, each once, in order of first appearance.

    SPEC §6.2 flags them on import: they show as something else, or nothing, on any machine
    but the one whose font defined them. Covers U+E000–F8FF and planes 15–16.
    """
    if not _PRIVATE_USE.search(text):
        return []  # the common case, answered in C
    found: dict[str, None] = {}
    for char in text:
        if unicodedata.category(char) == "Co":
            found[char] = None
    return list(found)


def private_use_warning(text: str) -> str | None:
    """A Japanese warning naming the 外字 code points in `text`, or None if there are none."""
    chars = private_use_chars(text)
    if not chars:
        return None
    points = "、".join(f"U+{ord(char):04X}" for char in chars)
    return (
        f"外字（私用領域の文字 {points}）が含まれています。"
        "他の端末や印刷では正しく表示されないおそれがあります"
    )
