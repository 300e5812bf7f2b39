"""``tracker register-check`` (SPEC §7.1, a contract): CP932 and 和暦, all or nothing, every bad
row named, idempotent, items named by control number or by tracking number + name + birth
date."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from tests import factories, factories_register
from tracker.cli import main
from tracker.db import Database
from tracker.domain.codes import Role
from tracker.models import AuditEvent, RegisterResult

#: The outcome as the item page states it (the entry form lists every outcome too).
OUTCOME = '<strong class="register-outcome">{}</strong>'


def invoke(database_url: str, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(
        main, list(args), env={"TRACKER_DATABASE_URL": database_url, "USER": "operator"}
    )


def write(path: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def results(database: Database) -> dict[int, tuple[str, date | None, str | None]]:
    with database.session_scope() as session:
        return {
            r.item_id: (r.outcome, r.event_on, r.source)
            for r in session.scalars(select(RegisterResult))
        }


def events(database: Database, action: str) -> list[AuditEvent]:
    with database.session_scope() as session:
        found = session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()
        session.expunge_all()
        return list(found)


def test_a_cp932_file_with_one_bad_row_writes_nothing_and_names_the_row(
    database_url: str, database: Database, tmp_path: Path
) -> None:
    ids = factories_register.household(database)
    numbers = [factories_register.control_no(database, i) for i in ids]
    path = write(
        tmp_path / "juki.csv",
        [
            "管理番号,異動区分,異動日,備考",
            f"{numbers[0]},死亡,令和5年1月10日,",
            f"{numbers[1]},転出,平成31年5月1日,",  # Heisei ended on 2019-04-30
            f"{numbers[2]},現住,,実態調査へ",
        ],
        "cp932",
    )
    result = invoke(database_url, "register-check", str(path))
    assert result.exit_code == 1, result.output
    assert "3行目" in result.stderr and "列「異動日」" in result.stderr
    assert "値「平成31年5月1日」" in result.stderr and "平成" in result.stderr
    assert "何も書き込んでいません" in result.stderr
    assert result.stdout == ""
    assert results(database) == {}
    refused = events(database, "register.import_refused")
    assert len(refused) == 1 and '"errors":1' in refused[0].details


def test_a_good_file_records_outcomes_and_importing_it_again_changes_nothing(
    database_url: str, database: Database, tmp_path: Path, logged_in
) -> None:
    ids = factories_register.household(database)
    numbers = [factories_register.control_no(database, i) for i in ids]
    path = write(
        tmp_path / "juki.csv",
        [
            "管理番号,異動区分,異動日,備考",
            # any width and case, as the scan box accepts
            f"{numbers[0].lower()},死亡,R5.1.10,",
            f"{numbers[1].replace('E', 'Ｅ')},転出,平成30年12月3日,大阪市へ",
            f"{numbers[2]},現住,,",
        ],
        "cp932",
    )
    first = invoke(database_url, "register-check", str(path))
    assert first.exit_code == 0, first.output
    assert first.stdout == "rows=3 new=3 changed=0 unchanged=0\n"
    assert results(database) == {
        ids[0]: ("deceased", date(2023, 1, 10), "file"),
        ids[1]: ("moved_out", date(2018, 12, 3), "file"),
        ids[2]: ("resident", None, "file"),
    }
    # the counter sees it on the item page
    page = logged_in(Role.CLERK).get(f"/items/{ids[0]}").get_data(as_text=True)
    assert (
        OUTCOME.format("死亡") in page
        and "令和5年1月10日 (2023-01-10)" in page
        and "ファイル取込" in page
    )
    assert "コマンド操作（operator）" in page  # who: the command's actor, in words
    again = invoke(database_url, "register-check", str(path))
    assert again.exit_code == 0, again.output
    assert again.stdout == "rows=3 new=0 changed=0 unchanged=3\n"
    imported = events(database, "register.import")
    assert len(imported) == 2
    assert '"results_new":3' in imported[0].details and '"rows":3' in imported[0].details
    assert "髙橋" not in imported[0].details  # counts and the hash, no names


def test_a_changed_result_is_counted_as_changed(
    database_url: str, database: Database, tmp_path: Path
) -> None:
    ids = factories_register.household(database)
    number = factories_register.control_no(database, ids[0])
    factories_register.result(database, ids[0])  # 現住, entered at the counter
    path = write(
        tmp_path / "juki.csv",
        ["control_no,register_outcome,register_event_on", f"{number},死亡,R6.2.1"],
    )
    result = invoke(database_url, "register-check", str(path))
    assert result.exit_code == 0, result.output
    assert result.stdout == "rows=1 new=0 changed=1 unchanged=0\n"
    assert results(database)[ids[0]] == ("deceased", date(2024, 2, 1), "file")


def test_an_item_named_by_tracking_number_name_and_birth_date(
    database_url: str, database: Database, tmp_path: Path
) -> None:
    ids = factories_register.household(database)
    tracking = factories.tracking_no(1, 5)
    path = write(
        tmp_path / "juki.csv",
        [
            "お問い合わせ番号,氏名,生年月日,異動区分,異動日",
            # another hyphenation, the name with 高 for 髙 and a full-width space, 和暦
            f"{tracking[:4]}-{tracking[4:8]}-{tracking[8:]},高橋　花子,昭和37年8月15日,国外転出,R2.3.31",
            f"{tracking},髙橋 三郎,S37.8.15,死亡,R2.3.31",
        ],
    )
    refused = invoke(database_url, "register-check", str(path))
    assert refused.exit_code == 1
    assert "3行目、列「お問い合わせ番号」" in refused.stderr
    assert "一致する通知物はありません" in refused.stderr
    assert results(database) == {}
    path = write(path, path.read_text().splitlines()[:2])
    result = invoke(database_url, "register-check", str(path))
    assert result.exit_code == 0, result.output
    assert results(database) == {ids[1]: ("emigrated", date(2020, 3, 31), "file")}


def test_unknown_control_numbers_and_bad_cells_are_each_reported(
    database_url: str, database: Database, tmp_path: Path
) -> None:
    ids = factories_register.household(database)
    number = factories_register.control_no(database, ids[0])
    path = write(
        tmp_path / "juki.csv",
        [
            "管理番号,異動区分,異動日",
            "E999999999-1,死亡,R5.1.10",
            f"{number},引越し,R5.1.10",
            f"{number[:-2]}-2,死亡,",
            f"{number[:-2]}-3,転出,2099-01-01",
            f"{number},現住,,大阪市,へ",  # an unquoted comma: more fields than the header
        ],
    )
    result = invoke(database_url, "register-check", "--dry-run", str(path))
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.startswith("エラー")]
    assert len(lines) == 5, result.stderr
    assert (
        "2行目、列「管理番号」、値「E999999999-1」: この管理番号の通知物は登録されていません"
        in lines[0]
    )
    assert "3行目、列「異動区分」、値「引越し」" in lines[1]
    assert "4行目、列「異動日」" in lines[2] and "異動日を入力してください" in lines[2]
    assert "5行目、列「異動日」" in lines[3] and "照合日" in lines[3]
    assert "6行目" in lines[4] and "項目の数が見出しより多くなっています" in lines[4]


def test_a_dry_run_reports_counts_and_writes_nothing(
    database_url: str, database: Database, tmp_path: Path
) -> None:
    ids = factories_register.household(database)
    number = factories_register.control_no(database, ids[0])
    path = write(tmp_path / "juki.csv", ["管理番号,異動区分", f"{number},現住"])
    result = invoke(database_url, "register-check", "--dry-run", str(path))
    assert result.exit_code == 0, result.output
    assert result.stdout == "rows=1 new=1 changed=0 unchanged=0\n"
    assert results(database) == {}


def test_file_level_refusals_and_usage(
    database_url: str, database: Database, tmp_path: Path
) -> None:
    no_item_columns = write(tmp_path / "a.csv", ["氏名,異動区分", "髙橋 一郎,現住"])
    result = invoke(database_url, "register-check", str(no_item_columns))
    assert result.exit_code == 1 and "管理番号（control_no）" in result.stderr
    assert str(no_item_columns) in result.stderr
    not_cp932 = tmp_path / "b.csv"
    not_cp932.write_bytes("管理番号,異動区分\r\n".encode())
    result = invoke(database_url, "register-check", "--encoding", "cp932", str(not_cp932))
    assert result.exit_code == 1
    assert (
        invoke(database_url, "register-check", "--encoding", "latin-1", str(not_cp932)).exit_code
        == 2
    )
    assert invoke(database_url, "register-check").exit_code == 2
    with database.session_scope() as session:
        assert session.scalar(select(func.count()).select_from(RegisterResult)) == 0


def test_the_actor_must_be_a_records_officer(
    database_url: str, database: Database, tmp_path: Path
) -> None:
    ids = factories_register.household(database)
    factories.user(database, Role.CLERK)
    factories.user(database, Role.RECORDS_OFFICER)
    number = factories_register.control_no(database, ids[0])
    path = write(tmp_path / "juki.csv", ["管理番号,異動区分", f"{number},現住"])
    assert invoke(database_url, "register-check", "--actor", "clerk1", str(path)).exit_code == 1
    result = invoke(database_url, "register-check", "--actor", "records-officer1", str(path))
    assert result.exit_code == 0, result.output
    with database.session_scope() as session:
        stored = session.get(RegisterResult, ids[0])
        assert stored is not None and stored.checked_by == "records-officer1"


def test_a_card_that_came_back_from_a_remailing_is_found_by_its_own_number(
    database_url: str, database: Database, tmp_path: Path
) -> None:
    """Re-mailed and returned, 髙橋 花子's card (E000000001-2) sits at position 1 of the return
    envelope E000000002 but keeps its number: the file names it by that number, and the return
    envelope's E000000002-1 names no card."""
    from tests.factories import NOW, TODAY
    from tests.factories_remail import mailed
    from tracker.domain.codes import ReturnReason
    from tracker.models import Item, Location, Remailing
    from tracker.services import remailing

    ids = factories_register.household(database)
    card = ids[1]
    original = factories_register.control_no(database, card)
    assert original == "E000000001-2"
    remailing_id = mailed(database, card, 1)
    with database.session_scope() as session:
        record = session.get(Remailing, remailing_id)
        location = session.scalar(select(Location.id).where(Location.is_default.is_(True)))
        assert record is not None and location is not None
        back = remailing.record_return(
            session,
            actor="clerk1",
            remailing=record,
            returned_on=TODAY,
            return_reason=ReturnReason.OTHER,
            location_id=location,
            slot=None,
            now=NOW,
        )
        assert back.control_no == "E000000002"
        item = session.get(Item, card)
        assert item is not None and (item.envelope_id, item.position) == (back.id, 1)

    unknown = invoke(
        database_url,
        "register-check",
        str(write(tmp_path / "new.csv", ["管理番号,異動区分,異動日", "E000000002-1,死亡,R8.11.1"])),
    )
    assert unknown.exit_code == 1, unknown.output
    assert "2行目" in unknown.stderr and "値「E000000002-1」" in unknown.stderr
    assert "この管理番号の通知物は登録されていません" in unknown.stderr
    assert results(database) == {}

    found = invoke(
        database_url,
        "register-check",
        str(write(tmp_path / "own.csv", ["管理番号,異動区分,異動日", f"{original},死亡,R8.11.1"])),
    )
    assert found.exit_code == 0, found.output
    assert found.stdout == "rows=1 new=1 changed=0 unchanged=0\n"
    assert results(database) == {card: ("deceased", date(2026, 11, 1), "file")}
