"""The disposal desk in the browser's words (issue 12): the list a page at a time with links,
an unreadable as-of date, a batch for one cohort, and execution after re-typing the count."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests import factories
from tests.helpers import PASSWORD, csrf_token, login
from tracker.domain.codes import ItemStatus, Role, RuleKind
from tracker.domain.retention import rule_from_fields
from tracker.models import AuditEvent, DisposalBatch, DisposalBatchItem, Item, RetentionRule
from tracker.services import disposal, retention

EXECUTION = {
    "destroyed_on": "2020-04-10",
    "method": "shredding",
    "place": "本庁舎 裁断室",
    "executor": "作業員 甲",
    "witness": "立会人 乙",
}


@pytest.fixture
def desk(app: Flask) -> Flask:
    """平成29年度 (3 items, a rule of its own) and 平成30年度 (4 items, the seed rule)."""
    rule = rule_from_fields(
        RuleKind.FISCAL_YEAR, "平成29年度返戻分", date(2017, 4, 1), date(2018, 3, 31), years=1
    )
    with app.extensions["tracker.db"].session_scope() as session:
        retention.save_rule(
            session, actor="o", rule=rule, kind=RuleKind.FISCAL_YEAR, parameters={"years": 1}
        )
    for n in range(3):
        factories.envelope(
            app, n, returned_on=date(2017, 6, 1) + timedelta(days=n), addressee=f"前年 {n}"
        )
    for n in range(3, 7):
        factories.envelope(
            app, n, returned_on=date(2018, 6, 1) + timedelta(days=n), addressee=f"対象 {n}"
        )
    return app


def rule_id(app: Flask, label: str) -> int:
    with app.extensions["tracker.db"].session_scope() as session:
        found = session.scalar(select(RetentionRule.id).where(RetentionRule.label == label))
        assert found is not None
        return found


def officer(app: Flask, name: str) -> FlaskClient:
    client = app.test_client()
    login(client, factories.user(app, Role.RECORDS_OFFICER, name))
    return client


def test_the_list_pages_by_control_number_with_a_total_and_links_to_items(
    desk: Flask, logged_in, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(disposal, "PAGE_SIZE", 3)
    client = logged_in(Role.RECORDS_OFFICER)
    seen: list[str] = []
    path = "/disposal/eligible?as_of=2020-04-01"
    ranges = []
    while path:
        page = client.get(path).get_data(as_text=True)
        assert "時点で廃棄可能: 7件" in page
        assert "平成29年度返戻分 3件、平成30年度返戻分 4件" in page
        ranges.append(re.search(r"(\d+)〜(\d+)件目（全7件", page).groups())  # type: ignore[union-attr]
        seen += re.findall(r'<a href="/items/\d+">(E\d+-\d+)</a>', page)
        found = re.search(r'href="([^"]+)" rel="next"', page)
        path = found.group(1).replace("&amp;", "&") if found else ""
    assert ranges == [("1", "3"), ("4", "6"), ("7", "7")]
    assert len(seen) == len(set(seen)) == 7 and seen == sorted(seen)
    # 前へ from the last page goes back to the middle one
    last = client.get(f"/disposal/eligible?as_of=2020-04-01&after={seen[5]}").get_data(as_text=True)
    previous = re.search(r'href="([^"]+)" rel="prev"', last)
    assert previous is not None
    middle = client.get(previous.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert re.findall(r">(E\d+-\d+)</a>", middle) == seen[3:6]
    # a row opens the item (and that view is logged like any other)
    item_link = re.search(r'<a href="(/items/\d+)">', middle)
    assert item_link is not None and client.get(item_link.group(1)).status_code == 200


def test_an_unreadable_as_of_shows_only_the_error(desk: Flask, logged_in) -> None:
    client = logged_in(Role.RECORDS_OFFICER)
    response = client.get("/disposal/eligible?as_of=2020-02-30")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'data-testid="as-of-error"' in page and "基準日" in page
    assert 'value="2020-02-30"' in page  # as typed, to correct it
    assert "廃棄可能" not in page and "<table" not in page and "対象 3" not in page


def test_a_batch_created_from_the_list_of_one_cohort_holds_only_that_cohort(
    desk: Flask, logged_in
) -> None:
    client = logged_in(Role.RECORDS_OFFICER)
    h30 = rule_id(desk, "平成30年度返戻分")
    listing = client.get(f"/disposal/eligible?as_of=2020-04-01&rule={h30}").get_data(as_text=True)
    assert "時点で廃棄可能: 4件" in listing and "前年" not in listing
    assert "この一覧（平成30年度返戻分、基準日 令和2年4月1日）の 4件 で廃棄処理を作成" in listing
    exported = client.get(f"/disposal/eligible.csv?as_of=2020-04-01&rule={h30}")
    lines = exported.data.decode("utf-8-sig").splitlines()
    assert len(lines) == 5 and all("平成30年度返戻分" in line for line in lines[1:])
    created = client.post(
        "/disposal/batches",
        data={
            "csrf_token": csrf_token(client, "/disposal/batches"),
            "as_of": "2020-04-01",
            "rule": str(h30),
        },
        follow_redirects=True,
    )
    page = created.get_data(as_text=True)
    assert "を作成しました" in page and "平成30年度返戻分: 4" in page
    assert "平成29年度" not in page
    with desk.extensions["tracker.db"].session_scope() as session:
        labels = set(session.scalars(select(DisposalBatchItem.rule_label)))
        assert labels == {"平成30年度返戻分"}
    # a rule id that names no rule changes nothing
    bogus = client.post(
        "/disposal/batches",
        data={
            "csrf_token": csrf_token(client, "/disposal/batches"),
            "as_of": "2020-04-01",
            "rule": "4242",
        },
        follow_redirects=True,
    )
    assert "廃棄基準が見つかりません" in bogus.get_data(as_text=True)
    assert client.get("/disposal/eligible?rule=4242").status_code == 404


def approved_batch(app: Flask) -> tuple[FlaskClient, str]:
    creator = officer(app, "officer-a")
    created = creator.post(
        "/disposal/batches",
        data={"csrf_token": csrf_token(creator, "/disposal/batches"), "as_of": "2020-04-01"},
    )
    path = created.headers["Location"]
    approver = officer(app, "officer-b")
    approver.post(
        f"{path}/approve", data={"csrf_token": csrf_token(approver, path), "password": PASSWORD}
    )
    return approver, path


def test_execution_asks_for_the_count_first_and_a_wrong_count_changes_nothing(
    desk: Flask,
) -> None:
    client, path = approved_batch(desk)
    batch = client.get(path).get_data(as_text=True)
    assert "確認へ進む" in batch and "廃棄を記録して証明書を発行" not in batch

    confirm = client.post(
        f"{path}/confirm", data={"csrf_token": csrf_token(client, path), **EXECUTION}
    )
    page = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and "まだ記録していません" in page
    cohorts = re.sub(r"\s+", "", page[page.index('data-testid="confirm-cohorts"') :])
    assert '<td>平成29年度返戻分</td><tdclass="num">3</td>' in cohorts
    assert '<td>平成30年度返戻分</td><tdclass="num">4</td>' in cohorts
    assert 'data-testid="cards-to-destroy">7<' in cohorts
    assert 'name="place" value="本庁舎 裁断室"' in page  # carried to the final step

    token = csrf_token(client, path)
    for typed in ("6", "", "七"):
        refused = client.post(
            f"{path}/execute", data={"csrf_token": token, **EXECUTION, "confirm_count": typed}
        )
        text = refused.get_data(as_text=True)
        assert refused.status_code == 400
        assert (
            "廃棄する通知物の枚数 7枚 と一致しません" in text and "廃棄は記録していません" in text
        )
    with desk.extensions["tracker.db"].session_scope() as session:
        record = session.scalar(select(DisposalBatch))
        assert record is not None and record.status == "approved" and record.destroyed_on is None
        assert set(session.scalars(select(Item.status))) == {ItemStatus.IN_CUSTODY.value}
        refusals = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "disposal.execute")
        ).all()
        assert [e.outcome for e in refusals] == ["refused"] * 3
        assert json.loads(refusals[0].details) == {
            "reason": "count_mismatch",
            "typed": 6,
            "expected": 7,
        }

    done = client.post(
        f"{path}/execute",
        data={"csrf_token": token, **EXECUTION, "confirm_count": "７"},  # full-width is fine
        follow_redirects=True,
    )
    assert "廃棄証明書を発行しました" in done.get_data(as_text=True)
    with desk.extensions["tracker.db"].session_scope() as session:
        assert set(session.scalars(select(Item.status))) == {ItemStatus.DESTROYED.value}


def test_an_incomplete_execution_returns_to_the_form_with_what_was_typed(desk: Flask) -> None:
    client, path = approved_batch(desk)
    response = client.post(
        f"{path}/confirm",
        data={"csrf_token": csrf_token(client, path), **EXECUTION, "witness": "作業員 甲"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "廃棄した人と立会人は別の人にしてください" in page
    assert 'value="本庁舎 裁断室"' in page and "まだ記録していません" not in page
