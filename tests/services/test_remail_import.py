"""A re-mailed card coming back through the bulk import (issue 13): the row is that card's
return when the person matches; otherwise a row error and nothing is written. Both databases."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from tests import factories
from tests.factories import NOW, TODAY
from tests.factories_remail import mailed, remail_no
from tests.security.support import csv_text, row
from tracker.db import Database
from tracker.models import Envelope, Item, Remailing
from tracker.services import importer


def run(database: Database, folder: Path, text: str) -> importer.ImportReport:
    path = folder / "returns.csv"
    path.write_text(text, encoding="utf-8")
    with database.session_scope() as session:
        report = importer.run_import(session, path, actor="cli:test", today=TODAY, now=NOW)
        if not report.committed:
            session.rollback()
        return report


def returned_row(**overrides: str) -> dict[str, str]:
    values = row(90, "山田 太郎", "ヤマダ タロウ", return_date="R8.11.27", birth_date="S50.1.1")
    values["tracking_no"] = remail_no(1)
    values.update(overrides)
    return values


def test_a_row_for_a_remailed_number_is_that_cards_return(
    database: Database, tmp_path: Path
) -> None:
    item_id = factories.envelope(database, 1)[0]
    mailed(database, item_id, mailed_on=TODAY)
    text = csv_text([returned_row(), row(2, "肥後 花子", "ヒゴ ハナコ")])

    report = run(database, tmp_path, text)
    assert report.committed, [str(e) for e in report.errors]
    assert (report.items, report.envelopes, report.remail_returns) == (1, 1, 1)
    assert report.counts_line().endswith("remail_returns=1")
    with database.session_scope() as session:
        item = session.get(Item, item_id)
        assert item is not None
        assert item.status == "in_custody"
        assert item.envelope.tracking_no == remail_no(1)
        record = session.scalar(select(Remailing).where(Remailing.item_id == item_id))
        assert record is not None and record.status == "returned"

    # the same file again: the return is now an envelope on file, so a duplicate
    again = run(database, tmp_path, text)
    assert again.committed
    assert (again.items, again.duplicates, again.remail_returns) == (0, 2, 0)


def test_someone_else_under_a_remailed_number_is_a_row_error(
    database: Database, tmp_path: Path
) -> None:
    item_id = factories.envelope(database, 1)[0]
    mailed(database, item_id, mailed_on=TODAY)
    with database.session_scope() as session:
        before = session.scalar(select(func.count()).select_from(Envelope))
    report = run(
        database,
        tmp_path,
        csv_text([returned_row(name="山田 次郎"), row(2, "肥後 花子", "ヒゴ ハナコ")]),
    )
    assert not report.committed
    assert [e.line for e in report.errors] == [2]
    assert report.errors[0].message.startswith(
        "このお問い合わせ番号は再送付した通知物（管理番号 E000000001-1）の番号ですが、"
        "氏名・生年月日が一致しません"
    )
    with database.session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Envelope)) == before
        item = session.get(Item, item_id)
        assert item is not None and item.status == "remailed"
