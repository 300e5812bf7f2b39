"""Identity-verified handovers (交付) and their receipts (SPEC §4)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.domain.codes import sql_in
from tracker.domain.identity import RecipientKind
from tracker.models.base import Base, UTCDateTime
from tracker.models.custody import Envelope, Item


class Handover(Base):
    """One handing-over of one or more items of one envelope to one person."""

    __tablename__ = "handovers"
    __table_args__ = (
        CheckConstraint(f"recipient_kind IN ({sql_in(RecipientKind)})", name="recipient_kind"),
        Index("ix_handovers_handed_over_at", "handed_over_at"),
        Index("ix_handovers_clerk_handed_over_at", "clerk", "handed_over_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Printed on the receipt (受領書番号), e.g. ``H000000042``.
    receipt_no: Mapped[str] = mapped_column(String(20), unique=True)
    envelope_id: Mapped[int] = mapped_column(ForeignKey("envelopes.id"), index=True)
    handed_over_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Username of the clerk who checked the documents and handed the items over.
    clerk: Mapped[str] = mapped_column(String(100))
    recipient_kind: Mapped[str] = mapped_column(String(20))
    #: The person who came, when not the person named on the item (personal data).
    recipient_name: Mapped[str | None] = mapped_column(String(100))
    #: Canonical JSON list of ``{"code", "last4"?}``: document *types* only (SPEC §4).
    documents: Mapped[str] = mapped_column(Text)
    #: Proxy: the principal's documents, same form.
    principal_documents: Mapped[str | None] = mapped_column(Text)
    letter_of_attorney_date: Mapped[date | None] = mapped_column(Date)
    #: Legal representative: code of the proof of authority (戸籍謄本 …).
    authority_proof: Mapped[str | None] = mapped_column(String(40))
    #: The identity policy version the evidence was checked against.
    policy_version: Mapped[int] = mapped_column(ForeignKey("identity_policies.version"))
    #: First print of the receipt; later prints are reprints (marked and audited).
    receipt_printed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: 交付取消 (SPEC §2): a records officer voided the handover; its items went back to custody.
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voided_by: Mapped[str | None] = mapped_column(String(100))
    void_reason: Mapped[str | None] = mapped_column(Text)
    #: The clerk who made the handover may ask for a void the same day; an officer decides.
    void_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    void_requested_by: Mapped[str | None] = mapped_column(String(100))
    void_request_reason: Mapped[str | None] = mapped_column(Text)

    envelope: Mapped[Envelope] = relationship()
    items: Mapped[list[HandoverItem]] = relationship(
        back_populates="handover", order_by="HandoverItem.item_id"
    )


class HandoverItem(Base):
    """An item in a handover. An item is in at most one handover that stands (``voided`` false);
    a voided handover keeps its rows, so the item can be handed over again."""

    __tablename__ = "handover_items"
    __table_args__ = (
        Index(
            "uq_handover_items_item_id_standing",
            "item_id",
            unique=True,
            sqlite_where=text("NOT voided"),
            postgresql_where=text("NOT voided"),
        ),
        # every handover of an item, voided ones included (the item page)
        Index("ix_handover_items_item_id", "item_id"),
    )

    handover_id: Mapped[int] = mapped_column(ForeignKey("handovers.id"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), primary_key=True)
    voided: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    handover: Mapped[Handover] = relationship(back_populates="items")
    item: Mapped[Item] = relationship()
