"""Input edges found by the attack run of issue 10, as a person at the browser meets them:
ids and dates out of range are a 404 or a clear 400 (never a 500, nothing written), individual
numbers are refused in every column and never shown back, imports without data rows or with
over-wide rows are refused, and an upload over the limit gets a 413 page that says the limit."""

from __future__ import annotations

import html
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import BigInteger, Integer, func, select

from tests.conftest import make_config
from tests.helpers import csrf_token, login
from tests.security.support import import_rows, row, snapshot
from tests.web.test_access_policy import POLICY
from tests.web.test_intake import TRACKING, intake_data, register
from tracker import create_app
from tracker.config import Config
from tracker.domain.codes import Role
from tracker.domain.mynumber import INDIVIDUAL_NUMBER_MESSAGE
from tracker.models import AuditEvent, Base, Envelope, Item
from tracker.web.params import ID_MAX

HUGE = "99999999999999999999"
NUMBER_FORMS = ("123456789018", "1234-5678-9018")


@pytest.fixture
def clients(app: Flask, make_user) -> dict[Role, FlaskClient]:  # type: ignore[no-untyped-def]
    """One logged-in client per role."""
    logged: dict[Role, FlaskClient] = {}
    for role in Role:
        client = app.test_client()
        assert login(client, make_user(role)).status_code == 302
        logged[role] = client
    return logged


@pytest.fixture
def stock(app: Flask, tmp_path: Path) -> None:
    """A few items, so that routes with real ids have something behind them."""
    import_rows(app, tmp_path, [row(n, f"山田 太郎{n}", "ヤマダ タロウ") for n in range(1, 4)])


def text_of(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.get_data(as_text=True))


# --- ids ----------------------------------------------------------------------------------------


def _int_routes(app: Flask) -> Iterator[tuple[str, str, Role]]:
    """Every GET route with an ``<int:…>`` part, with a role allowed to use it."""
    for rule in app.url_map.iter_rules():
        if "<int:" not in rule.rule or "GET" not in (rule.methods or set()):
            continue
        allowed = POLICY[rule.endpoint]
        assert allowed, rule.endpoint  # no public route takes an id
        yield rule.endpoint, rule.rule, sorted(allowed, key=lambda r: r.value)[0]


def test_every_id_route_answers_404_to_ids_that_cannot_exist(
    app: Flask, clients: dict[Role, FlaskClient], stock: None
) -> None:
    routes = list(_int_routes(app))
    assert len(routes) >= 8  # envelopes, items, histories, handovers, receipts, locations, batches
    before = snapshot(app)
    for endpoint, rule, role in routes:
        for value in (HUGE, "0", str(ID_MAX + 1)):
            path = re.sub(r"<int:[^>]+>", value, rule)
            response = clients[role].get(path)
            assert response.status_code == 404, (endpoint, path, role, response.status_code)
            assert "ページが見つかりません" in text_of(response)
    assert snapshot(app) == before  # not even an audit event of a view


def test_ids_inside_the_range_still_reach_their_rows(
    app: Flask, clients: dict[Role, FlaskClient], stock: None
) -> None:
    with app.extensions["tracker.db"].session_scope() as session:
        item_id = session.scalar(select(func.min(Item.id)))
    assert clients[Role.CLERK].get(f"/items/{item_id}").status_code == 200
    assert clients[Role.CLERK].get(f"/items/{ID_MAX}").status_code == 404  # no such row


