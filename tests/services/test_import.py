"""Bulk import (SPEC §6.4): encodings, all-or-nothing, idempotence, the reports people read."""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from tracker.cli import main
from tracker.db import Database
from tracker.models import AuditEvent, Envelope, Item, Location
from tracker.services import importer

TODAY = date(2026, 11, 27)
JA_HEADER = "お問い合わせ番号,返戻日,還付事由,宛名,住所,世帯番号,氏名,フリガナ,生年月日,続柄,種別,保管場所,保管位置"
EN_HEADER = (
    "tracking_no,return_date,return_reason,addressee,address,household_code,name,name_kana,"
    "birth_date,relationship,item_kind,location,slot"
)


def tracking(n: int) -> str:
    """A 12-digit tracking number with a correct check digit (SPEC §6.3)."""
    body = f"{10000000000 + n:011d}"
    return body + str(int(body) % 7)


def household_rows(n: int, members: int = 2) -> list[str]:
    t = tracking(n)
    head = f"{t},平成30年4月{1 + n % 28}日,転居先不明,髙橋 一郎{n},熊本市中央区手取本町{n}-1,{5000 + n}"
    rows = [f"{head},髙橋 一郎{n},ﾀｶﾊｼ ｲﾁﾛｳ,S45.1.2,世帯主,,,H30-04-B{n % 100:03d}"]
    for m in range(1, members):
        rows.append(f"{head},髙橋 子{m},たかはし こ,H2.3.{m},子,通知カード,,H30-04-B{n % 100:03d}")
    return rows


