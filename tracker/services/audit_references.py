"""What the audit screens need to name the things events refer to (issue 12, SPEC §8).

An audit event stores codes and ids: an actor's login name, ``handover`` and ``1``, document
codes, an identity-policy version, control numbers inside its details. The auditor reads
people's names, 「交付 H000000001」, 「運転免許証」 and 「第1版」. This module looks up, for
one page of events at a time (a handful of queries, never one per event), what the web layer
needs to print those names and link them; the wording itself is the web layer's.

Receipt, certificate and envelope numbers embed the row id (``H000000045`` is handover 45), so
they are linked without a query; an item's number needs its id, looked up in one query.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.clock import to_jst
from tracker.domain.identity import AUTHORITY_PROOFS, DEFAULT_DOCUMENTS
from tracker.models import AuditEvent, Item, Location, RetentionRule, User
from tracker.models import IdentityPolicy as PolicyRow
from tracker.services import people

#: A control, receipt or certificate number anywhere in an event's details.
NUMBER = re.compile(r"(?P<prefix>[EHD])(?P<id>\d{9})(?:-(?P<position>\d{1,3}))?")


@dataclass(frozen=True)
class PolicyVersion:
    """One version of the identity policy as people name it: 第1版, in force from ``since``."""

    version: int
    since: date  # the day (JST) the version was saved
    documents: Mapping[str, str]  # document code → name


@dataclass(frozen=True)
class Policies:
    """Every identity-policy version (a handful of rows), to name versions and documents."""

    versions: Mapping[int, PolicyVersion]

    def get(self, version: object) -> PolicyVersion | None:
        try:
            return self.versions.get(int(str(version)))
        except ValueError:
            return None

    def document(self, version: object, code: str) -> str:
        """A document code's name in the version an event was checked against; else in any
        version, the default catalogue, or the legal representative's proofs; else the code."""
        found = self.get(version)
        if found is not None and code in found.documents:
            return found.documents[code]
        for other in sorted(self.versions.values(), key=lambda v: -v.version):
            if code in other.documents:
                return other.documents[code]
        return _FALLBACK_DOCUMENTS.get(code, code)


_FALLBACK_DOCUMENTS = {d.code: d.name for d in DEFAULT_DOCUMENTS} | {
    p.code: p.name for p in AUTHORITY_PROOFS
}


def load_policies(session: Session) -> Policies:
    versions = {}
    for row in session.scalars(select(PolicyRow)):
        documents = json.loads(row.policy_json).get("documents", [])
        versions[row.version] = PolicyVersion(
            version=row.version,
            since=to_jst(row.created_at).date(),
            documents={d["code"]: d["name"] for d in documents},
        )
    return Policies(versions)


@dataclass
class References:
    """Names and ids for one page of events (see :func:`load`)."""

    #: login name → display name, for actors and for usernames in details
    names: dict[str, str] = field(default_factory=dict)
    #: user id → (login name, display name), for events about a user
    users: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: item id → control number, for events about an item
    item_numbers: dict[str, str] = field(default_factory=dict)
    #: item control number → item id, to link numbers found in details
    item_ids: dict[str, int] = field(default_factory=dict)
    #: retention rule id → its label
    rules: dict[str, str] = field(default_factory=dict)
    #: location code → name, and location id → name
    locations: dict[str, str] = field(default_factory=dict)
    location_ids: dict[str, str] = field(default_factory=dict)
    policies: Policies = field(default_factory=lambda: Policies({}))

    def person(self, actor: str | None) -> str:
        return people.shown_name(actor, self.names)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for inner in value.values():
            yield from _strings(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _strings(inner)


def details_of(event: AuditEvent) -> dict[str, Any]:
    """The parsed details (an empty dict for an event without any, or a non-object)."""
    try:
        parsed = json.loads(event.details or "{}")
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def load(session: Session, events: Iterable[AuditEvent]) -> References:
    events = list(events)
    refs = References(policies=load_policies(session))
    actors: set[str] = set()
    wanted: dict[str, set[str]] = {}
    item_numbers: set[str] = set()
    for event in events:
        actors.add(event.actor)
        if event.object_type and event.object_id:
            wanted.setdefault(event.object_type, set()).add(event.object_id)
        details = details_of(event)
        if isinstance(details.get("username"), str):
            actors.add(details["username"])
        for text in _strings(details):
            for match in NUMBER.finditer(text):
                if match["prefix"] == "E" and match["position"]:
                    item_numbers.add(match[0])
    refs.names = people.display_names(session, actors)
    user_ids = _ints(wanted.get("user", ()))
    if user_ids:
        users = session.execute(
            select(User.id, User.username, User.display_name).where(User.id.in_(user_ids))
        )
        refs.users = {str(i): (u, d) for i, u, d in users}
    item_ids = _ints(wanted.get("item", ()))
    if item_ids:
        rows = session.execute(select(Item.id, Item.control_no).where(Item.id.in_(item_ids)))
        refs.item_numbers = {str(i): no for i, no in rows}
        refs.item_ids = {no: int(i) for i, no in refs.item_numbers.items()}
    if item_numbers:
        rows = session.execute(
            select(Item.id, Item.control_no).where(Item.control_no.in_(sorted(item_numbers)))
        )
        refs.item_ids.update({no: i for i, no in rows})
    rule_ids = _ints(wanted.get("retention_rule", ()))
    if rule_ids:
        rules = session.execute(
            select(RetentionRule.id, RetentionRule.label).where(RetentionRule.id.in_(rule_ids))
        )
        refs.rules = {str(i): label for i, label in rules}
    for location_id, code, name in session.execute(
        select(Location.id, Location.code, Location.name)
    ):
        refs.locations[code] = name
        refs.location_ids[str(location_id)] = name
    return refs


def _ints(values: Iterable[str]) -> list[int]:
    return sorted({int(v) for v in values if v.isdigit()})
