"""Data for the contact-log tests (issue 15): a notice batch mailed to some items (made here
directly, as the notice service of another part of the issue will make it), contacts
recorded through :func:`tracker.services.contacts.record`, and returned notices."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from flask import Flask
from sqlalchemy import select

from tests.factories import NOW, TODAY, database_of
from tracker.db import Database
from tracker.domain.codes import ContactKind, NoticeMethod
from tracker.models import Item, NoticeBatch, NoticeTemplate
from tracker.services import contacts, notice_returns

#: The day the test batches went out (two weeks before :data:`tests.factories.TODAY`).
SENT_ON = TODAY - timedelta(days=14)


def template(session, *, actor: str = "t") -> NoticeTemplate:  # type: ignore[no-untyped-def]
    found = session.scalar(select(NoticeTemplate).order_by(NoticeTemplate.version.desc()))
    if found is not None:
        return found  # type: ignore[no-any-return]
    made = NoticeTemplate(
        version=1,
        title="通知カードの受け取りについて（お知らせ）",
        body="{{ name }} 様",
        created_by=actor,
        created_at=NOW,
    )
    session.add(made)
    session.flush()
    return made


def batch(
    target: Flask | Database,
    item_ids: Sequence[int],
    *,
    batch_no: str = "N000000001",
    sent_on: date = SENT_ON,
    method: NoticeMethod = NoticeMethod.ORDINARY,
    actor: str = "t",
    now: datetime = NOW,
) -> int:
    """A notice batch mailed to ``item_ids`` (a ``notice_mail`` contact each); its id."""
    with database_of(target).session_scope() as session:
        made = NoticeBatch(
            batch_no=batch_no,
            sent_on=sent_on,
            method=method.value,
            template_id=template(session, actor=actor).id,
            item_count=len(item_ids),
            selection="テスト",
            created_by=actor,
            created_at=now,
        )
        session.add(made)
        session.flush()
        for item_id in item_ids:
            item = session.get(Item, item_id)
            assert item is not None
            contacts.record(
                session,
                actor=actor,
                envelope=item.envelope,
                item=item,
                kind=ContactKind.NOTICE_MAIL,
                occurred_at=notice_returns.returned_moment(sent_on),
                note=None,
                now=now,
                notice_batch_id=made.id,
                method=method,
                audited=False,
            )
        return made.id


def contact(
    target: Flask | Database,
    item_id: int,
    *,
    kind: ContactKind = ContactKind.PHONE,
    note: str | None = "来庁予定",
    household: bool = False,
    occurred_at: datetime = NOW - timedelta(hours=1),
    actor: str = "t",
    now: datetime = NOW,
) -> int:
    """A contact by hand about item ``item_id`` (or its whole household); its id."""
    with database_of(target).session_scope() as session:
        item = session.get(Item, item_id)
        assert item is not None
        made = contacts.record(
            session,
            actor=actor,
            envelope=item.envelope,
            item=None if household else item,
            kind=kind,
            occurred_at=occurred_at,
            note=note,
            now=now,
        )
        return made.id


def returned(
    target: Flask | Database,
    item_id: int,
    batch_id: int,
    *,
    returned_on: date = TODAY - timedelta(days=3),
    actor: str = "t",
) -> None:
    """The notice of batch ``batch_id`` to item ``item_id`` came back on ``returned_on``."""
    with database_of(target).session_scope() as session:
        item = session.get(Item, item_id)
        made = session.get(NoticeBatch, batch_id)
        assert item is not None and made is not None
        notice_returns.record_return(
            session,
            actor=actor,
            item=item,
            batch=made,
            returned_on=returned_on,
            today=TODAY,
            now=NOW,
        )