@pytest.mark.parametrize(
    ("role", "path"),
    [
        (Role.AUDITOR, "/audit?before=99999999999999999999999"),
        (Role.AUDITOR, "/audit?before=0"),
        (Role.AUDITOR, "/audit?before=-1"),
        (Role.CLERK, "/items/99999999999999999999"),
        (Role.CLERK, "/handover?item=99999999999999999999"),
        (Role.CLERK, "/handover?item=1&item=99999999999999999999"),
        (Role.CLERK, "/handover?item=-1"),
        (Role.CLERK, f"/items?status=in_custody&location={HUGE}"),
        (Role.CLERK, f"/envelopes/new?last={HUGE}"),
        (Role.CLERK, f"/envelopes/new?location={HUGE}"),
        (Role.CLERK, f"/labels.pdf?id={HUGE}"),
    ],
)
def test_ids_in_query_strings_that_cannot_exist_are_404(
    app: Flask, clients: dict[Role, FlaskClient], stock: None, role: Role, path: str
) -> None:
    before = snapshot(app)
    response = clients[role].get(path)
    assert response.status_code == 404, (path, response.status_code)
    assert snapshot(app) == before


@pytest.mark.parametrize("rule_id", [HUGE, "0", "-1", "１"])
def test_a_rule_id_in_a_form_that_cannot_exist_is_404(
    app: Flask, clients: dict[Role, FlaskClient], rule_id: str
) -> None:
    client = clients[Role.RECORDS_OFFICER]
    before = snapshot(app)
    response = client.post(
        "/retention/rules",
        data={
            "csrf_token": csrf_token(client, "/retention"),
            "rule_id": rule_id,
            "kind": "fixed",
            "label": "令和3年度返戻分",
            "returned_from": "2021-04-01",
            "returned_to": "2022-03-31",
            "retain_until": "2023-03-31",
        },
    )
    assert response.status_code == 404
    assert snapshot(app) == before


def test_every_id_column_is_32_bit_as_the_converter_assumes() -> None:
    """The id bound is PostgreSQL ``integer``; widening a key column must revisit ID_MAX."""
    for table in Base.metadata.sorted_tables:
        for column in table.primary_key.columns:
            if isinstance(column.type, Integer):
                assert not isinstance(column.type, BigInteger), (table.name, column.name)
    assert ID_MAX == 2**31 - 1


# --- dates --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "path", "where"),
    [
        (Role.CLERK, "/handovers?date=0001-01-01", "日付（date）"),
        (Role.CLERK, "/handovers?date=9999-12-31", "日付（date）"),
        (Role.RECORDS_OFFICER, "/disposal/eligible?as_of=0001-01-01", "基準日（as_of）"),
        (Role.AUDITOR, "/disposal/eligible.csv?as_of=9999-12-31", "基準日（as_of）"),
        (Role.AUDITOR, "/audit?since=0001-01-01", "期間（から）（since）"),
        (Role.AUDITOR, "/audit/export.csv?until=9999-12-31", "期間（まで）（until）"),
        (Role.AUDITOR, "/handovers/review?since=1868-01-24", "期間（から）（since）"),
        (Role.RECORDS_OFFICER, "/handovers/export.csv?until=2101-01-01", "期間（まで）（until）"),
    ],
)
def test_dates_out_of_range_are_a_400_saying_what_and_where(
    app: Flask, clients: dict[Role, FlaskClient], role: Role, path: str, where: str
) -> None:
    before = snapshot(app)
    response = clients[role].get(path)
    assert response.status_code == 400, (path, response.status_code)
    page = text_of(response)
    assert where in page and "範囲外" in page
    assert "1868-01-25" in page and "2100-12-31" in page
    assert snapshot(app) == before  # no list view or export was audited


def test_an_unreadable_date_is_a_400_too_and_quotes_no_individual_number(
    clients: dict[Role, FlaskClient],
) -> None:
    response = clients[Role.CLERK].get("/handovers?date=1234-5678-9018")
    assert response.status_code == 400
    page = text_of(response)
    assert "日付（date）" in page and "日付として読み取れません" in page
    assert "9018" not in _error_texts(page)  # the URL itself stays in the language form


@pytest.mark.parametrize("day", ["1868-01-25", "明治元年1月25日", "2100-12-31"])
def test_the_first_and_last_dates_are_accepted(clients: dict[Role, FlaskClient], day: str) -> None:
    assert clients[Role.CLERK].get(f"/handovers?date={day}").status_code == 200
    assert clients[Role.AUDITOR].get(f"/disposal/eligible?as_of={day}").status_code == 200
    assert clients[Role.AUDITOR].get(f"/audit?since={day}&until={day}").status_code == 200


