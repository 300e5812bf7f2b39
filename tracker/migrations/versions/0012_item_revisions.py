"""Audit events without personal values (issue 16): ``item_revisions`` keeps the old and new
value of each corrected field of an item or envelope; the audit event keeps keyed digests.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op


revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "item_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("envelope_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("audit_seq", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.Column("changed_by", sa.String(length=100), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["envelope_id"], ["envelopes.id"], name=op.f("fk_item_revisions_envelope_id_envelopes")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_item_revisions_item_id_items")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_item_revisions")),
    )
    op.create_index("ix_item_revisions_item_id", "item_revisions", ["item_id"])
    op.create_index("ix_item_revisions_envelope_id", "item_revisions", ["envelope_id"])


def downgrade() -> None:
    op.drop_index("ix_item_revisions_envelope_id", table_name="item_revisions")
    op.drop_index("ix_item_revisions_item_id", table_name="item_revisions")
    op.drop_table("item_revisions")
