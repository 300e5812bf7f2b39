"""Access requests (開示請求, issue 16 item 3): a person asks what the office holds about them.

A records officer finds the person's items (name and birth date, as at the counter), ticks
those that are this person, and records the office's reference number (受付番号) and the date
the request was received. The request names the items only: the person's name and birth date
are never stored here (the items hold them, and are purged with them). A request for a person
with a 支援措置 (active or past) waits for a second records officer's approval before export.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.domain.codes import AccessRequestStatus, sql_in
from tracker.models.base import Base, UTCDateTime, utcnow
from tracker.models.custody import Item


class AccessRequest(Base):
    __tablename__ = "access_requests"
    __table_args__ = (
        CheckConstraint(f"status IN ({sql_in(AccessRequestStatus)})", name="status"),
        CheckConstraint("export_count >= 0", name="export_count"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The office's reference number as the officer typed it (受付番号), e.g. ``R8-開示-0012``.
    reference_no: Mapped[str] = mapped_column(String(40), unique=True)
    received_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20))
    #: A ticked item has or had a 支援措置: a second records officer approves before export.
    requires_approval: Mapped[bool] = mapped_column(Boolean)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved_by: Mapped[str | None] = mapped_column(String(100))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The latest export (PDF or CSV bundle) and how many there were; each is in the audit log.
    exported_by: Mapped[str | None] = mapped_column(String(100))
    exported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    export_count: Mapped[int] = mapped_column(Integer, default=0)
    cancelled_by: Mapped[str | None] = mapped_column(String(100))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    items: Mapped[list[AccessRequestItem]] = relationship(
        back_populates="request", order_by="AccessRequestItem.item_id"
    )


class AccessRequestItem(Base):
    """An item the officer ticked as this person's."""

    __tablename__ = "access_request_items"

    request_id: Mapped[int] = mapped_column(ForeignKey("access_requests.id"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), primary_key=True, index=True)

    request: Mapped[AccessRequest] = relationship(back_populates="items")
    item: Mapped[Item] = relationship()
