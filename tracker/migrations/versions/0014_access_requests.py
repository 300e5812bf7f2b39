"""Access requests (開示請求, issue 16 item 3): ``access_requests`` (the office's reference
number, received date, status, who created, approved and exported) and the items the officer
ticked as the person's (``access_request_items``). No name or birth date is stored.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

STATUSES = "'pending_approval', 'ready', 'exported', 'cancelled'"


def upgrade() -> None:
    op.create_table(
        "access_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference_no", sa.String(length=40), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("requires_approval", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.String(length=100), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("exported_by", sa.String(length=100), nullable=True),
        sa.Column("exported_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("export_count", sa.Integer(), nullable=False),
        sa.Column("cancelled_by", sa.String(length=100), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(f"status IN ({STATUSES})", name=op.f("ck_access_requests_status")),
        sa.CheckConstraint("export_count >= 0", name=op.f("ck_access_requests_export_count")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_requests")),
        sa.UniqueConstraint("reference_no", name=op.f("uq_access_requests_reference_no")),
    )
    op.create_table(
        "access_request_items",
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["access_requests.id"],
            name=op.f("fk_access_request_items_request_id_access_requests"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_access_request_items_item_id_items")
        ),
        sa.PrimaryKeyConstraint("request_id", "item_id", name=op.f("pk_access_request_items")),
    )
    op.create_index(
        "ix_access_request_items_item_id", "access_request_items", ["item_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_access_request_items_item_id", table_name="access_request_items")
    op.drop_table("access_request_items")
    op.drop_table("access_requests")
