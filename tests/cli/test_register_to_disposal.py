"""Issue 13 end to end through the command line: rules as JSON, a resident-register file in
CP932 with 和暦 dates, and the disposal list the next day.

A card returned in 2026 is kept until 2028-03-31 by the ordinary rule; the register file
says its addressee died on 令和8年11月1日, and the 死亡 rule (0 days) makes it disposable from
the day after, with the reason. Its household member, still registered (現住), is not.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from click.testing import CliRunner

from tests import factories
from tests.factories_register import control_no
from tracker.cli import main
from tracker.db import Database
from tracker.domain.codes import ItemKind
from tracker.domain.kana import search_key
from tracker.domain.records import ItemFields

RULES = {
    "format": "tracker-retention-rules",
    "version": 1,
    "rules": [
        {
            "label": "令和8年度返戻分",
            "kind": "fixed",
            "returned_from": "2026-04-01",
            "returned_to": "2027-03-31",
            "retain_until": "2028-03-31",
        },
        {
            "label": "死亡による廃棄",
            "kind": "period_from",
            "returned_from": "2026-04-01",
            "returned_to": "2027-03-31",
            "anchor": "register_event_on",
            "period": {"days": 0},
            "register_outcomes": ["deceased"],
        },
    ],
}


def invoke(database_url: str, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(
        main, list(args), env={"TRACKER_DATABASE_URL": database_url, "USER": "operator"}
    )


def listed(database_url: str, as_of: date) -> dict[str, dict[str, str]]:
    result = invoke(database_url, "disposal-list", "--as-of", as_of.isoformat(), "--format", "json")
    assert result.exit_code == 0, result.output
    return {row["name"]: row for row in json.loads(result.stdout)}


def test_a_death_in_the_register_file_makes_the_card_disposable_the_next_day(
    database_url: str, database: Database, tmp_path: Path
) -> None:
    members = [
        ("田中 花子", "タナカ ハナコ", date(1931, 5, 2)),
        ("田中 一郎", "タナカ イチロウ", date(1960, 1, 9)),
    ]
    deceased, resident = factories.envelope(
        database,
        1,
        returned_on=date(2026, 6, 1),
        addressee="田中 花子",
        items=[
            ItemFields(
                name,
                kana,
                search_key(name),
                search_key(kana),
                born,
                None,
                ItemKind.NOTIFICATION_CARD,
            )
            for name, kana, born in members
        ],
    )
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps(RULES, ensure_ascii=False), encoding="utf-8")
    imported = invoke(database_url, "rules", "import", str(rules))
    assert imported.exit_code == 0, imported.output

    register = tmp_path / "juki.csv"
    register.write_bytes(
        (
            "管理番号,異動区分,異動日,備考\r\n"
            f"{control_no(database, deceased)},死亡,令和8年11月1日,\r\n"
            f"{control_no(database, resident)},現住,,\r\n"
        ).encode("cp932")
    )
    checked = invoke(database_url, "register-check", str(register))
    assert checked.exit_code == 0, checked.output
    assert checked.stdout.strip() == "rows=2 new=2 changed=0 unchanged=0"

    # the day of death: still kept (the ordinary rule keeps both until 2028-03-31)
    assert "田中 花子" not in listed(database_url, date(2026, 11, 1))
    # the next day: the deceased's card is listed, with the rule and the reason
    next_day = listed(database_url, date(2026, 11, 2))
    assert set(next_day) == {"田中 花子"}
    row = next_day["田中 花子"]
    assert row["rule"] == "死亡による廃棄"
    assert row["return_date"] == "2026-06-01"
    assert "死亡" in row["reason"] and "令和8年11月1日" in row["reason"]
