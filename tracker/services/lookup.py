"""The counter's search box (issue #4): names in kanji or kana, birth dates, tracking numbers.

A query is split into words. A word that is a date (ISO or 和暦) filters on birth date; every
other word is a name prefix, matched against the kana key when it is kana and the name key
otherwise (both normalised per SPEC §6.2: width, hiragana/katakana, spaces, 髙/高 …). Prefixes
are searched as index range scans (``key >= p AND key < p⁺``), which both databases answer from a
plain b-tree (PostgreSQL: byte-order collation on the key columns).

The search is logged with the *kind* of query, never its text (names are personal data).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import ColumnElement, Select, SQLColumnExpression, select
from sqlalchemy.orm import Session, joinedload

from tracker.domain.codes import AuditAction
from tracker.domain.errors import InputError
from tracker.domain.kana import is_kana, search_key
from tracker.domain.wareki import parse_date
from tracker.models import Envelope, Item
from tracker.services import audit

RESULT_LIMIT = 50


@dataclass(frozen=True)
class Query:
    """What a search box text means."""

    name_prefixes: tuple[str, ...] = ()
    kana_prefixes: tuple[str, ...] = ()
    birth_dates: tuple[date, ...] = ()

    @property
    def kind(self) -> str:
        parts = []
        if self.kana_prefixes:
            parts.append("kana")
        if self.name_prefixes:
            parts.append("name")
        if self.birth_dates:
            parts.append("birth_date")
        return "+".join(parts) or "empty"

    @property
    def empty(self) -> bool:
        return not (self.name_prefixes or self.kana_prefixes or self.birth_dates)


def parse_query(text: str) -> Query:
    """Split on blanks (incl. U+3000); dates become birth-date filters, the rest name prefixes.

    A name typed with a space between family and given name (``山田 太郎``) is one prefix: the
    keys have no spaces, so consecutive name words are joined.
    """
    names: list[str] = []
    dates: list[date] = []
    for word in text.replace("\u3000", " ").split():
        try:
            dates.append(parse_date(word))
            continue
        except InputError:
            pass
        names.append(word)
    joined = search_key("".join(names)) if names else ""
    if not joined:
        return Query(birth_dates=tuple(dates))
    if is_kana(joined):
        return Query(kana_prefixes=(joined,), birth_dates=tuple(dates))
    return Query(name_prefixes=(joined,), birth_dates=tuple(dates))


def _prefix_range(column: SQLColumnExpression[str], prefix: str) -> ColumnElement[bool]:
    """``column >= prefix AND column < prefix⁺``: an index range, unlike LIKE on SQLite."""
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return (column >= prefix) & (column < upper)


@dataclass
class Results:
    items: list[Item] = field(default_factory=list)
    truncated: bool = False

    def by_envelope(self) -> list[tuple[Envelope, list[Item]]]:
        """Household members together, in the order their first member was found."""
        groups: dict[int, tuple[Envelope, list[Item]]] = {}
        for item in self.items:
            groups.setdefault(item.envelope_id, (item.envelope, []))[1].append(item)
        return list(groups.values())


def search_statement(
    query: Query, *, statuses: Sequence[str] = (), location_id: int | None = None
) -> Select[Item]:
    statement = select(Item)
    order = [Item.kana_key, Item.birth_date, Item.id]
    for prefix in query.kana_prefixes:
        statement = statement.where(_prefix_range(Item.kana_key, prefix))
    for prefix in query.name_prefixes:
        statement = statement.where(_prefix_range(Item.name_key, prefix))
        order = [Item.name_key, Item.birth_date, Item.id]
    if query.birth_dates:
        statement = statement.where(Item.birth_date.in_(query.birth_dates))
    if statuses:
        statement = statement.where(Item.status.in_(list(statuses)))
    if location_id is not None:
        statement = statement.join(Envelope, Envelope.id == Item.envelope_id).where(
            Envelope.location_id == location_id
        )
    return statement.order_by(*order)


def search(
    session: Session,
    query: Query,
    *,
    actor: str,
    statuses: Sequence[str] = (),
    location_id: int | None = None,
) -> Results:
    if query.empty:
        return Results()
    statement = search_statement(query, statuses=statuses, location_id=location_id)
    rows: list[Item] = list(
        session.scalars(
            statement.options(joinedload(Item.envelope).joinedload(Envelope.location)).limit(
                RESULT_LIMIT + 1
            )
        ).unique()
    )
    audit.record(
        session,
        actor=actor,
        action=AuditAction.ITEM_SEARCH,
        details={"query_kind": query.kind, "results": min(len(rows), RESULT_LIMIT)},
    )
    return Results(rows[:RESULT_LIMIT], truncated=len(rows) > RESULT_LIMIT)
