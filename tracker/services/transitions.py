"""Guarded state changes, exactly once (SPEC §2, §5): the one way a status moves.

A transition is a single ``UPDATE … SET … WHERE id = :id AND <expected state>`` whose row count
is checked. Of two people making the same change at the same moment (a double click, two
officers on two servers), the second one's UPDATE waits for the first to commit, then matches
no row (PostgreSQL re-checks the condition after the wait; SQLite serialises writers), and the
caller raises :class:`Conflict` before it writes anything else, in particular before its audit
event. Reading the status, checking it in Python and then writing it would let both through.

The row count check happens in the caller's transaction, together with everything the change
implies and its audit event; the web layer turns a :class:`Conflict` into a 409 page that says
who did what, and when.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, and_, select, text, update
from sqlalchemy.orm import Session

from tracker.clock import to_jst
from tracker.db import begin_writing
from tracker.domain.codes import ItemAction
from tracker.domain.lifecycle import IllegalMove, move, source_of
from tracker.models import Base, Item
from tracker.services import people

Model = TypeVar("Model", bound=Base)


class Conflict(Exception):
    """The record was changed by someone else first; the message, for the person at the
    screen, says who did what and when. The web layer answers 409."""


def transition(
    session: Session,
    model: type[Model],
    key: int,
    *,
    expected: ColumnElement[bool],
    values: Mapping[str, Any],
    conflict: Callable[[Model], str],
) -> Model:
    """Apply ``values`` to the row ``key`` of ``model`` if it is still in the ``expected``
    state, and return the row as it is now; raise :class:`Conflict` otherwise.

    ``conflict`` builds the message from the row as another transaction left it.
    """
    pk = model.__mapper__.primary_key[0]
    changed: int = session.execute(  # type: ignore[attr-defined]  # a CursorResult
        update(model)
        .where(pk == key, expected)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    current = session.scalar(
        select(model).where(pk == key).execution_options(populate_existing=True)
    )
    if current is None:
        raise Conflict("対象が見つかりません。画面を開き直してください")
    if changed != 1:
        raise Conflict(conflict(current))
    return current


def move_item(
    session: Session,
    item_id: int,
    action: ItemAction,
    *,
    now: Any,
    where: Sequence[ColumnElement[bool]] = (),
    values: Mapping[str, Any] | None = None,
    conflict: Callable[[Item], str] | None = None,
) -> Item:
    """Move an item along the lifecycle table (:mod:`tracker.domain.lifecycle`), exactly once.

    One conditional update from the action's source status to its target (plus ``values``,
    e.g. nothing more, or columns the action sets); the caller writes the audit event in the
    same transaction. ``where`` adds conditions checked in the same statement (e.g. "not held
    for investigation"), so that no other transaction can slip in between a check and the
    move; ``conflict`` should then say which one failed. An item already in another status
    raises :class:`Conflict` with the table's reason (or ``conflict(current)``'s message);
    callers that want to refuse before trying can ask
    :func:`tracker.domain.lifecycle.move` first (:class:`IllegalMove`).
    """
    before = source_of(action)
    after = move(before, action)

    def refusal(current: Item) -> str:
        if conflict is not None:
            return conflict(current)
        try:
            move(current.status, action)
        except IllegalMove as illegal:
            return str(illegal)
        return "この通知物は他の操作で変更されました。画面を開き直してください"

    return transition(
        session,
        Item,
        item_id,
        expected=and_(Item.status == before.value, *where),
        values={"status": after.value, "status_changed_at": now, **(values or {})},
        conflict=refusal,
    )


def move_items(
    session: Session,
    item_ids: Sequence[int],
    action: ItemAction,
    *,
    now: Any,
    where: Sequence[ColumnElement[bool]] = (),
    values: Mapping[str, Any] | None = None,
) -> int:
    """Move several items along the lifecycle table at once: one set-based conditional update
    from the action's source status to its target (and ``where``, e.g. "not frozen in an
    approved batch"). Returns the row count; the caller compares it with ``len(item_ids)`` and
    refuses (rolls back) when it differs, before it writes its audit event.

    For moves of many items in one transaction (a handover of a household's cards, a void, a
    disposal execution of thousands): the same guarantee as :func:`move_item`, one statement.
    """
    before = source_of(action)
    after = move(before, action)
    changed: int = session.execute(  # type: ignore[attr-defined]  # a CursorResult
        update(Item)
        .where(Item.id.in_(list(item_ids)), Item.status == before.value, *where)
        .values(status=after.value, status_changed_at=now, **(values or {}))
        .execution_options(synchronize_session=False)
    ).rowcount
    return changed


def serialise(session: Session, name: str) -> None:
    """Let one transaction at a time past this point for ``name`` (until it ends).

    For changes checked against *other* rows rather than one row's state: a new retention rule
    must not overlap the others, a new policy version takes the next number. Two such checks
    running side by side would each pass. PostgreSQL: a transaction-scoped advisory lock;
    SQLite: its write lock, which serialises every writer anyway.
    """
    if session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
    else:
        begin_writing(session)


def person(session: Session, username: str | None) -> str:
    """A person's name as colleagues know it (their display name), for conflict messages."""
    if not username:
        return "不明"
    return people.name_of(session, username)


def when(moment: Any) -> str:
    """A short Japanese time for conflict messages: 11月30日 14:05 (JST)."""
    if moment is None:
        return "日時不明"
    local = to_jst(moment)
    return f"{local.month}月{local.day}日 {local:%H:%M}"
