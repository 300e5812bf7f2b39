"""お知らせ (notice letters, issue 15): A4, one letter per page, for a 長3 window envelope.

Drawn straight onto the canvas page by page from an iterator, so that a mailing of 10,000
letters never holds a platypus story or the letters themselves. ReportLab keeps every page
object until ``save``; each page's content is deflated as soon as it is drawn, so what stays
is a few KB a page; ``save`` then formats the whole file in memory (figures in
docs/notices.md).

Layout (A4 210 × 297 mm, folded in three 99 mm panels, address panel outwards):

- address block (the 長3 window, 90 × 45 mm at 23 mm from the left and 13 mm from the top
  of a typical envelope; with the letter's top edge a few millimetres lower in the envelope
  it sits at **20 mm from the left, 45–85 mm from the top of the page**, width 90 mm):
  〒 and postal code if the address starts with one, the address, and the name with 様;
- top right: the date of sending in 和暦, the sender (municipality and office);
- below the first fold (105 mm from the top): the title, then the body from the template;
- bottom right, small: the control number and the batch number (for the office).
"""

from __future__ import annotations

import io
import math
import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import IO

from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase.pdfdoc import PDFArray, PDFDictionary, PDFName, PDFStream
from reportlab.platypus import Paragraph

from tracker.domain.wareki import format_wareki
from tracker.pdf.fonts import paragraph_markup, register_fallback_font, register_fonts
from tracker.pdf.layout import MM, new_canvas

__all__ = ["ADDRESS_BLOCK", "LetterPage", "LetterTooLong", "lines_over", "render_letters"]

PAGE_WIDTH, PAGE_HEIGHT = A4
#: (left, top, width, height) of the address block in mm from the page's top-left corner.
ADDRESS_BLOCK = (20.0, 45.0, 90.0, 40.0)
TITLE_TOP = 105.0
BODY_LEFT = 20.0
BODY_WIDTH = 170.0
BODY_BOTTOM = 22.0

_POSTAL = re.compile(r"^\s*〒?\s*(\d{3})-?(\d{4})\s*")


class LetterTooLong(ValueError):
    """A letter's body does not fit on its page (nothing is cut: the end holds the
    問い合わせ先). ``lines``: about how many body lines (10.5 pt) too many."""

    def __init__(self, lines: int, control_no: str = "") -> None:
        self.lines = lines
        self.control_no = control_no
        whose = f"（管理番号 {control_no}）" if control_no else ""
        super().__init__(
            f"お知らせの文面が1ページに収まりません{whose}: 約{lines}行はみ出します。"
            "文面を短くしてください"
        )


@dataclass(frozen=True)
class LetterPage:
    """What one page prints (already rendered from the template)."""

    name: str
    address: str
    control_no: str
    title: str
    body: str


def split_postal(address: str) -> tuple[str | None, str]:
    """``〒860-0000 熊本市…`` → (``860-0000``, ``熊本市…``); (None, address) without one."""
    match = _POSTAL.match(address)
    if match is None:
        return None, address.strip()
    return f"{match.group(1)}-{match.group(2)}", address[match.end() :].strip()


