"""The stock-check record (棚卸記録) and the loss report (紛失報告書), issue 13.

Plain data in, PDF bytes out, on the shared A4 layout (:mod:`tracker.pdf.layout`): Mincho for
what is read, Gothic captions, framed label tables, page numbers ``n / N``.

The record lists counts and every exception (missing, found elsewhere, unexpected) by control
and tracking number and where the ledger placed it: no names at all, since a shelf is proven
by its labels. The loss report names the card's holder only masked (family name + ○○, as the
destruction certificate does): the report goes up the line and to the PPC-style incident file,
and who the card belonged to is found from its control number by those allowed to see it.
People who acted are named by their display names, never their logins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import CondPageBreak, Paragraph, Spacer

from tracker.domain.masking import is_masked
from tracker.domain.wareki import format_jst, format_wareki_with_iso
from tracker.pdf.layout import MM, DocumentBuilder, Footer, draw_footer, label_table
from tracker.pdf.row_table import Column, ListData, ListStyle, RowTable

__all__ = [
    "LossReportData",
    "StockCheckException",
    "StockCheckRecord",
    "render_loss_report",
    "render_stock_check",
]

MARGIN_TOP = 20 * MM
LABEL_MM = 42.0


@dataclass(frozen=True)
class StockCheckException:
    control_no: str  #: the envelope's, or the code as scanned when it names no envelope
    tracking_no: str
    ledger_place: str  #: location and slot the ledger gave when it was read (or at the start)
    outcome: str  #: its label: 所在不明 / 他の場所で発見 / 台帳外
    note: str = ""  #: e.g. 移動を記録済み


@dataclass(frozen=True)
class StockCheckRecord:
    check_no: str
    municipality: str
    office: str
    location: str
    slot_range: str  #: e.g. 全体, or A-01 〜 A-09
    status: str
    started_by: str
    started_at: datetime
    closed_by: str | None
    closed_at: datetime | None
    signed_off_by: str | None
    signed_off_at: datetime | None
    expected: int
    found: int
    found_elsewhere: int
    missing: int
    unexpected: int
    exceptions: Sequence[StockCheckException]
    printed_at: datetime


@dataclass(frozen=True)
class LossReportData:
    report_no: str
    municipality: str
    office: str
    item_control_no: str
    tracking_no: str
    masked_name: str  #: family name + ○○
    returned_on: date
    place: str  #: location and slot on the ledger
    check_no: str | None
    circumstances: str
    confirmed_by: str
    confirmed_at: datetime
    printed_at: datetime

    def __post_init__(self) -> None:
        if not is_masked(self.masked_name):  # ``髙橋○○`` or ``SMITH J.`` (issue 14)
            raise ValueError("masked_name must be a family name followed by ○○ or initials")


def _moment(value: datetime | None) -> str:
    return format_jst(value) if value is not None else "—"


class StockCheckDocuments(DocumentBuilder):
    EXCEPTION_COLUMNS = (
        Column("No.", 12, "right"),
        Column("管理番号", 28),
        Column("お問い合わせ番号", 32),
        Column("台帳上の保管場所・位置", 48),
        Column("結果", 50),
    )

    def __init__(self) -> None:
        super().__init__()
        self.list_style = ListStyle(cell_font=self.fonts.mincho, header_font=self.fonts.gothic)

    def _footer(self, left: str, right: str) -> Footer:
        def footer(canvas: Canvas, number: int, total: int) -> None:
            draw_footer(canvas, self.fonts, number, total, left, right)

        return footer

    def _head(self, number_label: str, number: str, printed_at: datetime, title: str) -> list[Any]:
        s = self.styles
        return [
            Paragraph(
                f"{number_label}　{self._text(number)}<br/>出力日時　{format_jst(printed_at)}",
                s.right,
            ),
            Spacer(0, 6 * MM),
            Paragraph(title, s.title),
            Spacer(0, 6 * MM),
        ]

    def stock_check(self, record: StockCheckRecord) -> bytes:
        s = self.styles
        t = self._text
        story = self._head("棚卸番号", record.check_no, record.printed_at, "棚卸記録")
        story += [
            Paragraph(f"{t(record.municipality)}<br/>{t(record.office)}", s.right),
            Spacer(0, 4 * MM),
            label_table(
                [
                    ("棚卸番号", t(record.check_no)),
                    ("保管場所", t(record.location)),
                    ("範囲（保管位置）", t(record.slot_range)),
                    ("状態", t(record.status)),
                    ("開始", f"{_moment(record.started_at)}　{t(record.started_by)}"),
                    (
                        "締め",
                        f"{_moment(record.closed_at)}　{t(record.closed_by or '—')}",
                    ),
                    (
                        "確認（別の担当者）",
                        f"{_moment(record.signed_off_at)}　{t(record.signed_off_by or '—')}",
                    ),
                ],
                s,
                self.fonts,
                LABEL_MM * MM,
            ),
            Spacer(0, 5 * MM),
            Paragraph("件数（封筒）", s.heading),
            label_table(
                [
                    ("台帳上の封筒", f"{record.expected:,}件"),
                    ("所在確認", f"{record.found:,}件"),
                    ("他の場所で発見", f"{record.found_elsewhere:,}件"),
                    ("所在不明", f"{record.missing:,}件"),
                    ("台帳外", f"{record.unexpected:,}件"),
                ],
                s,
                self.fonts,
                LABEL_MM * MM,
            ),
            Spacer(0, 2 * MM),
            Paragraph(
                "所在不明の封筒の通知物は「所在調査中」として保留され、見つかるか紛失として"
                "確定されるまで交付も廃棄もできません。",
                s.small,
            ),
            Spacer(0, 6 * MM),
            CondPageBreak(30 * MM),
            Paragraph(f"例外の一覧（{len(record.exceptions):,}件）", s.heading),
        ]
        if record.exceptions:
            rows = [
                (
                    str(number),
                    row.control_no,
                    row.tracking_no,
                    row.ledger_place,
                    f"{row.outcome}（{row.note}）" if row.note else row.outcome,
                )
                for number, row in enumerate(record.exceptions, start=1)
            ]
            story.append(
                RowTable(ListData(self.EXCEPTION_COLUMNS, rows, self.list_style, self.fallback))
            )
        else:
            story.append(Paragraph("なし", s.body))
        story += [Spacer(0, 4 * MM), Paragraph("以上", s.right)]
        return self._pdf(
            story,
            self._footer(f"棚卸記録 {record.check_no}", record.municipality),
            title="棚卸記録",
            subject="返戻通知カード等の棚卸記録",
            margin_top=MARGIN_TOP,
        )

    def loss_report(self, report: LossReportData) -> bytes:
        s = self.styles
        t = self._text
        story = self._head("報告番号", report.report_no, report.printed_at, "紛失報告書")
        story += [
            Paragraph(f"{t(report.municipality)}<br/>{t(report.office)}", s.right),
            Spacer(0, 5 * MM),
            Paragraph(
                "保管していた返戻通知カード等について、下記のとおり所在を確認できず、"
                "紛失として確定したので報告します。",
                s.body,
            ),
            Spacer(0, 2 * MM),
            Paragraph("記", s.centre),
            Spacer(0, 2 * MM),
            label_table(
                [
                    ("報告番号", t(report.report_no)),
                    ("管理番号", t(report.item_control_no)),
                    ("お問い合わせ番号", t(report.tracking_no)),
                    ("氏名", t(report.masked_name)),
                    ("返戻日", format_wareki_with_iso(report.returned_on)),
                    ("保管場所・位置（台帳）", t(report.place)),
                    ("所在不明とした棚卸", t(report.check_no or "—")),
                    ("紛失の状況・捜索の経過", t(report.circumstances)),
                    ("確定した者", t(report.confirmed_by)),
                    ("確定日時", format_jst(report.confirmed_at)),
                ],
                s,
                self.fonts,
                LABEL_MM * MM,
            ),
            Spacer(0, 4 * MM),
            Paragraph("氏名は姓のみを記載しています（個人情報保護のため）。", s.small),
            Spacer(0, 4 * MM),
            Paragraph("以上", s.right),
        ]
        return self._pdf(
            story,
            self._footer(f"紛失報告書 {report.report_no}", report.municipality),
            title="紛失報告書",
            subject="返戻通知カード等の紛失報告書",
            margin_top=MARGIN_TOP,
        )


def render_stock_check(record: StockCheckRecord) -> bytes:
    return StockCheckDocuments().stock_check(record)


def render_loss_report(report: LossReportData) -> bytes:
    return StockCheckDocuments().loss_report(report)
