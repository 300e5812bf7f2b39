"""The handover log as an auditor reads it, with the flags an auditor wants (issue #6).

Voided handovers (交付取消) stay in the log, flagged, and so do those whose clerk asked for a
void that no officer has decided yet. "After hours" follows the counter's opening hours in the
office settings (`tracker.services.settings`), not a constant.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
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
    hours = settings.load(session).opening_hours
    rows = []
    for handover in session.scalars(query):
        items = [entry.item for entry in handover.items]
        row = ReviewedHandover(
            handover, items, flags_for(handover, items, handover.envelope, rules, hours)
        )
        if not flagged_only or row.flags:
            rows.append(row)
    return rows


def document_names(session: Session) -> dict[int, dict[str, str]]:
    """Policy version → document code → name (運転免許証), for every version: each handover
    names its documents in the catalogue of the version it was checked against."""
    names: dict[int, dict[str, str]] = {}
    for row in session.scalars(select(PolicyRow)):
        policy = IdentityPolicy.from_dict(json.loads(row.policy_json), version=row.version)
        names[row.version] = {code: doc.name for code, doc in policy.documents.items()}
    return names
