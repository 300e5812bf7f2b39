"""People's names as colleagues read them (issue 12): display names, never login names.

The audit log and the tables record the actor as a login name (``clerk``) or, for the command
line, ``cli:<os user>``; screens and paper show the person's display name (窓口 花子) instead.
Only the audit log's actor column keeps the login name, with the display name beside it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.models import User

#: Actors that are not people: the set-up of a new database, the demo data generator.
SYSTEM_ACTORS: dict[str, str] = {
    "system:seed": "システム（初期設定）",
    "system:demo": "システム（デモデータ）",
}


def display_names(session: Session, actors: Iterable[str | None] | None = None) -> dict[str, str]:
    """Login name → display name, for the given actors (all users when ``None``)."""
    query = select(User.username, User.display_name)
    if actors is not None:
        wanted = {actor for actor in actors if actor}
        if not wanted:
            return {}
        query = query.where(User.username.in_(wanted))
    return {username: shown for username, shown in session.execute(query)}


def shown_name(actor: str | None, known: Mapping[str, str]) -> str:
    """The name to print for an actor: a display name, a system actor's label, or for a command
    run by an operating-system user 「コマンド操作（root）」."""
    if not actor:
        return "—"
    if actor in known:
        return known[actor]
    if actor in SYSTEM_ACTORS:
        return SYSTEM_ACTORS[actor]
    if actor.startswith("cli:"):
        return f"コマンド操作（{actor.removeprefix('cli:')}）"
    return actor


def name_of(session: Session, actor: str | None) -> str:
    """One actor's printed name (one query)."""
    return shown_name(actor, display_names(session, [actor]))
