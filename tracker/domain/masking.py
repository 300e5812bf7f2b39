"""How much of a person's name or address a screen or a document may show.

A disposal certificate prints the family name and ○○ (SPEC §5): it is kept for years and shown
to auditors and courts; it proves which items were destroyed, not whose they were, so the given
name never reaches it. `mask_name` decides how much of a name is the family name, and a
certificate item holds nothing but its result.

A list of search results shows an address down to the town (区 and 町名) and no further
(`mask_address`, issue 12): enough to tell two 山田花子 apart at the counter, without putting
every household's 番地 on one screen.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["MASK", "is_masked", "mask_address", "mask_name"]

#: Printed after the family name in place of the given name (U+25CB twice).
MASK = "○○"


def _is_variation_selector(char: str) -> bool:
    code = ord(char)
    return 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF


#: Characters a name in Latin letters may hold besides letters and blanks (O'BRIEN, ANNE-MARIE).
_LATIN_MARKS = "-'.,’‐"


def _is_latin_name(name: str) -> bool:
    """Letters of the Latin script (any width, accents too), blanks and _LATIN_MARKS only."""
    has_letter = False
    for char in name:
        if char.isspace() or char in _LATIN_MARKS:
            continue
        if not char.isalpha() or not unicodedata.name(char, "").startswith("LATIN"):
            return False
        has_letter = True
    return has_letter


def _mask_latin(name: str) -> str:
    """``SMITH John Paul`` → ``SMITH J. P.``: the family name, then the given names' initials.

    The family name is the one token written wholly in capitals when exactly one is (so
    ``John Paul SMITH`` → ``SMITH J. P.``); otherwise the first token, the order in which the
    住民票 registers a foreign resident's name (``SMITH John``, ``Smith John``).
    """
    tokens = [token.strip(",") for token in name.split()]
    tokens = [token for token in tokens if token]
    capitals = [
        i
        for i, token in enumerate(tokens)
        if sum(c.isalpha() for c in token) > 1 and token.upper() == token
    ]
    family = capitals[0] if len(capitals) == 1 else 0
    initials = [
        next((c for c in token if c.isalpha()), token[0]).upper() + "."
        for i, token in enumerate(tokens)
        if i != family
    ]
    return " ".join([tokens[family], *initials])


def mask_name(full_name: str) -> str:
    """The family name followed by ○○: ``髙橋 花子`` → ``髙橋○○``. Never any of the given name.

    Names in Latin letters (issue 14; NFKC, so full-width letters too) with a blank inside are
    masked as the family name and the initials of the other names: ``SMITH John Paul`` →
    ``SMITH J. P.`` (see `_mask_latin` for which token is the family name). Initials alone do
    not identify a person, and they tell apart two SMITHs on one certificate.

    Rule for every other name. Leading and trailing blanks are ignored. When the name has a
    blank inside (an ASCII space, U+3000 or any other Unicode space), the family name is
    everything before the first one: ``髙橋　花子`` → ``髙橋○○``, ``SMITH 花子`` →
    ``SMITH○○``. Without a blank the split is unknown, so we print fewer characters rather
    than risk the given name: the first character for names of up to four characters
    (``林美智子`` is 1 + 3, ``佐藤一`` 2 + 1, ``林太郎`` 1 + 2), the first two for
    longer ones (``佐藤由美子``, ``東海林太郎``; a four-character given name is rare enough). A
    character counts together with the variation selector that follows it (葛󠄀). An empty
    name gives just ○○.
    """
    name = full_name.strip()
    latin = unicodedata.normalize("NFKC", name)
    if _is_latin_name(latin) and len(latin.split()) > 1:
        return _mask_latin(latin)
    blank = next((i for i, char in enumerate(name) if char.isspace()), None)
    if blank is not None:
        return name[:blank] + MASK
    characters: list[str] = []
    for char in name:
        if characters and _is_variation_selector(char):
            characters[-1] += char
        else:
            characters.append(char)
    keep = 2 if len(characters) >= 5 else 1
    return "".join(characters[:keep]) + MASK


def is_masked(text: str) -> bool:
    """True for what `mask_name` gives: a family name and ○○ with no blank (``髙橋○○``), or a
    Latin family name and single Latin initials (``SMITH J. P.``). A full name is neither."""
    if text.endswith(MASK):
        return not any(char.isspace() for char in text)
    family, *initials = text.split(" ")
    return (
        bool(family)
        and _is_latin_name(family)
        and bool(initials)
        and all(
            len(initial) == 2 and initial[1] == "." and _is_latin_name(initial[0])
            for initial in initials
        )
    )


# A postal code in front of the address (〒860-0012), removed before anything else.
_POSTAL_CODE = re.compile(r"^\s*〒?\s*[0-9０-９]{3}[-－‐ー]?[0-9０-９]{4}\s*")
# Where the part below the town begins: the first digit (ASCII or full-width: 1-2-3, １番地),
# or kanji numerals that count 丁目, 番(地) or 号 (六丁目, 一番二号). A numeral inside a town
# name is not a number: 六本木, 三軒茶屋, and 番町 / 番丁 (千代田区三番町, 青葉区北二番丁).
_KANJI_NUMERAL = "〇一二三四五六七八九十百千"
_BELOW_TOWN = re.compile(rf"[0-9０-９]|[{_KANJI_NUMERAL}]+(?:丁目|番地|番(?![町丁])|号)")
# Separators left dangling where the number was cut off (手取本町 1-2 → 手取本町).
# ー only where a number was cut: a town name may end in the long vowel mark.
_TRAILING = " \t\u3000-－‐‑–—―,，、"


def mask_address(address: str) -> str:
    """The address down to the town name: ``熊本市中央区手取本町1-2-3`` → ``熊本市中央区手取本町``.

    Rule. A leading postal code is dropped; the address is cut where the first number below
    the town starts (a digit in any width, or kanji numerals followed by 丁目, 番, 番地 or 号),
    so 丁目, 番地, 号 and any building name or room after them never show
    (``水前寺六丁目18番1号`` → ``水前寺``, ``大字宮原1567`` → ``大字宮原``). Blanks and
    separators left at the end are trimmed. An address with no number is shown whole; one that
    starts with a number gives an empty string.
    """
    text = _POSTAL_CODE.sub("", address.strip())
    match = _BELOW_TOWN.search(text)
    if match is None:
        return text.rstrip(_TRAILING)
    return text[: match.start()].rstrip(_TRAILING + "ー")
