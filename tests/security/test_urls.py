"""No name, kana, alias, birth date or address in any URL (issue 16, item 4).

A reverse proxy writes every request line to its access log, so search words must never be in
one. After a realistic flow — intake of an envelope with distinctive names, searches by name,
kana (any width), alias and birth date (和暦 and ISO), results page 2, the item, a handover,
the handover log, audit log filters, the envelope, the item's history, a reservation booking,
the notices page, the scan box — the test crawls every link of every page seen (``href``,
``src``, ``action``), follows them one level, and scans every URL: the ones requested, the
``Location`` of every redirect, and every link. None may hold the personal values, raw or
percent-encoded, in any width.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta
from html import unescape
from urllib.parse import quote, unquote_plus, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.factories import NOW
from tests.helpers import csrf_token, login, search
from tests.web.test_intake import intake_data
from tracker.domain.codes import Role
from tracker.services import lookup
from tracker.web.counter import searches

NAME = "鳰野 澪"
NAME_2 = "鳰野 颯"
KANA = "ニオノ ミオ"
ALIAS = "ミオ・ルフラン"
ADDRESS = "熊本市中央区鳰町9-8-7"
BORN = date(1987, 6, 5)

#: Every way the values could be written into a URL (checked after percent-decoding and NFKC).
FORBIDDEN = [
    NAME,
    NAME_2,
    *NAME.split(),
    NAME_2.split()[1],
    NAME.replace(" ", ""),
    KANA,
    KANA.replace(" ", ""),
    "ニオノ",
    "におの",
    "みお",
    "ルフラン",
    ADDRESS,
    "鳰町",
    "1987-06-05",
    "1987-6-5",
    "19870605",
    "1987/06/05",
    "S62.6.5",
    "S62.06.05",
    "昭和62年6月5日",
    "S620605",
    "620605",
]
LINK = re.compile(r'(?:href|src|action)="([^"]*)"')
#: Not followed in the crawl: they log out, or are files whose URL is scanned all the same.
NOT_FOLLOWED = re.compile(r"^/logout|\.pdf|\.csv|^/static/|^#|^mailto:")


def leaks(url: str) -> list[str]:
    """The personal values ``url`` holds, in any of its encodings."""
    forms = {url, unquote_plus(url), unicodedata.normalize("NFKC", unquote_plus(url))}
    forms |= {f.lower() for f in forms}
    found = []
    for value in FORBIDDEN:
        encoded = {quote(value).lower(), quote(value, safe="").lower()}
        wide = unicodedata.normalize("NFKC", value)
        if any(v in f for f in forms for v in (value, wide, *encoded)):
            found.append(value)
    return found


class Recorder:
    """Every URL requested, every redirect's Location, every link on every HTML page."""

    def __init__(self) -> None:
        self.urls: list[tuple[str, str]] = []  # (where it was seen, url)
        self.links: list[str] = []

    def saw(self, response: TestResponse, requested: str) -> TestResponse:
        self.urls.append(("requested", requested))
        for hop in [*response.history, response]:
            self.urls.append(("requested", hop.request.full_path))
            if hop.location:
                self.urls.append((f"Location from {hop.request.path}", hop.location))
        if response.mimetype == "text/html":
            for link in LINK.findall(response.get_data(as_text=True)):
                url = unescape(link)
                self.urls.append((f"link on {response.request.path}", url))
                self.links.append(url)
        return response

    def get(self, client: FlaskClient, url: str) -> TestResponse:
        return self.saw(client.get(url, follow_redirects=True), url)


def follow(recorder: Recorder, client: FlaskClient, seen: set[str], limit: int) -> int:
    """GET every same-site link not yet seen (one level); how many were opened."""
    opened = 0
    for url in list(dict.fromkeys(recorder.links)):
        parts = urlsplit(url)
        if parts.scheme or parts.netloc or not url.startswith("/") or NOT_FOLLOWED.search(url):
            continue
        if url in seen or opened >= limit:
            continue
        seen.add(url)
        opened += 1
        response = recorder.get(client, url)
        assert response.status_code < 500, url
    return opened


