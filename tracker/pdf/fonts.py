"""Embedded Japanese fonts for every PDF the tracker prints.

ReportLab's built-in CID fonts (HeiseiMin-W3, HeiseiKakuGo-W5) are never embedded: on a viewer
without Japanese fonts a certificate would show boxes. We register the IPAex TrueType fonts
instead; ReportLab embeds the subset of glyphs used (FontFile2) together with a ToUnicode map,
so the text stays extractable. Noto CJK cannot take their place: its outlines are CFF, and
ReportLab's TTFont refuses them ("postscript outlines are not supported").

The files come from the Debian packages ``fonts-ipaexfont-gothic`` and
``fonts-ipaexfont-mincho`` (installed under ``opentype/`` although they are ``.ttf``), or from
a folder named by ``TRACKER_FONT_DIR`` (for hosts that ship the two files with the IPA Font
License instead). There is deliberately no fallback to the CID fonts.

Names outside IPAex. IPAex covers JIS X 0213 (about 12,000 characters) but not every character
of the 住民基本台帳: 𠮷 (U+20BB7) and many other CJK Extension B ideographs are missing, and
ReportLab silently draws nothing for a character the font lacks. IPAmj明朝 (Debian
``fonts-ipamj-mincho``, ~58,000 glyphs, made by IPA for 行政 use, TrueType outlines, IPA Font
License) covers them, so when it is installed it is registered as a fallback font and
`text_runs` / `paragraph_markup` split a string into runs drawn with IPAex where IPAex has the
glyph and with IPAmj明朝 elsewhere. A character neither font has is printed as 〓 (the usual
mark for a missing 外字) rather than as nothing. Ideographic variation selectors are dropped:
ReportLab draws each code point on its own, so the base character is printed.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.pdfbase import pdfmetrics, ttfonts
from reportlab.pdfbase.ttfonts import TTFont

__all__ = [
    "FALLBACK_MINCHO",
    "FONT_DIR_ENV",
    "MISSING_GLYPH",
    "MONO",
    "FontNames",
    "FontNotFoundError",
    "FontStatus",
    "covers",
    "find_font_file",
    "font_inventory",
    "locate_fonts",
    "paragraph_markup",
    "register_fallback_font",
    "register_fonts",
    "register_mono_font",
    "text_runs",
]

#: Environment variable naming an extra folder searched first for the font files.
FONT_DIR_ENV = "TRACKER_FONT_DIR"

GOTHIC = "IPAexGothic"
MINCHO = "IPAexMincho"
#: IPAmj明朝: drawn only for the characters IPAex lacks (see the module docstring).
FALLBACK_MINCHO = "IPAmjMincho"
#: DejaVu Sans Mono: the certificate's audit-chain hash, so that its 64 digits line up and
#: read one by one.
MONO = "DejaVuSansMono"
#: Printed in place of a character no registered font can draw (げた記号).
MISSING_GLYPH = "\u3013"


@dataclass(frozen=True)
class _FontFile:
    name: str  #: ReportLab font name, used with canvas.setFont
    filename: str
    debian_package: str
    system_dirs: tuple[str, ...]


_FONTS = (
    _FontFile(
        GOTHIC,
        "ipaexg.ttf",
        "fonts-ipaexfont-gothic",
        (
            "/usr/share/fonts/opentype/ipaexfont-gothic",  # Debian / Ubuntu
            "/usr/share/fonts/truetype/ipaexfont-gothic",
            "/usr/share/fonts/ipaexfont-gothic",
        ),
    ),
    _FontFile(
        MINCHO,
        "ipaexm.ttf",
        "fonts-ipaexfont-mincho",
        (
            "/usr/share/fonts/opentype/ipaexfont-mincho",
            "/usr/share/fonts/truetype/ipaexfont-mincho",
            "/usr/share/fonts/ipaexfont-mincho",
        ),
    ),
)


_FALLBACK = _FontFile(
    FALLBACK_MINCHO,
    "ipamjm.ttf",
    "fonts-ipamj-mincho",
    (
        "/usr/share/fonts/truetype/ipamj",  # Debian / Ubuntu
        "/usr/share/fonts/opentype/ipamj",
        "/usr/share/fonts/ipamj",
    ),
)

_MONO = _FontFile(
    MONO,
    "DejaVuSansMono.ttf",
    "fonts-dejavu-core",  # pulled in by fontconfig, so present on nearly every host
    ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu"),
)


@dataclass(frozen=True)
class FontNames:
    """The registered font names to pass to ``canvas.setFont`` or a ParagraphStyle."""

    gothic: str  #: ゴシック体: labels, headings, numbers
    mincho: str  #: 明朝体: body text of receipts and certificates


class FontNotFoundError(RuntimeError):
    """A required font file is missing; the message says which package to install."""


_lock = threading.Lock()
_registered: FontNames | None = None
#: The optional fonts looked for so far: name → the name, or None when not installed.
_optional: dict[str, str | None] = {}
_to_unicode_fixed = False


def register_fonts(environ: Mapping[str, str] | None = None) -> FontNames:
    """Register IPAexGothic and IPAexMincho with ReportLab (once per process).

    Safe to call from every builder and from several threads. Raises FontNotFoundError
    naming the Debian packages when a file cannot be found.
    """
    global _registered
    with _lock:
        if _registered is None:
            _fix_to_unicode_for_astral_characters()
            for name, path in locate_fonts(environ).items():
                # A TTFont is embedded as a subset of the glyphs used (FontFile2 + ToUnicode).
                pdfmetrics.registerFont(TTFont(name, str(path)))
            _registered = FontNames(gothic=GOTHIC, mincho=MINCHO)
        return _registered


def register_fallback_font(environ: Mapping[str, str] | None = None) -> str | None:
    """Register IPAmj明朝 as the fallback for characters IPAex lacks; its name, or None.

    Optional on purpose: without ``fonts-ipamj-mincho`` every document still prints, and
    the few characters IPAex lacks come out as 〓 (see `text_runs`). Checked once per process.
    """
    register_fonts(environ)
    # ~45 MB file, read once; only the glyphs used are embedded (a few KB).
    return _register_optional(_FALLBACK, environ)


def register_mono_font(environ: Mapping[str, str] | None = None) -> str | None:
    """Register DejaVu Sans Mono for the hash; its name, or None when it is not installed.

    Looked for in the folder named by ``TRACKER_FONT_DIR``, then where Debian's
    ``fonts-dejavu-core`` puts it. Optional like IPAmj明朝: without it the certificate prints
    the hash in IPAexGothic (proportional, still embedded and extractable). Checked once per
    process.
    """
    return _register_optional(_MONO, environ)


def _register_optional(font: _FontFile, environ: Mapping[str, str] | None) -> str | None:
    with _lock:
        if font.name not in _optional:
            path = find_font_file(font.filename, environ)
            if path is not None:
                pdfmetrics.registerFont(TTFont(font.name, str(path)))
            _optional[font.name] = None if path is None else font.name
        return _optional[font.name]


def covers(font_name: str, char: str) -> bool:
    """True when the registered TrueType font `font_name` has a glyph for `char`."""
    return ord(char) in pdfmetrics.getFont(font_name).face.charToGlyph


def _is_variation_selector(code: int) -> bool:
    return 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF


def text_runs(text: str, primary: str, fallback: str | None = None) -> list[tuple[str, str]]:
    """`text` cut into ``(font name, chunk)`` runs: `primary` wherever it has the glyph,
    else `fallback` when that has it, else `MISSING_GLYPH` in `primary`.

    Variation selectors are dropped (ReportLab cannot apply them). Adjacent characters in
    the same font form one run, so a name in IPAex throughout is a single run.
    """
    runs: list[tuple[str, str]] = []
    for char in text:
        code = ord(char)
        if _is_variation_selector(code):
            continue
        if covers(primary, char):
            font = primary
        elif fallback is not None and covers(fallback, char):
            font = fallback
        else:
            font, char = primary, MISSING_GLYPH
        if runs and runs[-1][0] == font:
            runs[-1] = (font, runs[-1][1] + char)
        else:
            runs.append((font, char))
    return runs


def paragraph_markup(text: str, primary: str, fallback: str | None = None) -> str:
    """`text` escaped as platypus Paragraph markup, for a style whose font is `primary`:
    runs the fallback font draws are wrapped in ``<font name=…>``. Text stays extractable.
    """
    return "".join(
        escape(chunk) if font == primary else f'<font name="{font}">{escape(chunk)}</font>'
        for font, chunk in text_runs(text, primary, fallback)
    )


def _fix_to_unicode_for_astral_characters() -> None:
    """Make ReportLab's ToUnicode maps right for characters beyond U+FFFF (𠮷, 𠀋 …).

    ReportLab writes each code point as ``<%04X>``, which for U+20BB7 gives the odd-length
    ``<20BB7>``: viewers and pypdf then drop or garble the character when text is copied or
    searched. The PDF reference wants UTF-16BE, i.e. the surrogate pair ``<D842DFB7>``.
    The map is otherwise written exactly as ReportLab writes it, so PDFs whose characters all
    lie in the BMP (every PDF before this fix) keep their bytes. Called under `_lock`.
    """
    global _to_unicode_fixed
    if _to_unicode_fixed:
        return
    original = ttfonts.makeToUnicodeCMap

    def make_to_unicode_cmap(fontname: str, subset: Sequence[int]) -> str:
        cmap: str = original(fontname, subset)
        for code in subset:
            if code > 0xFFFF:
                utf16 = chr(code).encode("utf-16-be").hex().upper()
                cmap = cmap.replace(f"> <{code:04X}>\n", f"> <{utf16}>\n", 1)
        return cmap

    ttfonts.makeToUnicodeCMap = make_to_unicode_cmap
    _to_unicode_fixed = True


def locate_fonts(environ: Mapping[str, str] | None = None) -> dict[str, Path]:
    """The file of each font, by ReportLab name; FontNotFoundError if one is missing."""
    found: dict[str, Path] = {}
    for font in _FONTS:
        path = find_font_file(font.filename, environ)
        if path is None:
            raise FontNotFoundError(_missing_message(font, environ))
        found[font.name] = path
    return found


def find_font_file(filename: str, environ: Mapping[str, str] | None = None) -> Path | None:
    """The first existing candidate path for `filename`, or None."""
    for directory in _candidate_dirs(filename, environ):
        path = directory / filename
        if path.is_file():
            return path
    return None


def _candidate_dirs(filename: str, environ: Mapping[str, str] | None) -> Sequence[Path]:
    env = os.environ if environ is None else environ
    dirs: list[Path] = []
    if custom := env.get(FONT_DIR_ENV):
        dirs.append(Path(custom))
    for font in (*_FONTS, _FALLBACK, _MONO):
        if font.filename == filename:
            dirs.extend(Path(d) for d in font.system_dirs)
    return dirs


def _missing_message(font: _FontFile, environ: Mapping[str, str] | None) -> str:
    searched = ", ".join(str(d / font.filename) for d in _candidate_dirs(font.filename, environ))
    packages = " ".join(f.debian_package for f in _FONTS)
    return (
        f"Font {font.name} ({font.filename}) not found; searched: {searched}. "
        f"Install the Debian packages: apt-get install {packages} "
        f"(or put {font.filename} in the folder named by {FONT_DIR_ENV})."
    )


@dataclass(frozen=True)
class FontStatus:
    """One font file as ``tracker doctor`` reports it."""

    name: str
    path: Path | None
    debian_package: str
    required: bool


def font_inventory(environ: Mapping[str, str] | None = None) -> list[FontStatus]:
    """Every font the PDFs use, where it was found (or None), and whether PDFs need it."""
    return [
        FontStatus(font.name, find_font_file(font.filename, environ), font.debian_package, required)
        for font, required in (*((f, True) for f in _FONTS), (_FALLBACK, False), (_MONO, False))
    ]
