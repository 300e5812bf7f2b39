"""The handover log as an auditor reads it, with the flags an auditor wants (issue #6).

Voided handovers (交付取消) stay in the log, flagged, and so do those whose clerk asked for a
void that no officer has decided yet. "After hours" follows the counter's opening hours in the
office settings (`tracker.services.settings`), not a constant.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, selectinload

from tracker.clock import JST
from tracker.domain.identity import IdentityPolicy
from tracker.domain.retention import Rule, rule_for
from tracker.models import Envelope, Handover, HandoverItem, Item
from tracker.models import IdentityPolicy as PolicyRow
from tracker.services import settings
from tracker.services.retention import load_rules
from tracker.services.settings import OpeningHours

FLAGS = {
    "voided": "取消済",
    "void_requested": "取消依頼中",
    "after_hours": "時間外",
    "proxy": "代理人",
    "same_clerk_as_intake": "受付と同じ担当者",
    "after_retention": "保管期限後の交付",
}
#: The most handovers one page (or the CSV export) looks at.
MAX_ROWS = 1000
#: Handovers shown per page of the review: a page of 1,000 took ~250 ms to render.
PAGE_ROWS = 100


@dataclass
class ReviewedHandover:
    handover: Handover
    items: list[Item]
    flags: list[str] = field(default_factory=list)

    @property
    def documents(self) -> list[str]:
        return [entry["code"] for entry in json.loads(self.handover.documents)]


def flags_for(
    handover: Handover,
    items: list[Item],
    envelope: Envelope,
    rules: list[Rule],
    opening_hours: OpeningHours,
) -> list[str]:
    """The review flags of one handover; ``opening_hours`` are the counter's (JST, Monday=0;
    a day missing from it is closed)."""
    found = []
    if handover.voided_at is not None:
        found.append("voided")
    elif handover.void_requested_at is not None:
        found.append("void_requested")
    local = handover.handed_over_at.astimezone(JST)
    hours = opening_hours.get(local.weekday())
    if hours is None or not hours[0] <= local.time() <= hours[1]:
        found.append("after_hours")
    if handover.recipient_kind == "proxy":
        found.append("proxy")
    if envelope.intake_by == handover.clerk:
        found.append("same_clerk_as_intake")
    kind = items[0].kind if items else None
    rule = rule_for(envelope.returned_on, rules, kind)
    if rule is not None and rule.counts_from_return:
        until = rule.retain_until_for(envelope.returned_on)
        extensions = [e.retain_until for item in items for e in item.extensions]
        if extensions:
            until = max(until, *extensions)
        if local.date() > until:
            found.append("after_retention")
    return found


@dataclass(frozen=True)
class ReviewFilter:
    """Which handovers to review: a period of JST dates, optionally one clerk, one recipient
    kind, only the flagged ones."""

    since: date
    until: date
    clerk: str = ""
    kind: str = ""
    flagged_only: bool = False


@dataclass(frozen=True)
class ReviewPage:
    """One page of the review, in time order."""

    rows: list[ReviewedHandover]
    #: The id of the last handover looked at when later ones remain in the period: the next
    #: page starts after it (a keyset, so a deep page costs what the first one does).
    next_after: int | None


def review(session: Session, wanted: ReviewFilter) -> list[ReviewedHandover]:
    """The first :data:`MAX_ROWS` handovers of the period, flags and all (the CSV export)."""
    return review_page(session, wanted, size=MAX_ROWS, chunk=MAX_ROWS).rows


def review_page(
    session: Session,
    wanted: ReviewFilter,
    after: int | None = None,
    size: int | None = None,
    chunk: int | None = None,
) -> ReviewPage:
    """Up to `size` (:data:`PAGE_ROWS`) handovers of the period after handover `after` (from
    the start when ``None``). With ``flagged_only`` the unflagged ones are skipped, reading
    `chunk` (:data:`PAGE_ROWS`) handovers at a time but no more than :data:`MAX_ROWS`."""
    size = size or PAGE_ROWS
    chunk = chunk or PAGE_ROWS
    since, until, clerk, kind = wanted.since, wanted.until, wanted.clerk, wanted.kind
    start = datetime.combine(since, time.min, tzinfo=JST)
    end = datetime.combine(until + timedelta(days=1), time.min, tzinfo=JST)
    query = (
        select(Handover)
        .where(Handover.handed_over_at >= start, Handover.handed_over_at < end)
        .options(
            # Only what the page, the export and the flags read: an item's row holds ~25
            # columns of personal data, and building them was a third of the page's time
            # (issue 18). Anything else raises rather than loading one row at a time.
            selectinload(Handover.items)
            .selectinload(HandoverItem.item)
            .load_only(Item.id, Item.control_no, Item.kind, raiseload=True)
            .selectinload(Item.extensions),
            selectinload(Handover.envelope).load_only(
                Envelope.id, Envelope.returned_on, Envelope.intake_by, raiseload=True
            ),
        )
        .order_by(Handover.handed_over_at, Handover.id)
    )
    if clerk:
        query = query.where(Handover.clerk == clerk)
    if kind:
        query = query.where(Handover.recipient_kind == kind)
    cursor = _keyset(session, after)
    rules = [stored.rule for stored in load_rules(session)]
    hours = settings.load(session).opening_hours
    rows: list[ReviewedHandover] = []
    scanned = 0
    while True:
        batch = query
        if cursor is not None:
            moment, last_id = cursor
            batch = batch.where(
                or_(
                    Handover.handed_over_at > moment,
                    and_(Handover.handed_over_at == moment, Handover.id > last_id),
                )
            )
        handovers = list(session.scalars(batch.limit(chunk + 1)))
        for handover in handovers[:chunk]:
            if cursor is not None and (len(rows) == size or scanned == MAX_ROWS):
                return ReviewPage(rows, cursor[1])  # full, and this one is still to show
            scanned += 1
            cursor = (handover.handed_over_at, handover.id)
            items = [entry.item for entry in handover.items]
            row = ReviewedHandover(
                handover, items, flags_for(handover, items, handover.envelope, rules, hours)
            )
            if not wanted.flagged_only or row.flags:
                rows.append(row)
        if len(handovers) <= chunk:
            return ReviewPage(rows, None)  # the period has no more
        if cursor is not None and (len(rows) == size or scanned == MAX_ROWS):
            return ReviewPage(rows, cursor[1])


def _keyset(session: Session, after: int | None) -> tuple[datetime, int] | None:
    """Where the page after handover `after` starts: its time and id (``None``: the start)."""
    if after is None:
        return None
    moment = session.scalar(select(Handover.handed_over_at).where(Handover.id == after))
    return (moment, after) if moment is not None else None


def document_names(session: Session) -> dict[int, dict[str, str]]:
    """Policy version → document code → name (運転免許証), for every version: each handover
    names its documents in the catalogue of the version it was checked against."""
    names: dict[int, dict[str, str]] = {}
    for row in session.scalars(select(PolicyRow)):
        policy = IdentityPolicy.from_dict(json.loads(row.policy_json), version=row.version)
        names[row.version] = {code: doc.name for code, doc in policy.documents.items()}
    return names
