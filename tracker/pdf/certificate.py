"""廃棄証明書 (disposal certificate): what an auditor or a court reads years later. SPEC §5.

One A4 portrait document per executed disposal batch: certificate number, municipality and
office, the statement, as-of date, destruction date, method, place, contractor (if any), the
count per rule/cohort and the total, creator / approver / executor / witness, the audit-chain
head at execution (sequence number and the full SHA-256, in a monospaced font), then the list
of destroyed items and the list of skipped items with the reason, and ``n / N`` on every page.

Personal data. Only the family name is printed, followed by ○○ (髙橋○○). `CertificateItem`
holds nothing but that masked form and refuses a value that does not look masked, so a full
name cannot reach the page by accident; build items with `CertificateItem.from_full_name`,
which masks with `tracker.domain.masking.mask_name`. The PDF metadata names the document only.

Scale. A batch can hold 100,000 items. ReportLab's platypus Table splits in quadratic time
(one Table of 100,000 rows took 546 s), so the item lists are `tracker.pdf.row_table.RowTable`,
which lays every row out once and costs the same per page whatever the list length. The total
page count for ``n / N`` comes from a canvas that holds its pages back until the end
(`tracker.pdf.layout.NumberedCanvas`), so the document is laid out once rather than twice.

Reproducible. Built with ``invariant=1`` and nothing taken from the clock or the host: the
same certificate gives byte-identical PDFs, so the SHA-256 the disposal service records
(`sha256_of`; a PDF cannot carry its own hash) verifies any copy. The bytes do depend on which
fonts are installed: IPAex (required), IPAmj明朝 for names beyond IPAex and DejaVu Sans Mono
for the hash (both optional, see `tracker.pdf.fonts`), so regenerate on a host set up alike.

Glossary: 廃棄証明書 disposal certificate, 管理番号 control number, お問い合わせ番号 tracking
number, 返戻日 return date, 基準日 as-of date, 廃棄方法 method (裁断 shredding / 溶解 pulping /
焼却 incineration), 委託業者 contractor, 立会人 witness, 除外 skipped.

Items a records officer took out of the batch before execution (issue 13: 最終日の窓口) are a
separate list, 「除外」, with the reason and who took them out; it is printed only when there is
one, so that a certificate without exclusions is the same, byte for byte, as before.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import CondPageBreak, KeepTogether, Paragraph, Spacer, Table
from reportlab.platypus.tables import TableStyle

from tracker.domain.masking import MASK, is_masked, mask_name
from tracker.domain.wareki import format_jst, format_wareki_with_iso
from tracker.pdf.fonts import register_mono_font
from tracker.pdf.layout import (
    FRAME_WIDTH,
    LABEL_BACKGROUND,
    MM,
    DocumentBuilder,
    Footer,
    draw_footer,
    grid_style,
    label_table,
)
from tracker.pdf.row_table import Column, ListData, ListStyle, RowTable

__all__ = [
    "Certificate",
    "CertificateDocument",
    "CertificateItem",
    "CohortCount",
    "ExcludedItem",
    "ReasonGroup",
    "ReasonItem",
    "SkippedItem",
    "render_certificate",
    "sha256_of",
]

MARGIN_TOP = 20 * MM

_HEX64 = re.compile(r"[0-9a-f]{64}")


# --- input -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CertificateItem:
    """One destroyed item as the certificate lists it; the name is held only masked."""

    control_no: str  #: e.g. ``E000000123-1``
    tracking_no: str  #: お問い合わせ番号
    returned_on: date
    masked_name: str  #: family name + ○○ (or Latin initials), see `tracker.domain.masking`

    def __post_init__(self) -> None:
        # A full name (髙橋 花子, SMITH John) is neither ``髙橋○○`` nor ``SMITH J.``: refuse it
        # rather than print it.
        if not is_masked(self.masked_name):
            raise ValueError(
                f"item {self.control_no}: masked_name must be a family name followed by {MASK}"
                " or by initials (use CertificateItem.from_full_name)"
            )

    @classmethod
    def from_full_name(
        cls, control_no: str, tracking_no: str, returned_on: date, full_name: str
    ) -> CertificateItem:
        """The item with `full_name` masked by `mask_name`; the full name is not kept."""
        return cls(control_no, tracking_no, returned_on, mask_name(full_name))


@dataclass(frozen=True)
class SkippedItem:
    """An item of the batch that was not destroyed, and why (re-checked at execution)."""

    control_no: str
    tracking_no: str
    reason: str  #: e.g. 作成後に交付済み


@dataclass(frozen=True)
class ExcludedItem:
    """An item a records officer took out of the batch before execution, and why (issue 13)."""

    control_no: str
    tracking_no: str
    reason: str
    excluded_by: str  #: the officer's display name


@dataclass(frozen=True)
class CohortCount:
    """How many items one retention rule (and cohort) contributed to the destruction."""

    rule_label: str  #: e.g. 平成30年度返戻分
    rule_description: str  #: e.g. 返戻日 2018-04-01〜2019-03-31、保存期間満了
    count: int
    #: For items made eligible by an event rule (issue 13): the event, e.g. 死亡; printed
    #: under the description as 廃棄事由. ``None`` for an ordinary rule's cohort.
    reason: str | None = None


@dataclass(frozen=True)
class ReasonItem:
    """A destroyed item made eligible by an event rule, with its frozen reason."""

    control_no: str
    tracking_no: str
    reason: str  #: e.g. 死亡（異動日 令和8年11月1日）


@dataclass(frozen=True)
class ReasonGroup:
    """The destroyed items of one event rule and outcome (issue 13), listed with their reasons."""

    rule_label: str  #: e.g. 死亡による廃棄
    reason: str  #: e.g. 死亡
    items: Sequence[ReasonItem]


@dataclass(frozen=True)
class Certificate:
    """Everything one 廃棄証明書 prints; filled by the disposal service."""

    certificate_no: str
    municipality: str  #: 熊本市
    office: str  #: e.g. 中央区役所 区民課
    rules: Sequence[CohortCount]
    as_of: date  #: the batch's as-of date (基準日)
    destroyed_on: date
    method: str  #: 裁断 / 溶解 / 焼却
    place: str
    contractor_name: str | None
    contractor_certificate_no: str | None  #: the contractor's own destruction certificate
    items: Sequence[CertificateItem]
    skipped: Sequence[SkippedItem]
    created_by: str
    approved_by: str
    executed_by: str
    witness: str
    audit_head_hash: str  #: SHA-256 of the newest audit event at execution, 64 hex digits
    audit_head_seq: int
    issued_at: datetime  #: timezone-aware; printed in JST
    excluded: Sequence[ExcludedItem] = ()  #: taken out before execution (issue 13)
    #: Destroyed items made eligible by an event rule, per rule and outcome, with their
    #: reasons (issue 13). Empty: nothing is printed for them (the certificate is as before).
    reason_groups: Sequence[ReasonGroup] = ()

    def __post_init__(self) -> None:
        if self.issued_at.utcoffset() is None:
            raise ValueError("issued_at must be timezone-aware")
        if not _HEX64.fullmatch(self.audit_head_hash):
            raise ValueError("audit_head_hash must be 64 lower-case hex digits")
        if self.audit_head_seq < 0:
            raise ValueError("audit_head_seq must not be negative")
        if any(rule.count < 0 for rule in self.rules):
            raise ValueError("a cohort count must not be negative")
        # The counts and the list are printed side by side: they must agree.
        if self.total != len(self.items):
            raise ValueError(
                f"cohort counts add up to {self.total} but {len(self.items)} items are listed"
            )
        if self.contractor_certificate_no is not None and self.contractor_name is None:
            raise ValueError("contractor_certificate_no given without contractor_name")

    @property
    def total(self) -> int:
        return sum(rule.count for rule in self.rules)


def sha256_of(pdf: bytes) -> str:
    """Hex SHA-256 of a finished certificate: what the batch records (SPEC §5)."""
    return hashlib.sha256(pdf).hexdigest()


# --- document --------------------------------------------------------------------------------


class CertificateDocument(DocumentBuilder):
    """Builds the 廃棄証明書 PDF; one instance can render many certificates."""

    ITEM_COLUMNS = (
        Column("No.", 15, "right"),
        Column("管理番号", 30),
        Column("お問い合わせ番号", 36),
        Column("返戻日", 53),
        Column("氏名", 36),
    )
    REASON_COLUMNS = (
        Column("No.", 15, "right"),
        Column("管理番号", 30),
        Column("お問い合わせ番号", 36),
        Column("廃棄事由", 89),
    )
    SKIPPED_COLUMNS = (
        Column("No.", 15, "right"),
        Column("管理番号", 30),
        Column("お問い合わせ番号", 36),
        Column("除外の理由", 89),
    )
    EXCLUDED_COLUMNS = (
        Column("No.", 15, "right"),
        Column("管理番号", 30),
        Column("お問い合わせ番号", 36),
        Column("除外の理由", 59),
        Column("除外した人", 30),
    )
    LABEL_COLUMN_MM = 38.0

    def __init__(self) -> None:
        super().__init__()
        #: DejaVu Sans Mono for the hash; IPAexGothic when it is missing.
        self.mono: str = register_mono_font() or self.fonts.gothic
        self.list_style = ListStyle(cell_font=self.fonts.mincho, header_font=self.fonts.gothic)

    def render(self, cert: Certificate) -> bytes:
        """PDF bytes of `cert`: A4 portrait, as many pages as its lists need."""
        return self._pdf(
            self._story(cert),
            self._footer(cert),
            title="廃棄証明書",
            subject="返戻通知カード等の廃棄証明書",
            margin_top=MARGIN_TOP,
        )

    def _footer(self, cert: Certificate) -> Footer:
        def footer(canvas: Canvas, number: int, total: int) -> None:
            left = f"廃棄証明書 {cert.certificate_no}"
            draw_footer(canvas, self.fonts, number, total, left, cert.municipality)

        return footer

    # -- content ---------------------------------------------------------------------------

    def _story(self, cert: Certificate) -> list[Any]:
        s = self.styles
        story: list[Any] = [
            Paragraph(
                f"証明書番号　{self._text(cert.certificate_no)}<br/>"
                f"発行日時　{format_jst(cert.issued_at)}",
                s.right,
            ),
            Spacer(0, 6 * MM),
            Paragraph("廃棄証明書", s.title),
            Spacer(0, 6 * MM),
            Paragraph(f"{self._text(cert.municipality)}<br/>{self._text(cert.office)}", s.right),
            Spacer(0, 5 * MM),
            Paragraph("返戻された通知カード等を、下記のとおり廃棄したことを証明します。", s.body),
            Spacer(0, 2 * MM),
            Paragraph("記", s.centre),
            Spacer(0, 2 * MM),
            self._details_table(cert),
            Spacer(0, 5 * MM),
            Paragraph("廃棄の対象（規則・区分ごとの件数）", s.heading),
            self._cohort_table(cert),
            Spacer(0, 5 * MM),
            KeepTogether([Paragraph("担当者・立会人", s.heading), self._people_table(cert)]),
            Spacer(0, 5 * MM),
            KeepTogether(
                [
                    Paragraph("監査ログ（廃棄実施時点）", s.heading),
                    self._audit_table(cert),
                    Spacer(0, 1.5 * MM),
                    Paragraph(
                        "監査ログがこの時点から改ざんされていないことは、上記の連番とハッシュ値で"
                        "照合できます（tracker audit-verify --expect-head 連番:ハッシュ値）。"
                        "本書ファイルの SHA-256 は発行時に記録しており、"
                        "写しが本書と同一であることを照合できます。",
                        s.small,
                    ),
                ]
            ),
        ]
        story += self._list(
            f"廃棄した通知カード等の一覧（{cert.total:,}件）",
            self.ITEM_COLUMNS,
            [
                (
                    str(number),
                    item.control_no,
                    item.tracking_no,
                    format_wareki_with_iso(item.returned_on),
                    item.masked_name,
                )
                for number, item in enumerate(cert.items, start=1)
            ],
        )
        for group in cert.reason_groups:
            story += self._list(
                f"廃棄事由別の内訳: {group.rule_label}（{group.reason}、{len(group.items):,}件）",
                self.REASON_COLUMNS,
                [
                    (str(number), item.control_no, item.tracking_no, item.reason)
                    for number, item in enumerate(group.items, start=1)
                ],
            )
        story += self._list(
            f"廃棄せず除外したもの（{len(cert.skipped):,}件）",
            self.SKIPPED_COLUMNS,
            [
                (str(number), item.control_no, item.tracking_no, item.reason)
                for number, item in enumerate(cert.skipped, start=1)
            ],
        )
        if cert.excluded:
            story += self._list(
                f"除外（執行前に記録管理担当者が廃棄処理から外したもの、{len(cert.excluded):,}件）",
                self.EXCLUDED_COLUMNS,
                [
                    (str(number), item.control_no, item.tracking_no, item.reason, item.excluded_by)
                    for number, item in enumerate(cert.excluded, start=1)
                ],
            )
        story += [Spacer(0, 4 * MM), Paragraph("以上", s.right)]
        return story

    def _list(
        self, caption: str, columns: Sequence[Column], rows: Sequence[Sequence[str]]
    ) -> list[Any]:
        s = self.styles
        # The caption never ends a page alone: room for it, the header and two rows, or a new page.
        story: list[Any] = [
            Spacer(0, 6 * MM),
            CondPageBreak(30 * MM),
            Paragraph(caption, s.heading),
        ]
        if rows:
            story.append(RowTable(ListData(columns, rows, self.list_style, self.fallback)))
        else:
            story.append(Paragraph("なし", s.body))
        return story

    def _label_table(self, rows: Sequence[tuple[str, str]]) -> Table:
        return label_table(rows, self.styles, self.fonts, self.LABEL_COLUMN_MM * MM)

    def _grid(self, extra: Sequence[tuple[Any, ...]] = ()) -> TableStyle:
        return grid_style(self.fonts, extra)

    def _details_table(self, cert: Certificate) -> Table:
        rows = [
            ("証明書番号", self._text(cert.certificate_no)),
            ("基準日", f"{format_wareki_with_iso(cert.as_of)}（この日に廃棄対象となったもの）"),
            ("廃棄日", format_wareki_with_iso(cert.destroyed_on)),
            ("廃棄方法", self._text(cert.method)),
            ("廃棄場所", self._text(cert.place)),
        ]
        if cert.contractor_name is not None:
            contractor = self._text(cert.contractor_name)
            if cert.contractor_certificate_no is not None:
                number = self._text(cert.contractor_certificate_no)
                contractor += f"（業者の廃棄証明書番号 {number}）"
            rows.append(("委託業者", contractor))
        count = f"廃棄 {cert.total:,}件、除外 {len(cert.skipped):,}件（除外の理由は末尾の一覧）"
        if cert.excluded:
            count += f"。このほか執行前に除外 {len(cert.excluded):,}件（末尾の「除外」）"
        rows.append(("件数", count))
        return self._label_table(rows)

    def _cohort_table(self, cert: Certificate) -> Table:
        s = self.styles
        header = [Paragraph(t, s.header) for t in ("規則・区分", "内容", "廃棄件数")]
        rows: list[list[Any]] = [header]
        for rule in cert.rules:
            description = self._text(rule.rule_description)
            if rule.reason is not None:
                description += f"<br/>廃棄事由: {self._text(rule.reason)}（内訳は一覧の後）"
            rows.append(
                [
                    Paragraph(self._text(rule.rule_label), s.cell),
                    Paragraph(description, s.cell),
                    Paragraph(f"{rule.count:,}件", s.cell_right),
                ]
            )
        rows.append([Paragraph("合計", s.label), "", Paragraph(f"{cert.total:,}件", s.cell_right)])
        count_w = 28 * MM
        label_w = self.LABEL_COLUMN_MM * MM
        table = Table(
            rows, colWidths=[label_w, FRAME_WIDTH - label_w - count_w, count_w], repeatRows=1
        )
        table.setStyle(
            self._grid(
                [
                    ("BACKGROUND", (0, 0), (-1, 0), LABEL_BACKGROUND),
                    ("BACKGROUND", (0, -1), (-1, -1), LABEL_BACKGROUND),
                    ("SPAN", (0, -1), (1, -1)),
                ]
            )
        )
        return table

    def _people_table(self, cert: Certificate) -> Table:
        s = self.styles
        people = (
            ("作成者", cert.created_by),
            ("承認者", cert.approved_by),
            ("廃棄実施者", cert.executed_by),
            ("立会人", cert.witness),
        )
        table = Table(
            [
                [Paragraph(label, s.header) for label, _ in people],
                [Paragraph(self._text(name), s.cell) for _, name in people],
            ],
            colWidths=[FRAME_WIDTH / 4] * 4,
        )
        table.setStyle(self._grid([("BACKGROUND", (0, 0), (-1, 0), LABEL_BACKGROUND)]))
        return table

    def _audit_table(self, cert: Certificate) -> Table:
        label_w = self.LABEL_COLUMN_MM * MM
        room = FRAME_WIDTH - label_w - 12  # the value column less the table's cell padding
        table = self._label_table(
            [
                ("最終記録の連番", f"{cert.audit_head_seq}"),
                ("ハッシュ値（SHA-256）", self._hash_markup(cert.audit_head_hash, room)),
            ]
        )
        return table

    def _hash_markup(self, digest: str, room: float) -> str:
        """The 64 digits on one line when they fit, else in equal lines broken between digits
        (never mid-way through a line by the paragraph's own wrapping)."""
        size = 9
        for per_line in (64, 32, 16):
            if stringWidth(digest[:per_line], self.mono, size) <= room:
                break
        lines = [digest[i : i + per_line] for i in range(0, len(digest), per_line)]
        return f'<font name="{self.mono}" size="{size}">{"<br/>".join(lines)}</font>'


def render_certificate(cert: Certificate) -> bytes:
    """PDF bytes of `cert` (see CertificateDocument.render)."""
    return CertificateDocument().render(cert)
