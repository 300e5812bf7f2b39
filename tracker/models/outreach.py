"""Bringing people to the counter (issue 15): the contact log, notices (お知らせ) and pickup
reservations (受取予約) in slots with a capacity.

Glossary: 接触記録 contact · お知らせ notice · 発送 mailing · 受取予約 pickup reservation ·
予約枠 slot · 定員 capacity · 不来庁 no-show.
"""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, Time
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.domain.codes import ContactKind, NoticeMethod, ReservationStatus, sql_in
from tracker.models.base import Base, UTCDateTime, utcnow
from tracker.models.custody import Envelope, Item, Location


class Contact(Base):
    """One contact with the person a card is for, or with its household (接触記録).

    ``item_id`` empty: about the whole envelope (the household); it shows on each of its items'
    pages. Notices write one row per item (``notice_mail``, with the batch and the method); a
    notice that came back is a ``notice_returned`` row naming the same batch. The note is free
    text, checked like all free text (no individual numbers); it records that a call came, not
    what was said about the card (the status is never told by phone).
    """

    __tablename__ = "contacts"
    __table_args__ = (
        CheckConstraint(f"kind IN ({sql_in(ContactKind)})", name="kind"),
        CheckConstraint(f"method IS NULL OR method IN ({sql_in(NoticeMethod)})", name="method"),
        CheckConstraint(
            "kind NOT IN ('notice_mail', 'notice_returned') OR notice_batch_id IS NOT NULL",
            name="notice_batch",
        ),
        Index("ix_contacts_item_id_occurred_at", "item_id", "occurred_at"),
        Index("ix_contacts_envelope_id_occurred_at", "envelope_id", "occurred_at"),
        Index("ix_contacts_notice_batch_id", "notice_batch_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    envelope_id: Mapped[int] = mapped_column(ForeignKey("envelopes.id"))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"))
    kind: Mapped[str] = mapped_column(String(20))
    #: When the contact happened (UTC; shown in JST), as the clerk gives it.
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(Text)
    #: For notices: the mailing batch and how it was mailed.
    notice_batch_id: Mapped[int | None] = mapped_column(ForeignKey("notice_batches.id"))
    method: Mapped[str | None] = mapped_column(String(20))
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    envelope: Mapped[Envelope] = relationship()
    item: Mapped[Item | None] = relationship()
    notice_batch: Mapped[NoticeBatch | None] = relationship()


class NoticeTemplate(Base):
    """A version of the notice letter's wording (お知らせ文面): a sandboxed Jinja template that
    records officers edit; the newest version is used, older ones stay for the batches that
    printed them."""

    __tablename__ = "notice_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    #: The letter's title line, e.g. 「通知カードの受け取りについて（お知らせ）」.
    title: Mapped[str] = mapped_column(String(200))
    #: The body, Jinja source evaluated in a sandbox with the letter's fields.
    body: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NoticeBatch(Base):
    """One mailing of notices (お知らせの発送): its items are the ``notice_mail`` contacts that
    name it. The letters and the mailing list can be printed again from it."""

    __tablename__ = "notice_batches"
    __table_args__ = (CheckConstraint(f"method IN ({sql_in(NoticeMethod)})", name="method"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: 発送番号, e.g. ``N000000004``.
    batch_no: Mapped[str] = mapped_column(String(20), unique=True)
    sent_on: Mapped[date] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(20))
    template_id: Mapped[int] = mapped_column(ForeignKey("notice_templates.id"))
    item_count: Mapped[int] = mapped_column(Integer)
    #: How the items were chosen, in words (e.g. 「廃棄基準: …、30日以内に廃棄可能」).
    selection: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    template: Mapped[NoticeTemplate] = relationship()


class PickupDay(Base):
    """A day open for pickup by reservation (受取予約日) at one location."""

    __tablename__ = "pickup_days"
    __table_args__ = (Index("uq_pickup_days_day_location_id", "day", "location_id", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    location: Mapped[Location] = relationship()
    slots: Mapped[list[PickupSlot]] = relationship(
        back_populates="day", order_by="PickupSlot.starts_at"
    )


class PickupSlot(Base):
    """A slot of a pickup day (予約枠) with its capacity (定員): the number of reservations it
    takes. ``booked`` counts the reservations holding a place (booked, attended, no-show); it
    moves only by conditional updates (``booked < capacity``), so that two clerks racing for
    the last place get one booking, and the database refuses anything beyond the capacity."""

    __tablename__ = "pickup_slots"
    __table_args__ = (
        CheckConstraint("capacity >= 0", name="capacity"),
        CheckConstraint("booked >= 0 AND booked <= capacity", name="booked"),
        CheckConstraint("ends_at > starts_at", name="span"),
        Index("uq_pickup_slots_day_id_starts_at", "day_id", "starts_at", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    day_id: Mapped[int] = mapped_column(ForeignKey("pickup_days.id"))
    #: JST wall-clock times.
    starts_at: Mapped[time] = mapped_column(Time)
    ends_at: Mapped[time] = mapped_column(Time)
    capacity: Mapped[int] = mapped_column(Integer)
    booked: Mapped[int] = mapped_column(Integer, default=0)

    day: Mapped[PickupDay] = relationship(back_populates="slots")


class Reservation(Base):
    """A pickup reservation (受取予約) taken by a clerk on the phone: who comes, a call-back
    number (erased the day after next, see ``tracker purge``), and the items to collect."""

    __tablename__ = "reservations"
    __table_args__ = (
        CheckConstraint(f"status IN ({sql_in(ReservationStatus)})", name="status"),
        Index("ix_reservations_slot_id_status", "slot_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: 予約番号, e.g. ``Y000000012``.
    reservation_no: Mapped[str] = mapped_column(String(20), unique=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("pickup_slots.id"))
    #: The name of the person who will come (as given on the phone).
    name: Mapped[str] = mapped_column(String(100))
    #: Call-back number; empty once erased (``phone_erased_at``).
    phone: Mapped[str | None] = mapped_column(String(30))
    phone_erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(12), default=ReservationStatus.BOOKED.value)
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Cancelled, marked as no-show or attended: by whom and when.
    closed_by: Mapped[str | None] = mapped_column(String(100))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    #: The handover made from 本日の予約 (attended).
    handover_id: Mapped[int | None] = mapped_column(ForeignKey("handovers.id"))

    slot: Mapped[PickupSlot] = relationship()
    items: Mapped[list[ReservationItem]] = relationship(
        back_populates="reservation", order_by="ReservationItem.item_id"
    )


class ReservationItem(Base):
    """An item a reservation is for."""

    __tablename__ = "reservation_items"

    reservation_id: Mapped[int] = mapped_column(ForeignKey("reservations.id"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), primary_key=True, index=True)

    reservation: Mapped[Reservation] = relationship(back_populates="items")
    item: Mapped[Item] = relationship()


__all__ = [
    "Contact",
    "NoticeBatch",
    "NoticeTemplate",
    "PickupDay",
    "PickupSlot",
    "Reservation",
    "ReservationItem",
]
