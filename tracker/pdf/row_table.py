"""Long lists on A4 pages: a table flowable that lays out 100,000 rows in linear time.

ReportLab's platypus ``Table`` splits across pages in time quadratic in its length: one Table
of 100,000 rows took 546 s to lay out. `RowTable` lays every row out once (`ListData`), keeps
the row heights as prefix sums, and finds a page end by binary search, so each page costs the
same whatever the list length. Rows are drawn straight onto the canvas, with the header row
again at the top of each page.

Cells are plain text, not Paragraph markup: `TextSetter` breaks it into lines between any two
characters (CJK style), keeping a code or a Latin word whole where it fits, and draws each
character with IPAex where IPAex has it and with the fallback font (IPAmj明朝) elsewhere.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable

from tracker.pdf.fonts import text_runs
from tracker.pdf.layout import GRID_WIDTH, LABEL_BACKGROUND, MM

__all__ = ["Column", "ListData", "ListStyle", "RowTable", "TextSetter"]

#: Units a cell line breaks between: a run of printable ASCII, a run of blanks, or one character.
_WORDS = re.compile(r"[!-~]+|\s+|.", re.DOTALL)


_Run = tuple[str, str]  # (font name, text)


@dataclass(frozen=True, slots=True)
class _Line:
    runs: tuple[_Run, ...]
    width: float


_Cell = tuple[_Line, ...]


@dataclass(frozen=True)
class Column:
    """One column of a list: its header, its width and how its cells are aligned."""

    title: str
    width_mm: float
    align: Literal["left", "right", "centre"] = "left"

    @property
    def width(self) -> float:
        return self.width_mm * MM


class TextSetter:
    """Cuts cell text into lines that fit a column, IPAex where it can and IPAmj elsewhere.

    Lines break between any two characters (CJK style; codes and dates rarely need it).
    Results are cached per text and width: dates and family names repeat many times.
    """

    def __init__(self, font: str, fallback: str | None, size: float) -> None:
        self.font, self.fallback, self.size = font, fallback, size
        self._cache: dict[tuple[str, float], _Cell] = {}
        #: Advances of the printable ASCII characters (all in IPAex), in 1/1000 of the size.
        self._ascii = [
            stringWidth(chr(c), font, 1000) if 32 <= c < 127 else 0.0 for c in range(128)
        ]

    def fits_unmeasured(self, text: str, width: float) -> bool:
        """Whether ``text`` is one line in ``width``, known without laying it out: printable
        ASCII (codes, numbers, dates) whose advances, summed from a table, leave room."""
        if not (text.isascii() and text.isprintable()):
            return False
        advance = sum(map(self._ascii.__getitem__, text.encode())) * self.size / 1000
        return advance < width - 0.01  # on the very edge, :meth:`cell` decides

    def line_count(self, text: str, width: float) -> int:
        return 1 if self.fits_unmeasured(text, width) else len(self.cell(text, width))

    def left_cell(self, text: str, width: float) -> _Cell:
        """:meth:`cell` for a left-aligned cell, whose lines' widths are never used: a text
        that fits unmeasured is one line, its width left at 0 (issue 18: 100,000 rows measured
        ~500,000 cells twice, once for the row heights and once to draw them)."""
        if self.fits_unmeasured(text, width):
            return (_Line(((self.font, text),), 0.0),)
        return self.cell(text, width)

    def cell(self, text: str, width: float) -> _Cell:
        key = (text, width)
        cell = self._cache.get(key)
        if cell is None:
            cell = self._set(text, width)
            # A one-line ASCII cell (a number, a code) costs one width lookup and rarely
            # repeats: kept, 100,000 of them would hold tens of megabytes for nothing.
            if len(cell) > 1 or not text.isascii():
                self._cache[key] = cell
        return cell

    def _set(self, text: str, width: float) -> _Cell:
        size = self.size
        if text.isascii():  # every ASCII character is in IPAex: one run, no per-char lookups
            measured = stringWidth(text, self.font, size)
            if measured <= width:
                return (_Line(((self.font, text),), measured),)
        lines: list[_Line] = []
        runs: list[_Run] = []
        x = 0.0

        def add(font: str, piece: str, advance: float) -> None:
            nonlocal x
            if runs and runs[-1][0] == font:
                runs[-1] = (font, runs[-1][1] + piece)
            else:
                runs.append((font, piece))
            x += advance

        def new_line() -> None:
            nonlocal runs, x
            lines.append(_Line(tuple(runs), x))
            runs, x = [], 0.0

        for font, chunk in text_runs(text, self.font, self.fallback):
            # A code or a Latin word (H000000031) moves to the next line whole when it fits
            # there; Japanese breaks between any two characters, as CJK text does.
            for word in _WORDS.findall(chunk):
                advance = stringWidth(word, font, size)
                if x + advance <= width:
                    add(font, word, advance)
                    continue
                if word.isspace():
                    if runs:
                        new_line()  # a blank at the end of a line is not drawn
                    continue
                if len(word) > 1 and advance <= width and runs:
                    new_line()
                    add(font, word, advance)
                    continue
                for char in word:
                    char_advance = stringWidth(char, font, size)
                    if runs and x + char_advance > width:
                        new_line()
                    add(font, char, char_advance)
        lines.append(_Line(tuple(runs), x))
        return tuple(lines)


@dataclass(frozen=True)
class ListStyle:
    cell_font: str
    header_font: str
    size: float = 9
    header_size: float = 8.5
    leading: float = 12
    padding_x: float = 4
    padding_y: float = 2.5


class ListData:
    """The laid-out rows of one list, shared by every page-sized part of it."""

    def __init__(
        self,
        columns: Sequence[Column],
        rows: Sequence[Sequence[str]],
        style: ListStyle,
        fallback: str | None,
    ) -> None:
        self.columns = tuple(columns)
        self.style = style
        self.x = [0.0, *itertools.accumulate(c.width for c in self.columns)]
        self.width = self.x[-1]
        inner = [c.width - 2 * style.padding_x for c in self.columns]
        body = TextSetter(style.cell_font, fallback, style.size)
        head = TextSetter(style.header_font, None, style.header_size)
        self.header = tuple(head.cell(c.title, w) for c, w in zip(self.columns, inner, strict=True))
        self.header_height = self._height(self.header)
        self._body, self._inner = body, inner
        #: The rows' texts; their lines are set again when drawn (`cells`), so that a list of
        #: 100,000 rows holds its texts and heights, not half a million laid-out cells.
        self.rows: list[tuple[str, ...]] = []
        #: tops[i] is the distance from the first row's top to row i's top; tops[-1] the total.
        self.tops = [0.0]
        line_count = body.line_count
        row_height = self._row_height
        for row in rows:
            texts = tuple(row)
            self.rows.append(texts)
            lines = max(line_count(t, w) for t, w in zip(texts, inner, strict=True))
            self.tops.append(self.tops[-1] + row_height(lines))
        self._setters = [body.left_cell if c.align == "left" else body.cell for c in self.columns]

    def cells(self, index: int) -> tuple[_Cell, ...]:
        """The lines of each cell of row `index`, as they are drawn."""
        return tuple(
            setter(t, w)
            for setter, t, w in zip(self._setters, self.rows[index], self._inner, strict=True)
        )

    def _height(self, cells: Sequence[_Cell]) -> float:
        return self._row_height(max(len(cell) for cell in cells))

    def _row_height(self, lines: int) -> float:
        return lines * self.style.leading + 2 * self.style.padding_y


class RowTable(Flowable):  # type: ignore[misc]
    """Rows ``start``–``end`` of a `ListData`, below their own header row.

    `wrap` is O(1) and `split` a binary search, so laying out N rows costs O(N) overall.
    """

    def __init__(self, data: ListData, start: int = 0, end: int | None = None) -> None:
        super().__init__()
        self.data = data
        self.start = start
        self.end = len(data.rows) if end is None else end

    def _rows_height(self, start: int, end: int) -> float:
        return self.data.tops[end] - self.data.tops[start]

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        self.width = self.data.width
        self.height = self.data.header_height + self._rows_height(self.start, self.end)
        return self.width, self.height

    def split(self, avail_width: float, avail_height: float) -> list[RowTable]:
        room = avail_height - self.data.header_height
        # Rows start..end-1 fit when tops[end] - tops[start] <= room: find the largest end.
        end = bisect.bisect_right(self.data.tops, self.data.tops[self.start] + room, self.start) - 1
        if end <= self.start:
            return []  # not even one row: start on the next page
        if end >= self.end:
            return [self]
        return [RowTable(self.data, self.start, end), RowTable(self.data, end, self.end)]

    def draw(self) -> None:
        if getattr(self.canv, "dry_run", False):
            return  # the page-counting pass (tracker.pdf.layout.PageCounter): layout only
        canvas, data, style = self.canv, self.data, self.data.style
        top = self.height
        canvas.saveState()
        canvas.setFillColor(LABEL_BACKGROUND)
        canvas.rect(0, top - data.header_height, data.width, data.header_height, stroke=0, fill=1)
        canvas.setFillColor(colors.black)
        text = canvas.beginText()
        header_align: list[Literal["left", "right", "centre"]] = ["centre"] * len(data.columns)
        self._draw_row(text, data.header, top, header_align, style.header_size)
        boundaries = [top, top - data.header_height]
        aligns = [c.align for c in data.columns]
        row_top = boundaries[-1]
        for index in range(self.start, self.end):
            self._draw_row(text, data.cells(index), row_top, aligns, style.size)
            row_top -= data.tops[index + 1] - data.tops[index]
            boundaries.append(row_top)
        canvas.drawText(text)
        canvas.setLineWidth(GRID_WIDTH)
        bottom = boundaries[-1]
        canvas.lines(
            [(0, y, data.width, y) for y in boundaries] + [(x, bottom, x, top) for x in data.x]
        )
        canvas.restoreState()

    def _draw_row(
        self,
        text: Any,
        cells: Sequence[_Cell],
        row_top: float,
        aligns: Sequence[Literal["left", "right", "centre"]],
        size: float,
    ) -> None:
        style = self.data.style
        # Centre the glyphs (ascent ≈ 0.88 em, descent ≈ 0.12 em) in each line's leading.
        first_baseline = row_top - style.padding_y - (style.leading + size) / 2 + 0.12 * size
        for column, (cell, align) in enumerate(zip(cells, aligns, strict=True)):
            left, right = self.data.x[column], self.data.x[column + 1]
            for number, line in enumerate(cell):
                if align == "left":
                    x = left + style.padding_x
                elif align == "right":
                    x = right - style.padding_x - line.width
                else:
                    x = (left + right - line.width) / 2
                text.setTextOrigin(x, first_baseline - number * style.leading)
                for font, chunk in line.runs:
                    text.setFont(font, size)
                    text.textOut(chunk)
