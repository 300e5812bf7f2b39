"""Page layout shared by the receipt, the certificate and the envelope label sheet.

One place for what the documents have in common, so that they keep looking like one family:
millimetre units and the A4 text frame, the paragraph styles (Mincho for what is read, Gothic
for captions and headers, which are scanned rather than read), the grid of the framed tables
and the two-column label tables built on it, the footer, and the canvases that number pages
``n / N`` (a pass that counts the pages, then one that draws them with their numbers). Every
document is built with ``invariant=1`` and names only itself in its metadata (it is indexed
and shown in lists), never a person.

ReportLab falls back to Helvetica wherever no font is named, and Helvetica is never embedded:
every document, canvas and table here names an embedded IPAex font instead.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import IO, Any

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfdoc
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Table
from reportlab.platypus.tables import TableStyle

from tracker.pdf.fonts import FontNames, paragraph_markup, register_fallback_font, register_fonts

__all__ = [
    "FRAME_WIDTH",
    "GRID_WIDTH",
    "LABEL_BACKGROUND",
    "MARGIN_X",
    "MM",
    "DocumentBuilder",
    "Footer",
    "NumberedCanvas",
    "PageCounter",
    "Styles",
    "draw_footer",
    "grid_style",
    "label_table",
    "new_canvas",
    "paragraph_styles",
]

#: Points per millimetre (PDF user space is 1/72 inch).
MM = 72 / 25.4
MARGIN_X = 20 * MM
MARGIN_BOTTOM = 20 * MM
#: Width of the A4 text frame: 170 mm.
FRAME_WIDTH = A4[0] - 2 * MARGIN_X
#: Baseline of the footer line, in the bottom margin.
FOOTER_Y = 11 * MM

#: Light grey behind table headers and label columns.
LABEL_BACKGROUND = colors.Color(0.92, 0.92, 0.92)
GRID_WIDTH = 0.5

_AUTHOR = "tracker"


# --- styles --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Styles:
    body: ParagraphStyle
    small: ParagraphStyle
    title: ParagraphStyle
    right: ParagraphStyle
    heading: ParagraphStyle
    label: ParagraphStyle
    header: ParagraphStyle
    cell: ParagraphStyle
    cell_centre: ParagraphStyle
    cell_right: ParagraphStyle
    centre: ParagraphStyle


def paragraph_styles(fonts: FontNames) -> Styles:
    """The paragraph styles of the A4 documents."""
    # Mincho for what is read (it is what certificates from city offices use), Gothic for
    # captions and headers, which are scanned rather than read.
    body = ParagraphStyle("body", fontName=fonts.mincho, fontSize=10.5, leading=16, wordWrap="CJK")
    cell = ParagraphStyle("cell", parent=body, fontSize=10, leading=13)
    label = ParagraphStyle("label", parent=cell, fontName=fonts.gothic, fontSize=9, leading=12)
    return Styles(
        body=body,
        small=ParagraphStyle("small", parent=body, fontSize=8.5, leading=12),
        title=ParagraphStyle(
            "title",
            parent=body,
            fontName=fonts.gothic,
            fontSize=20,
            leading=26,
            alignment=TA_CENTER,
        ),
        right=ParagraphStyle("right", parent=body, fontSize=10, leading=14, alignment=TA_RIGHT),
        heading=ParagraphStyle(
            "heading", parent=body, fontName=fonts.gothic, fontSize=11, leading=16, spaceAfter=2
        ),
        label=label,
        header=ParagraphStyle("header", parent=label, alignment=TA_CENTER),
        cell=cell,
        cell_centre=ParagraphStyle("cell_centre", parent=cell, alignment=TA_CENTER),
        cell_right=ParagraphStyle("cell_right", parent=cell, alignment=TA_RIGHT),
        centre=ParagraphStyle("centre", parent=body, alignment=TA_CENTER),
    )


# --- canvases ------------------------------------------------------------------------------------


def new_canvas(
    buffer: IO[bytes], *, pagesize: tuple[float, float], font: str, title: str, subject: str
) -> Canvas:
    """A bare canvas (for pages drawn without platypus) with the house metadata."""
    canvas = Canvas(buffer, pagesize=pagesize, invariant=1, pageCompression=1, initialFontName=font)
    canvas.setTitle(title)
    canvas.setAuthor(_AUTHOR)
    canvas.setCreator(_AUTHOR)
    canvas.setSubject(subject)
    return canvas


#: Draws the footer of page `number` of `total` on the canvas.
Footer = Callable[[Canvas, int, int], None]


class PageCounter(Canvas):  # type: ignore[misc]
    """A canvas that only counts pages: the first of the two passes of `DocumentBuilder._pdf`.

    Each page's drawing is dropped at its end, nothing is written, and flowables that cost
    time only when drawn (`tracker.pdf.row_table.RowTable`) skip their drawing when they see
    ``dry_run``: layout alone decides where pages break.
    """

    dry_run = True

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.pages = 0

    def showPage(self) -> None:  # ReportLab's name
        self.pages += 1
        self._startPage()

    def save(self) -> None:
        pass


class NumberedCanvas(Canvas):  # type: ignore[misc]
    """A canvas that finishes each page with its footer, the page count known in advance.

    Pages are written out as they end, as on a plain canvas: nothing is held back for ``n / N``
    (holding 2,441 pages of a 100,000-item certificate took twice the memory of the document).
    The footer is drawn last on each page, after its contents, as it always was.
    """

    dry_run = False

    def __init__(self, *args: Any, footer: Footer, total: int, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._footer = footer
        self._total = total

    def showPage(self) -> None:  # ReportLab's name
        self._footer(self, self.getPageNumber(), self._total)
        super().showPage()
        _compress_now(self._doc.Pages.pages[-1])


def _compress_now(page: pdfdoc.PDFPage) -> None:
    """Encode a finished page's content stream at once rather than when the document is saved.

    ReportLab keeps every page's drawing operators as text until ``save``: 100,000 certificate
    rows held ~60 MB of it (issue 18: 259 MiB at peak against a goal of 250). What is written
    is the same: ReportLab's own filters (zlib, then ASCII85 unless ``rl_config.useA85`` is
    off) on the same text, named in ``/Filter`` in its order, so the PDF bytes do not change
    (the certificate's digest is checked in tests/pdf).
    """
    stream = page.stream
    if not page.compression or not isinstance(stream, str) or page.Contents:
        return  # left to ReportLab at save time
    filters = (
        [pdfdoc.PDFBase85Encode, pdfdoc.PDFZCompress] if rl_config.useA85 else [pdfdoc.PDFZCompress]
    )
    content: str | bytes = stream
    for encoder in reversed(filters):
        content = encoder.encode(content)
    contents = pdfdoc.PDFStream(content=content)
    contents.dictionary["Filter"] = pdfdoc.PDFArray([pdfdoc.PDFName(f.pdfname) for f in filters])
    contents.__Comment__ = "page stream"
    page.Contents = contents
    page.stream = None


def draw_footer(
    canvas: Canvas,
    fonts: FontNames,
    number: int,
    total: int,
    left: str,
    right: str | None = None,
    *,
    page_width: float = A4[0],
) -> None:
    """``n / N`` centred in the bottom margin, `left` (the document's number) and `right`.
    `page_width` is the landscape A4 width (``A4[1]``) for a landscape document."""
    canvas.saveState()
    canvas.setFillGray(0.25)
    canvas.setFont(fonts.mincho, 9)
    canvas.drawCentredString(page_width / 2, FOOTER_Y, f"{number} / {total}")
    canvas.drawString(MARGIN_X, FOOTER_Y, left)
    if right is not None:
        canvas.drawRightString(page_width - MARGIN_X, FOOTER_Y, right)
    canvas.restoreState()


# --- A4 documents --------------------------------------------------------------------------------


class DocumentBuilder:
    """What every A4 builder starts from: the fonts, the fallback font and the styles."""

    def __init__(self) -> None:
        self.fonts: FontNames = register_fonts()
        #: IPAmj明朝 for characters IPAex lacks (𠮷); None when fonts-ipamj-mincho is missing.
        self.fallback: str | None = register_fallback_font()
        self.styles = paragraph_styles(self.fonts)

    def _text(self, text: str) -> str:
        """Paragraph markup of variable text: escaped, with the fallback font where needed."""
        return paragraph_markup(text, self.fonts.mincho, self.fallback)

    def _pdf(
        self,
        story: list[Any],
        footer: Footer,
        *,
        title: str,
        subject: str,
        margin_top: float,
        pagesize: tuple[float, float] = A4,
    ) -> bytes:
        """PDF bytes of `story` on A4 pages, each finished by `footer` (see NumberedCanvas).

        `title` and `subject` name the document only: metadata is indexed and shown in lists.
        `pagesize` may be landscape A4 (``landscape(A4)``) for wide lists.

        Two passes over the same flowables, as ReportLab's own ``multiBuild`` does: the first
        lays the pages out without drawing the lists and counts them (`PageCounter`), the second
        draws each page with ``n / N`` and writes it (`NumberedCanvas`).
        """
        counter = self._template(io.BytesIO(), pagesize, margin_top, title, subject)
        counted: list[PageCounter] = []

        def counting_canvas(*args: Any, **kwargs: Any) -> PageCounter:
            counted.append(PageCounter(*args, **kwargs))
            return counted[-1]

        # Layout marks flowables (a Spacer pushed to the next page is "_postponed", a run of
        # keepWithNext flowables loses the flag): ReportLab records those marks for undoing
        # between passes when asked, as its multiBuild does; undo them before the real pass.
        edits: list[tuple[Any, ...]] = []
        counter._multiBuildEdits = edits.append
        counter.build(list(story), canvasmaker=counting_canvas)
        for edit in edits:
            edit[0](*edit[1:])
        buffer = io.BytesIO()
        doc = self._template(buffer, pagesize, margin_top, title, subject)
        total = counted[-1].pages
        doc.build(list(story), canvasmaker=partial(NumberedCanvas, footer=footer, total=total))
        return buffer.getvalue()

    def _template(
        self,
        buffer: IO[bytes],
        pagesize: tuple[float, float],
        margin_top: float,
        title: str,
        subject: str,
    ) -> SimpleDocTemplate:
        return SimpleDocTemplate(
            buffer,
            pagesize=pagesize,
            leftMargin=MARGIN_X,
            rightMargin=MARGIN_X,
            topMargin=margin_top,
            bottomMargin=MARGIN_BOTTOM,
            title=title,
            author=_AUTHOR,
            creator=_AUTHOR,
            subject=subject,
            invariant=1,
            pageCompression=1,
            initialFontName=self.fonts.mincho,
        )


# --- tables --------------------------------------------------------------------------------------


def grid_style(
    fonts: FontNames,
    extra: Sequence[tuple[Any, ...]] = (),
    *,
    padding_top: float = 4,
    padding_bottom: float = 5,
) -> TableStyle:
    """A framed table: every cell ruled, contents centred vertically, then `extra` commands."""
    return TableStyle(
        [
            ("GRID", (0, 0), (-1, -1), GRID_WIDTH, colors.black),
            # Without it ReportLab selects Helvetica for the table.
            ("FONTNAME", (0, 0), (-1, -1), fonts.mincho),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("TOPPADDING", (0, 0), (-1, -1), padding_top),
            ("BOTTOMPADDING", (0, 0), (-1, -1), padding_bottom),
            *extra,
        ]
    )


def label_table(
    rows: Sequence[tuple[str, str]], styles: Styles, fonts: FontNames, label_width: float
) -> Table:
    """Label and value side by side, the label column shaded, across the text frame.

    Both are Paragraph markup: escape variable text (`DocumentBuilder._text`).
    """
    table = Table(
        [[Paragraph(label, styles.label), Paragraph(value, styles.cell)] for label, value in rows],
        colWidths=[label_width, FRAME_WIDTH - label_width],
    )
    table.setStyle(grid_style(fonts, [("BACKGROUND", (0, 0), (0, -1), LABEL_BACKGROUND)]))
    return table
