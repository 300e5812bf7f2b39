"""Disposal certificates (廃棄証明書, SPEC §5): built, and rebuilt byte for byte, from what
the batch's execution froze; found again by their SHA-256.

Nothing that can change after execution goes into a certificate: its items and skip reasons,
the audit-chain head, the rule texts and the issuer (municipality, office and the display names
of the officers, from the settings and the user table at that moment) are all stored with the
batch when it is executed. A batch executed before the issuer was frozen (issue 12) has none:
it is rebuilt exactly as it was printed then, with the constants and login names of that time,
so that its recorded SHA-256 still verifies.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.domain.chain import canonical_json
from tracker.domain.codes import BatchItemOutcome, DestructionMethod
from tracker.models import DisposalBatch, DisposalBatchItem
from tracker.services import people, retention, settings


@dataclass(frozen=True)
class Issuer:
    """Who and where, as the certificate prints them; frozen at execution."""

    municipality: str
    office: str
    created_by: str  #: display name of the officer who created the batch
    approved_by: str  #: display name of the officer who approved it
    recorded_by: str  #: display name of the officer who recorded the execution
    #: login → display name of the officers who took items out of the batch (issue 13)
    excluders: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        stored = asdict(self)
        if not self.excluders:
            del stored["excluders"]  # as stored before issue 13
        return canonical_json(stored)

    @classmethod
    def from_json(cls, stored: str) -> Issuer:
        return cls(**json.loads(stored))


def issuer_now(session: Session, batch: DisposalBatch) -> Issuer:
    """The issuer as it stands now: the office settings and the officers' display names."""
    office = settings.load(session)
    excluders = sorted(
        {
            actor
            for actor in session.scalars(
                select(DisposalBatchItem.excluded_by).where(
                    DisposalBatchItem.batch_id == batch.id,
                    DisposalBatchItem.outcome == BatchItemOutcome.EXCLUDED.value,
                )
            )
            if actor
        }
    )
    known = people.display_names(
        session, [batch.created_by, batch.approved_by, batch.executed_by, *excluders]
    )
    return Issuer(
        municipality=office.municipality,
        office=office.office,
        created_by=people.shown_name(batch.created_by, known),
        approved_by=people.shown_name(batch.approved_by, known) if batch.approved_by else "",
        recorded_by=people.shown_name(batch.executed_by, known),
        excluders={actor: people.shown_name(actor, known) for actor in excluders},
    )


def rebuild(session: Session, batch: DisposalBatch) -> bytes:
    """The certificate of an executed batch, identical to the one issued at execution."""
    assert batch.audit_head_hash is not None
    texts = (
        json.loads(batch.certificate_rules)
        if batch.certificate_rules is not None
        else rule_texts(session)  # executed before the texts were frozen (revision 0007)
    )
    issuer = (
        Issuer.from_json(batch.certificate_issuer)
        if batch.certificate_issuer is not None
        else None  # executed before the issuer was frozen (revision 0008)
    )
    return render(session, batch, batch.audit_head_seq or 0, batch.audit_head_hash, texts, issuer)


def rule_texts(session: Session) -> dict[str, str]:
    """Each rule's label and description as a certificate prints them, as they stand now."""
    return {stored.rule.label: stored.rule.describe() for stored in retention.load_rules(session)}


def render(
    session: Session,
    batch: DisposalBatch,
    head_seq: int,
    head_hash: str,
    rule_texts: Mapping[str, str],
    issuer: Issuer | None,
) -> bytes:
    """The certificate from what execution froze: its items, the audit-chain head, the rule
    texts and the issuer at execution. Nothing that can change later goes into it.

    ``issuer`` None: a batch executed before the issuer was frozen, printed as it was then
    (the constants below and login names)."""
    from tracker.pdf.certificate import (
        Certificate,
        CertificateItem,
        CohortCount,
        ExcludedItem,
        ReasonGroup,
        ReasonItem,
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
    # Items made eligible by an event rule are grouped by rule and outcome (issue 13); the
    # others by rule alone, exactly as before (their certificates keep their bytes).
    cohorts: Counter[tuple[str, str | None]] = Counter(
        (e.rule_label, reason_outcome(e.eligibility_reason)) for e in destroyed
    )
    groups: dict[tuple[str, str], list[ReasonItem]] = {}
    for e in destroyed:
        outcome = reason_outcome(e.eligibility_reason)
        if outcome is not None and e.eligibility_reason is not None:
            groups.setdefault((e.rule_label, outcome), []).append(
                ReasonItem(e.control_no, e.tracking_no or "", e.eligibility_reason)
            )
    if issuer is None:
        issuer = Issuer(
            municipality=LEGACY_MUNICIPALITY,
            office=LEGACY_OFFICE,
            created_by=batch.created_by,
            approved_by=batch.approved_by or "",
            recorded_by=batch.executed_by or "",
        )
    return render_certificate(
        Certificate(
            certificate_no=batch.certificate_no,
            municipality=issuer.municipality,
            office=issuer.office,
            rules=[
                CohortCount(label, rule_texts.get(label, ""), count, outcome)
                for (label, outcome), count in sorted(
                    cohorts.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")
                )
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
            excluded=[
                ExcludedItem(
                    e.control_no,
                    e.tracking_no or "",
                    e.skip_reason or "",
                    issuer.excluders.get(e.excluded_by or "", e.excluded_by or ""),
                )
                for e in entries
                if e.outcome == BatchItemOutcome.EXCLUDED.value
            ],
            created_by=issuer.created_by,
            approved_by=issuer.approved_by,
            executed_by=f"{batch.executor}（記録: {issuer.recorded_by}）",
            witness=batch.witness or "",
            audit_head_hash=head_hash,
            audit_head_seq=head_seq,
            issued_at=batch.executed_at,
            reason_groups=[
                ReasonGroup(label, outcome, items)
                for (label, outcome), items in sorted(groups.items())
            ],
        )
    )


def reason_outcome(reason: str | None) -> str | None:
    """The event of a frozen eligibility reason: ``死亡`` of ``死亡（異動日 令和8年11月1日）``
    (reasons are made by :meth:`tracker.domain.retention.PeriodFromRule.reason_for`)."""
    if not reason:
        return None
    return reason.split("（", 1)[0]


#: Printed on the certificates of batches executed before the issuer was frozen (revision
#: 0008); newer ones take the municipality and office from the settings. Never change these:
#: the recorded SHA-256 of those certificates depends on them.
LEGACY_MUNICIPALITY = "熊本市"
LEGACY_OFFICE = "中央区役所1階 熊本市マイナンバーセンター"


def find_by_certificate_sha256(session: Session, digest: str) -> DisposalBatch | None:
    return session.scalar(
        select(DisposalBatch).where(DisposalBatch.certificate_sha256 == digest.lower())
    )
