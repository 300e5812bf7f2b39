"""Lock an account per (account, client address), not per account (issue 10).

- ``login_failures.client``: the address a wrong password came from. Failures already stored
  have none and are dropped: they matter for 15 minutes at most.
- ``login_locks``: one row per (account, address) that was locked. It replaces
  ``users.locked_until``; a lock in force at the upgrade is dropped with it (the account-wide
  lock is exactly what the change removes). The downgrade drops the per-address locks.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_locks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("locked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_login_locks_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_locks")),
        sa.UniqueConstraint("user_id", "client", name=op.f("uq_login_locks_user_id_client")),
    )
    op.execute("DELETE FROM login_failures")
    with op.batch_alter_table("login_failures") as batch_op:
        batch_op.add_column(sa.Column("client", sa.String(length=64), nullable=False))
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("locked_until")


def downgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("login_failures") as batch_op:
        batch_op.drop_column("client")
    op.drop_table("login_locks")