def test_no_personal_value_in_any_url_after_a_day_at_the_counter(
    app: Flask, make_user, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lookup, "RESULT_LIMIT", 1)  # two results: a page 2 to open
    rec = Recorder()
    clerk, auditor = app.test_client(), app.test_client()
    rec.saw(login(clerk, make_user(Role.CLERK)), "/login")
    rec.saw(login(auditor, make_user(Role.AUDITOR)), "/login")

    # Intake at the counter, through the form: two people of one household.
    data = intake_data(
        clerk,
        **{
            "addressee": NAME,
            "address": ADDRESS,
            "items-0-name": NAME,
            "items-0-name_kana": KANA,
            "items-0-alias": ALIAS,
            "items-0-birth_date": "S62.6.5",
            "items-1-name": NAME_2,
            "items-1-name_kana": "ﾆｵﾉ ﾊﾔﾃ",
            "items-1-birth_date": "1990-01-02",
        },
    )
    rec.saw(clerk.post("/envelopes/new", data=data, follow_redirects=True), "/envelopes/new")

    # Searches by name, kana (full, half width, hiragana), alias, birth date (和暦, ISO).
    for typed in (NAME, "鳰野", KANA, "ﾆｵﾉ", "におの", ALIAS, "S62.6.5", "昭和62年6月5日"):
        page = rec.saw(search(clerk, typed), "/items")
        assert page.status_code == 200, typed
        found = page.get_data(as_text=True)
        assert NAME in found or NAME_2 in found, typed  # it does find them
    page = rec.saw(search(clerk, "1987-06-05"), "/items")  # only 澪 was born then
    assert NAME in page.get_data(as_text=True)
    results = rec.saw(search(clerk, "におの"), "/items")
    token_url = results.request.full_path.rstrip("?")
    assert re.fullmatch(r"/items\?s=[\w-]+", token_url)
    following = re.search(r'href="([^"]+)" rel="next"', results.get_data(as_text=True))
    assert following, "page 2 of the results"
    second = rec.get(clerk, unescape(following.group(1)))
    # 1 result a page, in kana order: ニオノ ハヤテ, then ニオノ ミオ on page 2
    assert NAME in second.get_data(as_text=True)  # page 2 re-ran the stored query
    # The back button: the token URL shows the same results again.
    assert NAME_2 in rec.get(clerk, token_url).get_data(as_text=True)

    # The scan box with a name typed into it.
    scan = clerk.post("/search", data={"q": NAME, "csrf_token": csrf_token(clerk, "/")})
    rec.saw(scan, "/search")
    assert scan.status_code == 404

    # The item, a handover, the record and the handover log.
    item_path = re.search(r'href="(/items/\d+)">' + NAME, second.get_data(as_text=True))
    assert item_path
    item_url = item_path.group(1)
    item_id = int(item_url.rsplit("/", 1)[1])
    rec.get(clerk, item_url)
    rec.get(clerk, f"/handover?item={item_id}")
    done = clerk.post(
        "/handover",
        data={
            "item": str(item_id),
            "recipient_kind": "self",
            "documents": "drivers_license",
            "last4-drivers_license": "4821",
            "authority_proof": "",
            "csrf_token": csrf_token(clerk, "/"),
        },
        follow_redirects=True,
    )
    rec.saw(done, "/handover")
    assert done.status_code == 200 and "/handovers/" in done.request.path
    for url in ("/handovers", "/", "/notices", "/reservations/today", "/pickup/days"):
        rec.get(clerk, url)
    other = re.search(r'href="/items/(\d+)">' + NAME_2, results.get_data(as_text=True))
    assert other
    booking = rec.get(clerk, f"/reservations/new?item={other.group(1)}")
    assert booking.status_code == 200

    # The auditor: audit log filters by control number, history, the handover review.
    control_no = re.search(r"E\d{9}-1", rec.get(auditor, item_url).get_data(as_text=True))
    assert control_no
    for url in (
        f"/audit?subject={control_no.group(0)}",
        "/audit?action=item.search",
        f"/items/{item_id}/history",
        "/handovers/review",
        "/envelopes/1",
    ):
        assert rec.get(auditor, url).status_code == 200, url
    assert "item.search" in rec.get(auditor, "/audit?action=item.search").get_data(as_text=True)

    # Crawl: every link seen so far, one level, for both users.
    seen: set[str] = set()
    opened = follow(rec, clerk, seen, limit=120)
    opened += follow(rec, auditor, set(), limit=80)
    assert opened > 40  # the crawl did reach the app's pages

    found = [(where, url, leaks(url)) for where, url in rec.urls if leaks(url)]
    assert found == []
    assert len(rec.urls) > 500


