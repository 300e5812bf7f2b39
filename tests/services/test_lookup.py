"""The search service (issue 12): what a scan names, フリガナ order, keyset pages, status lists."""

from __future__ import annotations

from datetime import date

import pytest

from tests import factories
from tracker.db import Database
from tracker.services import lookup


def stock(database: Database) -> dict[str, list[int]]:
    """Seven items whose kana keys tie (three ヤマダハナコ) so the id decides among them."""
    people = [
        ("山田 花子", "ヤマダ ハナコ", date(1980, 1, 1)),
        ("山田 花子", "ヤマダ ハナコ", date(1970, 1, 1)),
        ("山田 花子", "ヤマダ ハナコ", date(1970, 1, 1)),
        ("安部 一郎", "アベ イチロウ", date(1960, 1, 1)),
        ("阿蘇 健", "アソ ケン", date(1990, 1, 1)),
        ("渡辺 学", "ワタナベ マナブ", date(1950, 1, 1)),
        ("伊藤 愛", "イトウ アイ", date(2000, 1, 1)),
    ]
    ids: dict[str, list[int]] = {}
    for n, (name, kana, born) in enumerate(people, start=1):
        [item_id] = factories.envelope(
            database, n, items=[factories.item(name, kana, birth_date=born)]
        )
        ids.setdefault(name, []).append(item_id)
    return ids


def test_a_scan_names_an_envelope_an_item_or_nothing(database: Database) -> None:
    [first, second] = factories.envelope(
        database, 1, items=[factories.item("肥後 太郎"), factories.item("肥後 花子")]
    )
    with database.session_scope() as session:
        assert lookup.find_scanned(session, "E000000001") == lookup.ScanHit(1)
        assert lookup.find_scanned(session, "ｅ000000001－2") == lookup.ScanHit(1, second)
        assert lookup.find_scanned(session, "E000000001-1") == lookup.ScanHit(1, first)
        assert lookup.find_scanned(session, "E000000001-3") is None
        assert lookup.find_scanned(session, "E000000002") is None
        tracking = factories.tracking_no(1, 3)
        assert lookup.find_scanned(session, tracking) == lookup.ScanHit(1)
        assert lookup.find_scanned(session, tracking, min_digits=13) is None
        assert lookup.find_scanned(session, "山田") is None


def names(results: lookup.Results) -> list[tuple[str, int]]:
    return [(item.name, item.birth_date.year) for item in results.items]


def test_pages_in_kana_order_never_skip_or_repeat(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    stock(database)
    monkeypatch.setattr(lookup, "RESULT_LIMIT", 2)
    everything = lookup.parse_query("")
    seen: list[int] = []
    pages = []
    with database.session_scope() as session:
        after = None
        while True:
            page = lookup.search(
                session, everything, actor="t", statuses=["in_custody"], after=after
            )
            assert page.total == 7
            pages.append(page)
            seen += [item.id for item in page.items]
            if page.next_after is None:
                break
            after = page.next_after
        assert len(pages) == 4 and len(seen) == len(set(seen)) == 7
        order = [item for page in pages for item in page.items]
        assert [(i.name, i.birth_date.year) for i in order] == [
            ("阿蘇 健", 1990),
            ("安部 一郎", 1960),
            ("伊藤 愛", 2000),
            ("山田 花子", 1970),
            ("山田 花子", 1970),
            ("山田 花子", 1980),
            ("渡辺 学", 1950),
        ]
        # Backwards from the last page gives the same pages.
        back = lookup.search(
            session, everything, actor="t", statuses=["in_custody"], before=pages[3].items[0].id
        )
        assert [i.id for i in back.items] == [i.id for i in pages[2].items]
        assert back.previous_before is not None and back.next_after is not None
        assert pages[0].previous_before is None


def test_a_kanji_query_is_in_kana_order_too(database: Database) -> None:
    stock(database)
    with database.session_scope() as session:
        found = lookup.search(session, lookup.parse_query("山田"), actor="t")
        assert names(found) == [("山田 花子", 1970), ("山田 花子", 1970), ("山田 花子", 1980)]
        assert found.total == 3 and not found.paged


def test_nothing_asked_finds_nothing(database: Database) -> None:
    stock(database)
    with database.session_scope() as session:
        assert lookup.search(session, lookup.parse_query(" "), actor="t").items == []
