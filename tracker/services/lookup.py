"""The counter's search box (issue #4): names in kanji or kana, birth dates, tracking numbers.

A query is split into words. A word that is a date (ISO or 和暦) filters on birth date; every
other word is a name prefix, matched against the kana key when it is kana and the name key
otherwise (both normalised per SPEC §6.2: width, hiragana/katakana, spaces, 髙/高 …), and
against the 通称 key either way (issue 14). Latin letters are NFKC-folded and upper-cased and
spaces dropped, so ``smith  john`` and ``Ｓｍｉｔｈ`` find ``SMITH John``. Prefixes
are searched as index range scans (``key >= p AND key < p⁺``), which both databases answer from a
plain b-tree (PostgreSQL: byte-order collation on the key columns).

Results are in フリガナ order (the kana key, then birth date), whatever was typed, and come a
page at a time: a keyset cursor (the id of the last or first row shown) rather than an offset,
so that a later page costs what the first does. A search with no words but a status or a
location lists those items (issue 12: "a status-only search lists that status").

`find_scanned` is the scan box: a label's control number, an item's control number
(``E000000490-2``) or a tracking number names one envelope or item, in any width or case.

The search is logged with the *kind* of query, never its text (names are personal data).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Select,
    SQLColumnExpression,
    func,
    select,
    tuple_,
    union,
)
from sqlalchemy.orm import Session, joinedload

from tracker.domain.codes import AuditAction
from tracker.domain.control import envelope_control_no, item_control_no, parse_control_no
from tracker.domain.errors import InputError
from tracker.domain.kana import is_kana, search_key
from tracker.domain.tracking import normalize_tracking_no
from tracker.domain.wareki import parse_date
from tracker.models import Envelope, Item
from tracker.services import audit

#: Rows per page of results.
RESULT_LIMIT = 50
#: Matches counted at most: a common フリガナ prefix matches tens of thousands of a million
#: items, and counting them all cost more than the page (issue 18); past this the page says
#: 「1,000件以上」 and the clerk narrows the search.
COUNT_LIMIT = 1000
#: A shorter run of digits is more likely part of a date or a household code than a
#: tracking number typed into the search box.
TRACKING_MIN_DIGITS = 10


@dataclass(frozen=True)
class ScanHit:
    """What a scanned or typed number names: an envelope, or one item in it."""

    envelope_id: int
    item_id: int | None = None


def find_scanned(session: Session, text: str, *, min_digits: int = 1) -> ScanHit | None:
    """The envelope or item a control number or tracking number names, or None.

    ``E000000490`` (any width, any case) is the envelope, ``E000000490-2`` its second item; any
    other text is read as a tracking number of at least ``min_digits`` digits.
    """
    control = parse_control_no(text)
    if control is not None:
        envelope_id, position = control
        if position is None:
            found = session.scalar(select(Envelope.id).where(Envelope.id == envelope_id))
            return ScanHit(found) if found is not None else None
        # By the item's own control number: a re-mailed card that came back keeps it while a
        # new envelope holds it (issue 13).
        held = session.execute(
            select(Item.id, Item.envelope_id).where(
                Item.control_no == item_control_no(envelope_control_no(envelope_id), position)
            )
        ).first()
        return ScanHit(held.envelope_id, held.id) if held is not None else None
    try:
        digits = normalize_tracking_no(text)
    except InputError:
        return None
    if len(digits) < min_digits:
        return None
    found = session.scalar(select(Envelope.id).where(Envelope.tracking_no == digits))
    return ScanHit(found) if found is not None else None


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


def _prefix_range(
    column: SQLColumnExpression[str] | SQLColumnExpression[str | None], prefix: str
) -> ColumnElement[bool]:
    """``column >= prefix AND column < prefix⁺``: an index range, unlike LIKE on SQLite."""
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return (column >= prefix) & (column < upper)


@dataclass
class Results:
    """One page of matches in フリガナ order, with the cursors of its neighbours."""

    items: list[Item] = field(default_factory=list)
    #: Matches in all pages, counted up to :data:`COUNT_LIMIT` (``total_is_lower_bound``: more).
    total: int = 0
    total_is_lower_bound: bool = False
    #: ``after=`` for the next page, ``before=`` for the previous one; None at either end.
    next_after: int | None = None
    previous_before: int | None = None

    @property
    def paged(self) -> bool:
        return self.next_after is not None or self.previous_before is not None

    def by_envelope(self) -> list[tuple[Envelope, list[Item]]]:
        """Household members together, in the order their first member was found."""
        groups: dict[int, tuple[Envelope, list[Item]]] = {}
        for item in self.items:
            groups.setdefault(item.envelope_id, (item.envelope, []))[1].append(item)
        return list(groups.values())


def search_statement(
    query: Query,
    *,
    statuses: Sequence[str] = (),
    location_id: int | None = None,
    branch: str | None = None,
) -> Select[Item]:
    """Matching items in フリガナ order (the kana key, then birth date and id).

    A name prefix matches the kana (or name) key or the 通称 key. ``branch`` keeps one side of
    that OR: ``"name"`` the kana or name key, ``"alias"`` the 通称 key (see :func:`search`).
    """
    statement = select(Item)
    # A registered alias (通称, issue 14) is found like the name, whichever script it is in:
    # an OR of two index ranges, which both databases answer from the two b-trees.
    prefixes = [(Item.kana_key, p) for p in query.kana_prefixes]
    prefixes += [(Item.name_key, p) for p in query.name_prefixes]
    for column, prefix in prefixes:
        own = _prefix_range(column, prefix)
        alias = _prefix_range(Item.alias_key, prefix)
        statement = statement.where(
            own if branch == "name" else alias if branch == "alias" else own | alias
        )
    if query.birth_dates:
        statement = statement.where(Item.birth_date.in_(query.birth_dates))
    if not query.empty:
        # a purged item (issue 16) holds placeholders, never a person's name or birth date
        statement = statement.where(Item.pseudonymised_at.is_(None))
    if statuses:
        statement = statement.where(Item.status.in_(list(statuses)))
    if location_id is not None:
        statement = statement.join(Envelope, Envelope.id == Item.envelope_id).where(
            Envelope.location_id == location_id
        )
    return statement.order_by(*ORDER)


#: フリガナ order; the id makes it total, so a keyset cursor never skips or repeats a row.
ORDER = (Item.kana_key, Item.birth_date, Item.id)


def _cursor(session: Session, item_id: int | None) -> tuple[str, date, int] | None:
    if item_id is None:
        return None
    row = session.execute(
        select(Item.kana_key, Item.birth_date, Item.id).where(Item.id == item_id)
    ).one_or_none()
    return (row[0], row[1], row[2]) if row is not None else None


def _union_of_sides(
    query: Query,
    statuses: Sequence[str],
    location_id: int | None,
    boundary: ColumnElement[bool] | None,
    order: list[Any],
    limit: int,
) -> CompoundSelect[tuple[int]]:
    """The ids of the first ``limit`` matches of each side of a name prefix (its own key, the
    通称 key) in ``order``, past ``boundary``: at most twice ``limit`` rows, read in index order."""
    sides = []
    for branch in ("name", "alias"):
        side = search_statement(
            query, statuses=statuses, location_id=location_id, branch=branch
        ).with_only_columns(Item.id)
        if boundary is not None:
            side = side.where(boundary)
        sides.append(select(side.order_by(None).order_by(*order).limit(limit).subquery().c.id))
    return union(*sides)


def search(
    session: Session,
    query: Query,
    *,
    actor: str,
    statuses: Sequence[str] = (),
    location_id: int | None = None,
    after: int | None = None,
    before: int | None = None,
) -> Results:
    """One page of matches: the first, the one after item ``after`` or the one before item
    ``before`` (ids from an earlier page). Words, a status or a location must be given."""
    if query.empty and not statuses and location_id is None:
        return Results()
    by_prefix = bool(query.kana_prefixes or query.name_prefixes)
    counted: Select[int] | CompoundSelect[tuple[int]]
    if by_prefix:
        # Each side read in index order up to the limit: a count of the OR read every match
        # of a prefix into a bitmap first (253,000 of them at 10,000,000 items).
        counted = _union_of_sides(query, statuses, location_id, None, list(ORDER), COUNT_LIMIT + 1)
    else:
        statement = search_statement(query, statuses=statuses, location_id=location_id)
        counted = statement.order_by(None).with_only_columns(Item.id).limit(COUNT_LIMIT + 1)
    total = session.scalar(select(func.count()).select_from(counted.subquery())) or 0
    key = tuple_(*ORDER)
    order: list[Any] = list(ORDER)
    boundary = None
    backwards = False
    if (cursor := _cursor(session, after)) is not None:
        boundary = key > tuple_(*cursor)
    elif (cursor := _cursor(session, before)) is not None:
        boundary = key < tuple_(*cursor)
        order = [column.desc() for column in ORDER]
        backwards = True
    wanted = RESULT_LIMIT + 1
    if by_prefix:
        # The page of an OR of two key ranges, in フリガナ order: each side's first rows
        # (the kana side read in index order: ix_items_kana_order), then the merge of the
        # two. The OR itself made both databases read every match and sort it: a prefix
        # shared by 22,000 of a million items cost 170 ms a page (issue 18).
        sides = _union_of_sides(query, statuses, location_id, boundary, order, wanted)
        statement = select(Item).where(Item.id.in_(sides))
    elif boundary is not None:
        statement = statement.where(boundary)
    rows: list[Item] = list(
        session.scalars(
            statement.order_by(None)
            .order_by(*order)
            .options(joinedload(Item.envelope).joinedload(Envelope.location))
            .limit(wanted)
        ).unique()
    )
    more = len(rows) > RESULT_LIMIT
    rows = rows[:RESULT_LIMIT]
    if backwards:
        rows.reverse()
        has_next, has_previous = True, more
    else:
        has_next, has_previous = more, cursor is not None
    kind = [query.kind] if not query.empty else []
    kind += ["status"] if statuses else []
    kind += ["location"] if location_id is not None else []
    # At the commit (the page is rendered by then): the chain's lock is held for the append
    # only (issue 18).
    audit.record_at_commit(
        session,
        actor=actor,
        action=AuditAction.ITEM_SEARCH,
        details={"query_kind": "+".join(kind), "results": len(rows)},
    )
    return Results(
        rows,
        total=min(total, COUNT_LIMIT),
        total_is_lower_bound=total > COUNT_LIMIT,
        next_after=rows[-1].id if rows and has_next else None,
        previous_before=rows[0].id if rows and has_previous else None,
    )
