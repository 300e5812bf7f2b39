"""受領書 (handover receipt): what the recipient signs at the counter. SPEC §4.

One A4 portrait document per handover: the receipt number, the office, the items handed over
(control number, name with kana, birth date in 和暦, kind), who received them and as what
(本人 / 同一世帯員 / 任意代理人 / 法定代理人), the ID document types checked, for a proxy the
委任状 date and the principal's documents, for a legal representative the proof of authority,
the clerk, the identity-policy version and the time in JST, then a signature area. Long lists
split across pages with the table header repeated, and every page says ``n / N``.

A reprint carries a 再発行 stamp on every page and the time of the original. A receipt of a
voided handover (交付取消) carries a 取消 stamp on every page and says when it was voided and
why; it is addressed, like every receipt, to the addressee in the office settings (熊本市長).
The PDF metadata
names the document only, never a person. Names go through `tracker.pdf.fonts.paragraph_markup`,
so characters IPAex lacks (𠮷 …) are drawn with IPAmj明朝 when it is installed. Output is built
with ``invariant=1``: the same receipt gives byte-identical PDFs.

Glossary: 受領書 receipt, 管理番号 control number, 受領者 recipient, 交付担当者 clerk who
handed over, 委任状 letter of attorney, 再発行 reprint, 取消 void, 宛先 addressee.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import KeepTogether, Paragraph, Spacer, Table
from reportlab.platypus.tables import TableStyle

from tracker.domain.record_retention import ERASED_LABEL, PLACEHOLDER_BIRTH_DATE
from tracker.domain.wareki import JST, era_of, format_jst, format_wareki
from tracker.pdf.layout import (
    FRAME_WIDTH,
    LABEL_BACKGROUND,
    MARGIN_X,
    MM,
    DocumentBuilder,
    Footer,
    draw_footer,
    grid_style,
    label_table,
)

__all__ = [
    "Receipt",
    "ReceiptDocument",
    "ReceiptItem",
    "render_receipt",
]

MARGIN_TOP = 24 * MM
STAMP_COLOUR = colors.Color(0.8, 0.0, 0.0)


@dataclass(frozen=True)
class ReceiptItem:
    """One notification card (or other item) handed over."""

    control_no: str  #: e.g. ``R000000123``
    name: str  #: exactly as registered; may hold characters beyond IPAex (𠮷)
    name_kana: str
    birth_date: date
    kind_label: str  #: e.g. 通知カード


@dataclass(frozen=True)
class Receipt:
    """Everything one 受領書 prints; filled by the handover service."""

    receipt_no: str
    issued_at: datetime  #: when this copy is issued; timezone-aware, printed in JST
    addressee: str  #: 宛先, from the office settings, e.g. 熊本市長
    items: Sequence[ReceiptItem]
    recipient_kind_label: str  #: 本人 / 同一世帯員 / 任意代理人 / 法定代理人
    recipient_name: str | None  #: None for 本人 (the name is in the item list)
    documents: Sequence[str]  #: ID document types checked, e.g. 運転免許証（末尾1234）
    principal_documents: Sequence[str]  #: proxy: the principal's (委任者) documents
    letter_of_attorney_date: date | None  #: proxy: the date written on the 委任状
    authority_proof: str | None  #: legal representative: e.g. 戸籍謄本
    clerk_name: str  #: the clerk's display name (窓口 花子), never a login name
    policy_version: int  #: identity-policy version the check used (SPEC §4)
    reprint_of: datetime | None = None  #: set on a reprint: when the original was issued
    voided_at: datetime | None = None  #: set when the handover was voided (交付取消)
    void_reason: str | None = None  #: why it was voided; required with ``voided_at``

    def __post_init__(self) -> None:
        if not self.items:
            raise ValueError("a receipt needs at least one item")
        for label, moment in (
            ("issued_at", self.issued_at),
            ("reprint_of", self.reprint_of),
            ("voided_at", self.voided_at),
        ):
            if moment is not None and moment.utcoffset() is None:
                raise ValueError(f"{label} must be timezone-aware")
        if (self.voided_at is None) != (not self.void_reason):
            raise ValueError("voided_at and void_reason go together")

    @property
    def is_reprint(self) -> bool:
        return self.reprint_of is not None

    @property
    def is_voided(self) -> bool:
        return self.voided_at is not None


class ReceiptDocument(DocumentBuilder):
    """Builds the 受領書 PDF; one instance can render many receipts."""

    #: Column widths of the item table, in mm (they add up to the 170 mm text width).
    ITEM_COLUMNS_MM = (10.0, 32.0, 58.0, 38.0, 32.0)
    LABEL_COLUMN_MM = 45.0

    def render(self, receipt: Receipt) -> bytes:
        """PDF bytes of `receipt`, as many A4 pages as its items need."""
        return self._pdf(
            self._story(receipt),
            self._footer(receipt),
            title=self._title(receipt),
            subject="通知カード等の受領書",
            margin_top=MARGIN_TOP,
        )

    @staticmethod
    def _title(receipt: Receipt) -> str:
        marks = [m for m, on in (("取消", receipt.is_voided), ("再発行", receipt.is_reprint)) if on]
        return f"受領書（{'・'.join(marks)}）" if marks else "受領書"

    def _footer(self, receipt: Receipt) -> Footer:
        def footer(canvas: Canvas, number: int, total: int) -> None:
            draw_footer(canvas, self.fonts, number, total, f"受領書番号 {receipt.receipt_no}")
            slot = 0
            if receipt.is_reprint:
                self._draw_stamp(canvas, "再発行", slot)
                slot += 1
            if receipt.is_voided:
                self._draw_stamp(canvas, "取消", slot)

        return footer

    def _draw_stamp(self, canvas: Canvas, text: str, slot: int) -> None:
        """A red framed stamp (再発行, 取消) in the top margin of every page, clear of the
        text; ``slot`` 0 is at the right margin, 1 beside it to the left."""
        canvas.saveState()
        width, height = A4
        box_w, box_h = 30 * MM, 10 * MM
        x = width - MARGIN_X - box_w - slot * (box_w + 4 * MM)
        y = height - 8 * MM - box_h
        canvas.setStrokeColor(STAMP_COLOUR)
        canvas.setFillColor(STAMP_COLOUR)
        canvas.setLineWidth(1.5)
        canvas.rect(x, y, box_w, box_h)
        canvas.setFont(self.fonts.gothic, 15)
        canvas.drawCentredString(x + box_w / 2, y + box_h / 2 - 0.36 * 15, text)
        canvas.restoreState()

    # -- content ---------------------------------------------------------------------------

    def _story(self, receipt: Receipt) -> list[Any]:
        s = self.styles
        times = [f"受領書番号　{self._text(receipt.receipt_no)}"]
        times.append(f"発行日時　{format_jst(receipt.issued_at)}")
        if receipt.reprint_of is not None:
            times.append(f"原本発行日時　{format_jst(receipt.reprint_of)}")
        story: list[Any] = [Paragraph("<br/>".join(times), s.right), Spacer(0, 4 * MM)]
        story.append(Paragraph(f"（宛先）{self._text(receipt.addressee)}", s.body))
        story += [Spacer(0, 6 * MM), Paragraph("受領書", s.title), Spacer(0, 6 * MM)]
        if receipt.voided_at is not None:
            story += [self._void_notice(receipt), Spacer(0, 4 * MM)]
        if receipt.reprint_of is not None:
            story.append(
                Paragraph(
                    f"本書は再発行したものです（原本発行日時 {format_jst(receipt.reprint_of)}）。",
                    s.body,
                )
            )
        story += [
            Paragraph("下記の通知カード等を受領しました。", s.body),
            Spacer(0, 3 * MM),
            Paragraph("記", s.centre),
            Spacer(0, 3 * MM),
            self._item_table(receipt.items),
            Spacer(0, 6 * MM),
            self._details_table(receipt),
            Spacer(0, 8 * MM),
            KeepTogether(self._signature_area(receipt)),
        ]
        return story

    def _void_notice(self, receipt: Receipt) -> Table:
        """A red framed box above the text: this handover was voided, when and why."""
        assert receipt.voided_at is not None
        s = self.styles
        text = (
            f'<font name="{self.fonts.gothic}" color="#cc0000">'
            "この交付は取り消されました（交付取消）。</font><br/>"
            f"取消日時　{format_jst(receipt.voided_at)}<br/>"
            f"取消の理由　{self._text(receipt.void_reason or '')}<br/>"
            "取消により、下記の通知カード等は保管中に戻りました。"
        )
        table = Table([[Paragraph(text, s.body)]], colWidths=[FRAME_WIDTH])
        table.setStyle(
            TableStyle(
                [
                    ("BOX", (0, 0), (-1, -1), 1.5, STAMP_COLOUR),
                    ("LEFTPADDING", (0, 0), (-1, -1), 8),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 8),
                    ("TOPPADDING", (0, 0), (-1, -1), 6),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 8),
                ]
            )
        )
        return table

    def _item_table(self, items: Sequence[ReceiptItem]) -> Table:
        s = self.styles
        header = [
            Paragraph(text, s.header) for text in ("No.", "管理番号", "氏名", "生年月日", "種別")
        ]
        rows: list[list[Any]] = [header]
        for number, item in enumerate(items, start=1):
            rows.append(
                [
                    Paragraph(str(number), s.cell_centre),
                    Paragraph(self._text(item.control_no), s.cell),
                    Paragraph(
                        f'<font size="7.5">{self._text(item.name_kana)}</font><br/>'
                        f"{self._text(item.name)}",
                        s.cell,
                    ),
                    Paragraph(
                        ERASED_LABEL
                        if item.birth_date == PLACEHOLDER_BIRTH_DATE
                        else format_wareki(item.birth_date),
                        s.cell,
                    ),
                    Paragraph(self._text(item.kind_label), s.cell),
                ]
            )
        table = Table(
            rows,
            colWidths=[w * MM for w in self.ITEM_COLUMNS_MM],
            repeatRows=1,  # the header again on every page the list runs onto
        )
        table.setStyle(
            grid_style(
                self.fonts,
                [("BACKGROUND", (0, 0), (-1, 0), LABEL_BACKGROUND)],
                padding_top=3,
                padding_bottom=4,
            )
        )
        return table

    def _details_table(self, receipt: Receipt) -> Table:
        rows: list[tuple[str, str]] = [("受領者の区分", self._text(receipt.recipient_kind_label))]
        if receipt.recipient_name is not None:
            rows.append(("受領者氏名", self._text(receipt.recipient_name)))
        rows.append(("確認した本人確認書類", self._list(receipt.documents)))
        if receipt.letter_of_attorney_date is not None:
            rows.append(("委任状の日付", format_wareki(receipt.letter_of_attorney_date)))
        if receipt.principal_documents:
            rows.append(("本人（委任者）の確認書類", self._list(receipt.principal_documents)))
        if receipt.authority_proof is not None:
            rows.append(("代理権の確認書類", self._text(receipt.authority_proof)))
        rows.append(("交付担当者", self._text(receipt.clerk_name)))
        rows.append(("本人確認基準", f"第{receipt.policy_version}版"))
        return label_table(rows, self.styles, self.fonts, self.LABEL_COLUMN_MM * MM)

    def _list(self, documents: Sequence[str]) -> str:
        return "、".join(self._text(d) for d in documents) if documents else "—"

    def _signature_area(self, receipt: Receipt) -> Table:
        """受領者記入欄: a line for the signature and one for the date, in one framed block.

        Plain-string cells (drawn with drawString) keep the ideographic spaces of the date
        line, which a Paragraph would collapse. The era is the one current at issue.
        """
        era = era_of(receipt.issued_at.astimezone(JST).date()).name
        blank = "\u3000" * 4
        label_w, pad_w = self.LABEL_COLUMN_MM * MM, 12 * MM
        table = Table(
            [
                ["受領者記入欄", "", ""],
                ["受領者署名", "", ""],
                ["日付", f"{era}{blank}年{blank}月{blank}日", ""],
                ["", "", ""],
            ],
            colWidths=[label_w, FRAME_WIDTH - label_w - pad_w, pad_w],
            rowHeights=[7 * MM, 18 * MM, 13 * MM, 4 * MM],
        )
        table.setStyle(
            TableStyle(
                [
                    ("BOX", (0, 0), (-1, -1), 0.5, colors.black),
                    ("SPAN", (0, 0), (-1, 0)),
                    ("BACKGROUND", (0, 0), (-1, 0), LABEL_BACKGROUND),
                    ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black),
                    ("FONTNAME", (0, 0), (0, -1), self.fonts.gothic),
                    ("FONTSIZE", (0, 0), (0, -1), 9),
                    ("FONTNAME", (1, 0), (-1, -1), self.fonts.mincho),
                    ("FONTSIZE", (1, 0), (-1, -1), 10.5),
                    ("VALIGN", (0, 0), (-1, 0), "MIDDLE"),
                    ("VALIGN", (0, 1), (-1, -1), "BOTTOM"),
                    ("BOTTOMPADDING", (0, 1), (-1, -1), 4),
                    ("LEFTPADDING", (0, 0), (0, -1), 8),
                    ("ALIGN", (1, 2), (1, 2), "RIGHT"),
                    ("RIGHTPADDING", (1, 2), (1, 2), 8),
                    ("LINEBELOW", (1, 1), (1, 2), 0.75, colors.black),
                ]
            )
        )
        return table


def render_receipt(receipt: Receipt) -> bytes:
    """PDF bytes of `receipt` (see ReceiptDocument.render)."""
    return ReceiptDocument().render(receipt)