# --- individual numbers in forms ------------------------------------------------------------------


def envelope_count(app: Flask) -> int:
    with app.extensions["tracker.db"].session_scope() as session:
        return session.scalar(select(func.count()).select_from(Envelope)) or 0


def _error_texts(page: str) -> str:
    """What the page says about the input: messages, without the fields' own values."""
    return re.sub(r'value="[^"]*"', "", page)


@pytest.mark.parametrize("number", NUMBER_FORMS)
@pytest.mark.parametrize(
    "field",
    ["household_code", "addressee", "address", "slot", "items-0-name", "items-0-relationship"],
)
def test_intake_refuses_an_individual_number_in_every_free_column(
    app: Flask, logged_in, field: str, number: str
) -> None:
    client = logged_in(Role.CLERK)
    value = number if field == "household_code" else f"山田{number}"
    response = client.post("/envelopes/new", data=intake_data(client, **{field: value}))
    assert response.status_code == 200
    page = text_of(response)
    assert INDIVIDUAL_NUMBER_MESSAGE in page
    for form in NUMBER_FORMS:
        assert form not in _error_texts(page)
    assert envelope_count(app) == 0


@pytest.mark.parametrize("number", NUMBER_FORMS)
def test_the_envelope_edit_form_refuses_an_individual_number_as_household_code(
    app: Flask, logged_in, number: str
) -> None:
    client = logged_in(Role.CLERK)
    envelope = register(client, household_code="5001")
    before = snapshot(app)
    response = client.post(
        f"/envelopes/{envelope.id}/edit",
        data={
            "csrf_token": csrf_token(client, f"/envelopes/{envelope.id}/edit"),
            "tracking_no": TRACKING,
            "return_date": "H30.4.2",
            "return_reason": "TENKYO_FUMEI",
            "addressee": "髙橋 一郎",
            "address": "熊本市中央区手取本町1-1",
            "household_code": number,
        },
    )
    assert response.status_code == 200
    assert INDIVIDUAL_NUMBER_MESSAGE in text_of(response)
    assert snapshot(app) == before
    with app.extensions["tracker.db"].session_scope() as session:
        assert session.scalar(select(Envelope.household_code)) == "5001"


# --- the upload page -----------------------------------------------------------------------------

HEADER = "お問い合わせ番号,返戻日,還付事由,宛名,住所,世帯番号,氏名,フリガナ,生年月日"
ROW = (
    "123456789015,H30.4.1,転居先不明,山田 太郎,熊本市中央区1,{household},山田 太郎,ﾔﾏﾀﾞ ﾀﾛｳ,S50.1.1"
)


def upload(client: FlaskClient, content: bytes, *, commit: bool = True):  # type: ignore[no-untyped-def]
    data = {
        "csrf_token": csrf_token(client, "/imports"),
        "encoding": "auto",
        "file": (io.BytesIO(content), "returns.csv"),
        "commit" if commit else "dry_run": "1",
    }
    return client.post(
        "/imports", data=data, content_type="multipart/form-data", follow_redirects=True
    )


def refused_imports(app: Flask) -> list[AuditEvent]:
    with app.extensions["tracker.db"].session_scope() as session:
        events = list(
            session.scalars(select(AuditEvent).where(AuditEvent.action == "import.refused"))
        )
        session.expunge_all()
        return events


@pytest.mark.parametrize("commit", [True, False], ids=["import", "dry-run"])
def test_a_header_only_upload_is_refused_and_audited(app: Flask, logged_in, commit: bool) -> None:
    client = logged_in(Role.RECORDS_OFFICER)
    response = upload(client, f"{HEADER}\r\n".encode(), commit=commit)
    page = text_of(response)
    assert response.status_code == 200
    assert "データ行がありません" in page and "取込が完了しました" not in page
    assert envelope_count(app) == 0
    assert [e.outcome for e in refused_imports(app)] == ["refused"]


