"""Indexes for reading at scale: the auditor's outcome filter (refusals are rare: an index
finds them at once) and a covering (status, envelope_id) index for custody aggregates.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_audit_events_outcome_seq", "audit_events", ["outcome", "seq"])
    op.create_index("ix_items_status_envelope_id", "items", ["status", "envelope_id"])
    op.drop_index("ix_items_status", table_name="items")


def downgrade() -> None:
    op.create_index("ix_items_status", "items", ["status"])
    op.drop_index("ix_items_status_envelope_id", table_name="items")
    op.drop_index("ix_audit_events_outcome_seq", table_name="audit_events")
