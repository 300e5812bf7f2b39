"""The whole life of a returned card (issue 13): resident-register results, re-mailings,
stock checks (棚卸) and losses (紛失)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.domain.codes import (
    RegisterOutcome,
    RegisterSource,
    RemailAddressKind,
    RemailStatus,
    StockCheckOutcome,
    StockCheckStatus,
    sql_in,
)
from tracker.models.base import Base, UTCDateTime, utcnow
from tracker.models.custody import Envelope, Item, Location


class RegisterResult(Base):
    """The latest resident-register result for an item (住基照合, SPEC §2, §7.1).

    One row per item; a new check replaces it (the audit log keeps the history). Only codes
    and dates: the note is free text checked like any other (no individual numbers).
    """

    __tablename__ = "register_results"
    __table_args__ = (
        CheckConstraint(f"outcome IN ({sql_in(RegisterOutcome)})", name="outcome"),
        CheckConstraint(f"source IN ({sql_in(RegisterSource)})", name="source"),
        CheckConstraint("outcome = 'resident' OR event_on IS NOT NULL", name="event_date"),
        Index("ix_register_results_outcome_event_on", "outcome", "event_on"),
    )

    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(20))
    #: 異動日: the date of the event (may be empty for 現住).
    event_on: Mapped[date | None] = mapped_column(Date)
    #: The day the register was checked (照合日), JST.
    checked_on: Mapped[date] = mapped_column(Date)
    checked_by: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(10))
    note: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    item: Mapped[Item] = relationship()


class Remailing(Base):
    """A card mailed again (再送付) with a new tracking number.

    requested → mailed (the item is 再送付中) → returned (it came back: a new envelope, linked
    here, holds it again) or delivered (closed after N days without a return: 再送付済);
    a request may be cancelled before it is mailed.
    """

    __tablename__ = "remailings"
    __table_args__ = (
        CheckConstraint(f"status IN ({sql_in(RemailStatus)})", name="status"),
        CheckConstraint(f"address_kind IN ({sql_in(RemailAddressKind)})", name="address_kind"),
        Index("ix_remailings_item_id", "item_id"),
        Index("ix_remailings_status_mailed_on", "status", "mailed_on"),
        Index("ix_remailings_from_envelope_id", "from_envelope_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    #: The envelope that held the item when the re-mailing was requested (its first return):
    #: the item moves to the return envelope if it comes back, and this page keeps the link.
    from_envelope_id: Mapped[int] = mapped_column(ForeignKey("envelopes.id"))
    status: Mapped[str] = mapped_column(String(12), default=RemailStatus.REQUESTED.value)
    #: Who asked (本人, 家族 …) and why: a written request, a registered 居所 …
    requested_by_whom: Mapped[str] = mapped_column(String(100))
    request_reason: Mapped[str] = mapped_column(Text)
    address_kind: Mapped[str] = mapped_column(String(12))
    #: The address mailed to; personal data, shown only on the item's pages.
    address: Mapped[str | None] = mapped_column(String(400))
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The new お問い合わせ番号 (digits only), unique across re-mailings and envelopes.
    tracking_no: Mapped[str | None] = mapped_column(String(20), unique=True)
    mailed_on: Mapped[date | None] = mapped_column(Date)
    mailed_by: Mapped[str | None] = mapped_column(String(100))
    #: It came back: the envelope of the new return (which now holds the item).
    return_envelope_id: Mapped[int | None] = mapped_column(ForeignKey("envelopes.id"))
    #: Closed as delivered, or cancelled: by whom and when.
    closed_by: Mapped[str | None] = mapped_column(String(100))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(Text)

    item: Mapped[Item] = relationship()
    from_envelope: Mapped[Envelope] = relationship(foreign_keys=[from_envelope_id])
    return_envelope: Mapped[Envelope | None] = relationship(foreign_keys=[return_envelope_id])


class StockCheck(Base):
    """A stock check (棚卸) of one location, or a range of its slots: every envelope the ledger
    places there is scanned or reported missing; closed by one person, signed off by another."""

    __tablename__ = "stock_checks"
    __table_args__ = (
        CheckConstraint(f"status IN ({sql_in(StockCheckStatus)})", name="status"),
        CheckConstraint("signed_off_by IS NULL OR signed_off_by <> closed_by", name="two_people"),
        Index("ix_stock_checks_location_id_status", "location_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: 棚卸番号, e.g. ``S000000003``.
    check_no: Mapped[str] = mapped_column(String(20), unique=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    #: Inclusive slot range (text order); both empty: the whole location.
    slot_from: Mapped[str | None] = mapped_column(String(50))
    slot_to: Mapped[str | None] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(12), default=StockCheckStatus.OPEN.value)
    started_by: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_by: Mapped[str | None] = mapped_column(String(100))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    signed_off_by: Mapped[str | None] = mapped_column(String(100))
    signed_off_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by: Mapped[str | None] = mapped_column(String(100))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(Text)

    location: Mapped[Location] = relationship()
    entries: Mapped[list[StockCheckEntry]] = relationship(
        back_populates="check", order_by="StockCheckEntry.id"
    )


class StockCheckEntry(Base):
    """One envelope's result in a stock check.

    Expected envelopes (the ledger puts them in the checked range) get a row at the start
    with no outcome; a scan sets ``found`` (or ``found_elsewhere`` / ``unexpected`` for an
    envelope the ledger places elsewhere); closing marks the rest ``missing``.
    """

    __tablename__ = "stock_check_entries"
    __table_args__ = (
        CheckConstraint(
            f"outcome IS NULL OR outcome IN ({sql_in(StockCheckOutcome)})", name="outcome"
        ),
        Index(
            "uq_stock_check_entries_check_id_envelope_id", "check_id", "envelope_id", unique=True
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    check_id: Mapped[int] = mapped_column(ForeignKey("stock_checks.id"))
    #: Empty for an unexpected scan that names no envelope at all (see ``scanned_code``).
    envelope_id: Mapped[int | None] = mapped_column(ForeignKey("envelopes.id"))
    #: What was scanned, as read (trimmed), for unexpected entries: the proof of what was on
    #: the shelf when it is no envelope in custody (issue 13, stock checks).
    scanned_code: Mapped[str | None] = mapped_column(String(40))
    #: Whether the ledger placed the envelope in the checked range when the check started.
    expected: Mapped[bool] = mapped_column(default=True)
    outcome: Mapped[str | None] = mapped_column(String(20))
    #: Where the ledger placed it at the start (location and slot), as found on the shelf.
    ledger_location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))
    ledger_slot: Mapped[str | None] = mapped_column(String(50))
    scanned_by: Mapped[str | None] = mapped_column(String(100))
    scanned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: A found-elsewhere envelope whose move was recorded (one click), and by whom.
    moved_by: Mapped[str | None] = mapped_column(String(100))
    moved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    check: Mapped[StockCheck] = relationship(back_populates="entries")
    envelope: Mapped[Envelope | None] = relationship()


class LossReport(Base):
    """A loss confirmed by a records officer (紛失の確定), with its report (紛失報告書)."""

    __tablename__ = "loss_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: 紛失報告番号, e.g. ``L000000001``.
    report_no: Mapped[str] = mapped_column(String(20), unique=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    #: The stock check that found it missing, if any.
    stock_check_id: Mapped[int | None] = mapped_column(ForeignKey("stock_checks.id"))
    #: What was done to find it, and the circumstances (free text, checked).
    circumstances: Mapped[str] = mapped_column(Text)
    confirmed_by: Mapped[str] = mapped_column(String(100))
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Found again later (紛失 → 保管中): by whom and when.
    found_by: Mapped[str | None] = mapped_column(String(100))
    found_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    found_note: Mapped[str | None] = mapped_column(Text)

    item: Mapped[Item] = relationship()
    stock_check: Mapped[StockCheck | None] = relationship()


__all__ = [
    "LossReport",
    "RegisterResult",
    "Remailing",
    "StockCheck",
    "StockCheckEntry",
]
