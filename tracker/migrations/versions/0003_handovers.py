"""Handovers and their items; byte-order collation for search keys on PostgreSQL.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "handovers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("receipt_no", sa.String(length=20), nullable=False),
        sa.Column("envelope_id", sa.Integer(), nullable=False),
        sa.Column("handed_over_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("clerk", sa.String(length=100), nullable=False),
        sa.Column("recipient_kind", sa.String(length=20), nullable=False),
        sa.Column("recipient_name", sa.String(length=100), nullable=True),
        sa.Column("documents", sa.Text(), nullable=False),
        sa.Column("principal_documents", sa.Text(), nullable=True),
        sa.Column("letter_of_attorney_date", sa.Date(), nullable=True),
        sa.Column("authority_proof", sa.String(length=40), nullable=True),
        sa.Column("policy_version", sa.Integer(), nullable=False),
        sa.Column("receipt_printed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "recipient_kind IN ('self', 'household', 'proxy', 'legal_rep')",
            name=op.f("ck_handovers_recipient_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["envelope_id"], ["envelopes.id"], name=op.f("fk_handovers_envelope_id_envelopes")
        ),
        sa.ForeignKeyConstraint(
            ["policy_version"],
            ["identity_policies.version"],
            name=op.f("fk_handovers_policy_version_identity_policies"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handovers")),
        sa.UniqueConstraint("receipt_no", name=op.f("uq_handovers_receipt_no")),
    )
    op.create_index("ix_handovers_clerk_handed_over_at", "handovers", ["clerk", "handed_over_at"])
    op.create_index("ix_handovers_handed_over_at", "handovers", ["handed_over_at"])
    op.create_index(op.f("ix_handovers_envelope_id"), "handovers", ["envelope_id"])
    op.create_table(
        "handover_items",
        sa.Column("handover_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["handover_id"], ["handovers.id"], name=op.f("fk_handover_items_handover_id_handovers")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_handover_items_item_id_items")
        ),
        sa.PrimaryKeyConstraint("handover_id", "item_id", name=op.f("pk_handover_items")),
        sa.UniqueConstraint("item_id", name=op.f("uq_handover_items_item_id")),
    )
    if op.get_bind().dialect.name == "postgresql":
        for column in ("name_key", "kana_key"):
            op.alter_column(
                "items", column, type_=sa.String(200, collation="C"),
                existing_type=sa.String(200), existing_nullable=False,
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for column in ("name_key", "kana_key"):
            op.alter_column(
                "items", column, type_=sa.String(200),
                existing_type=sa.String(200, collation="C"), existing_nullable=False,
            )
    op.drop_table("handover_items")
    op.drop_index(op.f("ix_handovers_envelope_id"), table_name="handovers")
    op.drop_index("ix_handovers_handed_over_at", table_name="handovers")
    op.drop_index("ix_handovers_clerk_handed_over_at", table_name="handovers")
    op.drop_table("handovers")
