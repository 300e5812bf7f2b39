"""支援措置 (issue 14): place, release, change the review date exactly once; the handover rule."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests import factories_protect
from tests.factories import NOW, TODAY
from tracker.db import Database
from tracker.domain.codes import RecipientKind
from tracker.domain.errors import InputError
from tracker.domain.identity import Evidence
from tracker.models import AuditEvent, Item
from tracker.models.custody import Protection
from tracker.services import handover, protection, register
from tracker.services.transitions import Conflict


def audit_details(database: Database, action: str) -> list[dict[str, object]]:
    with database.session_scope() as session:
        rows = session.scalars(
            select(AuditEvent.details).where(AuditEvent.action == action).order_by(AuditEvent.seq)
        )
        return [json.loads(d) for d in rows]


def test_placing_flags_the_whole_envelope_and_the_audit_never_holds_the_reason(
    database: Database,
) -> None:
    ids = factories_protect.household(database)
    flags = factories_protect.protect(database, ids[1], reason="DV相談記録あり")
    assert len(flags) == 2
    with database.session_scope() as session:
        assert protection.protected_item_ids(session, ids) == set(ids)
        controls = [session.get(Item, i).control_no for i in ids]  # type: ignore[union-attr]
    [event] = audit_details(database, "protection.place")
    assert event == {
        "items": controls,
        "review_on": "2027-11-27",
        "reason_recorded": True,
    }
    assert "相談記録" not in json.dumps(event, ensure_ascii=False)


def test_only_the_item_when_the_box_is_unticked(database: Database) -> None:
    ids = factories_protect.household(database)
    factories_protect.protect(database, ids[1], whole_envelope=False)
    with database.session_scope() as session:
        assert protection.protected_item_ids(session, ids) == {ids[1]}


def test_placing_twice_is_refused_and_writes_nothing(database: Database) -> None:
    ids = factories_protect.household(database)
    factories_protect.protect(database, ids[0])
    with pytest.raises(protection.ProtectionError, match="すでに支援措置の対象です"):
        factories_protect.protect(database, ids[0])
    assert len(audit_details(database, "protection.place")) == 1


@pytest.mark.parametrize(
    ("reason", "review_on", "message"),
    [
        ("", date(2027, 1, 1), "支援措置の理由を入力してください"),
        ("理由", None, "見直し日を入力してください"),
        ("理由", TODAY - timedelta(days=1), "今日以降の日付"),
        ("番号 123456789018 の件", date(2027, 1, 1), "個人番号"),
    ],
)
def test_bad_input_is_refused(
    database: Database, reason: str, review_on: date | None, message: str
) -> None:
    ids = factories_protect.household(database)
    with database.session_scope() as session, pytest.raises(InputError, match=message):
        protection.place(
            session,
            actor="officer",
            item_id=ids[0],
            reason=reason,
            review_on=review_on,
            now=NOW,
            today=TODAY,
        )
    with database.session_scope() as session:
        assert session.scalars(select(Protection)).all() == []


def test_release_once_then_conflict_and_change_review(database: Database) -> None:
    ids = factories_protect.household(database)
    first, _second = factories_protect.protect(database, ids[0])
    with database.session_scope() as session:
        changed = protection.change_review(
            session,
            actor="officer",
            protection_id=first,
            review_on=date(2028, 1, 31),
            now=NOW,
            today=TODAY,
        )
        assert changed.review_on == date(2028, 1, 31)
    with database.session_scope() as session:
        protection.release(
            session, actor="officer", protection_id=first, reason="支援措置終了", now=NOW
        )
    with database.session_scope() as session:
        assert protection.protected_item_ids(session, ids) == {ids[1]}
        with pytest.raises(Conflict, match="すでに解除されています"):
            protection.release(
                session, actor="officer2", protection_id=first, reason="二度目", now=NOW
            )
        with pytest.raises(Conflict):
            protection.change_review(
                session,
                actor="officer",
                protection_id=first,
                review_on=date(2028, 1, 31),
                now=NOW,
                today=TODAY,
            )
    assert audit_details(database, "protection.change")[0]["review_on"] == [
        "2027-11-27",
        "2028-01-31",
    ]
    [released] = audit_details(database, "protection.release")
    assert "終了" not in json.dumps(released, ensure_ascii=False)
    # released, the item can be flagged again
    factories_protect.protect(database, ids[0], whole_envelope=False)


def _hand_over(database: Database, item_id: int, evidence: Evidence) -> None:
    with database.session_scope() as session:
        handover.hand_over(
            session, actor="clerk", item_ids=[item_id], evidence=evidence, now=NOW, today=TODAY
        )


@pytest.mark.parametrize(
    ("evidence", "message"),
    [
        (
            Evidence(
                RecipientKind.PROXY,
                recipient_name="代理 人",
                documents=("passport",),
                principal_documents=("mynumber_card",),
                letter_of_attorney_date=TODAY,
            ),
            "本人以外（任意代理人）には交付できません",
        ),
        (
            Evidence(RecipientKind.HOUSEHOLD, recipient_name="佐藤 一郎", documents=("passport",)),
            "本人以外（同一世帯員）には交付できません",
        ),
        (
            Evidence(
                RecipientKind.LEGAL_REP,
                recipient_name="後見 人",
                documents=("passport",),
                authority_proof="family_register",
            ),
            "本人以外（法定代理人）には交付できません",
        ),
        (
            Evidence(RecipientKind.SELF, documents=("health_insurance_card", "pension_book")),
            "写真付きの本人確認書類が必要です",
        ),
    ],
)
def test_a_protected_item_goes_only_to_the_person_with_a_photo_id(
    database: Database, evidence: Evidence, message: str
) -> None:
    ids = factories_protect.household(database)
    factories_protect.protect(database, ids[1])
    with pytest.raises(handover.HandoverError, match=message):
        _hand_over(database, ids[1], evidence)
    _hand_over(database, ids[1], Evidence(RecipientKind.SELF, documents=("drivers_license",)))


def test_the_photo_flag_of_a_policy_v2_is_used_when_present(database: Database) -> None:
    from tracker.models import IdentityPolicy as PolicyRow

    with database.session_scope() as session:
        row = session.scalar(select(PolicyRow).order_by(PolicyRow.version.desc()).limit(1))
        assert row is not None
        assert "passport" in protection.photo_document_codes(session)  # group A today
        data = json.loads(row.policy_json)
        for document in data["documents"]:
            document["photo"] = document["code"] == "passport"
        session.add(
            PolicyRow(
                version=row.version + 1, policy_json=json.dumps(data), note="v2", created_by="t"
            )
        )
        session.flush()
        assert protection.photo_document_codes(session) == {"passport"}


def test_the_investigation_list_masks_the_household_address(database: Database) -> None:
    from tests import factories_register
    from tracker.domain.codes import RegisterOutcome

    ids = factories_protect.household(database)
    other = factories_register.household(database)
    for item in (ids[0], other[0]):
        factories_register.result(database, item, RegisterOutcome.RESIDENT)
    factories_protect.protect(database, ids[1])
    with database.session_scope() as session:
        rows = {row.item_id: row.address for row in register.investigation_list(session)}
    assert rows == {ids[0]: protection.MASKED, other[0]: "熊本市中央区手取本町1-1"}


def test_the_review_list_is_by_review_date(database: Database) -> None:
    ids = factories_protect.household(database)
    factories_protect.protect(database, ids[0])
    with database.session_scope() as session:
        assert [i.id for _p, i in protection.due_for_review(session)] == ids
        assert protection.due_for_review(session, until=TODAY) == []


def test_two_officers_releasing_at_once_release_once(postgres_url: str) -> None:
    """PostgreSQL: of two releases at the same moment, exactly one wins, the other gets 409."""
    import threading

    from sqlalchemy import text

    database = Database(postgres_url, pool_size=4)
    try:
        ids = factories_protect.household(database)
        first, _second = factories_protect.protect(database, ids[0])
        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        def officer(n: int) -> None:
            session = database.new_session()
            try:
                session.execute(text("SELECT 1"))
                barrier.wait(timeout=30)
                protection.release(
                    session, actor=f"officer{n}", protection_id=first, reason="終了", now=NOW
                )
                session.commit()
                outcomes.append("ok")
            except Conflict:
                session.rollback()
                outcomes.append("conflict")
            finally:
                session.close()

        threads = [threading.Thread(target=officer, args=(n,)) for n in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(outcomes) == ["conflict", "ok"]
        assert len(audit_details(database, "protection.release")) == 1
    finally:
        database.dispose()


def test_two_officers_placing_at_once_make_one_flag(postgres_url: str) -> None:
    """PostgreSQL: the second of two placings at the same moment is refused, one flag each."""
    import threading

    from sqlalchemy import func, text

    database = Database(postgres_url, pool_size=4)
    try:
        ids = factories_protect.household(database)
        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        def officer(n: int) -> None:
            session = database.new_session()
            try:
                session.execute(text("SELECT 1"))
                barrier.wait(timeout=30)
                protection.place(
                    session,
                    actor=f"officer{n}",
                    item_id=ids[0],
                    reason="申出",
                    review_on=factories_protect.REVIEW_ON,
                    now=NOW,
                    today=TODAY,
                )
                session.commit()
                outcomes.append("ok")
            except protection.ProtectionError:
                session.rollback()
                outcomes.append("refused")
            finally:
                session.close()

        threads = [threading.Thread(target=officer, args=(n,)) for n in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(outcomes) == ["ok", "refused"]
        with database.session_scope() as session:
            assert session.scalar(select(func.count()).select_from(Protection)) == 2
    finally:
        database.dispose()
