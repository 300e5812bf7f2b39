"""``tracker slots import`` (issue 15): exit codes 0/1/2, the counts line on stdout, every bad
row on stderr, --dry-run, --location and --actor. The clock is pinned to tests.factories.NOW."""

from __future__ import annotations

from pathlib import Path

import time_machine

from tests import factories
from tests import factories_pickup as fp
from tests.cli.test_cli import invoke
from tests.factories import NOW
from tracker.db import Database
from tracker.domain.codes import Role


def _file(tmp_path: Path, content: str, encoding: str = "utf-8") -> str:
    path = tmp_path / "slots.csv"
    path.write_bytes(content.encode(encoding))
    return str(path)


@time_machine.travel(NOW, tick=False)
def test_import_prints_the_counts_line_and_a_dry_run_writes_nothing(
    database_url: str, database: Database, tmp_path: Path
) -> None:
    path = _file(tmp_path, fp.SEED_CSV.format(day="R8.11.28"))
    dry = invoke(database_url, "slots", "import", path, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert dry.stdout.strip() == "days=1 slots=12 places=170"
    assert "検証のみ" in dry.stderr
    assert fp.day_count(database) == 0

    factories.user(database, Role.RECORDS_OFFICER)
    done = invoke(
        database_url, "slots", "import", path, "--actor", "records-officer1", "--location", "CHUO"
    )
    assert done.exit_code == 0, done.output
    assert done.stdout.strip() == "days=1 slots=12 places=170"
    assert fp.day_count(database) == 1

    again = invoke(database_url, "slots", "import", path)
    assert again.exit_code == 1
    assert again.stdout == ""
    assert "2行目、列「date」、値「2026-11-28」: 令和8年11月28日は" in again.stderr
    assert "何も書き込んでいません" in again.stderr


@time_machine.travel(NOW, tick=False)
def test_bad_rows_exit_1_with_line_and_column_on_stderr(
    database_url: str, database: Database, tmp_path: Path
) -> None:
    content = "日付,開始,終了,枠の長さ,定員,休憩\n2026-11-20,9:00,10:00,30,15,\n2026-11-28,9:00,9:45,30,x,\n"
    result = invoke(database_url, "slots", "import", _file(tmp_path, content, "cp932"))
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert any("2行目、列「日付」" in line and "過去の日付" in line for line in lines)
    assert any("3行目、列「定員」、値「x」" in line for line in lines)
    assert fp.day_count(database) == 0


def test_usage_errors_exit_2_and_a_clerk_actor_or_unknown_location_exit_1(
    database_url: str, database: Database, tmp_path: Path
) -> None:
    path = _file(tmp_path, fp.SEED_CSV.format(day="2030-01-05"))
    assert invoke(database_url, "slots", "import").exit_code == 2
    assert invoke(database_url, "slots", "import", path, "--encoding", "latin-1").exit_code == 2
    assert invoke(database_url, "slots", "import", str(tmp_path / "missing.csv")).exit_code == 2
    factories.user(database, Role.CLERK)
    clerk = invoke(database_url, "slots", "import", path, "--actor", "clerk1")
    assert clerk.exit_code == 1 and "--actor" in clerk.stderr
    nowhere = invoke(database_url, "slots", "import", path, "--location", "NOWHERE")
    assert nowhere.exit_code == 1 and "NOWHERE" in nowhere.stderr
