"""Reason-based disposal on the records officers' pages (issue 13 part 3): the rule form takes
a ``period_from`` rule, and the disposal list shows why each item is eligible."""

from __future__ import annotations

from datetime import date

from flask import Flask

from tests import factories
from tests import factories_rules as fr
from tests.helpers import csrf_token
from tracker.domain.codes import RegisterOutcome, Role


def _rule_form(client, **changes: object) -> str:  # type: ignore[no-untyped-def]
    data: dict[str, object] = {
        "csrf_token": csrf_token(client, "/retention"),
        "rule_id": "",
        "label": "死亡による廃棄",
        "kind": "period_from",
        "returned_from": "R8.4.1",
        "returned_to": "R9.3.31",
        "anchor": "register_event_on",
        "period_count": "0",
        "period_unit": "days",
        "register_outcomes": ["deceased"],
    } | changes
    response = client.post("/retention/rules", data=data, follow_redirects=True)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_death_rule_is_entered_on_the_form_and_lists_the_item_with_its_reason(
    app: Flask, logged_in
) -> None:
    client = logged_in(Role.RECORDS_OFFICER)
    fr.ordinary_rule(app)
    page = _rule_form(client)
    assert "廃棄基準を保存しました" in page
    assert "死亡の異動日から0日（異動日の翌日から廃棄可）" in page
    clash = _rule_form(client, label="死亡2", register_outcomes=["deceased", "struck_off"])
    assert "重なっています" in clash and "「死亡2」" in clash and "「死亡による廃棄」" in clash
    bad = _rule_form(client, label="単位なし", period_unit="", register_outcomes=["moved_out"])
    assert "期間の単位（days・months・years）が必要です" in bad
    not_a_number = _rule_form(client, label="数字でない", period_count="三")
    assert "期間は整数で入力してください" in not_a_number or "整数" in not_a_number

    dead = factories.envelope(app, 1, returned_on=date(2026, 6, 1), addressee="死亡 太郎")[0]
    fr.register_result(app, dead, RegisterOutcome.DECEASED, date(2026, 11, 1))
    on_the_day = client.get("/disposal/eligible?as_of=2026-11-01").get_data(as_text=True)
    assert "死亡 太郎" not in on_the_day
    next_day = client.get("/disposal/eligible?as_of=2026-11-02").get_data(as_text=True)
    assert "死亡 太郎" in next_day
    assert "死亡（異動日 令和8年11月1日）" in next_day
    csv_text = client.get("/disposal/eligible.csv?as_of=2026-11-02").data.decode("utf-8-sig")
    assert csv_text.splitlines()[0].endswith(",rule,retain_until,reason")
    assert "死亡による廃棄,2026-11-01,死亡（異動日 令和8年11月1日）" in csv_text
    item_page = client.get(f"/items/{dead}").get_data(as_text=True)
    assert "死亡（異動日 令和8年11月1日）" in item_page