def write(path: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def run(database: Database, path: Path, **kwargs) -> importer.ImportReport:  # type: ignore[no-untyped-def]
    session = database.new_session()
    try:
        report = importer.run_import(
            session, path, actor="officer1", today=TODAY, now=_now(), **kwargs
        )
        if report.committed:
            session.commit()
        else:
            session.rollback()
        return report
    finally:
        session.close()


def _now():  # type: ignore[no-untyped-def]
    from tracker.clock import now_utc

    return now_utc()


def counts(database: Database) -> tuple[int, int]:
    with database.session_scope() as session:
        return (
            session.scalar(select(func.count()).select_from(Envelope)) or 0,
            session.scalar(select(func.count()).select_from(Item)) or 0,
        )


def test_cp932_file_with_wareki_dates_and_half_width_kana(
    database: Database, tmp_path: Path
) -> None:
    path = write(
        tmp_path / "returns.csv",
        [
            JA_HEADER,
            f"{tracking(1)},平成30年4月1日,TENKYO_FUMEI,髙橋 一郎,熊本市中央区手取本町1-1,1001,"
            "髙橋 一郎,ﾀｶﾊｼ ｲﾁﾛｳ,S45.1.2,世帯主,,,H30-04-B017",
            f"{tracking(1)},平成30年4月1日,TENKYO_FUMEI,髙橋 一郎,熊本市中央区手取本町1-1,1001,"
            "髙橋 花子,たかはし　はなこ,昭和48年3月4日,妻,通知カード,,H30-04-B017",
            f"{tracking(2)},R2.6.1,受取拒絶,山﨑 次郎,熊本市東区東町1-2,,山﨑 次郎,ﾔﾏｻｷ ｼﾞﾛｳ,"
            "１９９０/５/６,,個人番号通知書,東区役所,R02-06-A001",
        ],
        encoding="cp932",
    )
    report = run(database, path)
    assert report.ok and report.committed, [str(e) for e in report.errors]
    assert report.encoding == "cp932"
    assert (report.items, report.envelopes, report.duplicates) == (3, 2, 0)
    with database.session_scope() as session:
        items = session.scalars(select(Item).order_by(Item.control_no)).all()
        assert [i.name for i in items] == ["髙橋 一郎", "髙橋 花子", "山﨑 次郎"]  # as written
        # フリガナ in full-width katakana, blanks as typed (issue 12)
        assert [i.name_kana for i in items] == [
            "タカハシ イチロウ",
            "タカハシ　ハナコ",
            "ヤマサキ ジロウ",
        ]
        assert [i.kana_key for i in items] == [
            "タカハシイチロウ",
            "タカハシハナコ",
            "ヤマサキジロウ",
        ]
        assert items[0].name_key == "高橋一郎"
        assert [i.birth_date for i in items] == [
            date(1970, 1, 2),
            date(1973, 3, 4),
            date(1990, 5, 6),
        ]
        assert [i.kind for i in items] == [
            "notification_card",
            "notification_card",
            "number_notice",
        ]
        assert [i.control_no for i in items] == [
            f"{items[0].envelope.control_no}-1",
            f"{items[0].envelope.control_no}-2",
            f"{items[2].envelope.control_no}-1",
        ]
        first, second = items[0].envelope, items[2].envelope
        assert (first.returned_on, first.return_reason, first.slot) == (
            date(2018, 4, 1),
            "TENKYO_FUMEI",
            "H30-04-B017",
        )
        assert first.location.is_default and second.location.name == "東区役所"
        assert second.return_reason == "UKETORI_KYOZETSU"


def test_english_headers_in_any_order_utf8_with_bom(database: Database, tmp_path: Path) -> None:
    header = EN_HEADER.split(",")
    order = list(reversed(range(len(header))))
    row = f"{tracking(3)},2019/3/31,OTHER,佐藤 一,熊本市北区1,,佐藤 一,サトウ ハジメ,1980-01-01,,,KITA,K-1".split(
        ","
    )
    path = tmp_path / "bom.csv"
    path.write_bytes(
        b"\xef\xbb\xbf"
        + (
            ",".join(header[i] for i in order) + "\n" + ",".join(row[i] for i in order) + "\n"
        ).encode()
    )
    report = run(database, path)
    assert report.ok and report.encoding == "utf-8-sig" and report.items == 1
    with database.session_scope() as session:
        envelope = session.scalar(select(Envelope))
        assert envelope is not None and envelope.location.code == "KITA"


def test_one_bad_row_among_ten_thousand_writes_nothing(database: Database, tmp_path: Path) -> None:
    lines = [JA_HEADER]
    for n in range(5000):
        lines.extend(household_rows(n))
    assert len(lines) == 10_001
    bad_line = 7_778  # a line number in the file (header is line 1)
    cells = lines[bad_line - 1].split(",")
    cells[8] = "平成31年5月1日"  # Heisei had ended: a date outside its era
    lines[bad_line - 1] = ",".join(cells)
    report = run(database, write(tmp_path / "big.csv", lines))
    assert not report.ok and not report.committed
    assert report.error_count == 1
    problem = report.errors[0]
    assert (problem.line, problem.column, problem.value) == (bad_line, "生年月日", "平成31年5月1日")
    assert "平成の期間外" in problem.message
    assert report.rows == 10_000
    assert counts(database) == (0, 0)


def test_reimport_reports_duplicates_and_writes_nothing_new(
    database: Database, tmp_path: Path
) -> None:
    path = write(tmp_path / "a.csv", [JA_HEADER, *household_rows(1, 3), *household_rows(2, 1)])
    first = run(database, path)
    assert (first.items, first.envelopes, first.duplicates) == (4, 2, 0)
    second = run(database, path)
    assert second.ok and (second.items, second.envelopes, second.duplicates) == (0, 0, 4)
    assert counts(database) == (2, 4)
    # a later file adds one member to an existing envelope: positions continue
    extra = household_rows(1, 4)[3]
    third = run(database, write(tmp_path / "b.csv", [JA_HEADER, *household_rows(1, 3), extra]))
    assert (third.items, third.envelopes, third.duplicates) == (1, 0, 3)
    with database.session_scope() as session:
        positions = session.scalars(select(Item.control_no).order_by(Item.control_no)).all()
    assert [p[-2:] for p in positions] == ["-1", "-2", "-3", "-4", "-1"]


def test_dry_run_validates_everything_and_writes_nothing(
    database: Database, tmp_path: Path
) -> None:
    path = write(tmp_path / "a.csv", [JA_HEADER, *household_rows(1, 2)])
    report = run(database, path, dry_run=True)
    assert report.ok and not report.committed and (report.items, report.envelopes) == (2, 1)
    assert counts(database) == (0, 0)


@pytest.mark.parametrize(
    ("column", "value"),
    [(3, "髙橋 一郎 123456789018"), (4, "熊本市中央区1234-5678-9018"), (9, "世帯主123456789018")],
)
def test_a_free_text_cell_holding_an_individual_number_is_refused(
    database: Database, tmp_path: Path, column: int, value: str
) -> None:
    cells = household_rows(1, 1)[0].split(",")
    cells[column] = value
    report = run(database, write(tmp_path / "mn.csv", [JA_HEADER, ",".join(cells)]))
    assert not report.ok and counts(database) == (0, 0)
    problem = report.errors[0]
    assert problem.column == JA_HEADER.split(",")[column]
    assert "個人番号" in problem.message and "123456789018" not in problem.message


def test_rows_of_one_envelope_must_agree(database: Database, tmp_path: Path) -> None:
    rows = household_rows(1, 3)
    cells = rows[2].split(",")
    cells[4] = "熊本市西区別の住所1-1"
    rows[2] = ",".join(cells)
    report = run(database, write(tmp_path / "x.csv", [JA_HEADER, *rows]))
    assert not report.ok and counts(database) == (0, 0)
    assert report.errors[0].line == 4
    assert "2行目" in report.errors[0].message and "住所" in report.errors[0].message


def test_the_same_person_twice_in_one_envelope_is_refused(
    database: Database, tmp_path: Path
) -> None:
    rows = household_rows(1, 2)
    report = run(database, write(tmp_path / "x.csv", [JA_HEADER, *rows, rows[1]]))
    assert not report.ok and report.errors[0].line == 4 and "3行目" in report.errors[0].message


def test_every_bad_row_is_listed_with_line_column_value_and_reason(
    database: Database, tmp_path: Path
) -> None:
    good = household_rows(1, 1)[0].split(",")
    bad_date = list(good)
    bad_date[1] = "2018-02-30"
    bad_reason = list(good)
    bad_reason[0] = tracking(9)
    bad_reason[2] = "不在"
    bad_kana = list(good)
    bad_kana[0] = tracking(10)
    bad_kana[7] = "Takahashi"
    unknown_place = list(good)
    unknown_place[0] = tracking(11)
    unknown_place[11] = "天草市役所"
    report = run(
        database,
        write(
            tmp_path / "x.csv",
            [JA_HEADER, *(",".join(r) for r in (bad_date, bad_reason, bad_kana, unknown_place))],
        ),
    )
    found = {(p.line, p.column) for p in report.errors}
    assert found == {(2, "返戻日"), (3, "還付事由"), (4, "フリガナ"), (5, "保管場所")}
    messages = " ".join(p.message for p in report.errors)
    assert "存在しない日付" in messages and "天草市役所" in messages


def test_file_level_problems_are_refused_clearly(database: Database, tmp_path: Path) -> None:
    missing = write(tmp_path / "m.csv", ["お問い合わせ番号,返戻日,氏名", "1,2,3"])
    with pytest.raises(importer.ImportFileError, match="生年月日") as refused:
        run(database, missing)
    assert "フリガナ" not in str(refused.value)  # optional since issue 14
    latin1 = tmp_path / "l.csv"
    latin1.write_bytes(JA_HEADER.encode("utf-8") + b"\r\n\x82\xa0\xff\xfe\r\n")
    with pytest.raises(importer.ImportFileError, match="文字コード"):
        run(database, latin1)
    sjis = write(tmp_path / "s.csv", [JA_HEADER, *household_rows(1, 1)], encoding="cp932")
    with pytest.raises(importer.ImportFileError, match="utf-8"):
        run(database, sjis, encoding="utf-8")
    assert counts(database) == (0, 0)


def test_one_audit_event_per_import_with_hash_and_counts(
    database: Database, tmp_path: Path
) -> None:
    path = write(tmp_path / "a.csv", [JA_HEADER, *household_rows(1, 2), *household_rows(2, 3)])
    report = run(database, path)
    with database.session_scope() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action.like("import.%"))).all()
    assert len(events) == 1
    details = json.loads(events[0].details)
    assert (
        details["sha256"] == report.sha256 and details["items"] == 5 and details["envelopes"] == 2
    )
    assert "髙橋" not in events[0].details  # no row contents in the audit log