class _Letters:
    def __init__(self, out: IO[bytes], *, sent_on: date, sender: str, batch_no: str) -> None:
        self.fonts = register_fonts()
        self.fallback = register_fallback_font()
        self.sent_on = sent_on
        self.sender = sender
        self.batch_no = batch_no
        self.canvas = new_canvas(
            out,
            pagesize=A4,
            font=self.fonts.mincho,
            title=f"お知らせ {batch_no}",
            subject="お知らせ（通知カードの受け取りについて）",
        )
        self.body_style = ParagraphStyle(
            "letter", fontName=self.fonts.mincho, fontSize=10.5, leading=16
        )
        self.address_style = ParagraphStyle(
            "address", fontName=self.fonts.mincho, fontSize=11, leading=15
        )
        self.name_style = ParagraphStyle(
            "name", fontName=self.fonts.mincho, fontSize=15, leading=20
        )
        self.title_style = ParagraphStyle(
            "title",
            fontName=self.fonts.gothic,
            fontSize=14,
            leading=20,
            alignment=TA_CENTER,
        )
        self.right_style = ParagraphStyle(
            "right", fontName=self.fonts.mincho, fontSize=10.5, leading=15, alignment=2
        )
        self.pages = 0
        self._indents: dict[float, ParagraphStyle] = {}

    def _markup(self, text: str, font: str | None = None) -> str:
        return paragraph_markup(text, font or self.fonts.mincho, self.fallback)

    def _draw(
        self, markup: str, style: ParagraphStyle, left_mm: float, top: float, width_mm: float
    ) -> float:
        """Draw a paragraph whose top is ``top`` points from the page's bottom; its bottom."""
        paragraph = Paragraph(markup, style)
        _, height = paragraph.wrapOn(self.canvas, width_mm * MM, PAGE_HEIGHT)
        paragraph.drawOn(self.canvas, left_mm * MM, top - height)
        return float(top - height)

    def page(self, letter: LetterPage) -> None:
        c = self.canvas
        top = PAGE_HEIGHT - 15 * MM
        # date and sender, top right
        y = self._draw(format_wareki(self.sent_on), self.right_style, 110, top, 80)
        self._draw(self._markup(self.sender), self.right_style, 90, y - 2 * MM, 100)
        # the address block, where the window shows it
        left, block_top, width, _height = ADDRESS_BLOCK
        y = PAGE_HEIGHT - block_top * MM
        postal, address = split_postal(letter.address)
        if postal is not None:
            y = self._draw(f"〒{postal}", self.address_style, left, y, width)
        y = self._draw(self._markup(address), self.address_style, left, y, width)
        self._draw(
            self._markup(f"{letter.name}　様"), self.name_style, left + 5, y - 4 * MM, width - 5
        )
        # title and body
        y = self._draw(
            self._markup(letter.title, self.fonts.gothic),
            self.title_style,
            BODY_LEFT,
            PAGE_HEIGHT - TITLE_TOP * MM,
            BODY_WIDTH,
        )
        y -= 5 * MM
        floor = BODY_BOTTOM * MM
        laid: list[tuple[Paragraph | None, float]] = []
        for line in letter.body.rstrip("\n").split("\n"):
            if not line.strip():
                laid.append((None, self.body_style.leading * 0.6))
                continue
            style = self.title_style if line.strip() == "記" else self.body_style
            if style is self.title_style:
                markup = line.strip()
                style = ParagraphStyle("centre", parent=self.body_style, alignment=TA_CENTER)
            else:
                # a leading 全角 space indents (ReportLab drops leading white space)
                stripped = line.lstrip("\u3000 ")
                indent = sum(
                    1.0 if ch == "\u3000" else 0.5 for ch in line[: len(line) - len(stripped)]
                )
                markup = self._markup(stripped)
                if indent:
                    style = self._indented(indent)
            paragraph = Paragraph(markup, style)
            _, height = paragraph.wrapOn(c, BODY_WIDTH * MM, PAGE_HEIGHT)
            laid.append((paragraph, height))
        total = sum(height for _, height in laid)
        if y - total < floor:  # never cut silently: the end holds the 問い合わせ先
            over = math.ceil((floor - (y - total)) / self.body_style.leading)
            raise LetterTooLong(over, letter.control_no)
        for paragraph, height in laid:
            if paragraph is not None:
                paragraph.drawOn(c, BODY_LEFT * MM, y - height)
            y -= height
        # for the office: small, bottom right
        c.setFont(self.fonts.gothic, 7)
        c.setFillGray(0.3)
        c.drawRightString(
            PAGE_WIDTH - 15 * MM,
            10 * MM,
            f"管理番号 {letter.control_no}　発送番号 {self.batch_no}",
        )
        c.setFillGray(0)
        c.showPage()
        self._compress_last_page()
        self.pages += 1

    def _compress_last_page(self) -> None:
        """Deflate the page's content stream now rather than at ``save``: ReportLab keeps
        every page until the end, and an uncompressed letter is ~10 times its deflated size.
        The bytes written are the same kind of stream (/FlateDecode) the canvas makes."""
        page = self.canvas._doc.Pages.pages[-1]
        stream = page.stream
        if not stream or page.Contents:
            return
        data = stream.encode("latin-1") if isinstance(stream, str) else bytes(stream)
        page.Contents = PDFStream(
            PDFDictionary({"Filter": PDFArray([PDFName("FlateDecode")])}),
            zlib.compress(data),
        )
        page.stream = None

    def _indented(self, ems: float) -> ParagraphStyle:
        if ems not in self._indents:
            self._indents[ems] = ParagraphStyle(
                f"indent{ems}", parent=self.body_style, leftIndent=ems * self.body_style.fontSize
            )
        return self._indents[ems]

    def save(self) -> None:
        if self.pages == 0:  # an empty document still has one page, saying so
            self.canvas.setFont(self.fonts.mincho, 12)
            self.canvas.drawString(20 * MM, PAGE_HEIGHT - 30 * MM, "お知らせはありません。")
            self.canvas.showPage()
        self.canvas.save()


def lines_over(letter: LetterPage, *, sent_on: date, sender: str) -> int:
    """How many body lines the letter runs past its page (0 when it fits), drawn on a
    throwaway canvas: the template editor refuses a wording whose sample letter does not fit."""
    try:
        render_letters(io.BytesIO(), [letter], sent_on=sent_on, sender=sender, batch_no="")
    except LetterTooLong as error:
        return error.lines
    return 0


def render_letters(
    out: IO[bytes], pages: Iterable[LetterPage], *, sent_on: date, sender: str, batch_no: str
) -> int:
    """Write the letters to ``out`` (a file or a buffer), one per page; the letter count."""
    letters = _Letters(out, sent_on=sent_on, sender=sender, batch_no=batch_no)
    for page in pages:
        letters.page(page)
    letters.save()
    return letters.pages
