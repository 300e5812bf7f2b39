"""実態調査依頼一覧: the items in custody whose addressee is still registered at the address
(住基照合 現住), for the resident-records section to investigate (実態調査) and, where nobody
lives there, strike from the register (職権消除).

Landscape A4 (nine columns), the house layout (:mod:`tracker.pdf.layout`): title, office,
date, a short request, then the list as a :class:`~tracker.pdf.row_table.RowTable` (the
header row repeats on every page), page numbers ``n / N``. Plain data in, bytes out; no
Flask, no database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, Spacer

from tracker.domain.wareki import format_wareki, format_wareki_short
from tracker.pdf.layout import MM, DocumentBuilder, Footer, draw_footer
from tracker.pdf.row_table import Column, ListData, ListStyle, RowTable

TITLE = "実態調査依頼一覧"


@dataclass(frozen=True)
class InvestigationEntry:
    control_no: str
    name: str
    name_kana: str
    birth_date: date
    #: The address the card was mailed to (the register says the person still lives there).
    address: str
    household_code: str | None
    returned_on: date
    checked_on: date


@dataclass(frozen=True)
class InvestigationList:
    municipality: str
    office: str
    made_on: date
    #: Display name of the officer who printed it (never a login name).
    made_by: str
    entries: Sequence[InvestigationEntry]


class InvestigationDocument(DocumentBuilder):
    # Landscape A4: 257 mm between the margins.
    COLUMNS = (
        Column("No.", 11, "right"),
        Column("管理番号", 28),
        Column("氏名", 32),
        Column("フリガナ", 36),
        Column("生年月日", 32),
        Column("返戻時の住所", 60),
        Column("世帯番号", 20),
        Column("返戻日", 19),
        Column("照合日", 19),
    )

    def __init__(self) -> None:
        super().__init__()
        self.list_style = ListStyle(
            cell_font=self.fonts.mincho, header_font=self.fonts.gothic, size=8.5, leading=11
        )

    def render(self, document: InvestigationList) -> bytes:
        return self._pdf(
            self._story(document),
            self._footer(document),
            title=TITLE,
            subject="住基照合で現住とされた返戻通知カード等の実態調査依頼",
            margin_top=15 * MM,
            pagesize=landscape(A4),
        )

    def _footer(self, document: InvestigationList) -> Footer:
        def footer(canvas: Canvas, number: int, total: int) -> None:
            left = f"{TITLE} {format_wareki(document.made_on)}"
            draw_footer(
                canvas,
                self.fonts,
                number,
                total,
                left,
                document.municipality,
                page_width=landscape(A4)[0],
            )

        return footer

    def _story(self, document: InvestigationList) -> list[Any]:
        s = self.styles
        office = f"{self._text(document.municipality)}<br/>{self._text(document.office)}"
        story: list[Any] = [
            Paragraph(
                f"作成日　{format_wareki(document.made_on)}（{document.made_on.isoformat()}）<br/>"
                f"作成者　{self._text(document.made_by)}",
                s.right,
            ),
            Paragraph(TITLE, s.title),
            Spacer(0, 3 * MM),
            Paragraph("住民記録担当 御中", s.body),
            Paragraph(office, s.right),
            Spacer(0, 4 * MM),
            Paragraph(
                "下記の通知カード等は、あて所に尋ねあたらない等の理由で返戻され、当課で保管して"
                "いますが、住民基本台帳との照合では返戻時の住所に現住とされています。"
                "居住の実態を調査のうえ、必要に応じて職権消除等の処理をお願いします。",
                s.body,
            ),
            Spacer(0, 3 * MM),
            Paragraph(f"件数　{len(document.entries):,}件", s.heading),
        ]
        rows = [
            (
                str(number),
                entry.control_no,
                entry.name,
                entry.name_kana,
                format_wareki(entry.birth_date),
                entry.address,
                entry.household_code or "—",
                format_wareki_short(entry.returned_on),
                format_wareki_short(entry.checked_on),
            )
            for number, entry in enumerate(document.entries, start=1)
        ]
        if rows:
            story.append(RowTable(ListData(self.COLUMNS, rows, self.list_style, self.fallback)))
        else:
            story.append(Paragraph("該当する通知カード等はありません。", s.body))
        story += [Spacer(0, 4 * MM), Paragraph("以上", s.right)]
        return story


def render_investigation_list(document: InvestigationList) -> bytes:
    """PDF bytes of the 実態調査依頼一覧."""
    return InvestigationDocument().render(document)
