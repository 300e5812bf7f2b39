"""Events that record a reading are appended at the commit (issue 18): the chain's lock is
not held while a page renders, and the event still exists if and only if the work commits."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tracker.db import Database
from tracker.domain.codes import AuditAction
from tracker.models import AuditEvent
from tracker.services import audit


def _count(database: Database) -> int:
    with database.read_session() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent)) or 0


def test_an_event_recorded_at_commit_is_appended_when_the_work_commits(
    database: Database,
) -> None:
    before = _count(database)
    with database.session_scope(read_first=True) as session:
        audit.record_at_commit(
            session, actor="clerk1", action=AuditAction.ITEM_SEARCH, details={"results": 3}
        )
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == before
    assert _count(database) == before + 1
    with database.read_session() as session:
        assert audit.verify_chain(session).ok
        newest = session.scalar(select(AuditEvent.action).order_by(AuditEvent.seq.desc()).limit(1))
    assert newest == AuditAction.ITEM_SEARCH


def test_an_event_recorded_at_commit_is_gone_with_a_rollback(database: Database) -> None:
    before = _count(database)
    with pytest.raises(RuntimeError), database.session_scope() as session:
        audit.record_at_commit(session, actor="clerk1", action=AuditAction.ITEM_SEARCH)
        raise RuntimeError("the page failed")
    with database.session_scope() as session:  # the same kind of session, committed empty
        pass
    assert _count(database) == before


def test_personal_details_are_refused_at_once(database: Database) -> None:
    with database.session_scope() as session, pytest.raises(audit.PersonalDetails):
        audit.record_at_commit(
            session, actor="clerk1", action=AuditAction.ITEM_SEARCH, details={"name": "山田"}
        )
