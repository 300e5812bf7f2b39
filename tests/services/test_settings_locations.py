"""Issue 12: office settings and storage locations as data, changed by an admin, audited."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time

import pytest
from sqlalchemy import select

from tests import factories
from tests.factories import NOW
from tracker.db import Database
from tracker.domain.codes import AuditAction
from tracker.models import AuditEvent, Location
from tracker.services import location_admin, settings
from tracker.services.handover_review import flags_for
from tracker.services.transitions import Conflict


def _events(database: Database, action: AuditAction) -> list[AuditEvent]:
    with database.session_scope() as session:
        rows = list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.action == action.value).order_by(AuditEvent.seq)
            )
        )
        session.expunge_all()
        return rows


def test_settings_are_saved_audited_with_before_and_after_and_read_back(
    database: Database,
) -> None:
    with database.session_scope() as session:
        assert settings.load(session).receipt_addressee == "熊本市長"
        hours = {day: (time(9, 0), time(17, 0)) for day in range(5)} | {
            5: (time(9, 0), time(12, 0))
        }
        changed = settings.save(
            session,
            settings.OfficeSettings(
                municipality="八代市",
                office="八代市役所 市民課",
                receipt_addressee="　八代市長 ",
                opening_hours=hours,
            ),
            actor="admin1",
            now=NOW,
        )
    assert set(changed) == {"municipality", "office", "receipt_addressee", "opening_hours"}
    with database.session_scope() as session:
        loaded = settings.load(session)
    assert loaded.receipt_addressee == "八代市長"  # blanks around it trimmed
    assert loaded.opening_hours[5] == (time(9, 0), time(12, 0)) and 6 not in loaded.opening_hours
    (event,) = _events(database, AuditAction.SETTINGS_CHANGE)
    details = json.loads(event.details)
    assert details["before"]["receipt_addressee"] == "熊本市長"
    assert details["after"]["receipt_addressee"] == "八代市長"
    assert details["after"]["opening_hours"]["5"] == ["09:00", "12:00"]
    with database.session_scope() as session:  # saving the same again writes nothing
        assert settings.save(session, loaded, actor="admin1", now=NOW) == []
    assert len(_events(database, AuditAction.SETTINGS_CHANGE)) == 1


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"municipality": "  "}, "municipality", "自治体名を入力してください"),
        ({"office": "x" * 201}, "office", "事務所名は200文字以内"),
        ({"opening_hours": {2: (time(17, 0), time(9, 0))}}, "hours-2", "水曜日の窓口時間"),
    ],
)
def test_bad_settings_are_refused_and_nothing_is_stored(
    database: Database, change: dict[str, object], field: str, message: str
) -> None:
    base = settings.OfficeSettings()
    new = settings.OfficeSettings(**{**vars(base), **change})  # type: ignore[arg-type]
    with database.session_scope() as session, pytest.raises(settings.SettingsError) as refusal:
        settings.save(session, new, actor="admin1", now=NOW)
    assert refusal.value.field == field and message in str(refusal.value)
    assert _events(database, AuditAction.SETTINGS_CHANGE) == []


def test_the_after_hours_flag_follows_the_opening_hours_setting(database: Database) -> None:
    """A Saturday handover at 10:00 JST is after hours by default, not once Saturdays open."""
    from types import SimpleNamespace

    handover = SimpleNamespace(
        handed_over_at=datetime(2026, 11, 28, 1, 0, tzinfo=UTC),  # Sat 10:00 JST
        recipient_kind="self",
        clerk="clerk1",
        voided_at=None,
        void_requested_at=None,
    )
    envelope = SimpleNamespace(intake_by="officer1", returned_on=factories.RETURNED_H30)
    defaults = settings.OfficeSettings().opening_hours
    assert "after_hours" in flags_for(handover, [], envelope, [], defaults)  # type: ignore[arg-type]
    saturdays = settings.OfficeSettings().opening_hours | {5: (time(9, 0), time(12, 0))}
    flags = flags_for(handover, [], envelope, [], saturdays)  # type: ignore[arg-type]
    assert "after_hours" not in flags


def _location(database: Database, code: str) -> Location:
    with database.session_scope() as session:
        location = session.scalar(select(Location).where(Location.code == code))
        assert location is not None
        session.expunge(location)
        return location


def test_a_location_is_added_renamed_and_retired_each_audited(database: Database) -> None:
    with database.session_scope() as session:
        added = location_admin.add_location(
            session, actor="admin1", code="ｔｏｕｂｕ-2", name="東部倉庫"
        )
        assert added.code == "TOUBU-2" and added.active
    location = _location(database, "TOUBU-2")
    with database.session_scope() as session:
        current = session.get(Location, location.id)
        assert current is not None
        assert location_admin.rename_location(
            session, actor="admin1", location=current, name="東部書庫", expected_name="東部倉庫"
        )
    with database.session_scope() as session:
        current = session.get(Location, location.id)
        assert current is not None
        location_admin.retire_location(session, actor="admin1", location=current)
    assert not _location(database, "TOUBU-2").active
    (created,) = _events(database, AuditAction.LOCATION_CREATE)
    (renamed,) = _events(database, AuditAction.LOCATION_CHANGE)
    (retired,) = _events(database, AuditAction.LOCATION_RETIRE)
    assert json.loads(created.details) == {"code": "TOUBU-2", "name": "東部倉庫"}
    assert json.loads(renamed.details)["before"] == {"name": "東部倉庫"}
    assert json.loads(renamed.details)["after"] == {"name": "東部書庫"}
    assert json.loads(retired.details)["code"] == "TOUBU-2"


@pytest.mark.parametrize(
    ("code", "name", "field", "message"),
    [
        ("a", "新しい倉庫", "code", "2〜20文字の半角英大文字"),
        ("CHUO", "新しい倉庫", "code", "コード「CHUO」は既に使われています"),
        ("NEW", "", "name", "保管場所の名前を入力してください"),
    ],
)
def test_a_bad_new_location_is_refused(
    database: Database, code: str, name: str, field: str, message: str
) -> None:
    with database.session_scope() as session, pytest.raises(location_admin.LocationError) as no:
        location_admin.add_location(session, actor="admin1", code=code, name=name)
    assert no.value.field == field and message in str(no.value)
    assert _events(database, AuditAction.LOCATION_CREATE) == []


def test_a_location_holding_items_or_the_default_one_is_not_retired(database: Database) -> None:
    with database.session_scope() as session:
        location_admin.add_location(session, actor="admin1", code="TOUBU", name="東部倉庫")
    factories.envelope(database, 1, location="TOUBU")
    for code, message in [("TOUBU", "保管中の通知物があるため"), ("CHUO", "既定の保管場所")]:
        location = _location(database, code)
        with database.session_scope() as session, pytest.raises(location_admin.LocationError) as no:
            current = session.get(Location, location.id)
            assert current is not None
            location_admin.retire_location(session, actor="admin1", location=current)
        assert message in str(no.value), code
        assert _location(database, code).active
    assert _events(database, AuditAction.LOCATION_RETIRE) == []


def test_renaming_from_a_stale_screen_is_a_conflict(database: Database) -> None:
    with database.session_scope() as session:
        location_admin.add_location(session, actor="admin1", code="TOUBU", name="東部倉庫")
    location = _location(database, "TOUBU")
    with database.session_scope() as session:
        current = session.get(Location, location.id)
        assert current is not None
        location_admin.rename_location(
            session, actor="admin2", location=current, name="東部書庫", expected_name="東部倉庫"
        )
    with database.session_scope() as session, pytest.raises(Conflict) as conflict:
        current = session.get(Location, location.id)
        assert current is not None
        location_admin.rename_location(
            session, actor="admin1", location=current, name="東部文書庫", expected_name="東部倉庫"
        )
    assert "東部書庫" in str(conflict.value)
    assert _location(database, "TOUBU").name == "東部書庫"