def test_the_scanner_itself_finds_every_form(app: Flask) -> None:
    """The check above can fail: each way of writing the values is caught."""
    for url in (
        f"/items?q={NAME}",
        "/items?q=" + quote(KANA),
        "/items?q=" + quote("ﾆｵﾉ"),
        "/items?q=%E3%81%AB%E3%81%8A%E3%81%AE",  # におの
        "/items?q=S62.6.5",
        "/items?q=%EF%BC%B3%EF%BC%96%EF%BC%92.6.5",  # Ｓ６２ full width
        "/items?born=19870605",
        "/items?q=" + quote(ADDRESS, safe=""),
        "/items?q=%e9%b3%b0%e9%87%8e",  # 鳰野, lower-case escapes
    ):
        assert leaks(url), url
    assert leaks("/items?s=AbC-123_xyz&after=12") == []


def test_a_token_is_only_good_in_the_session_that_made_it(app: Flask, make_user, logged_in) -> None:
    clerk = logged_in(Role.CLERK)
    results = search(clerk, "やまだ")
    token_url = results.request.full_path.rstrip("?")
    assert token_url.startswith("/items?s=") and results.status_code == 200
    assert clerk.get(token_url).status_code == 200

    other = app.test_client()
    login(other, make_user(Role.CLERK, "other-clerk"))
    refused = other.get(token_url)
    assert refused.status_code == 410
    page = refused.get_data(as_text=True)
    assert "検索条件の有効期限が切れました。もう一度検索してください" in page
    assert 'data-testid="result-count"' not in page

    clerk.post("/logout", data={"csrf_token": csrf_token(clerk, "/")})
    anonymous = clerk.get(token_url)
    assert anonymous.status_code == 302 and anonymous.location.startswith("/login")
    login(clerk, make_user(Role.CLERK, "next-clerk"))
    assert clerk.get(token_url).status_code == 410  # logged in again: a new session


def test_a_token_expires_after_an_hour(
    app: Flask, logged_in, monkeypatch: pytest.MonkeyPatch
) -> None:
    clerk = logged_in(Role.CLERK)  # the login session keeps its own (real) clock
    now = [NOW]
    monkeypatch.setattr(searches, "now_utc", lambda: now[0])
    token_url = search(clerk, "やまだ").request.full_path.rstrip("?")
    now[0] = NOW + timedelta(minutes=59)
    assert clerk.get(token_url).status_code == 200
    now[0] = NOW + timedelta(minutes=61)
    assert clerk.get(token_url).status_code == 410


def test_a_name_in_the_query_string_is_dropped_not_echoed(app: Flask, logged_in) -> None:
    clerk = logged_in(Role.CLERK)
    for path in (f"/items?q={NAME}&status=in_custody", f"/search?q={NAME}"):
        response = clerk.get(path)
        assert response.status_code == 303
        assert not leaks(response.location) and "q=" not in response.location
        page = clerk.get(response.location, follow_redirects=True).get_data(as_text=True)
        assert NAME not in page
        assert "検索語はURLに入れられません" in page
