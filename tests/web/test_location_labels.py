"""Location pages a page at a time, and label sheets for any selection (issue 12)."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from flask import Flask
from pypdf import PdfReader

from tests import factories
from tracker.domain.codes import Role
from tracker.web.custody import views as custody_views

EAST = "HIGASHI"


@pytest.fixture
def shelf(app: Flask) -> Flask:
    """Five envelopes at 東区役所 (slots S-0 … S-4), one at the default location."""
    for n in range(5):
        factories.envelope(app, n, location=EAST, slot=f"S-{n}", returned_on=date(2018, 5, 1))
    factories.envelope(app, 9)
    return app


def east_id(app: Flask) -> int:
    from sqlalchemy import select

    from tracker.models import Location

    with app.extensions["tracker.db"].session_scope() as session:
        found = session.scalar(select(Location.id).where(Location.code == EAST))
        assert found is not None
        return found


def listed(page: str) -> list[str]:
    return re.findall(r'<a href="/envelopes/\d+">(E\d+)</a>', page)


def test_location_pages_have_previous_next_and_a_page_count(
    shelf: Flask, logged_in, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(custody_views, "PAGE_SIZE", 2)
    client = logged_in(Role.CLERK)
    path = f"/locations/{east_id(shelf)}"
    seen, headers = [], []
    while path:
        page = client.get(path).get_data(as_text=True)
        headers.append(re.search(r"(\d+) / (\d+) ページ", page).groups())  # type: ignore[union-attr]
        seen += listed(page)
        found = re.search(r'href="([^"]+)" rel="next"', page)
        path = found.group(1) if found else ""
    assert headers == [("1", "3"), ("2", "3"), ("3", "3")]
    assert len(seen) == len(set(seen)) == 5 and seen == sorted(seen)
    assert "全5件" in page
    back = re.search(r'href="([^"]+)" rel="prev"', page)
    assert back is not None
    assert (
        listed(client.get(back.group(1).replace("&amp;", "&")).get_data(as_text=True)) == seen[2:4]
    )


def text_of(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def test_labels_for_a_range_across_pages_print_the_location_name(
    shelf: Flask, logged_in, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(custody_views, "PAGE_SIZE", 2)
    client = logged_in(Role.CLERK)
    place = east_id(shelf)
    seen = listed(client.get(f"/locations/{place}").get_data(as_text=True))
    response = client.get(
        "/labels.pdf", query_string={"location": place, "from": seen[1], "to": "", "start": "11"}
    )
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    first, second = text_of(response.data)
    # cells 1–10 of the first sheet are left for labels already used: two fit on it
    assert first.count("保管場所 東区役所") == 2 and second.count("保管場所 東区役所") == 2
    assert "HIGASHI" not in first + second and seen[0] not in first + second
    assert "位置 S-1" in first and "位置 S-4" in second


def test_labels_for_ticked_envelopes_start_where_the_sheet_was_left(
    shelf: Flask, logged_in
) -> None:
    client = logged_in(Role.RECORDS_OFFICER)
    page = client.get(f"/locations/{east_id(shelf)}").get_data(as_text=True)
    ids = re.findall(r'name="id" value="(\d+)"', page)
    assert len(ids) == 5 and "開始位置（1〜12）" in page
    response = client.get("/labels.pdf", query_string={"id": [ids[0], ids[4]], "start": "12"})
    assert response.status_code == 200
    pages = text_of(response.data)
    assert len(pages) == 2 and "位置 S-0" in pages[0] and "位置 S-4" in pages[1]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"id": "1", "start": "13"}, "1〜12の番号で指定してください"),
        ({"id": "1", "start": "0"}, "1〜12の番号で指定してください"),
        ({"location": "LOC", "from": "E900000000"}, "保管中の封筒はありません"),
        ({}, "ラベルを印刷する封筒を選んでください"),
    ],
)
def test_label_requests_that_cannot_be_printed_say_why(
    shelf: Flask, logged_in, query: dict[str, str], message: str
) -> None:
    client = logged_in(Role.CLERK)
    if query.get("location") == "LOC":
        query = {**query, "location": str(east_id(shelf))}
    response = client.get("/labels.pdf", query_string=query)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_a_range_beyond_the_limit_is_refused(
    shelf: Flask, logged_in, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(custody_views, "LABELS_MAX", 4)
    client = logged_in(Role.CLERK)
    response = client.get("/labels.pdf", query_string={"location": east_id(shelf)})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "指定した範囲の封筒は5件です。一度に印刷できるのは4件までです" in page
