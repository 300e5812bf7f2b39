"""Issue 14 "must show": ``tracker rules import`` of the issue's example (a bare
``{"rules": [...]}``), then ``tracker disposal-list --as-of`` on the boundary days of each rule
lists exactly the items the rules say — on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from tests import factories_rules14 as f14
from tests.services.test_disposal import disposal_list
from tracker.cli import main
from tracker.db import Database
from tracker.domain.codes import ItemKind
from tracker.models import RetentionRule
from tracker.services import retention

#: The issue's example with its "…" filled in.
EXAMPLE = {
    "rules": [
        {
            "label": "平成30年度返戻分",
            "kind": "fixed",
            "returned_from": "2018-04-01",
            "returned_to": "2019-03-31",
            "retain_until": "2020-03-31",
        },
        {
            "label": "令和3年度返戻分",
            "kind": "period_from",
            "returned_from": "2021-04-01",
            "returned_to": "2022-03-31",
            "anchor": "returned_on",
            "period": {"months": 3},
            "item_kinds": ["number_notice"],
        },
        {
            "label": "令和4年度返戻分",
            "kind": "fiscal_year",
            "returned_from": "2022-04-01",
            "returned_to": "2023-03-31",
            "years": 1,
        },
        {
            "label": "令和5年度返戻分（通知の遅い方）",
            "kind": "later_of",
            "returned_from": "2023-04-01",
            "returned_to": "2024-03-31",
            "rules": [
                {"kind": "period_from", "anchor": "renotice_on", "period": {"months": 3}},
                {"kind": "period_from", "anchor": "first_notice_on", "period": {"months": 12}},
            ],
        },
    ]
}

D = date
#: The items: who, kind, return date and event dates.
ITEMS = {
    # 平成30年度返戻分 (fixed): kept until 2020-03-31
    "固定 一郎": (ItemKind.NOTIFICATION_CARD, D(2018, 6, 1), {}),
    # 令和3年度返戻分 (number_notice only): 4/1 + 3 months → 7/1
    "通知書 二郎": (ItemKind.NUMBER_NOTICE, D(2021, 4, 1), {}),
    # a notification card in FY2021: no rule for its kind → the coverage gap, never listed
    "空白 三郎": (ItemKind.NOTIFICATION_CARD, D(2021, 4, 1), {}),
    # 令和4年度返戻分 (fiscal_year k=1): FY2022 → 2024-03-31
    "年度 四郎": (ItemKind.NOTIFICATION_CARD, D(2022, 5, 10), {}),
    # later_of: first notice + 12 months = 2024-05-01, re-notice + 3 months = 2024-06-15
    "遅い方 五郎": (
        ItemKind.NUMBER_NOTICE,
        D(2023, 5, 1),
        {"first_notice_on": D(2023, 5, 1), "renotice_on": D(2024, 3, 15)},
    ),
    # later_of without its re-notice date: waits (gap), never listed
    "待ち 六郎": (ItemKind.NUMBER_NOTICE, D(2023, 5, 2), {"first_notice_on": D(2023, 5, 2)}),
    # the seeded unclaimed-card rule (it names mynumber_card, so it wins over the later_of
    # above): later of 2024-06-01 and 2023-10-01, capped by the expiry 2024-01-31
    "カード 七子": (
        ItemKind.MYNUMBER_CARD,
        D(2023, 6, 1),
        {
            "first_notice_on": D(2023, 6, 1),
            "renotice_on": D(2023, 7, 1),
            "card_expires_on": D(2024, 1, 31),
        },
    ),
}

#: The last day of custody of each listed item: not listed that day, listed the next.
LAST_DAY = {
    "固定 一郎": D(2020, 3, 31),
    "通知書 二郎": D(2021, 7, 1),
    "カード 七子": D(2024, 1, 31),
    "年度 四郎": D(2024, 3, 31),
    "遅い方 五郎": D(2024, 6, 15),
}


def test_the_issue_example_imports_and_the_list_follows_it_on_every_boundary_day(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(EXAMPLE, ensure_ascii=False), encoding="utf-8")
    result = CliRunner().invoke(
        main, ["rules", "import", str(path)], env={"TRACKER_DATABASE_URL": database_url}
    )
    assert result.exit_code == 0, result.output
    assert "新規 3件、変更 0件、変更なし 1件" in result.stdout  # the seed rule is the same
    with database.session_scope() as session:
        row = session.scalar(select(RetentionRule).where(RetentionRule.label == "令和3年度返戻分"))
        assert row is not None and row.item_kinds == "number_notice"
    for n, (name, (kind, returned_on, dates)) in enumerate(ITEMS.items()):
        f14.item_with_dates(
            database, n, returned_on=returned_on, kind=kind, addressee=name, **dates
        )

    for name, last in LAST_DAY.items():
        expected_before = {who for who, day in LAST_DAY.items() if day < last}
        on_last = {row["name"] for row in disposal_list(database_url, last.isoformat())}
        assert on_last == expected_before, (name, last)
        after = (last + timedelta(days=1)).isoformat()
        next_day = {row["name"]: row for row in disposal_list(database_url, after)}
        assert set(next_day) == expected_before | {name}, (name, after)
        assert next_day[name]["retain_until"] == last.isoformat()
    far = {row["name"]: row["rule"] for row in disposal_list(database_url, "2099-01-01")}
    assert far == {
        "固定 一郎": "平成30年度返戻分",
        "通知書 二郎": "令和3年度返戻分",
        "年度 四郎": "令和4年度返戻分",
        "遅い方 五郎": "令和5年度返戻分（通知の遅い方）",
        "カード 七子": "未受領のマイナンバーカード",
    }
    with database.session_scope() as session:
        count, _span, rows = retention.coverage_gaps(session)
        groups = {(g.item_kind, g.waiting_for): g.total for g in retention.gaps_by_kind(session)}
    assert count == 2 and len(rows) == 2
    assert groups == {("notification_card", ()): 1, ("number_notice", ("再通知日",)): 1}


def test_export_writes_item_kinds_and_sub_rules_that_import_back(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    env = {"TRACKER_DATABASE_URL": database_url}
    exported = CliRunner().invoke(main, ["rules", "export"], env=env)
    assert exported.exit_code == 0, exported.output
    data = json.loads(exported.stdout)
    card = next(r for r in data["rules"] if r["label"] == "未受領のマイナンバーカード")
    assert card == {
        "label": "未受領のマイナンバーカード",
        "kind": "later_of",
        "returned_from": "2016-01-01",
        "returned_to": "2099-12-31",
        "item_kinds": ["mynumber_card"],
        "rules": [
            {"kind": "period_from", "anchor": "renotice_on", "period": {"months": 3}},
            {"kind": "period_from", "anchor": "first_notice_on", "period": {"months": 12}},
        ],
        "cap_anchor": "card_expires_on",
    }
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    again = CliRunner().invoke(main, ["rules", "import", str(path)], env=env)
    assert again.exit_code == 0 and "新規 0件、変更 0件、変更なし 2件" in again.stdout


def test_a_rule_sharing_an_item_kind_with_an_overlapping_rule_is_refused(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    clash = {
        "rules": [
            {
                "label": "カード別基準",
                "kind": "fiscal_year",
                "returned_from": "2020-04-01",
                "returned_to": "2021-03-31",
                "years": 1,
                "item_kinds": ["mynumber_card", "letter"],
            }
        ]
    }
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(clash, ensure_ascii=False), encoding="utf-8")
    env = {"TRACKER_DATABASE_URL": database_url}
    result = CliRunner().invoke(main, ["rules", "import", str(path)], env=env)
    assert result.exit_code == 1 and "通知物の種別「letter」" in result.output
    clash["rules"][0]["item_kinds"] = ["mynumber_card"]
    path.write_text(json.dumps(clash, ensure_ascii=False), encoding="utf-8")
    result = CliRunner().invoke(main, ["rules", "import", str(path)], env=env)
    assert result.exit_code == 1
    assert "重なっています" in result.output and "mynumber_card が共通" in result.output


def test_init_db_adds_the_card_rule_to_an_older_database_once(
    database: Database, database_url: str
) -> None:
    from sqlalchemy import delete

    from tests import factories_rules as fr
    from tracker.domain.retention import rule_from_fields

    with database.session_scope() as session:  # a database seeded before issue 14
        session.execute(delete(RetentionRule).where(RetentionRule.label == CARD))
    env = {"TRACKER_DATABASE_URL": database_url}
    first = CliRunner().invoke(main, ["init-db"], env=env)
    assert first.exit_code == 0, first.output
    second = CliRunner().invoke(main, ["init-db"], env=env)
    assert second.exit_code == 0, second.output
    with database.session_scope() as session:
        labels = session.scalars(select(RetentionRule.label)).all()
        assert sorted(labels) == sorted(["平成30年度返戻分", CARD])
        session.execute(delete(RetentionRule).where(RetentionRule.label == CARD))
    # an office that wrote its own rule for the cards keeps it: nothing is added
    fr.save(
        database,
        rule_from_fields(
            "fiscal_year",
            "カード（当市）",
            D(2020, 4, 1),
            D(2030, 3, 31),
            years=1,
            item_kinds=["mynumber_card"],
        ),
    )
    third = CliRunner().invoke(main, ["init-db"], env=env)
    assert third.exit_code == 0, third.output
    with database.session_scope() as session:
        assert session.scalar(select(RetentionRule).where(RetentionRule.label == CARD)) is None


CARD = "未受領のマイナンバーカード"
