"""Envelope labels (封筒ラベル) on pre-cut A4 label sheets.

A label is stuck on a returned envelope and read by everyone at the counter, so it carries
only what finds the envelope again: the control number (as a Code128 barcode and as large
text), the return date, the location's name (as people call it, not its code) and the slot.
**Never a person's name or an address** — `EnvelopeLabel` has no field for them on purpose.

The sheet geometry lives in one `SheetLayout`, so another brand of sheet is one constant.
Output is built with ``invariant=1``: the same labels give byte-identical PDFs.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from reportlab.graphics.barcode.code128 import Code128
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from tracker.domain.wareki import format_wareki_with_iso
from tracker.pdf.fonts import FontNames, register_fonts
from tracker.pdf.layout import MM, new_canvas

__all__ = [
    "A_ONE_12",
    "MIN_BAR_WIDTH_MM",
    "EnvelopeLabel",
    "LabelSheet",
    "LabelStyle",
    "SheetLayout",
    "render_envelope_labels",
]

#: Narrowest Code128 module we print: below ~0.33 mm office laser printers and handheld
#: scanners at the counter stop agreeing.
MIN_BAR_WIDTH_MM = 0.33
#: Code128 needs a quiet zone of at least 10 modules on each side.
QUIET_MODULES = 10


@dataclass(frozen=True)
class EnvelopeLabel:
    """What one envelope label shows. No personal data: see the module docstring."""

    control_no: str  #: e.g. ``E000000123``
    returned_on: date
    slot: str | None
    location: str | None  #: the location's name, e.g. ``中央区役所1階 熊本市マイナンバーセンター``


@dataclass(frozen=True)
class SheetLayout:
    """Geometry of one kind of pre-cut label sheet, in millimetres.

    Labels are filled row by row, left to right then top to bottom, as label software does.
    `padding` is the strip inside each label that stays blank, because printers place the
    page a millimetre or two off.
    """

    name: str
    page_width: float
    page_height: float
    columns: int
    rows: int
    label_width: float
    label_height: float
    margin_left: float
    margin_top: float
    gap_x: float = 0.0
    gap_y: float = 0.0
    padding: float = 3.0

    def __post_init__(self) -> None:
        used_w = (
            self.margin_left + self.columns * self.label_width + (self.columns - 1) * self.gap_x
        )
        used_h = self.margin_top + self.rows * self.label_height + (self.rows - 1) * self.gap_y
        if self.columns < 1 or self.rows < 1:
            raise ValueError(f"{self.name}: a sheet needs at least one row and column")
        if used_w > self.page_width + 1e-6 or used_h > self.page_height + 1e-6:
            raise ValueError(f"{self.name}: the labels do not fit on the page")

    @property
    def per_page(self) -> int:
        return self.columns * self.rows

    def label_box(self, position: int) -> tuple[float, float, float, float]:
        """(x, y, width, height) in points of the label at 0-based `position` on a page.

        x, y is the bottom-left corner in PDF coordinates (origin bottom-left of the page).
        """
        if not 0 <= position < self.per_page:
            raise ValueError(f"position {position} is not on a {self.per_page}-label sheet")
        row, column = divmod(position, self.columns)
        left = self.margin_left + column * (self.label_width + self.gap_x)
        top = self.margin_top + row * (self.label_height + self.gap_y)
        bottom = self.page_height - top - self.label_height
        return left * MM, bottom * MM, self.label_width * MM, self.label_height * MM


#: A-one 72212 / 28315 and compatible A4 12-up sheets (2 × 6, 86.4 × 42.3 mm, no gaps).
A_ONE_12 = SheetLayout(
    name="A4 12面 (A-one 72212 互換)",
    page_width=210.0,
    page_height=297.0,
    columns=2,
    rows=6,
    label_width=86.4,
    label_height=42.3,
    margin_left=18.6,
    margin_top=21.6,
)


@dataclass(frozen=True)
class LabelStyle:
    """Sizes of what is drawn inside one label (points unless named _mm)."""

    bar_width_mm: float = 0.4
    bar_height_mm: float = 13.0
    number_size: float = 16.0
    number_char_space: float = 1.5
    line_size: float = 10.0
    min_line_size: float = 6.0
    gap_mm: float = 2.0  #: between barcode, control number and the text lines
    line_spacing: float = 1.3  #: baseline to baseline, in line sizes
    text_lines: int = 3  #: return date, location, slot

    def __post_init__(self) -> None:
        if self.bar_width_mm < MIN_BAR_WIDTH_MM:
            raise ValueError(f"bar width must be at least {MIN_BAR_WIDTH_MM} mm to scan reliably")

    # IPAexGothic: ascent 0.88 em, descent 0.12 em.
    @property
    def number_baseline(self) -> float:
        """From the top of the content block down to the control number's baseline (pt)."""
        return (self.bar_height_mm + self.gap_mm) * MM + 0.88 * self.number_size

    @property
    def first_line_baseline(self) -> float:
        return (
            self.number_baseline
            + 0.12 * self.number_size
            + self.gap_mm * MM
            + 0.88 * self.line_size
        )

    @property
    def content_height(self) -> float:
        """Barcode, control number and the text lines, top to bottom (pt)."""
        return (
            self.first_line_baseline
            + (self.text_lines - 1) * self.line_spacing * self.line_size
            + 0.12 * self.line_size
        )