def test_cli_import_prints_counts_and_exits_by_outcome(
    database_url: str, database: Database, tmp_path: Path
) -> None:
    env = {"TRACKER_DATABASE_URL": database_url}
    good = write(tmp_path / "good.csv", [JA_HEADER, *household_rows(1, 2)], encoding="cp932")
    result = CliRunner().invoke(main, ["import", str(good)], env=env)
    assert result.exit_code == 0, result.output
    assert "items=2 envelopes=1 duplicates=0 warnings=0" in result.stdout
    again = CliRunner().invoke(main, ["import", str(good)], env=env)
    assert "items=0 envelopes=0 duplicates=2" in again.stdout

    rows = household_rows(5, 1)[0].split(",")
    rows[1] = "2018-13-01"
    bad = write(tmp_path / "bad.csv", [JA_HEADER, ",".join(rows)])
    refused = CliRunner().invoke(main, ["import", str(bad)], env=env)
    assert refused.exit_code == 1
    assert (
        "2行目" in refused.stderr
        and "返戻日" in refused.stderr
        and "何も書き込んでいません" in refused.stderr
    )
    assert counts(database) == (1, 2)
    with database.session_scope() as session:
        refusal = session.scalar(select(AuditEvent).where(AuditEvent.action == "import.refused"))
        assert refusal is not None and refusal.outcome == "refused"

    usage = CliRunner().invoke(main, ["import", str(good), "--encoding", "latin-1"], env=env)
    assert usage.exit_code == 2


