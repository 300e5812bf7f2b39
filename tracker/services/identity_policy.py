"""New versions of the identity policy (SPEC §4: the catalogue and rule are data, versioned).

A version is never changed: an edit makes the next version, and handovers keep the version
they were checked against. Every change is audited with what changed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.domain.chain import canonical_json
from tracker.domain.codes import AuditAction
from tracker.domain.identity import IdentityPolicy, PolicyError
from tracker.models import IdentityPolicy as PolicyRow
from tracker.services import audit
from tracker.services.transitions import serialise


def versions(session: Session) -> list[PolicyRow]:
    return list(session.scalars(select(PolicyRow).order_by(PolicyRow.version.desc())))


def save_new_version(
    session: Session,
    *,
    actor: str,
    data: Mapping[str, Any],
    note: str,
    source: str | None = None,
) -> IdentityPolicy | None:
    """Store ``data`` as the next version; ``None`` when it equals the current one.

    Raises :class:`tracker.domain.identity.PolicyError` (every problem at once) when invalid.
    """
    serialise(session, "identity_policy")  # one next version, even for two editors at once
    current = session.scalar(select(PolicyRow).order_by(PolicyRow.version.desc()).limit(1))
    version = (current.version + 1) if current else 1
    policy = IdentityPolicy.from_dict(data, version=version)
    stored = canonical_json(policy.to_dict())
    if current is not None and stored == canonical_json(json.loads(current.policy_json)):
        return None
    session.add(PolicyRow(version=version, policy_json=stored, note=note.strip(), created_by=actor))
    session.flush()
    before = json.loads(current.policy_json) if current else {}
    audit.record(
        session,
        actor=actor,
        action=AuditAction.IDENTITY_POLICY_CHANGE,
        object_type="identity_policy",
        object_id=version,
        details={
            "from_version": current.version if current else None,
            "changes": _differences(before, policy.to_dict()),
            "note_digest": audit.digest(note.strip()),  # the text is the version's own note
            **({"source": source} if source else {}),
        },
    )
    return policy


# --- the policy as a file (tracker id-policy export | import) ----------------------------------


def export_policy(session: Session) -> tuple[int, dict[str, Any]]:
    """The current version and its JSON, exactly what :func:`import_policy` reads back."""
    current = session.scalar(select(PolicyRow).order_by(PolicyRow.version.desc()).limit(1))
    if current is None:
        raise PolicyError("本人確認の基準が登録されていません（tracker init-db）")
    policy = IdentityPolicy.from_dict(json.loads(current.policy_json), version=current.version)
    return current.version, policy.to_dict()


def import_policy(
    session: Session, data: object, *, actor: str, note: str
) -> IdentityPolicy | None:
    """Check ``data`` like the editor and store it as one new version (``None``: unchanged).

    Raises :class:`PolicyError` with every problem (``.problems``); nothing is written then.
    """
    if not isinstance(data, Mapping):
        raise PolicyError.of([f"本人確認ポリシーは辞書で指定してください: {type(data).__name__}"])
    return save_new_version(session, actor=actor, data=data, note=note, source="file")


def _differences(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for key in ("group_a_required", "group_b_required", "proxy_letter_valid_months"):
        if before.get(key) != after.get(key):
            changes[key] = [before.get(key), after.get(key)]
    if before.get("format", 1) != after.get("format", 1):
        changes["format_changed"] = [before.get("format", 1), after.get("format", 1)]
    if before.get("groups") != after.get("groups"):
        changes["groups_changed"] = [before.get("groups"), after.get("groups")]
    if before.get("rules") != after.get("rules"):
        # item kinds whose rule changed (the whole rule is in the version itself)
        old_rules, new_rules = before.get("rules") or {}, after.get("rules") or {}
        changes["rules_changed"] = sorted(
            k for k in set(old_rules) | set(new_rules) if old_rules.get(k) != new_rules.get(k)
        )
    old = {d["code"]: d for d in before.get("documents", [])}
    new = {d["code"]: d for d in after["documents"]}
    added = [new[c] for c in new if c not in old]
    removed = [old[c] for c in old if c not in new]
    changed = [[old[c], new[c]] for c in new if c in old and old[c] != new[c]]
    if added:
        changes["documents_added"] = added
    if removed:
        changes["documents_removed"] = removed
    if changed:
        changes["documents_changed"] = changed
    return changes
