"""The append-only, hash-chained audit log (SPEC §8)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tracker.domain.codes import Outcome, sql_in
from tracker.models.base import Base, UTCDateTime


class AuditEvent(Base):
    """One event. ``hash`` = SHA-256(``prev_hash`` ‖ canonical JSON of the event).

    The database refuses UPDATE and DELETE on this table (triggers, see the first migration).
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        CheckConstraint(f"outcome IN ({sql_in(Outcome)})", name="outcome"),
        Index("ix_audit_events_occurred_at", "occurred_at"),
        Index("ix_audit_events_actor_seq", "actor", "seq"),
        Index("ix_audit_events_action_seq", "action", "seq"),
        Index("ix_audit_events_object", "object_type", "object_id", "seq"),
        Index("ix_audit_events_outcome_seq", "outcome", "seq"),
    )

    #: Gap-free position in the chain, from 1.
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: A username, ``cli:<os user>`` or ``anonymous``.
    actor: Mapped[str] = mapped_column(String(100))
    #: Dotted verb, e.g. ``auth.login``, ``item.view``, ``handover.create``.
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(10), default="ok")
    #: Canonical JSON (sorted keys), stored as text so the hash can be recomputed exactly.
    details: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
