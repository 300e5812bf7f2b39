"""Bringing people to the counter (issue 15): contacts, notices, pickup reservations.

- ``contacts``: the contact log (接触記録) per item or envelope; notices write one row per item.
- ``notice_templates`` (versioned letter wording) and ``notice_batches`` (お知らせの発送).
- ``pickup_days`` / ``pickup_slots`` (受取予約日・予約枠, capacity and places taken) and
  ``reservations`` / ``reservation_items`` (受取予約).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notice_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_templates")),
        sa.UniqueConstraint("version", name=op.f("uq_notice_templates_version")),
    )
    op.create_table(
        "notice_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_no", sa.String(length=20), nullable=False),
        sa.Column("sent_on", sa.Date(), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("selection", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "method IN ('ordinary', 'simple_registered')", name=op.f("ck_notice_batches_method")
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["notice_templates.id"],
            name=op.f("fk_notice_batches_template_id_notice_templates"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_batches")),
        sa.UniqueConstraint("batch_no", name=op.f("uq_notice_batches_batch_no")),
    )
    op.create_table(
        "pickup_days",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_pickup_days_location_id_locations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pickup_days")),
    )
    op.create_index(
        "uq_pickup_days_day_location_id", "pickup_days", ["day", "location_id"], unique=True
    )
    op.create_table(
        "pickup_slots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.Time(), nullable=False),
        sa.Column("ends_at", sa.Time(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("booked", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "booked >= 0 AND booked <= capacity", name=op.f("ck_pickup_slots_booked")
        ),
        sa.CheckConstraint("capacity >= 0", name=op.f("ck_pickup_slots_capacity")),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_pickup_slots_span")),
        sa.ForeignKeyConstraint(
            ["day_id"], ["pickup_days.id"], name=op.f("fk_pickup_slots_day_id_pickup_days")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pickup_slots")),
    )
    op.create_index(
        "uq_pickup_slots_day_id_starts_at", "pickup_slots", ["day_id", "starts_at"], unique=True
    )
    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("envelope_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("notice_batch_id", sa.Integer(), nullable=True),
        sa.Column("method", sa.String(length=20), nullable=True),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('phone', 'visit', 'home_visit', 'notice_mail', 'notice_returned', 'other')",
            name=op.f("ck_contacts_kind"),
        ),
        sa.CheckConstraint(
            "kind NOT IN ('notice_mail', 'notice_returned') OR notice_batch_id IS NOT NULL",
            name=op.f("ck_contacts_notice_batch"),
        ),
        sa.CheckConstraint(
            "method IS NULL OR method IN ('ordinary', 'simple_registered')",
            name=op.f("ck_contacts_method"),
        ),
        sa.ForeignKeyConstraint(
            ["envelope_id"], ["envelopes.id"], name=op.f("fk_contacts_envelope_id_envelopes")
        ),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name=op.f("fk_contacts_item_id_items")),
        sa.ForeignKeyConstraint(
            ["notice_batch_id"],
            ["notice_batches.id"],
            name=op.f("fk_contacts_notice_batch_id_notice_batches"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
    )
    op.create_index(
        "ix_contacts_envelope_id_occurred_at",
        "contacts",
        ["envelope_id", "occurred_at"],
        unique=False,
    )
    op.create_index(
        "ix_contacts_item_id_occurred_at", "contacts", ["item_id", "occurred_at"], unique=False
    )
    op.create_index("ix_contacts_notice_batch_id", "contacts", ["notice_batch_id"], unique=False)
    op.create_table(
        "reservations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reservation_no", sa.String(length=20), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("phone", sa.String(length=30), nullable=True),
        sa.Column("phone_erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_by", sa.String(length=100), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.Column("handover_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "status IN ('booked', 'attended', 'cancelled', 'no_show')",
            name=op.f("ck_reservations_status"),
        ),
        sa.ForeignKeyConstraint(
            ["handover_id"], ["handovers.id"], name=op.f("fk_reservations_handover_id_handovers")
        ),
        sa.ForeignKeyConstraint(
            ["slot_id"], ["pickup_slots.id"], name=op.f("fk_reservations_slot_id_pickup_slots")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reservations")),
        sa.UniqueConstraint("reservation_no", name=op.f("uq_reservations_reservation_no")),
    )
    op.create_index(
        "ix_reservations_slot_id_status", "reservations", ["slot_id", "status"], unique=False
    )
    op.create_table(
        "reservation_items",
        sa.Column("reservation_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_reservation_items_item_id_items")
        ),
        sa.ForeignKeyConstraint(
            ["reservation_id"],
            ["reservations.id"],
            name=op.f("fk_reservation_items_reservation_id_reservations"),
        ),
        sa.PrimaryKeyConstraint("reservation_id", "item_id", name=op.f("pk_reservation_items")),
    )
    op.create_index(
        op.f("ix_reservation_items_item_id"), "reservation_items", ["item_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_reservation_items_item_id"), table_name="reservation_items")
    op.drop_table("reservation_items")
    op.drop_index("ix_reservations_slot_id_status", table_name="reservations")
    op.drop_table("reservations")
    op.drop_index("ix_contacts_notice_batch_id", table_name="contacts")
    op.drop_index("ix_contacts_item_id_occurred_at", table_name="contacts")
    op.drop_index("ix_contacts_envelope_id_occurred_at", table_name="contacts")
    op.drop_table("contacts")
    op.drop_index("uq_pickup_slots_day_id_starts_at", table_name="pickup_slots")
    op.drop_table("pickup_slots")
    op.drop_index("uq_pickup_days_day_location_id", table_name="pickup_days")
    op.drop_table("pickup_days")
    op.drop_table("notice_batches")
    op.drop_table("notice_templates")
