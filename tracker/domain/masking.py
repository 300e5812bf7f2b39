"""What a disposal certificate may print of a person's name: the family name and ○○ (SPEC §5).

A certificate is kept for years and shown to auditors and courts; it proves which items were
destroyed, not whose they were, so the given name never reaches it. `mask_name` decides how
much of a name is the family name, and a certificate item holds nothing but its result.
"""

from __future__ import annotations

__all__ = ["MASK", "mask_name"]

#: Printed after the family name in place of the given name (U+25CB twice).
MASK = "○○"


def _is_variation_selector(char: str) -> bool:
    code = ord(char)
    return 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF


def mask_name(full_name: str) -> str:
    """The family name followed by ○○: ``髙橋 花子`` → ``髙橋○○``. Never any of the given name.

    Rule. Leading and trailing blanks are ignored. When the name has a blank inside (an ASCII
    space, U+3000 or any other Unicode space), the family name is everything before the first
    one: ``髙橋　花子`` → ``髙橋○○``, ``SMITH JOHN`` → ``SMITH○○`` (住民票 write foreign
    residents' names surname first). Without a blank the split is unknown, so we print fewer
    characters rather than risk the given name: the first character for names of up to four
    characters (``林美智子`` is 1 + 3, ``佐藤一`` 2 + 1, ``林太郎`` 1 + 2), the first two for
    longer ones (``佐藤由美子``, ``東海林太郎``; a four-character given name is rare enough). A
    character counts together with the variation selector that follows it (葛󠄀). An empty
    name gives just ○○.
    """
    name = full_name.strip()
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
