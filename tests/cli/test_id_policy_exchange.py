"""``tracker id-policy export|import`` (SPEC §4, docs/identity-policy.md) on both databases."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from tracker.cli import main
from tracker.db import Database
from tracker.domain.identity import IdentityPolicy as Policy
from tracker.models import AuditEvent, IdentityPolicy
from tracker.services import audit as audit


def run(url: str, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, list(args), env={"TRACKER_DATABASE_URL": url})


def versions(database: Database) -> list[int]:
    with database.session_scope() as session:
        return list(session.scalars(select(IdentityPolicy.version).order_by("version")))


def policy_changes(database: Database) -> int:
    with database.session_scope() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "identity_policy.change")
            )
            or 0
        )


def test_export_import_round_trip_makes_version_3(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    exported = run(database_url, "id-policy", "export")
    assert exported.exit_code == 0, exported.output
    data = json.loads(exported.stdout)
    assert data["format"] == 2
    by_code = {d["code"]: d for d in data["documents"]}
    assert by_code["eligibility_certificate"]["group"] == "B"
    assert by_code["health_insurance_card"]["valid_until"] == "2025-12-01"
    assert by_code["driving_record_certificate"]["issued_on_or_after"] == "2012-04-01"
    assert by_code["mynumber_card"]["never_record_number"] is True
    assert data["rules"]["mynumber_card"]["proxy"][2] == {"groups": {"B": 3}, "min_photo": 1}

    # the prefecture's file: one more document and a stricter rule for household members
    data["documents"].append({"code": "disaster_victim_card", "name": "り災証明書", "group": "B"})
    data["rules"]["notification_card"]["household"] = [{"groups": {"A": 1}}]
    path = tmp_path / "id-policy.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")

    dry = run(database_url, "id-policy", "import", str(path), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "第3版として取り込めます" in dry.stdout
    assert versions(database) == [1, 2] and policy_changes(database) == 0

    done = run(database_url, "id-policy", "import", str(path), "--note", "県の統一基準")
    assert done.exit_code == 0, done.output
    assert "第3版として取り込みました" in done.stdout
    assert versions(database) == [1, 2, 3]
    with database.session_scope() as session:
        event = session.scalar(
            select(AuditEvent).where(AuditEvent.action == "identity_policy.change")
        )
        assert event is not None and event.object_id == "3"
        details = json.loads(event.details)
        assert details["source"] == "file" and details["note_digest"] == audit.digest(
            "県の統一基準"
        )
        assert details["changes"]["rules_changed"] == ["notification_card"]
        assert details["changes"]["documents_added"][0]["code"] == "disaster_victim_card"

    again = run(database_url, "id-policy", "export", "--output", str(tmp_path / "back.json"))
    assert again.exit_code == 0 and "第3版" in again.stderr
    back = json.loads((tmp_path / "back.json").read_text(encoding="utf-8"))
    assert back == Policy.from_dict(data, version=3).to_dict()

    same = run(database_url, "id-policy", "import", str(tmp_path / "back.json"))
    assert same.exit_code == 0 and "変更はありません" in same.stdout
    assert versions(database) == [1, 2, 3]


def test_a_bad_file_lists_every_problem_and_writes_nothing(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    data = json.loads(run(database_url, "id-policy", "export").stdout)
    data["colour"] = "blue"
    data["documents"][0]["group"] = "C"
    data["documents"][1]["valid_until"] = "2025/12/01"
    data["documents"][2]["photo"] = "yes"
    del data["rules"]["mynumber_card"]
    data["rules"]["number_notice"]["self"] = [{"groups": {"B": 2}, "min_photo": 3}]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    result = run(database_url, "id-policy", "import", str(path))
    assert result.exit_code == 1
    errors = result.stderr
    for expected in (
        "不明な項目があります: colour",
        "書類1件目（mynumber_card）の群が groups にありません: 'C'",
        "書類2件目（drivers_license）の valid_until は YYYY-MM-DD の日付にしてください",
        "書類3件目（driving_record_certificate）の photo は true か false にしてください",
        "rules.mynumber_card がありません",
        "rules.number_notice.self の1件目の写真付きの点数（3）が書類の点数（2）を超えています",
        "本人確認の基準は取り込んでいません",
    ):
        assert expected in errors, expected
    assert versions(database) == [1, 2] and policy_changes(database) == 0

    path.write_text("{not json", encoding="utf-8")
    unreadable = run(database_url, "id-policy", "import", str(path))
    assert unreadable.exit_code == 1 and "JSON として読めません" in unreadable.stderr
    assert versions(database) == [1, 2]