def test_an_upload_with_a_row_wider_than_the_header_is_refused(app: Flask, logged_in) -> None:
    client = logged_in(Role.RECORDS_OFFICER)
    good = ROW.format(household="")
    response = upload(
        client, f"{HEADER}\n{good}\n{good.replace('123456789015', '123456789022')},x\n".encode()
    )
    page = text_of(response)
    assert "取込を中止しました" in page and "見出しは9項目、この行は10項目" in page
    assert re.search(r'<td class="num">3</td>', response.get_data(as_text=True))
    assert envelope_count(app) == 0


@pytest.mark.parametrize("number", NUMBER_FORMS)
def test_an_uploaded_household_code_holding_an_individual_number_is_refused_unechoed(
    app: Flask, logged_in, number: str
) -> None:
    client = logged_in(Role.RECORDS_OFFICER)
    response = upload(client, f"{HEADER}\n{ROW.format(household=number)}\n".encode())
    page = text_of(response)
    assert "取込を中止しました" in page and INDIVIDUAL_NUMBER_MESSAGE in page
    for form in NUMBER_FORMS:
        assert form not in page
    assert envelope_count(app) == 0


def test_an_upload_over_the_limit_gets_a_413_page_that_says_the_limit(
    database_url: str, make_user
) -> None:  # type: ignore[no-untyped-def]
    small = create_app(make_config(database_url, max_upload_mb=1))
    try:
        client = small.test_client()
        assert login(client, make_user(Role.RECORDS_OFFICER)).status_code == 302
        big = (HEADER + "\n" + ROW.format(household="") + "\n").encode() * 12_000  # > 1 MiB
        assert len(big) > 1024 * 1024
        response = client.post(  # a body built by hand: the test client's own encoder
            "/imports",  # spools a big file to a temporary file it never closes
            data=_multipart(csrf_token(client, "/imports"), big),
            content_type=f"multipart/form-data; boundary={BOUNDARY}",
        )
        assert response.status_code == 413
        page = text_of(response)
        assert "ファイルが大きすぎます" in page and "1 MB" in page
        fits = upload(client, f"{HEADER}\n{ROW.format(household='')}\n".encode())
        assert fits.status_code == 200 and "取込が完了しました" in text_of(fits)
    finally:
        small.extensions["tracker.db"].dispose()
    assert envelope_count_of(database_url) == 1


BOUNDARY = "tracker-test-boundary"


def _multipart(token: str, content: bytes) -> bytes:
    def part(name: str, value: str) -> str:
        return f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'

    head = part("csrf_token", token) + part("encoding", "auto") + part("commit", "1")
    head += (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    )
    return head.encode() + content + f"\r\n--{BOUNDARY}--\r\n".encode()


def envelope_count_of(database_url: str) -> int:
    from tracker.db import Database

    database = Database(database_url)
    try:
        with database.session_scope() as session:
            return session.scalar(select(func.count()).select_from(Envelope)) or 0
    finally:
        database.dispose()


def test_the_upload_limit_is_a_setting_with_a_64_mib_default(app: Flask) -> None:
    assert app.config["MAX_CONTENT_LENGTH"] == 64 * 1024 * 1024
    env = {"TRACKER_DATABASE_URL": "sqlite://", "TRACKER_SECRET_KEY": "k"}
    assert Config.from_env(env).max_upload_mb == 64
    assert Config.from_env({**env, "TRACKER_MAX_UPLOAD_MB": "200"}).max_upload_mb == 200
    for bad in ("0", "-1", "64MB", "1.5", "99999"):
        with pytest.raises(ValueError, match="TRACKER_MAX_UPLOAD_MB"):
            Config.from_env({**env, "TRACKER_MAX_UPLOAD_MB": bad})
