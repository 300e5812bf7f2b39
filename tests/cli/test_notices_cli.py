"""``tracker notices`` (issue 15): counts line, exit codes 0/1/2, dry run writes nothing, a
refusal leaves no file, and the letters and mailing list are written on success."""

from __future__ import annotations

from pathlib import Path

import pytest
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


def test_a_rendering_failure_after_the_commit_names_the_batch_to_reprint(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sending is committed before the letters are drawn (no locks held while drawing):
    when drawing fails (here: the disk fills up half-way), the mailing stays recorded, no file
    is left, and the message says which batch to reprint; ``--reprint`` then prints it."""
    from tracker.services import notices

    database = Database(database_url)
    fn.rules(database)
    fn.many(database, [fn.RETURNED_A[0], fn.RETURNED_A2[0]])
    factories.user(database, Role.RECORDS_OFFICER)
    real = notices.write_letters

    def disk_full(session, batch, out):  # type: ignore[no-untyped-def]
        out.write(b"%PDF-1.4 half a file")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(notices, "write_letters", disk_full)
    pdf = tmp_path / "letters.pdf"
    sent_on = TODAY.isoformat()
    with time_machine.travel(NOW, tick=False):
        failed = invoke(
            database_url, "notices", "--select", f"rule:{fn.RULE_A}", "--output", str(pdf),
            "--sent-on", sent_on,
        )  # fmt: skip
        assert failed.exit_code == 1, failed.output
        assert "No space left on device" in failed.output
        assert "発送番号 N000000001 として記録済み" in failed.output
        assert "--reprint N000000001" in failed.output
        assert counts(database) == (1, 2)  # the mailing is recorded
        assert not pdf.exists() and not list(tmp_path.glob(".*.partial"))

        monkeypatch.setattr(notices, "write_letters", real)
        again = invoke(database_url, "notices", "--reprint", "n000000001", "--output", str(pdf))
        assert again.exit_code == 0, again.output
        assert again.output.strip() == "reprinted batch=N000000001"
        assert len(PdfReader(pdf).pages) == 2
        assert counts(database) == (1, 2)  # nothing sent again
        both = invoke(
            database_url, "notices", "--select", "within:9", "--reprint", "N000000001",
            "--output", str(pdf),
        )  # fmt: skip
        assert both.exit_code == 2
    database.dispose()


def test_a_letter_too_long_for_its_page_is_not_cut_by_the_cli(
    database_url: str, tmp_path: Path
) -> None:
    """A wording too long for a page (saved before the editor checked it) fails the drawing
    with the reason, after the sending was recorded; nothing is cut and no file is left."""
    database = Database(database_url)
    fn.rules(database)
    fn.many(database, [fn.RETURNED_A[0]])
    factories.user(database, Role.RECORDS_OFFICER)
    fn.long_template(database)
    pdf = tmp_path / "letters.pdf"
    with time_machine.travel(NOW, tick=False):
        failed = invoke(
            database_url, "notices", "--select", f"rule:{fn.RULE_A}", "--output", str(pdf),
            "--sent-on", TODAY.isoformat(),
        )  # fmt: skip
    assert failed.exit_code == 1
    assert "1ページに収まりません" in failed.output and "行はみ出します" in failed.output
    assert not pdf.exists() and not list(tmp_path.glob(".*.partial"))
    database.dispose()
