"""What the office holds: locations, returned envelopes and the cards inside them (SPEC §2)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.domain.codes import HoldKind, ItemKind, ItemStatus, ReturnReason, sql_in
from tracker.models.base import Base, UTCDateTime, utcnow

SEARCH_KEY = String(200).with_variant(String(200, collation="C"), "postgresql")


class Location(Base):
    """A place that holds items (保管場所). Slots inside it are free text on the envelope."""

    __tablename__ = "locations"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Short stable code used in import files, e.g. ``CHUO``.
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class Envelope(Base):
    """One returned registered-mail item (返戻郵便), addressed to the household head."""

    __tablename__ = "envelopes"
    __table_args__ = (
        CheckConstraint(f"return_reason IN ({sql_in(ReturnReason)})", name="return_reason"),
        Index("ix_envelopes_returned_on", "returned_on"),
        Index("ix_envelopes_location_slot", "location_id", "slot"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Office control number, printed as a barcode on the envelope label.
    control_no: Mapped[str] = mapped_column(String(20), unique=True)
    #: お問い合わせ番号, digits only (SPEC §6.3).
    tracking_no: Mapped[str] = mapped_column(String(20), unique=True)
    addressee: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(400))
    #: 世帯番号 / 宛名番号 (optional).
    household_code: Mapped[str | None] = mapped_column(String(20), index=True)
    returned_on: Mapped[date] = mapped_column(Date)
    return_reason: Mapped[str] = mapped_column(String(20))
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    slot: Mapped[str | None] = mapped_column(String(50))
    #: Username (or ``cli:…``) of whoever logged the envelope, and when.
    intake_by: Mapped[str] = mapped_column(String(100))
    intake_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When ``tracker purge`` replaced the addressee and address with the placeholder (issue 16);
    #: ``None`` while the envelope holds its real values.
    pseudonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    location: Mapped[Location] = relationship()
    items: Mapped[list[Item]] = relationship(back_populates="envelope", order_by="Item.position")


class Item(Base):
    """One card or notice for one person (通知物)."""

    __tablename__ = "items"
    __table_args__ = (
        CheckConstraint(f"status IN ({sql_in(ItemStatus)})", name="status"),
        CheckConstraint(f"kind IN ({sql_in(ItemKind)})", name="kind"),
        Index("uq_items_envelope_id_position", "envelope_id", "position", unique=True),
        # covering for "in custody per envelope" aggregates (dashboard, calendar, gap report)
        Index("ix_items_status_envelope_id", "status", "envelope_id"),
        Index("ix_items_name_key", "name_key"),
        # the search's order (フリガナ, birth date, id): a page reads its rows in index order
        Index("ix_items_kana_order", "kana_key", "birth_date", "id"),
        Index("ix_items_alias_key", "alias_key"),
        Index("ix_items_birth_date", "birth_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: ``<envelope control no>-<position>``, printed on certificates and receipts.
    control_no: Mapped[str] = mapped_column(String(24), unique=True)
    envelope_id: Mapped[int] = mapped_column(ForeignKey("envelopes.id"))
    #: 1-based order of the card inside its envelope.
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20), default=ItemKind.NOTIFICATION_CARD.value)
    #: 氏名 exactly as written (外字/IVS kept); never normalised.
    name: Mapped[str] = mapped_column(String(100))
    name_kana: Mapped[str] = mapped_column(String(200))
    #: Normalised search keys (SPEC §6.2), derived from ``name`` and ``name_kana``. Byte-order
    #: collation on PostgreSQL so that a prefix search is an index range scan that also serves
    #: ``ORDER BY … LIMIT`` (SQLite's default BINARY collation already is).
    name_key: Mapped[str] = mapped_column(SEARCH_KEY)
    kana_key: Mapped[str] = mapped_column(SEARCH_KEY)
    birth_date: Mapped[date] = mapped_column(Date)
    relationship_to_head: Mapped[str | None] = mapped_column(String(50))
    #: 通称: a registered alias (foreign residents), searchable like the name (issue 14).
    alias: Mapped[str | None] = mapped_column(String(100))
    alias_key: Mapped[str | None] = mapped_column(SEARCH_KEY)
    #: Event dates that retention rules may count from (SPEC §3 anchors, issue 14): a notice
    #: sent to the person (お知らせ), and for unclaimed My Number cards the 交付通知書, its 再通知
    #: and the card's expiry date.
    notice_sent_on: Mapped[date | None] = mapped_column(Date)
    first_notice_on: Mapped[date | None] = mapped_column(Date)
    renotice_on: Mapped[date | None] = mapped_column(Date)
    card_expires_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default=ItemStatus.IN_CUSTODY.value)
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When ``tracker purge`` replaced the name, kana, alias and birth date with placeholders
    #: (issue 16); ``None`` while the item holds its real values.
    pseudonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    envelope: Mapped[Envelope] = relationship(back_populates="items")
    holds: Mapped[list[Hold]] = relationship(back_populates="item", order_by="Hold.placed_at")
    extensions: Mapped[list[RetentionExtension]] = relationship(
        back_populates="item", order_by="RetentionExtension.created_at"
    )


class Hold(Base):
    """A 保留 placed and released by a records officer; a held item is never eligible (SPEC §2)."""

    __tablename__ = "holds"
    __table_args__ = (
        Index("ix_holds_item_id_released_at", "item_id", "released_at"),
        CheckConstraint(f"kind IN ({sql_in(HoldKind)})", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    #: ``general`` (an officer's 保留) or ``investigation`` (所在調査中, from a stock check).
    kind: Mapped[str] = mapped_column(String(20), default=HoldKind.GENERAL.value)
    #: The stock check that found the item's envelope missing (``investigation`` holds).
    stock_check_id: Mapped[int | None] = mapped_column(ForeignKey("stock_checks.id"))
    reason: Mapped[str] = mapped_column(Text)
    placed_by: Mapped[str] = mapped_column(String(100))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    released_by: Mapped[str | None] = mapped_column(String(100))
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    release_reason: Mapped[str | None] = mapped_column(Text)

    item: Mapped[Item] = relationship(back_populates="holds")


class RetentionExtension(Base):
    """A 保管延長: a later retain-until date for one item, with the reason (SPEC §2, §3)."""

    __tablename__ = "retention_extensions"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    retain_until: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    item: Mapped[Item] = relationship(back_populates="extensions")


class Protection(Base):
    """A 支援措置 (DV・ストーカー等の被害者保護) flag on an item (issue 14): only the person may
    collect it, with a photo ID; its address is masked; every opening asks for a purpose.

    Placed and released by a records officer, with a reason and a review date; history kept.
    """

    __tablename__ = "protections"
    __table_args__ = (Index("ix_protections_item_id_released_at", "item_id", "released_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    reason: Mapped[str] = mapped_column(Text)
    #: When the flag is to be reviewed (支援措置の期間は1年、延長可).
    review_on: Mapped[date] = mapped_column(Date)
    placed_by: Mapped[str] = mapped_column(String(100))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    released_by: Mapped[str | None] = mapped_column(String(100))
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    release_reason: Mapped[str | None] = mapped_column(Text)

    item: Mapped[Item] = relationship()


class ItemRevision(Base):
    """One corrected field of an item or envelope, with its old and new value (issue 16).

    The audit event of the edit (``audit_seq``) holds only keyed digests of the values, so
    that the chain, which can never be erased, never holds a name or an address; the values
    live here and are purged with the item when its record's keeping time is over.
    ``item_id`` empty: an envelope's field (addressee, address …); ``envelope_id`` is always
    set, so an envelope's page and each of its items' pages can list what changed.
    """

    __tablename__ = "item_revisions"
    __table_args__ = (
        Index("ix_item_revisions_item_id", "item_id"),
        Index("ix_item_revisions_envelope_id", "envelope_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    envelope_id: Mapped[int] = mapped_column(ForeignKey("envelopes.id"))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"))
    #: The audit event of the edit (its ``seq``), which holds the digests of both values.
    audit_seq: Mapped[int] = mapped_column(Integer)
    #: The column's name (``name``, ``address`` …).
    field: Mapped[str] = mapped_column(String(40))
    #: Values as text exactly as stored (dates ISO); empty when the field had or has none.
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    changed_by: Mapped[str] = mapped_column(String(100))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
