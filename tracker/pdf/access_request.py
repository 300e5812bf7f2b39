"""保有個人情報開示: the PDF of an access request (開示請求, issue 16 item 3).

Landscape A4 (the lists have up to eleven columns), the house layout (:mod:`tracker.pdf.layout`):
the reference number (受付番号), the dates in 和暦 and the office at the top right, the title
「開示請求に係る保有個人情報」, a short covering text, a table of contents with the number of
records per section, then each section under its heading as a
:class:`~tracker.pdf.row_table.RowTable` (the header row repeats on every page); a section
without records says so. Page numbers ``n / N`` with the reference number in the footer.
Plain data in (:class:`~tracker.domain.disclosure.Disclosure`), bytes out; the metadata names
the document, never the person.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import CondPageBreak, KeepTogether, Paragraph, Spacer

from tracker.domain.disclosure import Disclosure, Section, Stamp, Value
from tracker.domain.wareki import JST, format_wareki, format_wareki_short
from tracker.pdf.layout import MM, DocumentBuilder, Footer, draw_footer
from tracker.pdf.row_table import Column, ListData, ListStyle, RowTable

TITLE = "開示請求に係る保有個人情報"
KIND = "保有個人情報開示"
#: Landscape A4 between the margins.
FRAME_MM = 257

#: Column widths (mm) per section; a section not named here shares the width evenly.
WIDTHS: dict[str, tuple[float, ...]] = {
    "items": (28, 30, 34, 38, 24, 30, 16, 16, 20, 21),
    "envelopes": (24, 26, 26, 50, 17, 20, 24, 26, 16, 16, 12),
    "register_checks": (28, 24, 24, 24, 30, 22, 105),
    "handovers": (22, 20, 28, 20, 24, 36, 32, 18, 22, 18, 17),
    "contacts": (22, 36, 26, 22, 121, 30),
    "reservations": (22, 20, 20, 16, 30, 28, 28, 45, 26, 22),
    "holds": (28, 18, 66, 22, 26, 22, 26, 49),
    "retention_extensions": (28, 24, 133, 36, 36),
    "protections": (28, 70, 20, 22, 26, 22, 26, 43),
    "remailings": (26, 16, 28, 46, 20, 46, 24, 17, 18, 16),
    "loss_reports": (22, 26, 80, 22, 26, 22, 26, 33),
    "item_revisions": (24, 28, 22, 76, 76, 31),
    "audit_events": (14, 22, 36, 32, 12, 30, 111),
}


def pdf_value(value: Value) -> str:
    """A cell as printed: 和暦 dates (short), Japan-time moments, text as stored."""
    if value is None:
        return "—"
    if isinstance(value, Stamp):
        return f"{value.before}{pdf_value(value.moment)}{value.after}"
    if isinstance(value, datetime):
        local = value.astimezone(JST)
        return f"{format_wareki_short(local.date())} {local:%H:%M}"
    if isinstance(value, date):
        return format_wareki_short(value)
    return str(value) if str(value) else "—"


class AccessRequestDocument(DocumentBuilder):
    def __init__(self) -> None:
        super().__init__()
        self.list_style = ListStyle(
            cell_font=self.fonts.mincho,
            header_font=self.fonts.gothic,
            size=8,
            header_size=8,
            leading=10.5,
        )

    def render(self, document: Disclosure) -> bytes:
        return self._pdf(
            self._story(document),
            self._footer(document),
            title=TITLE,
            subject=KIND,
            margin_top=14 * MM,
            pagesize=landscape(A4),
        )

    def _footer(self, document: Disclosure) -> Footer:
        def footer(canvas: Canvas, number: int, total: int) -> None:
            left = f"{KIND}　受付番号 {document.reference_no}"
            draw_footer(
                canvas,
                self.fonts,
                number,
                total,
                left,
                f"{document.municipality}　{document.office}",
                page_width=landscape(A4)[0],
            )

        return footer

    def _columns(self, section: Section) -> tuple[Column, ...]:
        widths = WIDTHS.get(section.key)
        if widths is None or len(widths) != len(section.columns):
            widths = tuple(FRAME_MM / len(section.columns) for _ in section.columns)
        return tuple(Column(t, w) for t, w in zip(section.columns, widths, strict=True))

    def _story(self, document: Disclosure) -> list[Any]:
        s = self.styles
        t = self._text
        story: list[Any] = [
            Paragraph(
                f"受付番号　{t(document.reference_no)}<br/>"
                f"受付日　{format_wareki(document.received_on)}<br/>"
                f"作成日　{format_wareki(document.made_on)}<br/>"
                f"{t(document.municipality)}　{t(document.office)}<br/>"
                f"作成者　{t(document.made_by)}",
                s.right,
            ),
            Paragraph(KIND, s.centre),
            Paragraph(TITLE, s.title),
            Spacer(0, 3 * MM),
            Paragraph(
                "受付番号 "
                f"{t(document.reference_no)} の開示請求について、当課が保有する返戻通知カード等の"
                "保管管理に関する記録のうち、ご本人に関するものは次のとおりです。"
                f"対象の通知物（管理番号）: {t('、'.join(document.control_nos))}",
                s.body,
            ),
            Spacer(0, 2 * MM),
            Paragraph(
                "・".join(
                    f"{t(section.title)} {len(section.rows)}件" for section in document.sections
                ),
                s.small,
            ),
        ]
        for number, section in enumerate(document.sections, start=1):
            heading = Paragraph(f"{number}. {t(section.title)}（{len(section.rows)}件）", s.heading)
            lead: list[Any] = [Spacer(0, 4 * MM), heading]
            if section.note:
                lead.append(Paragraph(t(section.note), s.small))
            if not section.rows:
                story.append(KeepTogether([*lead, Paragraph("記録はありません。", s.small)]))
                continue
            rows = [tuple(pdf_value(v) for v in row) for row in section.rows]
            table = RowTable(ListData(self._columns(section), rows, self.list_style, self.fallback))
            story += [CondPageBreak(30 * MM), *lead, Spacer(0, 1 * MM), table]
        story += [Spacer(0, 5 * MM), Paragraph("以上", s.right)]
        return story


def render_access_request(document: Disclosure) -> bytes:
    """PDF bytes of the disclosure."""
    return AccessRequestDocument().render(document)
