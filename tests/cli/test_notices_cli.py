"""``tracker notices`` (issue 15): counts line, exit codes 0/1/2, dry run writes nothing, a
refusal leaves no file, and the letters and mailing list are written on success."""

from __future__ import annotations

from pathlib import Path

import time_machine
from pypdf import PdfReader
from sqlalchemy import func, select

from tests import factories
from tests import factories_notices as fn
from tests.cli.test_cli import invoke
from tests.factories import NOW, TODAY
from tracker.db import Database
from tracker.domain.codes import Role
from tracker.models import Contact, Item, NoticeBatch


def counts(database: Database) -> tuple[int, int]:
    with database.session_scope() as session:
        return (
            int(session.scalar(select(func.count()).select_from(NoticeBatch)) or 0),
            int(session.scalar(select(func.count()).select_from(Contact)) or 0),
        )


def test_notices_cli(database_url: str, tmp_path: Path) -> None:
    database = Database(database_url)
    fn.rules(database)
    ids = fn.many(
        database, [fn.RETURNED_A[0], fn.RETURNED_A2[0], fn.RETURNED_B[0], fn.RETURNED_A[0]]
    )
    factories.user(database, Role.RECORDS_OFFICER)
    factories.user(database, Role.CLERK)
    with database.session_scope() as session:
        numbers = [session.get(Item, i).control_no for i in ids]  # type: ignore[union-attr]
    pdf, csv = tmp_path / "letters.pdf", tmp_path / "mailing.csv"
    sent_on = TODAY.isoformat()
    with time_machine.travel(NOW, tick=False):
        dry = invoke(
            database_url, "notices", "--select", f"rule:{fn.RULE_A}", "--output", str(pdf),
            "--sent-on", sent_on, "--dry-run",
        )  # fmt: skip
        assert dry.exit_code == 0, dry.output
        assert dry.output.strip() == "letters=3 excluded=0 dry_run"
        assert not pdf.exists() and counts(database) == (0, 0)

        usage = invoke(database_url, "notices", "--select", "everyone", "--output", str(pdf))
        assert usage.exit_code == 2

        unknown = invoke(database_url, "notices", "--select", "rule:無い基準", "--output", str(pdf))
        assert unknown.exit_code == 1 and "無い基準" in unknown.output
        clerk = invoke(
            database_url, "notices", "--select", "within:400", "--output", str(pdf),
            "--actor", "clerk1",
        )  # fmt: skip
        assert clerk.exit_code == 1 and "--actor" in clerk.output
        assert not pdf.exists() and counts(database) == (0, 0)

        hand = tmp_path / "items.txt"
        hand.write_text(f"{numbers[2]}\n{numbers[3]}\n", encoding="utf-8")
        done = invoke(
            database_url, "notices", "--select", f"items:{hand}", "--output", str(pdf),
            "--list", str(csv), "--sent-on", sent_on, "--method", "simple_registered",
            "--actor", "records-officer1",
        )  # fmt: skip
        assert done.exit_code == 0, done.output
        assert done.output.strip() == "letters=2 excluded=0 batch=N000000001"
        assert len(PdfReader(pdf).pages) == 2
        text = csv.read_bytes().decode("utf-8-sig")
        assert text.splitlines()[0] == "発送番号,管理番号,氏名,住所,発送方法,発送日"
        assert f"N000000001,{numbers[2]},通知 太郎2," in text and "簡易書留" in text
        assert counts(database) == (1, 2)

        # the same again: both already notified on that day → refused, old files untouched
        before = pdf.read_bytes()
        again = invoke(
            database_url, "notices", "--select", f"items:{hand}", "--output", str(pdf),
            "--sent-on", sent_on,
        )  # fmt: skip
        assert again.exit_code == 1 and "同じ発送日にお知らせ済み" in again.output
        assert pdf.read_bytes() == before and counts(database) == (1, 2)
        assert not list(tmp_path.glob(".*.partial"))

        rest = invoke(
            database_url, "notices", "--select", "within:200", "--output", str(pdf),
            "--sent-on", sent_on, "--as-of", sent_on,
        )  # fmt: skip
        assert rest.exit_code == 0, rest.output
        # within 200 days of 2026-11-27: rule A's two returns not yet notified (2027-03-31,
        # 2027-05-31); the two sent by hand above count from today now, and are left out
        assert rest.output.strip() == (
            "letters=2 excluded=2 batch=N000000002 (同じ発送日にお知らせ済み: 2)"
        )
    database.dispose()
