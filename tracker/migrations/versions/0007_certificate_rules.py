"""Freeze the rule texts a certificate prints (issue 10).

A certificate printed each cohort's rule as it stood *when rendered*: editing a rule after
execution changed the PDF's bytes, and the copy issued no longer matched its SHA-256.
``disposal_batches.certificate_rules`` keeps the texts as they were at execution. Batches
executed before this revision have none and are rendered from the rules as they are.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("disposal_batches") as batch_op:
        batch_op.add_column(sa.Column("certificate_rules", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("disposal_batches") as batch_op:
        batch_op.drop_column("certificate_rules")
