"""再送付 差出票: the list of re-mailed cards handed to the post office counter for one mailing
date. What the counter needs and no more: the tracking number in 4-4-4 groups, the addressee
(the person the card is for), the service (簡易書留) and the kind of address; no addresses.

A day's re-mailings are a handful, so a platypus ``Table`` (header row repeated) is enough.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from reportlab.platypus import Paragraph, Spacer, Table

from tracker.domain.tracking import format_tracking_no
from tracker.domain.wareki import format_wareki_with_iso
from tracker.pdf.layout import FRAME_WIDTH, LABEL_BACKGROUND, MM, DocumentBuilder, grid_style

__all__ = ["MailingLine", "MailingList", "render_mailing_list"]

#: The postal service every line goes by (通知カードは簡易書留・転送不要).
SERVICE = "簡易書留"


@dataclass(frozen=True)
class MailingLine:
    number: int
    tracking_no: str
    addressee: str
    address_kind: str


@dataclass(frozen=True)
class MailingList:
    municipality: str
    office: str
    mailed_on: date
    lines: Sequence[MailingLine]
    #: Who printed it (a display name), for the footer.
    printed_by: str


class _Builder(DocumentBuilder):
    def build(self, data: MailingList) -> bytes:
        s = self.styles
        story: list[object] = [
            Paragraph("再送付 差出票", s.title),
            Spacer(1, 4 * MM),
            Paragraph(self._text(f"{data.municipality}　{data.office}"), s.right),
            Paragraph(f"差出日 {format_wareki_with_iso(data.mailed_on)}", s.right),
            Spacer(1, 4 * MM),
        ]
        header = ["No.", "お問い合わせ番号", "宛名", "種別", "送付先"]
        rows: list[list[object]] = [[Paragraph(h, s.header) for h in header]]
        for line in data.lines:
            rows.append(
                [
                    Paragraph(str(line.number), s.cell_right),
                    Paragraph(format_tracking_no(line.tracking_no), s.cell_centre),
                    Paragraph(self._text(line.addressee), s.cell),
                    Paragraph(SERVICE, s.cell_centre),
                    Paragraph(self._text(line.address_kind), s.cell_centre),
                ]
            )
        widths = [12 * MM, 44 * MM, 62 * MM, 24 * MM]
        widths.append(FRAME_WIDTH - sum(widths))
        table = Table(rows, colWidths=widths, repeatRows=1)
        table.setStyle(grid_style(self.fonts, [("BACKGROUND", (0, 0), (-1, 0), LABEL_BACKGROUND)]))
        story += [
            table,
            Spacer(1, 4 * MM),
            Paragraph(f"合計 {len(data.lines)}通（{SERVICE}）", s.right),
        ]
        if not data.lines:
            story.insert(-1, Paragraph("この日に郵送した再送付はありません。", s.body))

        def footer(canvas, number: int, total: int) -> None:  # type: ignore[no-untyped-def]
            from tracker.pdf.layout import draw_footer

            draw_footer(
                canvas,
                self.fonts,
                number,
                total,
                f"再送付 差出票 {data.mailed_on.isoformat()}",
                f"出力 {data.printed_by}",
            )

        return self._pdf(
            story,
            footer,
            title=f"再送付 差出票 {data.mailed_on.isoformat()}",
            subject="再送付 差出票",
            margin_top=18 * MM,
        )


def render_mailing_list(data: MailingList) -> bytes:
    return _Builder().build(data)
