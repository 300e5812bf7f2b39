"""The handover log as an auditor reads it, with the flags an auditor wants (issue #6)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from tracker.clock import JST
from tracker.domain.retention import Rule, rule_for
from tracker.models import Envelope, Handover, HandoverItem, Item
from tracker.services import settings
from tracker.services.retention import load_rules

#: Counter opening hours (JST), Monday=0 … Sunday=6. Outside them a handover is flagged.
OPENING_HOURS: dict[int, tuple[time, time]] = {day: (time(8, 30), time(17, 15)) for day in range(5)}
FLAGS = {
    "after_hours": "時間外",
    "proxy": "代理人",
    "same_clerk_as_intake": "受付と同じ担当者",
    "after_retention": "保管期限後の交付",
}
MAX_ROWS = 1000


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
    opening_hours: dict[int, tuple[time, time]] | None = None,
) -> list[str]:
    """``opening_hours``: the office's (``settings.load``); the defaults when not given."""
    found = []
    local = handover.handed_over_at.astimezone(JST)
    hours = (OPENING_HOURS if opening_hours is None else opening_hours).get(local.weekday())
    if hours is None or not hours[0] <= local.time() <= hours[1]:
        found.append("after_hours")
    if handover.recipient_kind == "proxy":
        found.append("proxy")
    if envelope.intake_by == handover.clerk:
        found.append("same_clerk_as_intake")
    rule = rule_for(envelope.returned_on, rules)
    if rule is not None:
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


def review(session: Session, wanted: ReviewFilter) -> list[ReviewedHandover]:
    since, until, clerk, kind = wanted.since, wanted.until, wanted.clerk, wanted.kind
    flagged_only = wanted.flagged_only
    start = datetime.combine(since, time.min, tzinfo=JST)
    end = datetime.combine(until + timedelta(days=1), time.min, tzinfo=JST)
    query = (
        select(Handover)
        .where(Handover.handed_over_at >= start, Handover.handed_over_at < end)
        .options(
            selectinload(Handover.items)
            .selectinload(HandoverItem.item)
            .selectinload(Item.extensions),
            selectinload(Handover.envelope),
        )
        .order_by(Handover.handed_over_at, Handover.id)
        .limit(MAX_ROWS)
    )
    if clerk:
        query = query.where(Handover.clerk == clerk)
    if kind:
        query = query.where(Handover.recipient_kind == kind)
    rules = [stored.rule for stored in load_rules(session)]
    opening_hours = settings.load(session).opening_hours  # an admin may change them (issue 12)
    rows = []
    for handover in session.scalars(query):
        items = [entry.item for entry in handover.items]
        row = ReviewedHandover(
            handover, items, flags_for(handover, items, handover.envelope, rules, opening_hours)
        )
        if not flagged_only or row.flags:
            rows.append(row)
    return rows