class LabelSheet:
    """Builds a PDF of envelope labels on `layout` sheets; one instance can render many times."""

    def __init__(
        self,
        layout: SheetLayout = A_ONE_12,
        *,
        title: str = "返戻郵便 封筒ラベル",
        outlines: bool = False,
        style: LabelStyle | None = None,
    ) -> None:
        """`outlines` draws each label's edge: for test prints on plain paper, not on sheets."""
        self.layout = layout
        self.title = title
        self.outlines = outlines
        self.style = style or LabelStyle()
        inner_h = (layout.label_height - 2 * layout.padding) * MM
        if self.style.content_height > inner_h:
            raise ValueError(f"{layout.name}: labels are too short for the barcode and text")
        self.fonts: FontNames = register_fonts()

    def render(self, labels: Sequence[EnvelopeLabel], *, skip: int = 0) -> bytes:
        """PDF bytes with one label per envelope, as many pages as needed.

        `skip` leaves that many positions of the first sheet empty, so a sheet that was
        partly used before can go through the printer again.
        """
        if not labels:
            raise ValueError("no labels to print")
        if not 0 <= skip < self.layout.per_page:
            raise ValueError(f"skip must be between 0 and {self.layout.per_page - 1}")
        for label in labels:
            self._check_barcode(label.control_no)

        buffer = io.BytesIO()
        canvas = new_canvas(
            buffer,
            pagesize=(self.layout.page_width * MM, self.layout.page_height * MM),
            font=self.fonts.gothic,
            title=self.title,
            subject=self.layout.name,
        )

        for index, label in enumerate(labels, start=skip):
            position = index % self.layout.per_page
            if position == 0 and index > skip:
                canvas.showPage()
            self._draw_label(canvas, self.layout.label_box(position), label)
        canvas.showPage()
        canvas.save()
        return buffer.getvalue()

    # -- drawing ---------------------------------------------------------------------------

    def _barcode(self, control_no: str) -> Code128:
        bar_width = self.style.bar_width_mm * MM
        return Code128(
            control_no,
            barWidth=bar_width,
            barHeight=self.style.bar_height_mm * MM,
            quiet=1,
            lquiet=QUIET_MODULES * bar_width,
            rquiet=QUIET_MODULES * bar_width,
        )

    def _check_barcode(self, control_no: str) -> None:
        if not control_no or not control_no.isascii() or not control_no.isprintable():
            raise ValueError(f"control number {control_no!r} cannot be printed as Code128")
        inner_w = (self.layout.label_width - 2 * self.layout.padding) * MM
        if self._barcode(control_no).width > inner_w:
            raise ValueError(f"control number {control_no!r} is too long for the label")

    def _draw_label(
        self, canvas: Canvas, box: tuple[float, float, float, float], label: EnvelopeLabel
    ) -> None:
        x, y, width, height = box
        style = self.style
        if self.outlines:
            canvas.setLineWidth(0.25)
            canvas.setStrokeGray(0.6)
            canvas.roundRect(x, y, width, height, 2 * MM)
        canvas.setFillGray(0)
        centre = x + width / 2
        inner_w = width - 2 * self.layout.padding * MM
        # The content block is centred vertically in the label.
        top = y + (height + style.content_height) / 2

        barcode = self._barcode(label.control_no)
        bar_bottom = top - style.bar_height_mm * MM
        barcode.drawOn(canvas, centre - barcode.width / 2, bar_bottom)

        # Code128 prints no human-readable line: draw the number large, letter-spaced.
        self._centred(
            canvas,
            label.control_no,
            centre,
            top - style.number_baseline,
            style.number_size,
            char_space=style.number_char_space,
        )

        line_baseline = top - style.first_line_baseline
        date_text = f"返戻日 {format_wareki_with_iso(label.returned_on)}"
        self._centred_fitting(canvas, date_text, centre, line_baseline, inner_w)

        # The location's name has a line of its own (names are long; shrunk to fit if need
        # be), and so has the slot.
        for text in (
            f"保管場所 {label.location}" if label.location else "",
            f"位置 {label.slot}" if label.slot else "",
        ):
            if text:
                line_baseline -= style.line_spacing * style.line_size
                self._centred_fitting(canvas, text, centre, line_baseline, inner_w)

    def _centred(
        self,
        canvas: Canvas,
        text: str,
        centre: float,
        baseline: float,
        size: float,
        *,
        char_space: float = 0.0,
    ) -> None:
        font = self.fonts.gothic
        text_width = stringWidth(text, font, size) + char_space * (len(text) - 1)
        obj = canvas.beginText(centre - text_width / 2, baseline)
        obj.setFont(font, size)
        obj.setCharSpace(char_space)
        obj.textOut(text)
        canvas.drawText(obj)

    def _centred_fitting(
        self, canvas: Canvas, text: str, centre: float, baseline: float, max_width: float
    ) -> None:
        """Draw at the line size, or smaller down to the minimum, or cut with … at the end."""
        font, style = self.fonts.gothic, self.style
        size = style.line_size
        while size > style.min_line_size and stringWidth(text, font, size) > max_width:
            size -= 0.5
        while len(text) > 1 and stringWidth(text, font, size) > max_width:
            text = text[:-2] + "…"
        self._centred(canvas, text, centre, baseline, size)


def render_envelope_labels(
    labels: Sequence[EnvelopeLabel], *, layout: SheetLayout = A_ONE_12, skip: int = 0
) -> bytes:
    """PDF bytes of `labels` on `layout` sheets (see LabelSheet.render)."""
    return LabelSheet(layout).render(labels, skip=skip)
