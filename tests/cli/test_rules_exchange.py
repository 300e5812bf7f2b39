"""``tracker rules export|import`` (SPEC §3, docs/rules-format.md) on both databases."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from tests import factories_rules as fr
from tracker.cli import main
from tracker.db import Database
from tracker.models import AuditEvent, RetentionRule


def run(url: str, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, list(args), env={"TRACKER_DATABASE_URL": url})


DEATH = {
    "label": "死亡による廃棄",
    "kind": "period_from",
    "returned_from": "2026-04-01",
    "returned_to": "2027-03-31",
    "anchor": "register_event_on",
    "period": {"days": 0},
    "register_outcomes": ["deceased"],
}


def test_export_import_round_trip(database: Database, database_url: str, tmp_path: Path) -> None:
    fr.ordinary_rule(database)
    fr.save(database, fr.period_rule("転出後30日", 30, outcomes="moved_out,emigrated"))
    exported = run(database_url, "rules", "export")
    assert exported.exit_code == 0, exported.output
    data = json.loads(exported.stdout)
    assert data["format"] == "tracker-retention-rules" and data["version"] == 1
    by_label = {rule["label"]: rule for rule in data["rules"]}
    assert by_label["平成30年度返戻分"] == {
        "label": "平成30年度返戻分",
        "kind": "fixed",
        "returned_from": "2018-04-01",
        "returned_to": "2019-03-31",
        "retain_until": "2020-03-31",
    }
    assert by_label["令和8年度返戻分"]["years"] == 1
    assert by_label["転出後30日"]["period"] == {"days": 30}
    assert by_label["転出後30日"]["register_outcomes"] == ["moved_out", "emigrated"]

    data["rules"].append(DEATH)
    by_label["転出後30日"]["period"] = {"months": 1}
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    dry = run(database_url, "rules", "import", str(path), "--dry-run")
    assert dry.exit_code == 0 and "新規 1件、変更 1件、変更なし 3件" in dry.stdout
    with database.session_scope() as session:
        assert session.scalar(select(func.count()).select_from(RetentionRule)) == 4
    done = run(database_url, "rules", "import", str(path))
    assert done.exit_code == 0, done.output
    with database.session_scope() as session:
        row = session.scalar(select(RetentionRule).where(RetentionRule.label == "転出後30日"))
        assert (row.period_count, row.period_unit) == (1, "months")
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.action.like("rule.%"))
        ).all()
        assert actions.count("rule.change") == 1
    again = run(database_url, "rules", "import", str(path))
    assert "新規 0件、変更 0件、変更なし 5件" in again.stdout


def test_a_bad_file_writes_nothing_and_names_each_problem(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    clash = DEATH | {"label": "死亡2", "register_outcomes": ["deceased", "struck_off"]}
    bad_unit = DEATH | {"label": "単位", "period": {"weeks": 2}}
    data = {"format": "tracker-retention-rules", "version": 1, "rules": [DEATH, bad_unit]}
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    result = run(database_url, "rules", "import", str(path))
    assert result.exit_code == 1
    assert "2件目" in result.output and "「単位」" in result.output and "period" in result.output
    data["rules"] = [DEATH, clash]
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    result = run(database_url, "rules", "import", str(path))
    assert (
        result.exit_code == 1 and "「死亡2」" in result.output and "重なっています" in result.output
    )
    with database.session_scope() as session:
        assert session.scalar(select(func.count()).select_from(RetentionRule)) == 2  # the seeds
