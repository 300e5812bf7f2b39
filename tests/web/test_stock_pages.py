"""Stock-check pages (棚卸, issue 13): start, scan, close, sign-off by another officer, the
record PDF; missing cards found or confirmed lost; the locations page and the dashboard show
when each location is due. Auditors read and change nothing."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from tests import factories
from tests.factories_stock import item_of, location_id, shelf, start
from tests.helpers import csrf_token, login
from tracker.domain.codes import Role
from tracker.models import Item
from tracker.models.lifecycle import StockCheck
from tracker.services import stock_checks


def _post(client: FlaskClient, path: str, page: str, **data: str):  # type: ignore[no-untyped-def]
    return client.post(path, data={"csrf_token": csrf_token(client, page), **data})


def _check_id(response_location: str) -> int:
    match = re.search(r"/stock-checks/(\d+)", response_location)
    assert match, response_location
    return int(match.group(1))


def test_a_check_from_start_to_sign_off(app: Flask, client: FlaskClient, tmp_path: Path) -> None:
    here = shelf(app, 1, 3)
    (other,) = shelf(app, 10, 1, location="HIGASHI", slot="B-02")
    clerk = factories.user(app, Role.RECORDS_OFFICER, "officer-a", display_name="記録 一郎")
    second = factories.user(app, Role.RECORDS_OFFICER, "officer-b", display_name="記録 二郎")
    login(client, clerk)
    started = _post(
        client,
        "/stock-checks/new",
        "/stock-checks/new",
        location=str(location_id(app, "CHUO")),
        slot_from="",
        slot_to="",
    )
    assert started.status_code == 302
    check_id = _check_id(started.headers["Location"])
    page = f"/stock-checks/{check_id}"
    assert 'autofocus class="wide" data-testid="stock-scan"' in client.get(page).get_data(
        as_text=True
    )
    for code in [here[0], here[1], other, here[0]]:
        _post(client, f"{page}/scan", page, code=code)
    body = client.get(page).get_data(as_text=True)
    assert "読取済み" in body
    assert 'data-testid="count-found">2<' in body
    assert 'data-testid="count-found-elsewhere">1<' in body
    assert "ここへ移動を記録" in body
    # Another location is free; this one is taken.
    again = _post(
        client,
        "/stock-checks/new",
        "/stock-checks/new",
        location=str(location_id(app, "CHUO")),
    )
    assert "が実施中です" in again.get_data(as_text=True)

    assert _post(client, f"{page}/close", page).status_code == 302
    late = _post(client, f"{page}/close", page)  # a colleague's second click
    assert late.status_code == 409 and "既に締められています" in late.get_data(as_text=True)
    refused = client.post(
        f"{page}/sign-off", data={"csrf_token": csrf_token(client, page)}, follow_redirects=True
    )
    assert "締めた本人は確認できません" in refused.get_data(as_text=True)

    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login(client, second)
    assert _post(client, f"{page}/sign-off", page).status_code == 302
    done = client.get(page).get_data(as_text=True)
    assert "記録 二郎" in done and "記録 一郎" in done

    pdf = client.get(f"{page}/record.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    path = tmp_path / "record.pdf"
    path.write_bytes(pdf.data)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "棚卸記録" in text
    assert here[2] in text and other in text
    assert "所在不明" in text and "他の場所で発見" in text
    assert "記録 一郎" in text and "記録 二郎" in text
    assert "officer-a" not in text
    assert re.search(r"1 ?/ ?1", text)

    # The missing card: listed, confirmed lost with a report, found again.
    missing_item = item_of(app, here[2])
    listed = client.get("/missing-items").get_data(as_text=True)
    assert f"{here[2]}-1" in listed and "所在調査中" in listed
    lost = client.post(
        f"/items/{missing_item}/confirm-lost",
        data={"csrf_token": csrf_token(client, "/missing-items"), "circumstances": "書庫を捜索"},
        follow_redirects=True,
    )
    assert "紛失として確定しました" in lost.get_data(as_text=True)
    report = re.search(r'href="/loss-reports/(\d+)\.pdf"', lost.get_data(as_text=True))
    assert report
    loss_pdf = client.get(f"/loss-reports/{report.group(1)}.pdf")
    path.write_bytes(loss_pdf.data)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "紛失報告書" in text and "棚卸○○" in text and "書庫を捜索" in text
    assert "太郎" not in text  # the holder's given name is never printed


def test_auditors_read_but_change_nothing(app: Flask, client: FlaskClient) -> None:
    shelf(app, 1, 1)
    auditor = factories.user(app, Role.AUDITOR)
    login(client, auditor)
    assert client.get("/stock-checks").status_code == 200
    assert "棚卸を開始" not in client.get("/stock-checks").get_data(as_text=True)
    assert client.get("/stock-checks/new").status_code == 403
    assert client.get("/missing-items").status_code == 200


def test_locations_page_and_dashboard_show_the_next_check(app: Flask, client: FlaskClient) -> None:
    shelf(app, 1, 1)
    login(client, factories.user(app, Role.CLERK))
    locations = client.get("/locations").get_data(as_text=True)
    assert "次回の棚卸期限" in locations and "未実施" in locations
    home = client.get("/").get_data(as_text=True)
    assert "棚卸の期限が来た保管場所" in home
    assert 'data-testid="stock-overdue"' in home


def test_only_a_records_officer_records_a_lost_card_found(app: Flask, client: FlaskClient) -> None:
    (control,) = shelf(app, 1, 1)
    check_id = start(app)
    database = factories.database_of(app)
    item_id = item_of(app, control)
    with database.session_scope() as session:
        check = session.get(StockCheck, check_id)
        assert check is not None
        stock_checks.close(session, actor="clerk1", check=check, now=factories.NOW)
    with database.session_scope() as session:
        item = session.get(Item, item_id)
        assert item is not None
        stock_checks.confirm_lost(
            session, actor="officer1", item=item, circumstances="書庫を捜索", now=factories.NOW
        )
    body = {"note": "", "location": "0", "slot": ""}

    login(client, factories.user(app, Role.CLERK))
    listed = client.get("/missing-items").get_data(as_text=True)
    assert f'/items/{item_id}/found"' not in listed  # no 「見つかった」 on a lost card
    assert (
        _post(client, f"/items/{item_id}/found-lost", "/missing-items", **body).status_code == 403
    )
    refused = client.post(
        f"/items/{item_id}/found",
        data={"csrf_token": csrf_token(client, "/missing-items"), **body},
        follow_redirects=True,
    )
    assert "記録管理担当が記録してください" in refused.get_data(as_text=True)
    with database.session_scope() as session:
        item = session.get(Item, item_id)
        assert item is not None and item.status == "lost"

    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login(client, factories.user(app, Role.RECORDS_OFFICER, "officer-c"))
    listed = client.get("/missing-items").get_data(as_text=True)
    assert f"/items/{item_id}/found-lost" in listed
    done = _post(client, f"/items/{item_id}/found-lost", "/missing-items", **body)
    assert done.status_code == 302
    with database.session_scope() as session:
        item = session.get(Item, item_id)
        assert item is not None and item.status == "in_custody"
    assert f"/items/{item_id}/found" not in client.get("/missing-items").get_data(as_text=True)
