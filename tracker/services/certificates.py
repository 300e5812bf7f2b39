"""Disposal certificates (廃棄証明書, SPEC §5): built, and rebuilt byte for byte, from what
the batch's execution froze; found again by their SHA-256.

Nothing that can change after execution goes into a certificate: its items and skip reasons,
the audit-chain head and the rule texts are all stored with the batch when it is executed.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.domain.codes import DestructionMethod
from tracker.models import DisposalBatch, DisposalBatchItem
from tracker.services import retention


def rebuild(session: Session, batch: DisposalBatch) -> bytes:
    """The certificate of an executed batch, identical to the one issued at execution."""
    assert batch.audit_head_hash is not None
    texts = (
        json.loads(batch.certificate_rules)
        if batch.certificate_rules is not None
        else rule_texts(session)  # executed before the texts were frozen (revision 0007)
    )
    return render(session, batch, batch.audit_head_seq or 0, batch.audit_head_hash, texts)


def rule_texts(session: Session) -> dict[str, str]:
    """Each rule's label and description as a certificate prints them, as they stand now."""
    return {stored.rule.label: stored.rule.describe() for stored in retention.load_rules(session)}


def render(
    session: Session,
    batch: DisposalBatch,
    head_seq: int,
    head_hash: str,
    rule_texts: Mapping[str, str],
) -> bytes:
    """The certificate from what execution froze: its items, the audit-chain head and the
    rule texts at execution. Nothing that can change later goes into it."""
    from tracker.pdf.certificate import (
        Certificate,
        CertificateItem,
        CohortCount,
        SkippedItem,
        render_certificate,
    )

    assert batch.executed_at is not None
    entries = session.scalars(
        select(DisposalBatchItem)
        .where(DisposalBatchItem.batch_id == batch.id)
        .order_by(DisposalBatchItem.control_no)
    ).all()
    destroyed = [e for e in entries if e.outcome == "destroyed"]
    cohorts: Counter[str] = Counter(e.rule_label for e in destroyed)
    return render_certificate(
        Certificate(
            certificate_no=batch.certificate_no,
            municipality=MUNICIPALITY,
            office=OFFICE,
            rules=[
                CohortCount(label, rule_texts.get(label, ""), count)
                for label, count in sorted(cohorts.items())
            ],
            as_of=batch.as_of,
            destroyed_on=batch.destroyed_on or batch.as_of,
            method=DestructionMethod(batch.method).label if batch.method else "",
            place=batch.place or "",
            contractor_name=batch.contractor_name,
            contractor_certificate_no=batch.contractor_certificate_no,
            items=[
                CertificateItem(
                    e.control_no,
                    e.tracking_no or "",
                    e.returned_on or batch.as_of,
                    e.masked_name or "",
                )
                for e in destroyed
            ],
            skipped=[
                SkippedItem(e.control_no, e.tracking_no or "", e.skip_reason or "")
                for e in entries
                if e.outcome == "skipped"
            ],
            created_by=batch.created_by,
            approved_by=batch.approved_by or "",
            executed_by=f"{batch.executor}（記録: {batch.executed_by}）",
            witness=batch.witness or "",
            audit_head_hash=head_hash,
            audit_head_seq=head_seq,
            issued_at=batch.executed_at,
        )
    )


#: Printed on certificates. One municipality per installation (configurable later).
MUNICIPALITY = "熊本市"
OFFICE = "中央区役所1階 熊本市マイナンバーセンター"


def find_by_certificate_sha256(session: Session, digest: str) -> DisposalBatch | None:
    return session.scalar(
        select(DisposalBatch).where(DisposalBatch.certificate_sha256 == digest.lower())
    )
