"""Import edges found by the attack run of issue 10: rows wider than the header, files with no
data rows, and individual numbers in any column, refused without being repeated back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from tests.services.test_import import JA_HEADER, counts, household_rows, run, write
from tracker.cli import main
from tracker.db import Database
from tracker.models import AuditEvent
from tracker.services import importer

NUMBER_FORMS = ("123456789018", "1234-5678-9018")
COLUMNS = JA_HEADER.split(",")


def refusals(database: Database) -> list[AuditEvent]:
    with database.session_scope() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "import.refused")
        ).all()
        session.expunge_all()
        return list(events)


def test_a_row_with_more_fields_than_the_header_is_refused_with_its_line(
    database: Database, tmp_path: Path
) -> None:
    rows = household_rows(1, 3)
    rows[1] += ",余分な値"  # line 3: one field more than the 13 of the header
    report = run(database, write(tmp_path / "wide.csv", [JA_HEADER, *rows]))
    assert not report.ok and not report.committed
    assert [(p.line, p.column) for p in report.errors] == [(3, "")]
    assert "見出しは13項目、この行は14項目" in report.errors[0].message
    assert counts(database) == (0, 0)


def test_a_row_as_wide_as_the_header_or_narrower_is_read_as_before(
    database: Database, tmp_path: Path
) -> None:
    short = household_rows(2, 1)[0].rsplit(",", 2)[0]  # no location and slot fields at all
    report = run(database, write(tmp_path / "ok.csv", [JA_HEADER, *household_rows(1, 2), short]))
    assert report.ok and report.committed and report.items == 3


def test_empty_trailing_fields_are_harmless(database: Database, tmp_path: Path) -> None:
    """Spreadsheets export blank columns as `…,,`: nothing is lost, so nothing is refused."""
    rows = household_rows(1, 2)
    rows[0] += ",,"
    report = run(database, write(tmp_path / "blank-columns.csv", [JA_HEADER, *rows]))
    assert report.ok and report.committed and report.items == 2


def test_the_cli_names_the_line_of_a_wide_row(database_url: str, tmp_path: Path) -> None:
    rows = household_rows(1, 2)
    rows[0] += ",余分,"
    path = write(tmp_path / "wide.csv", [JA_HEADER, *rows])
    result = CliRunner().invoke(
        main, ["import", str(path)], env={"TRACKER_DATABASE_URL": database_url}
    )
    assert result.exit_code == 1
    assert "2行目" in result.stderr and "見出しは13項目、この行は15項目" in result.stderr


@pytest.mark.parametrize("lines", [[JA_HEADER], [JA_HEADER, "", ",,,"]], ids=["header", "blanks"])
def test_a_file_without_data_rows_is_refused_and_audited(
    database_url: str, database: Database, tmp_path: Path, lines: list[str]
) -> None:
    path = write(tmp_path / "empty.csv", lines)
    with pytest.raises(importer.ImportFileError, match="データ行がありません"):
        run(database, path)
    result = CliRunner().invoke(
        main, ["import", str(path)], env={"TRACKER_DATABASE_URL": database_url}
    )
    assert result.exit_code == 1
    assert "データ行がありません" in result.stderr and "取込完了" not in result.output
    dry = CliRunner().invoke(
        main, ["import", str(path), "--dry-run"], env={"TRACKER_DATABASE_URL": database_url}
    )
    assert dry.exit_code == 1 and "データ行がありません" in dry.stderr
    assert counts(database) == (0, 0)
    events = refusals(database)
    assert len(events) == 2 and all(e.outcome == "refused" for e in events)
    assert "データ行がありません" in json.loads(events[0].details)["reason"]


#: Every column of the file, by position in JA_HEADER, and a cell holding a number there.
CELLS = {
    0: "{n}X",  # tracking number with a stray letter
    1: "{n}",  # return date
    2: "理由{n}",
    3: "髙橋 {n}",
    4: "熊本市中央区{n}",
    5: "{n}",  # household code
    6: "髙橋{n}",
    7: "ﾀｶﾊｼ{n}",
    8: "{n}",  # birth date
    9: "世帯主{n}",
    10: "種別{n}",
    11: "保管場所{n}",
    12: "H30-{n}",
}


@pytest.mark.parametrize("number", NUMBER_FORMS)
@pytest.mark.parametrize("column", sorted(CELLS), ids=[COLUMNS[c] for c in sorted(CELLS)])
def test_an_individual_number_in_any_column_is_refused_and_never_repeated(
    database_url: str, database: Database, tmp_path: Path, column: int, number: str
) -> None:
    cells = household_rows(1, 1)[0].split(",")
    cells[column] = CELLS[column].format(n=number)
    path = write(tmp_path / "mn.csv", [JA_HEADER, ",".join(cells)])
    report = run(database, path)
    assert not report.ok and counts(database) == (0, 0)
    assert [p.column for p in report.errors] == [COLUMNS[column]]
    shown = " ".join(str(p) for p in report.errors + report.warnings)
    result = CliRunner().invoke(
        main, ["import", str(path)], env={"TRACKER_DATABASE_URL": database_url}
    )
    assert result.exit_code == 1 and f"2行目、列「{COLUMNS[column]}」" in result.stderr
    for text in (shown, result.stderr, result.stdout):
        for form in NUMBER_FORMS:
            assert form not in text
    assert counts(database) == (0, 0)


def test_a_header_naming_an_unknown_column_with_a_number_is_not_echoed(
    database_url: str, tmp_path: Path
) -> None:
    path = write(
        tmp_path / "h.csv", [JA_HEADER + ",備考123456789018", household_rows(1, 1)[0] + ","]
    )
    result = CliRunner().invoke(
        main, ["import", str(path)], env={"TRACKER_DATABASE_URL": database_url}
    )
    assert result.exit_code == 0, result.output
    assert "備考************" in result.stderr and "123456789018" not in result.output
