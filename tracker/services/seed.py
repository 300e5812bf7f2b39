"""Reference data every database starts with (``tracker init-db``). Idempotent."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.domain.chain import canonical_json
from tracker.domain.codes import AuditAction, ItemKind, RuleKind
from tracker.domain.identity import default_policy, policy_v2
from tracker.domain.retention import RuleError, check_no_overlap, rule_from_fields
from tracker.models import IdentityPolicy, Location, RetentionRule
from tracker.services import audit

#: SPEC §2: the Kumamoto locations, the My Number Center first and default.
DEFAULT_LOCATIONS: tuple[tuple[str, str], ...] = (
    ("CHUO", "中央区役所1階 熊本市マイナンバーセンター"),
    ("HIGASHI", "東区役所"),
    ("NISHI", "西区役所"),
    ("MINAMI", "南区役所"),
    ("KITA", "北区役所"),
)

#: SPEC §3: the seed rule, present in every new database. It lists no item kinds, so it covers
#: every kind no overlapping rule names: the unclaimed-card rule below takes ``mynumber_card``
#: items, the seed rule keeps the notification cards and notices (docs/retention.md).
SEED_RULE_LABEL = "平成30年度返戻分"

#: Issue 14 part 5: unclaimed My Number cards are kept until the later of 再通知 + 3 months and
#: 交付通知書 + 12 months, or the card's expiry, whichever is first (三股町, 須恵町).
CARD_RULE_LABEL = "未受領のマイナンバーカード"


def card_rule_fields() -> dict[str, object]:
    """The seeded rule for ``mynumber_card`` items, as :func:`rule_from_fields` takes it."""
    return {
        "kind": RuleKind.LATER_OF.value,
        "label": CARD_RULE_LABEL,
        "returned_from": date(2016, 1, 1),
        "returned_to": date(2099, 12, 31),
        "item_kinds": [ItemKind.MYNUMBER_CARD.value],
        "sub_rules": [
            {"kind": "period_from", "anchor": "renotice_on", "period": {"months": 3}},
            {"kind": "period_from", "anchor": "first_notice_on", "period": {"months": 12}},
        ],
        "cap_anchor": "card_expires_on",
    }


def _seed_card_rule(session: Session) -> str | None:
    """Add the unclaimed-card rule when missing and it fits the rules in place (an office
    that already wrote its own rule for these cards keeps it; nothing is added then)."""
    from tracker.services import retention  # seed is imported by retention's callers

    if session.scalar(select(RetentionRule.id).where(RetentionRule.label == CARD_RULE_LABEL)):
        return None
    rule = rule_from_fields(**card_rule_fields())  # type: ignore[arg-type]
    stored = retention.load_rules(session)
    try:
        check_no_overlap([*(s.rule for s in stored), rule])
    except RuleError:  # an office's own rules name these cards: leave them be
        return None
    session.add(RetentionRule(**rule.as_fields(), created_by=SEED_ACTOR))
    return f"retention rule: {CARD_RULE_LABEL}"


#: ``created_by`` of the rows a new database starts with (shown as 「システム（初期設定）」);
#: the audit event of the seeding keeps the real actor (SPEC §7: ``cli:<OS user>``).
SEED_ACTOR = "system:seed"


def seed_defaults(session: Session, *, actor: str) -> list[str]:
    """Add whatever reference data is missing; returns what was added (for the CLI)."""
    added: list[str] = []
    if session.scalar(select(func.count()).select_from(Location)) == 0:
        for order, (code, name) in enumerate(DEFAULT_LOCATIONS):
            session.add(
                Location(code=code, name=name, is_default=order == 0, active=True, sort_order=order)
            )
        added.append(f"locations: {len(DEFAULT_LOCATIONS)}")
    if (
        session.scalar(select(RetentionRule.id).where(RetentionRule.label == SEED_RULE_LABEL))
        is None
    ):
        session.add(
            RetentionRule(
                label=SEED_RULE_LABEL,
                kind=RuleKind.FIXED.value,
                returned_from=date(2018, 4, 1),
                returned_to=date(2019, 3, 31),
                retain_until=date(2020, 3, 31),
                created_by=SEED_ACTOR,
            )
        )
        session.flush()
        added.append(f"retention rule: {SEED_RULE_LABEL}")
    card_rule = _seed_card_rule(session)
    if card_rule is not None:
        added.append(card_rule)
    if session.scalar(select(func.count()).select_from(IdentityPolicy)) == 0:
        session.add(
            IdentityPolicy(
                version=1,
                policy_json=canonical_json(default_policy()),
                note="初期設定（A群1点 または B群2点）",
                created_by=SEED_ACTOR,
            )
        )
        added.append("identity policy: version 1")
        session.flush()
    if not any(
        json.loads(text).get("format") == 2
        for text in session.scalars(select(IdentityPolicy.policy_json))
    ):
        # Issue 14: version 2 once, after whatever versions exist (a database that only has
        # the 2018 version 1 gets version 2); past handovers keep the version they used.
        latest = session.scalar(select(func.max(IdentityPolicy.version))) or 0
        session.add(
            IdentityPolicy(
                version=latest + 1,
                policy_json=canonical_json(policy_v2()),
                note="第2形式（資格確認書の追加、健康保険証の期限、運転経歴証明書の交付日など）",
                created_by=SEED_ACTOR,
            )
        )
        added.append(f"identity policy: version {latest + 1}")
    from tracker.services import notice_templates

    if notice_templates.seed_default(session, actor=SEED_ACTOR):
        added.append("notice template: version 1")
    if added:
        session.flush()
        audit.record(session, actor=actor, action=AuditAction.SYSTEM_SEED, details={"added": added})
    return added
