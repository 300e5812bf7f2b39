"""Re-mailed cards coming back through the bulk import (issue 13).

A row whose tracking number is that of a re-mailing out in the post (再送付中) is not a new
envelope: it is that card's return, when the row names the same person (the normalised name
key and the birth date, as search and intake compare people). Such rows leave the staging
table (nothing is inserted for them by the set-based writer) and, once the import is known to
be good, each is recorded with :func:`tracker.services.remailing.record_return`, exactly as
the intake screen records it: a new envelope holds the card, which is 保管中 again.

A row that names someone else, a second row for the same re-mailed number (a re-mailing holds
one card), a return dated before the mailing, or the number of a re-mailing already closed as
delivered is a row error naming the card; the import stays all or nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from tracker.domain.codes import RemailStatus, ReturnReason
from tracker.domain.wareki import format_wareki_with_iso
from tracker.models import Remailing
from tracker.services import remailing
from tracker.services.importer.reading import ImportReport, RowProblem


@dataclass(frozen=True)
class RemailReturn:
    """One staged row that is a re-mailed card's return (taken out of staging)."""

    line_no: int
    remailing_id: int
    returned_on: date
    return_reason: str
    location_id: int
    slot: str | None


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def match(conn: Connection, report: ImportReport) -> list[RemailReturn]:
    """Find staged rows for re-mailed numbers: report the bad ones, take the good ones out."""
    rows = conn.execute(
        text(
            "SELECT s.line_no, s.tracking_no, s.name_key, s.birth_date, s.returned_on,"
            " s.return_reason, s.location_id, s.slot,"
            " r.id AS remailing_id, r.status, r.mailed_on,"
            " i.control_no, i.name_key AS item_name_key, i.birth_date AS item_birth_date,"
            " (SELECT COUNT(*) FROM import_staging t WHERE t.tracking_no = s.tracking_no)"
            "   AS rows_for_number"
            " FROM import_staging s"
            " JOIN remailings r ON r.tracking_no = s.tracking_no"
            " JOIN items i ON i.id = r.item_id"
            " WHERE r.status IN (:mailed, :delivered)"
            " ORDER BY s.line_no"
        ),
        {"mailed": RemailStatus.MAILED.value, "delivered": RemailStatus.DELIVERED.value},
    ).all()
    returns: list[RemailReturn] = []
    for row in rows:
        reason = _problem(row)
        if reason is not None:
            report.add_error(
                RowProblem(row.line_no, report.label("tracking_no"), row.tracking_no, reason)
            )
            continue
        returns.append(
            RemailReturn(
                row.line_no,
                row.remailing_id,
                _as_date(row.returned_on),
                row.return_reason,
                row.location_id,
                row.slot,
            )
        )
    for found in returns:
        conn.execute(
            text("DELETE FROM import_staging WHERE line_no = :line"), {"line": found.line_no}
        )
    report.remail_returns = len(returns)
    return returns


def _problem(row: Any) -> str | None:
    card = f"再送付した通知物（管理番号 {row.control_no}）"
    if row.status == RemailStatus.DELIVERED.value:
        return (
            f"このお問い合わせ番号は{card}の番号で、再送付済として完了しています。"
            "受付画面で確認してください"
        )
    if row.rows_for_number > 1:
        return (
            f"このお問い合わせ番号は{card}の番号です。再送付の封筒には1人分しか入っていません"
            "（同じ番号の行が複数あります）"
        )
    if row.name_key != row.item_name_key or _as_date(row.birth_date) != _as_date(
        row.item_birth_date
    ):
        return (
            f"このお問い合わせ番号は{card}の番号ですが、氏名・生年月日が一致しません。"
            "番号と氏名を確認してください"
        )
    mailed_on = _as_date(row.mailed_on) if row.mailed_on is not None else None
    if mailed_on is not None and _as_date(row.returned_on) < mailed_on:
        return (
            f"このお問い合わせ番号は{card}の番号ですが、返戻日が再送付の郵送日"
            f"（{format_wareki_with_iso(mailed_on)}）より前です"
        )
    return None


def record(session: Session, returns: list[RemailReturn], *, actor: str, now: Any) -> None:
    """Record each return as the intake screen does (after the import's own inserts)."""
    for found in returns:
        record_ = session.get(Remailing, found.remailing_id)
        assert record_ is not None  # matched in this transaction
        remailing.record_return(
            session,
            actor=actor,
            remailing=record_,
            returned_on=found.returned_on,
            return_reason=ReturnReason(found.return_reason),
            location_id=found.location_id,
            slot=found.slot,
            now=now,
        )
