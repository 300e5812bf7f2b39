"""Embedded Japanese fonts for every PDF the tracker prints.

ReportLab's built-in CID fonts (HeiseiMin-W3, HeiseiKakuGo-W5) are never embedded: on a viewer
without Japanese fonts a certificate would show boxes. We register the IPAex TrueType fonts
instead; ReportLab embeds the subset of glyphs used (FontFile2) together with a ToUnicode map,
so the text stays extractable. Noto CJK does not work here (CFF outlines are refused by
ReportLab), see shared/ECOSYSTEM.md.

The files come from the Debian packages ``fonts-ipaexfont-gothic`` and
``fonts-ipaexfont-mincho`` (installed under ``opentype/`` although they are ``.ttf``), or from
a folder named by ``TRACKER_FONT_DIR`` (for hosts that ship the two files with the IPA Font
License instead). There is deliberately no fallback to the CID fonts.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

__all__ = [
    "FONT_DIR_ENV",
    "FontNames",
    "FontNotFoundError",
    "find_font_file",
    "locate_fonts",
    "register_fonts",
]

#: Environment variable naming an extra folder searched first for the font files.
FONT_DIR_ENV = "TRACKER_FONT_DIR"

GOTHIC = "IPAexGothic"
MINCHO = "IPAexMincho"


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


@dataclass(frozen=True)
class FontNames:
    """The registered font names to pass to ``canvas.setFont`` or a ParagraphStyle."""

    gothic: str  #: ゴシック体: labels, headings, numbers
    mincho: str  #: 明朝体: body text of receipts and certificates


class FontNotFoundError(RuntimeError):
    """A required font file is missing; the message says which package to install."""


_lock = threading.Lock()
_registered: FontNames | None = None


def register_fonts(environ: Mapping[str, str] | None = None) -> FontNames:
    """Register IPAexGothic and IPAexMincho with ReportLab (once per process).

    Safe to call from every builder and from several threads. Raises FontNotFoundError
    naming the Debian packages when a file cannot be found.
    """
    global _registered
    with _lock:
        if _registered is None:
            for name, path in locate_fonts(environ).items():
                # A TTFont is embedded as a subset of the glyphs used (FontFile2 + ToUnicode).
                pdfmetrics.registerFont(TTFont(name, str(path)))
            _registered = FontNames(gothic=GOTHIC, mincho=MINCHO)
        return _registered


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
    for font in _FONTS:
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
