"""Names as registered and unclaimed My Number cards in the import (issue 14, SPEC §6.4):
Latin names, an empty フリガナ, a 通称, and the card's dates; each person is found by search."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import select

from tests.services.test_import import counts, run, tracking, write
from tracker.db import Database
from tracker.domain.codes import ItemKind
from tracker.models import AuditEvent, Item
from tracker.services import lookup

HEADER = (
    "お問い合わせ番号,返戻日,還付事由,宛名,住所,世帯番号,氏名,フリガナ,通称,生年月日,続柄,種別,"
    "保管場所,保管位置,交付通知書送付日,再通知日,有効期限"
)
EN_HEADER = (
    "tracking_no,return_date,return_reason,addressee,address,household_code,name,name_kana,"
    "alias,birth_date,relationship,item_kind,location,slot,first_notice_on,renotice_on,"
    "card_expires_on"
)


def _found(database: Database, text: str) -> list[str]:
    with database.session_scope() as session:
        results = lookup.search(session, lookup.parse_query(text), actor="clerk1")
        return [item.name for item in results.items]


def test_cp932_file_with_latin_names_empty_kana_and_an_alias_each_found_by_search(
    database: Database, tmp_path: Path
) -> None:
    envelope = f"{tracking(1)},R6.4.1,転居先不明,SMITH John Paul,熊本市中央区手取本町1-1,,"
    path = write(
        tmp_path / "foreign.csv",
        [
            HEADER,
            envelope + "SMITH John Paul,,スミス ジョン,1990/1/2,世帯主,,,,,,",
            envelope + "NGUYEN VAN AN,グエン ヴァン アン,,H5.3.4,同居人,,,,,,",
            f"{tracking(2)},R6.5.1,受取拒絶,熊本 花子,熊本市東区東町1-2,,"
            "熊本 花子,,,S50.6.7,世帯主,,,,,,",
        ],
        encoding="cp932",
    )
    report = run(database, path)
    assert report.ok and report.committed, [str(e) for e in report.errors]
    assert report.encoding == "cp932"
    assert (report.items, report.envelopes) == (3, 2)
    with database.session_scope() as session:
        items = {i.name: i for i in session.scalars(select(Item))}
        smith = items["SMITH John Paul"]
        assert (smith.name_kana, smith.alias) == ("", "スミス ジョン")  # stored as written
        assert smith.alias_key == "スミスジョン"
        assert items["NGUYEN VAN AN"].alias is None
        assert items["熊本 花子"].name_kana == ""

    # The Latin name in another case, spacing and width.
    for typed in (
        "SMITH John",
        "smith  john",
        "Ｓｍｉｔｈ",
        "smith john paul",
        "ｓｍｉｔｈ　ｊｏｈｎ",
    ):
        assert _found(database, typed) == ["SMITH John Paul"], typed
    assert _found(database, "nguyen van") == ["NGUYEN VAN AN"]
    # By the 通称, in katakana or hiragana, and by the kana of the name itself.
    assert _found(database, "スミス") == ["SMITH John Paul"]
    assert _found(database, "すみす じょん") == ["SMITH John Paul"]
    assert _found(database, "グエン") == ["NGUYEN VAN AN"]
    # The row with no フリガナ by its kanji name (and its birth date).
    assert _found(database, "熊本 花子") == ["熊本 花子"]
    assert _found(database, "熊本 S50.6.7") == ["熊本 花子"]


def test_an_alias_is_searchable_in_kanji_and_refused_when_it_holds_an_individual_number(
    database: Database, tmp_path: Path
) -> None:
    envelope = f"{tracking(3)},R6.4.1,転居先不明,LEE Min Jun,熊本市中央区手取本町1-1,,"
    good = write(
        tmp_path / "alias.csv",
        [EN_HEADER, envelope + "LEE Min Jun,,李 民俊,1990-01-02,,,,,,,"],
    )
    assert run(database, good).committed
    assert _found(database, "李") == ["LEE Min Jun"]
    assert _found(database, "lee min") == ["LEE Min Jun"]

    bad = write(
        tmp_path / "alias_number.csv",
        [
            EN_HEADER,
            f"{tracking(4)},R6.4.1,転居先不明,PARK Ji,熊本市中央区1-1,,PARK Ji,,"
            "123456789018,1990-01-02,,,,,,,",
        ],
    )
    report = run(database, bad)
    assert not report.committed
    [problem] = report.errors
    assert (problem.line, problem.column) == (2, "alias")
    assert "123456789018" not in str(problem)  # masked in the report
    assert "個人番号" in problem.message
    assert counts(database) == (1, 1)


def test_mynumber_card_rows_with_wareki_dates(database: Database, tmp_path: Path) -> None:
    path = write(
        tmp_path / "cards.csv",
        [
            HEADER,
            f"{tracking(5)},R7.3.3,その他,熊本 一郎,熊本市中央区手取本町1-1,,熊本 一郎,"
            "クマモト イチロウ,,S45.1.2,世帯主,未受領のマイナンバーカード,,,"
            "令和6年4月1日,R6.10.1,令和16年1月2日",
            f"{tracking(6)},R7.3.3,その他,熊本 次郎,熊本市中央区手取本町1-2,,熊本 次郎,"
            ",,H2.2.2,世帯主,mynumber_card,,,2024/5/1,,",
        ],
        encoding="cp932",
    )
    report = run(database, path)
    assert report.ok and report.committed, [str(e) for e in report.errors]
    with database.session_scope() as session:
        items = {i.name: i for i in session.scalars(select(Item))}
        first = items["熊本 一郎"]
        assert first.kind == ItemKind.MYNUMBER_CARD.value
        assert (first.first_notice_on, first.renotice_on, first.card_expires_on) == (
            date(2024, 4, 1),
            date(2024, 10, 1),
            date(2034, 1, 2),
        )
        second = items["熊本 次郎"]
        assert second.kind == ItemKind.MYNUMBER_CARD.value
        assert (second.first_notice_on, second.renotice_on, second.card_expires_on) == (
            date(2024, 5, 1),
            None,
            None,
        )
        # The audit event counts rows; it holds no name.
        events = session.scalars(select(AuditEvent)).all()
        assert not any("熊本" in str(event.details) for event in events)


def test_bad_card_dates_are_reported_per_row_and_nothing_is_written(
    database: Database, tmp_path: Path
) -> None:
    def row(n: int, kind: str, first: str, renotice: str, expires: str) -> str:
        return (
            f"{tracking(n)},R7.3.3,その他,熊本 {n}郎,熊本市中央区{n}-1,,熊本 {n}郎,,,"
            f"S45.1.2,,{kind},,,{first},{renotice},{expires}"
        )

    path = write(
        tmp_path / "bad.csv",
        [
            HEADER,
            row(11, "mynumber_card", "R6.10.1", "R6.4.1", ""),  # re-notice before first notice
            row(12, "mynumber_card", "R6.2.30", "", ""),  # no such day
            row(13, "mynumber_card", "R9.1.1", "", ""),  # after the import's today
            row(14, "通知カード", "R6.4.1", "", ""),  # only for unclaimed My Number cards
            row(15, "mynumber_card", "", "", "H20.1.1"),  # before any card was issued
            row(16, "mynumber_card", "R6.4.1", "R6.10.1", "R16.1.2"),  # good
        ],
    )
    report = run(database, path)
    assert not report.committed
    found = {(p.line, p.column) for p in report.errors}
    assert found == {
        (2, "再通知日"),
        (3, "交付通知書送付日"),
        (4, "交付通知書送付日"),
        (5, "交付通知書送付日"),
        (6, "有効期限"),
    }
    messages = {p.line: p.message for p in report.errors}
    assert "交付通知書送付日" in messages[2] and "より前" in messages[2]
    assert "未来" in messages[4]
    assert "mynumber_card" in messages[5]
    assert counts(database) == (0, 0)


def test_a_file_without_a_kana_column_is_read(database: Database, tmp_path: Path) -> None:
    path = write(
        tmp_path / "no_kana.csv",
        [
            "tracking_no,return_date,return_reason,addressee,address,name,birth_date",
            f"{tracking(7)},2024-04-01,転居先不明,GARCIA Maria,熊本市中央区1-1,GARCIA Maria,1980-5-6",
        ],
    )
    report = run(database, path)
    assert report.ok and report.committed, [str(e) for e in report.errors]
    assert _found(database, "garcia") == ["GARCIA Maria"]
