"""Returned notices (お知らせの返戻, issue 15): one at a time and many at once (all or nothing,
every bad line named), and the 住基照合依頼一覧 they feed, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, text

from tests import factories, factories_contacts
from tests.factories import NOW, TODAY
from tracker.db import Database
from tracker.domain.codes import AuditAction, ContactKind, RegisterOutcome
from tracker.domain.register import RegisterEntry
from tracker.models import AuditEvent, Contact, Item, NoticeBatch
from tracker.services import notice_returns, register

RETURNED_ON = TODAY - timedelta(days=2)


def _household(database: Database, n: int = 1) -> list[int]:
    return factories.envelope(
        database,
        n,
        items=[
            factories.item("山田 太郎"),
            factories.item("山田 花子"),
            factories.item("山田 次郎"),
        ],
    )


def _numbers(database: Database, ids: list[int]) -> list[str]:
    with database.session_scope() as session:
        return [session.get(Item, i).control_no for i in ids]  # type: ignore[union-attr]


def _returned_count(database: Database) -> int:
    with database.session_scope() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(Contact)
                .where(Contact.kind == ContactKind.NOTICE_RETURNED.value)
            )
            or 0
        )


def _bulk(database: Database, batch_id: int, text: str) -> int:
    with database.session_scope() as session:
        batch = session.get(NoticeBatch, batch_id)
        assert batch is not None
        return notice_returns.record_returns(
            session, actor="officer", batch=batch, returned_on=RETURNED_ON, pasted=text,
            today=TODAY, now=NOW,
        )  # fmt: skip


def test_bulk_records_every_line_as_typed_or_scanned(database: Database) -> None:
    ids = _household(database)
    batch_id = factories_contacts.batch(database, ids)
    first, second, third = _numbers(database, ids)
    # a scanner in full width, a person in lower case with a long-vowel dash, a blank line
    wide = "ｅ" + third[1:].translate(str.maketrans("0123456789-", "０１２３４５６７８９－"))
    pasted = f"{first}\n\n{second.lower().replace('-', 'ー')}\n  {wide}  \n"
    assert _bulk(database, batch_id, pasted) == 3
    with database.session_scope() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == AuditAction.NOTICE_RETURN.value)
        ).all()
        details = [json.loads(e.details) for e in events]
        assert [(d["control_no"], d["batch_no"]) for d in details] == [
            (first, "N000000001"),
            (second, "N000000001"),
            (third, "N000000001"),
        ]
        assert {e.object_type for e in events} == {"item"}


def test_bulk_with_bad_lines_lists_each_and_writes_nothing(database: Database) -> None:
    ids = _household(database)
    other = factories.envelope(database, 2)
    batch_id = factories_contacts.batch(database, ids[:2])
    factories_contacts.returned(database, ids[1], batch_id)
    first, second, third = _numbers(database, ids)
    (outsider,) = _numbers(database, other)
    pasted = "\n".join(
        [
            first,  # 1: fine
            "E999999999-1",  # 2: no such item
            third,  # 3: not in the batch
            second,  # 4: already recorded as returned
            "山田",  # 5: not a control number
            first,  # 6: the same as line 1
            outsider,  # 7: not in the batch
        ]
    )
    before = _returned_count(database)
    with pytest.raises(notice_returns.BulkRefused) as refused:
        _bulk(database, batch_id, pasted)
    assert [(e.line, e.value) for e in refused.value.errors] == [
        (2, "E999999999-1"),
        (3, third),
        (4, second),
        (5, "山田"),
        (6, first),
        (7, outsider),
    ]
    reasons = [e.reason for e in refused.value.errors]
    assert reasons[0] == "この管理番号の通知物はありません"
    assert reasons[1] == "発送番号 N000000001 のお知らせの対象ではありません"
    assert reasons[2] == "発送番号 N000000001 のお知らせの返戻は記録済みです"
    assert "管理番号" in reasons[3] and reasons[4] == "1行目と同じ管理番号です"
    assert _returned_count(database) == before  # nothing written, not even line 1


def test_a_return_before_the_mailing_or_in_the_future_is_refused(database: Database) -> None:
    ids = _household(database)
    batch_id = factories_contacts.batch(database, ids)
    with database.session_scope() as session:
        item = session.get(Item, ids[0])
        batch = session.get(NoticeBatch, batch_id)
        assert item is not None and batch is not None
        for day, words in [
            (factories_contacts.SENT_ON - timedelta(days=1), "発送日"),
            (TODAY + timedelta(days=1), "未来"),
        ]:
            with pytest.raises(notice_returns.ReturnError, match=words):
                notice_returns.record_return(
                    session, actor="clerk", item=item, batch=batch, returned_on=day,
                    today=TODAY, now=NOW,
                )  # fmt: skip
    assert _returned_count(database) == 0


def test_the_request_list_holds_returned_items_until_a_later_register_check(
    database: Database,
) -> None:
    ids = _household(database)
    batch_id = factories_contacts.batch(database, ids)
    factories_contacts.returned(database, ids[0], batch_id, returned_on=RETURNED_ON)
    factories_contacts.returned(database, ids[1], batch_id, returned_on=RETURNED_ON)
    with database.session_scope() as session:
        # checked before the notice came back: still to be checked; checked that day: done
        for item_id, checked_on in [
            (ids[0], RETURNED_ON - timedelta(days=1)),
            (ids[1], RETURNED_ON),
        ]:
            item = session.get(Item, item_id)
            assert item is not None
            register.record(
                session, item=item, entry=RegisterEntry(RegisterOutcome.RESIDENT, None, None),
                checked_on=checked_on, actor="officer", now=NOW,
            )  # fmt: skip
    with database.session_scope() as session:
        rows = notice_returns.register_requests(session)
        assert [(r.item_id, r.batch_no, r.returned_on) for r in rows] == [
            (ids[0], "N000000001", RETURNED_ON)
        ]
        assert rows[0].name == "山田 太郎" and rows[0].birth_date == date(1975, 1, 1)


def test_two_officers_recording_the_same_returns_make_one(postgres_url: str) -> None:
    database = Database(postgres_url, pool_size=4)
    ids = _household(database)
    batch_id = factories_contacts.batch(database, ids)
    pasted = "\n".join(_numbers(database, ids))
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def officer(name: str) -> None:
        session = database.new_session()
        try:
            session.execute(text("SELECT 1"))
            batch = session.get(NoticeBatch, batch_id)
            assert batch is not None
            barrier.wait(timeout=30)
            notice_returns.record_returns(
                session, actor=name, batch=batch, returned_on=RETURNED_ON, pasted=pasted,
                today=TODAY, now=NOW,
            )  # fmt: skip
            session.commit()
            outcomes.append("ok")
        except notice_returns.BulkRefused as refused:
            session.rollback()
            reasons = {e.reason for e in refused.errors}
            outcomes.append("refused" if len(refused.errors) == 3 else f"partly {reasons}")
        finally:
            session.close()

    threads = [threading.Thread(target=officer, args=(f"officer{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    returned = _returned_count(database)
    with database.session_scope() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == AuditAction.NOTICE_RETURN.value)
        ).all()
    database.dispose()
    assert sorted(outcomes) == ["ok", "refused"]
    assert returned == 3 and len(events) == 3
