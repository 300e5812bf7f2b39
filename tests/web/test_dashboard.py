"""The office dashboard (issue 6, point 4): figures match the stock, admins see none, CSP-safe."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests import factories
from tests.factories import NOW, TODAY  # a Friday; its ISO week starts on Monday 2026-11-23
from tracker.clock import now_utc, today_jst
from tracker.db import Database
from tracker.domain.codes import Role
from tracker.domain.identity import Evidence, RecipientKind
from tracker.models import DisposalBatch, Item
from tracker.services import disposal, handover, retention, stats

PASSPORT = Evidence(recipient_kind=RecipientKind.SELF, documents=("passport",))

HEADER = "お問い合わせ番号,返戻日,還付事由,宛名,住所,氏名,フリガナ,生年月日,続柄,保管場所"
ROWS = [
    # 平成30年度, covered by the seed rule: eligible since 2020-04-01.
    "100000000015,H30.4.2,転居先不明,髙橋 一郎,熊本市中央区1,髙橋 一郎,タカハシ イチロウ,S45.1.2,世帯主,",
    "100000000015,H30.4.2,転居先不明,髙橋 一郎,熊本市中央区1,髙橋 花子,タカハシ ハナコ,S48.3.4,妻,",
    "100000000026,H31.3.30,受取拒絶,高橋 次郎,熊本市東区2,高橋 次郎,タカハシ ジロウ,1990-05-06,世帯主,東区役所",
    # 令和元年度 (no rule yet): one returned while the era was still 平成 (April 2019).
    "100000000030,H31.4.10,その他,山田 太郎,熊本市北区3,山田 太郎,ヤマダ タロウ,S50.1.1,世帯主,北区役所",
    "100000000041,R1.5.7,その他,佐藤 三郎,熊本市西区4,佐藤 三郎,サトウ サブロウ,S51.2.2,世帯主,西区役所",
    # 平成29年度: before the seed rule's window.
    "100000000052,H29.6.1,その他,鈴木 四郎,熊本市中央区5,鈴木 四郎,スズキ シロウ,S52.3.3,世帯主,",
]
pytestmark = pytest.mark.stock(HEADER, ROWS)
CHUO = "中央区役所1階 熊本市マイナンバーセンター"


def chart_data(page: str) -> dict:  # type: ignore[type-arg]
    match = re.search(r'<script type="application/json" id="dashboard-data">(.*?)</script>', page)
    assert match, "no chart data block"
    return json.loads(match.group(1))  # type: ignore[no-any-return]


def table_rows(page: str, testid: str) -> list[list[str]]:
    """The cells of a table found by ``data-testid``, tags stripped."""
    match = re.search(rf'data-testid="{testid}">(.*?)</table>', page, re.S)
    assert match, f"no table {testid}"
    body = match.group(1).split("<tbody>", 1)[1]
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        rows.append([re.sub(r"<[^>]+>", "", cell).strip() for cell in cells])
    return rows


def stat(page: str, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}">([^<]*)<', page)
    assert match, f"no {testid}"
    return match.group(1)


@pytest.mark.parametrize("role", [Role.CLERK, Role.RECORDS_OFFICER, Role.AUDITOR])
def test_staff_see_custody_by_location_and_fiscal_year(stocked: Flask, logged_in, role) -> None:  # type: ignore[no-untyped-def]
    page = logged_in(role).get("/").get_data(as_text=True)
    assert stat(page, "in-custody-count") == "6"
    locations = dict(table_rows(page, "table-by-location"))
    assert locations == {
        CHUO: "3",
        "東区役所": "1",
        "西区役所": "1",
        "南区役所": "0",
        "北区役所": "1",
    }
    years = table_rows(page, "table-by-fiscal-year")
    assert years == [["平成29年度", "1"], ["平成30年度", "3"], ["令和元年度", "2"]]
    data = chart_data(page)
    assert data["by_fiscal_year"]["labels"] == ["平成29年度", "平成30年度", "令和元年度"]
    assert data["by_fiscal_year"]["series"][0]["data"] == [1, 3, 2]
    assert dict(
        zip(data["by_location"]["labels"], data["by_location"]["series"][0]["data"], strict=True)
    ) == {
        CHUO: 3,
        "東区役所": 1,
        "西区役所": 1,
        "南区役所": 0,
        "北区役所": 1,
    }
    # The three 平成30年度 items are past 2020-03-31: eligible, counted in this month.
    assert stat(page, "eligible-soon-count") == "3"
    assert table_rows(page, "table-eligible-by-month")[0][1] == "3"
    # Only 平成30年度 has a rule: the 平成29年度 and 令和元年度 items are coverage gaps.
    assert stat(page, "coverage-gap-count") == "3"
    assert stat(page, "open-batch-count") == "0"


def test_a_handover_shows_in_this_week_and_leaves_custody(
    stocked: Flask, logged_in: object
) -> None:
    with stocked.extensions["tracker.db"].session_scope() as session:
        ids = list(
            session.scalars(
                select(Item.id).where(Item.name.in_(["髙橋 一郎", "髙橋 花子"])).order_by(Item.id)
            )
        )
        handover.hand_over(
            session,
            actor="clerk",
            item_ids=ids,
            evidence=PASSPORT,
            now=now_utc(),
            today=today_jst(),
        )
    page = logged_in(Role.CLERK).get("/").get_data(as_text=True)  # type: ignore[operator]
    assert stat(page, "in-custody-count") == "4"
    assert stat(page, "handed-over-count") == "2"
    weeks = table_rows(page, "table-handovers-by-week")
    assert len(weeks) == 12
    assert weeks[-1][1:] == ["1", "2"]  # this week: one handover of two cards
    assert all(row[1:] == ["0", "0"] for row in weeks[:-1])
    series = chart_data(page)["handovers_by_week"]["series"]
    assert series[0]["data"] == [0] * 11 + [1] and series[1]["data"] == [0] * 11 + [2]
    assert dict(table_rows(page, "table-by-location"))[CHUO] == "1"
    assert ["平成30年度", "1"] in table_rows(page, "table-by-fiscal-year")


def test_open_disposal_batch_is_listed_with_its_items(stocked: Flask, logged_in) -> None:  # type: ignore[no-untyped-def]
    with stocked.extensions["tracker.db"].session_scope() as session:
        batch = disposal.create_batch(session, actor="officer", as_of=today_jst(), now=now_utc())
        certificate_no = batch.certificate_no
    page = logged_in(Role.RECORDS_OFFICER).get("/").get_data(as_text=True)
    assert stat(page, "open-batch-count") == "1"
    rows = table_rows(page, "open-batches")
    assert rows == [[certificate_no, "作成済（承認待ち）", rows[0][2], "3"]]


def test_admin_sees_no_figures(stocked: Flask, logged_in, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the admin's page must not even compute the figures")

    monkeypatch.setattr(stats, "dashboard", refuse)
    response = logged_in(Role.ADMIN).get("/")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "/admin/users" in page or "ユーザー管理" in page
    for absent in ("in-custody-count", "dashboard-data", "stat-value", "chart.umd", "東区役所"):
        assert absent not in page


def test_page_runs_no_inline_script(stocked: Flask, logged_in) -> None:  # type: ignore[no-untyped-def]
    response = logged_in(Role.AUDITOR).get("/")
    page = response.get_data(as_text=True)
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    tags = re.findall(r"<script\b[^>]*>", page)
    assert any("vendor/chart.umd.min.js" in tag for tag in tags)
    assert any("dashboard.js" in tag for tag in tags)
    for tag in tags:
        assert "src=" in tag or 'type="application/json"' in tag, tag
    assert "cdn" not in " ".join(tags).lower() and "//" not in " ".join(
        re.findall(r'src="([^"]*)"', " ".join(tags))
    )


@pytest.mark.parametrize("path", ["/static/vendor/chart.umd.min.js", "/static/dashboard.js"])
def test_chart_scripts_are_served_locally_as_javascript(client: FlaskClient, path: str) -> None:
    with client.get(path) as response:
        assert response.status_code == 200
        assert "javascript" in response.headers["Content-Type"]
        if path.endswith("chart.umd.min.js"):
            assert b"Chart.js v4" in response.data[:200]


# --- the service, on SQLite and PostgreSQL -----------------------------------------------------


def add_envelope(
    database: Database, n: int, returned_on: date, location: str, items: int = 1
) -> list[int]:
    people = [factories.item(f"山田 {k}", "ヤマダ") for k in range(items)]
    return factories.envelope(
        database, n, series=4, returned_on=returned_on, location=location, items=people
    )


def hand_over_at(database: Database, item_ids: list[int], moment: datetime) -> None:
    with database.session_scope() as session:
        handover.hand_over(
            session, actor="c", item_ids=item_ids, evidence=PASSPORT, now=moment, today=TODAY
        )


def test_dashboard_service_figures(database: Database) -> None:
    add_envelope(database, 1, date(2018, 4, 2), "CHUO", items=3)  # 平成30年度, eligible
    add_envelope(database, 2, date(2019, 3, 31), "HIGASHI")  # 平成30年度, eligible
    add_envelope(database, 3, date(2019, 4, 1), "HIGASHI")  # 令和元年度, no rule: a gap
    add_envelope(database, 4, date(2025, 12, 1), "KITA")  # 令和7年度, no rule: a gap
    monday_morning = add_envelope(database, 5, date(2018, 5, 1), "NISHI", items=2)
    sunday_night = add_envelope(database, 6, date(2018, 5, 2), "NISHI")
    long_ago = add_envelope(database, 7, date(2018, 5, 3), "NISHI")
    # 00:30 JST on Monday 2026-11-23 is still Sunday in UTC: it belongs to this week.
    hand_over_at(database, monday_morning, datetime(2026, 11, 22, 15, 30, tzinfo=UTC))
    # 23:30 JST on Sunday 2026-11-22: the week before.
    hand_over_at(database, sunday_night, datetime(2026, 11, 22, 14, 30, tzinfo=UTC))
    # Thirteen weeks ago: outside the twelve weeks shown.
    hand_over_at(database, long_ago, datetime(2026, 8, 25, 3, 0, tzinfo=UTC))
    with database.session_scope() as session:
        cancelled = disposal.create_batch(session, actor="o1", as_of=TODAY, now=NOW)
        disposal.cancel(session, actor="o1", batch=cancelled, reason="作り直し", now=NOW)
        batch = disposal.create_batch(session, actor="o1", as_of=TODAY, now=NOW)
        open_no = batch.certificate_no

    with database.session_scope() as session:
        figures = stats.dashboard(session, TODAY)

    assert figures.totals == stats.Totals(in_custody=6, handed_over=4, destroyed=0)
    assert [(row.name, row.count) for row in figures.by_location] == [
        (CHUO, 3),
        ("東区役所", 2),
        ("西区役所", 0),
        ("南区役所", 0),
        ("北区役所", 1),
    ]
    assert [(row.label, row.count) for row in figures.by_fiscal_year] == [
        ("平成30年度", 4),
        ("令和元年度", 1),
        ("令和7年度", 1),
    ]
    weeks = figures.handovers_by_week
    assert len(weeks) == 12
    assert weeks[-1].monday == date(2026, 11, 23) and weeks[0].monday == date(2026, 9, 7)
    assert (weeks[-1].handovers, weeks[-1].items) == (1, 2)
    assert (weeks[-2].handovers, weeks[-2].items) == (1, 1)
    assert sum(week.handovers for week in weeks) == 2
    assert weeks[-1].label == "2026-W48"
    assert [(row.month, row.count) for row in figures.eligible_by_month] == [
        (date(2026, 11, 1), 4),
        (date(2026, 12, 1), 0),
        (date(2027, 1, 1), 0),
    ]
    assert figures.eligible_soon == 4
    assert figures.coverage_gaps == 2
    with database.session_scope() as session:
        gap_count, _span, _rows = retention.coverage_gaps(session, limit=0)
    assert figures.coverage_gaps == gap_count
    assert [(b.certificate_no, b.status, b.items) for b in figures.open_batches] == [
        (open_no, "created", 4)
    ]
    with database.session_scope() as session:
        statuses = sorted(session.scalars(select(DisposalBatch.status)))
    assert statuses == ["cancelled", "created"]


@pytest.mark.parametrize(
    ("year", "label"),
    [
        (1988, "昭和63年度"),
        (1989, "平成元年度"),
        (2018, "平成30年度"),
        (2019, "令和元年度"),
        (2020, "令和2年度"),
    ],
)
def test_fiscal_year_labels(year: int, label: str) -> None:
    assert stats.fiscal_year_label(year) == label


def test_weeks_are_counted_back_from_this_monday() -> None:
    mondays = stats.week_starts(date(2026, 11, 23))  # a Monday
    assert mondays[-1] == date(2026, 11, 23)
    assert mondays[0] == date(2026, 11, 23) - timedelta(weeks=11)
