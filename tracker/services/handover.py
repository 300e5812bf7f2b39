"""Identity-verified handover (SPEC §4): exactly once, in one transaction with its audit event.

The status change is a conditional ``UPDATE … WHERE status = 'in_custody'`` whose row count
must equal the number of items: of two clerks handing over the same card at the same moment,
the second one's update waits for the first, then matches no row (PostgreSQL re-checks the
condition after the wait; SQLite serialises writers) and gets a clear "already handed over".
Naive read-check-write code hands a card over twice on PostgreSQL.

Lock order: item rows first, the audit chain (advisory lock) last; every writer appends its
audit event at the end of its work, so the two locks are never taken the other way round.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tracker.clock import to_jst
from tracker.domain import lifecycle
from tracker.domain.chain import canonical_json
from tracker.domain.codes import AuditAction, BatchItemOutcome, ItemAction, ItemStatus
from tracker.domain.identity import Evidence, IdentityPolicy, decide
from tracker.models import DisposalBatch, DisposalBatchItem, Handover, HandoverItem, Item
from tracker.models import IdentityPolicy as PolicyRow
from tracker.services import audit, people, protection
from tracker.services.disposal import in_approved_batch
from tracker.services.holds import under_investigation
from tracker.services.numbering import next_id
from tracker.services.transitions import move_items

RECEIPT_PREFIX = "H"


class HandoverError(ValueError):
    """A refused handover; the message is for the clerk at the counter."""


class HandoverRefused(HandoverError):
    """The evidence does not satisfy the identity policy (SPEC §4)."""

    def __init__(self, reasons: Sequence[str], policy_version: int) -> None:
        super().__init__(" / ".join(reasons))
        self.reasons = tuple(reasons)
        self.policy_version = policy_version


class AlreadyHandedOver(HandoverError):
    """Not in custody any more (a colleague was faster, or it was destroyed), or frozen in an
    approved disposal batch; the message says which, and when and by whom."""


def current_policy(session: Session) -> IdentityPolicy:
    row = session.scalar(select(PolicyRow).order_by(PolicyRow.version.desc()).limit(1))
    if row is None:
        raise HandoverError("本人確認の基準が登録されていません（tracker init-db）")
    return IdentityPolicy.from_dict(json.loads(row.policy_json), version=row.version)


def receipt_number(handover_id: int) -> str:
    return f"{RECEIPT_PREFIX}{handover_id:09d}"


def _documents_json(
    codes: Sequence[str],
    last4: dict[str, str],
    issued_on: Mapping[str, date] | None = None,
    expires_on: Mapping[str, date] | None = None,
) -> str:
    """Document types; the optional last 4 characters; format 2: the issue and expiry dates the
    clerk entered for documents whose rule asks for them (dates, never numbers)."""
    entries: list[dict[str, Any]] = []
    for code in codes:
        entry: dict[str, Any] = {"code": code}
        if last4.get(code):
            entry["last4"] = last4[code]
        if issued_on and code in issued_on:
            entry["issued_on"] = issued_on[code].isoformat()
        if expires_on and code in expires_on:
            entry["expires_on"] = expires_on[code].isoformat()
        entries.append(entry)
    return canonical_json(entries)


@dataclass(frozen=True)
class Claim:
    items: list[Item]
    envelope_id: int


def _items_of_one_envelope(session: Session, item_ids: Sequence[int]) -> Claim:
    ids = sorted(set(item_ids))
    if not ids:
        raise HandoverError("交付する通知物を選んでください")
    items = list(session.scalars(select(Item).where(Item.id.in_(ids)).order_by(Item.position)))
    if len(items) != len(ids):
        raise HandoverError("選ばれた通知物の一部が見つかりません")
    envelopes = {item.envelope_id for item in items}
    if len(envelopes) != 1:
        raise HandoverError("1回の交付で扱えるのは同じ封筒の通知物だけです")
    return Claim(items, envelopes.pop())


def hand_over(
    session: Session,
    *,
    actor: str,
    item_ids: Sequence[int],
    evidence: Evidence,
    now: datetime,
    today: date,
) -> Handover:
    """Hand items of one envelope over to one person, or raise without changing anything.

    Raises :class:`HandoverRefused` (evidence), :class:`AlreadyHandedOver` (not in custody any
    more, e.g. a colleague was faster) or :class:`HandoverError`; the caller then rolls back
    and records the refusal with :func:`record_refusal`.
    """
    claim = _items_of_one_envelope(session, item_ids)
    _refuse_under_investigation(session, claim.items)
    protected = protection.refuse_handover(
        session, claim.items, evidence.recipient_kind, evidence.documents
    )
    if protected is not None:  # 支援措置 (issue 14): only the person, with a photo ID
        raise HandoverError(protected)
    policy = current_policy(session)
    decision = decide(evidence, policy, today, item_kinds=[item.kind for item in claim.items])
    if not decision.allowed:
        raise HandoverRefused(decision.reasons, policy.version)
    ids = [item.id for item in claim.items]
    claimed = move_items(
        session,
        ids,
        ItemAction.HAND_OVER,
        now=now,
        # SPEC §5: frozen for destruction; issue 13: a card a stock check could not find (the
        # check above gives the clear message; this closes the gap to a check closing now)
        where=[~in_approved_batch(Item.id), ~under_investigation(Item.id)],
    )
    if claimed != len(ids):
        raise AlreadyHandedOver(describe_unavailable(session, ids))
    handover_id = next_id(session, Handover)
    handover = Handover(
        id=handover_id,
        receipt_no=receipt_number(handover_id),
        envelope_id=claim.envelope_id,
        handed_over_at=now,
        clerk=actor,
        recipient_kind=evidence.recipient_kind.value,
        recipient_name=evidence.recipient_name or None,
        documents=_documents_json(
            evidence.documents,
            dict(evidence.document_last4),
            evidence.issued_on,
            evidence.expires_on,
        ),
        principal_documents=(
            _documents_json(
                evidence.principal_documents,
                {},
                evidence.principal_issued_on,
                evidence.principal_expires_on,
            )
            if evidence.principal_documents
            else None
        ),
        letter_of_attorney_date=evidence.letter_of_attorney_date,
        authority_proof=evidence.authority_proof,
        policy_version=policy.version,
    )
    session.add(handover)
    session.add_all(HandoverItem(handover_id=handover_id, item_id=item_id) for item_id in ids)
    session.flush()
    for item in claim.items:
        session.refresh(item)
    audit.record(
        session,
        actor=actor,
        action=AuditAction.HANDOVER_CREATE,
        object_type="handover",
        object_id=handover.id,
        details={
            "receipt_no": handover.receipt_no,
            "items": [item.control_no for item in claim.items],
            "recipient_kind": handover.recipient_kind,
            "documents": list(evidence.documents),
            "principal_documents": list(evidence.principal_documents),
            "policy_version": policy.version,
        },
    )
    return handover


def _refuse_under_investigation(session: Session, items: Sequence[Item]) -> None:
    """A card a stock check could not find (所在調査中) is not handed over until it is found
    (issue 13); a general hold (保留) does not stop a handover."""
    held = list(
        session.scalars(
            select(Item.control_no)
            .where(Item.id.in_([item.id for item in items]), under_investigation(Item.id))
            .order_by(Item.control_no)
        )
    )
    if held:
        raise HandoverError(f"{'、'.join(held)} は所在調査中のため交付できません")


def describe_unavailable(session: Session, item_ids: Sequence[int]) -> str:
    """Why some of these items can no longer be handed over, in the clerk's words.

    Runs in the same transaction right after the failed claim: under READ COMMITTED each
    statement sees what the faster colleague committed.
    """
    lines = []
    for item in session.scalars(select(Item).where(Item.id.in_(item_ids)).order_by(Item.id)):
        session.refresh(item)
        if item.status == ItemStatus.HANDED_OVER.value:
            done = session.execute(
                select(Handover.handed_over_at, Handover.clerk)
                .join(HandoverItem, HandoverItem.handover_id == Handover.id)
                .where(HandoverItem.item_id == item.id, HandoverItem.voided.is_(False))
            ).first()
            if done is not None:
                local = to_jst(done.handed_over_at)
                clerk = people.name_of(session, done.clerk)
                lines.append(
                    f"{item.control_no} は交付済みです（{local:%m月%d日 %H:%M}、担当 {clerk}）"
                )
            else:
                lines.append(f"{item.control_no} は交付済みです")
        elif item.status == ItemStatus.DESTROYED.value:
            lines.append(f"{item.control_no} は廃棄済みです")
        elif item.status != ItemStatus.IN_CUSTODY.value:
            # 再送付中・再送付済・紛失 (issue 13): the lifecycle table says why.
            why = lifecycle.reason(item.status, ItemAction.HAND_OVER)
            lines.append(f"{item.control_no}: {why}")
        else:
            batch = session.scalar(
                select(DisposalBatch.certificate_no)
                .join(DisposalBatchItem, DisposalBatchItem.batch_id == DisposalBatch.id)
                .where(
                    DisposalBatchItem.item_id == item.id,
                    DisposalBatchItem.outcome != BatchItemOutcome.EXCLUDED.value,
                    DisposalBatch.status == "approved",
                )
            )
            if batch is not None:
                lines.append(
                    f"{item.control_no} は承認済みの廃棄処理（{batch}）に含まれているため"
                    "交付できません。記録管理担当に、廃棄処理からこの通知物を除外するよう依頼してください"
                )
            elif session.scalar(select(under_investigation(item.id))):
                lines.append(f"{item.control_no} は所在調査中のため交付できません")
    return "。".join(lines) or "選ばれた通知物は保管中ではありません"


def record_refusal(
    session: Session, *, actor: str, item_ids: Sequence[int], reasons: Sequence[str]
) -> None:
    """After the rollback of a refused handover: the only thing written (SPEC §4)."""
    controls = list(session.scalars(select(Item.control_no).where(Item.id.in_(list(item_ids)))))
    audit.record(
        session,
        actor=actor,
        action=AuditAction.HANDOVER_REFUSED,
        object_type="item",
        object_id=item_ids[0] if len(item_ids) == 1 else None,
        outcome="refused",
        details={"items": controls, "reasons": list(reasons)},
    )


def record_receipt_print(
    session: Session, *, actor: str, handover: Handover, now: datetime
) -> bool:
    """Audit a receipt print; returns True when it is a reprint (marked as such on paper).

    The first print is claimed with a conditional update: of two prints at the same moment,
    exactly one is the original.
    """
    claimed: int = session.execute(  # type: ignore[attr-defined]  # a CursorResult
        update(Handover)
        .where(Handover.id == handover.id, Handover.receipt_printed_at.is_(None))
        .values(receipt_printed_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(handover)
    reprint = claimed == 0
    audit.record(
        session,
        actor=actor,
        action=AuditAction.RECEIPT_REPRINT if reprint else AuditAction.RECEIPT_PRINT,
        object_type="handover",
        object_id=handover.id,
        details={"receipt_no": handover.receipt_no},
    )
    return reprint