def test_cli_actor_must_be_a_records_officer(database_url: str, tmp_path: Path) -> None:
    env = {"TRACKER_DATABASE_URL": database_url}
    CliRunner().invoke(main, ["create-user", "desk", "--role", "clerk"], env=env)
    good = write(tmp_path / "good.csv", [JA_HEADER, *household_rows(1, 1)])
    result = CliRunner().invoke(main, ["import", str(good), "--actor", "desk"], env=env)
    assert result.exit_code == 1 and "desk" in result.stderr


def test_locations_resolve_by_name_or_code_in_any_width(database: Database) -> None:
    with database.session_scope() as session:
        locate = importer.location_lookup(session)
        east = session.scalar(select(Location.id).where(Location.code == "HIGASHI"))
        default = session.scalar(select(Location.id).where(Location.is_default.is_(True)))
    assert locate("東区役所") == locate("HIGASHI") == locate("ｈｉｇａｓｈｉ") == east
    assert locate("") == default
    assert locate("どこか") is None


# --- rows checked in several processes (issue 18) ------------------------------------------


def mixed_file(path: Path) -> Path:
    """Households with good rows, warnings (private-use characters, odd kana) and refused rows
    (bad dates, an unknown location, too many fields) spread over the whole file."""
    lines = [JA_HEADER]
    for n in range(1, 60):
        rows = household_rows(n, members=1 + n % 3)
        if n % 7 == 0:
            rows[0] = rows[0].replace("S45.1.2", "S45.13.2")  # no 13th month
        if n % 11 == 0:
            rows[-1] = rows[-1].replace(",,H30", ",どこか,H30")  # no such location
        if n % 13 == 0:
            rows[0] += ",余分,項目"  # more fields than the header
        if n % 5 == 0:
            rows[-1] = rows[-1].replace("髙橋 子", "\ue000橋 子")  # a private-use character
        lines += rows
    return write(path, lines)


def checked(path: Path, locate: importer.LocationLookup, processes: int) -> tuple[list, Any]:  # type: ignore[type-arg]
    report = importer.ImportReport()
    with path.open(encoding="utf-8", newline="") as stream:
        rows = [
            staged.row
            for staged in importer.iter_rows(
                stream, today=TODAY, locate=locate, report=report, processes=processes
            )
        ]
    return rows, report


def test_rows_checked_in_several_processes_give_the_same_rows_and_report(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tracker.services.importer import reading

    path = mixed_file(tmp_path / "mixed.csv")
    with database.session_scope() as session:
        locate = importer.location_lookup(session)
    alone_rows, alone = checked(path, locate, 1)
    assert alone.error_count >= 10 and alone.warning_count >= 5 and len(alone_rows) > 80

    monkeypatch.setattr(reading, "CHUNK_ROWS", 7)  # many chunks, households cut in two
    rows, report = checked(path, locate, 3)

    assert rows == alone_rows
    assert report == alone
    monkeypatch.setattr(reading, "REPORT_LIMIT", 4)  # the first problems in file order are kept
    rows, report = checked(path, locate, 2)
    assert report.errors == alone.errors[:4] and report.warnings == alone.warnings[:4]
    assert (report.error_count, report.warning_count) == (alone.error_count, alone.warning_count)


def test_a_large_file_is_checked_in_several_processes_and_imported_whole(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [JA_HEADER]
    for n in range(1, 400):
        lines += household_rows(n, members=1 + n % 3)
    path = write(tmp_path / "large.csv", lines)
    monkeypatch.setattr(importer, "PARALLEL_MIN_BYTES", 1)
    monkeypatch.setattr("tracker.services.importer.reading.CHUNK_ROWS", 50)
    assert importer.check_processes(path) == min(len(os.sched_getaffinity(0)), 8)
    monkeypatch.setattr(importer, "check_processes", lambda _path: 3)

    report = run(database, path)

    assert report.committed and report.items == len(lines) - 1 and report.envelopes == 399
    with database.session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Item)) == len(lines) - 1
        names = session.scalars(select(Item.name).order_by(Item.id).limit(3)).all()
    assert names == ["髙橋 一郎1", "髙橋 子1", "髙橋 一郎2"]  # file order
