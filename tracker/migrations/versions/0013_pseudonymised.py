"""Retention of the tracker's own records (issue 16): ``tracker purge`` marks the items and
envelopes whose personal values it replaced with placeholders.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("pseudonymised_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("envelopes") as batch:
        batch.add_column(sa.Column("pseudonymised_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("envelopes") as batch:
        batch.drop_column("pseudonymised_at")
    with op.batch_alter_table("items") as batch:
        batch.drop_column("pseudonymised_at")
