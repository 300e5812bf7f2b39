"""Sliding-window login failures; the database itself only lets events extend the chain.

- ``login_failures`` replaces the fixed-window counter on ``users``: "5 failures in 15 minutes"
  is counted over the last 15 minutes, not from the first failure.
- A BEFORE INSERT trigger on ``audit_events`` refuses any row that does not extend the chain
  (``seq`` = last + 1 and ``prev_hash`` = last hash). Together with the UPDATE/DELETE triggers
  this also stops SQLite's ``INSERT OR REPLACE``, which fires no DELETE trigger.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

GENESIS = "0" * 64
MESSAGE = "audit_events: a new event must extend the chain (SPEC §8)"


def upgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_login_failures_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
    )
    op.create_index(
        "ix_login_failures_user_id_failed_at", "login_failures", ["user_id", "failed_at"]
    )
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("failed_login_window_start")
        batch_op.drop_column("failed_login_count")
    _create_insert_guard()


def _create_insert_guard() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION audit_events_extend_only() RETURNS trigger LANGUAGE plpgsql AS $$
            DECLARE
                last_seq integer;
                last_hash varchar(64);
            BEGIN
                SELECT seq, hash INTO last_seq, last_hash
                  FROM audit_events ORDER BY seq DESC LIMIT 1;
                IF NEW.seq <> COALESCE(last_seq, 0) + 1
                   OR NEW.prev_hash <> COALESCE(last_hash, '{GENESIS}') THEN
                    RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'check_violation';
                END IF;
                RETURN NEW;
            END;
            $$
            """
        )
        op.execute(
            "CREATE TRIGGER audit_events_extend_only BEFORE INSERT ON audit_events"
            " FOR EACH ROW EXECUTE FUNCTION audit_events_extend_only()"
        )
    else:
        op.execute(
            f"""
            CREATE TRIGGER audit_events_extend_only BEFORE INSERT ON audit_events
            WHEN NEW.seq <> COALESCE((SELECT MAX(seq) FROM audit_events), 0) + 1
              OR NEW.prev_hash <> COALESCE(
                   (SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1), '{GENESIS}')
            BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
            """
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_events_extend_only ON audit_events")
        op.execute("DROP FUNCTION audit_events_extend_only()")
    else:
        op.execute("DROP TRIGGER audit_events_extend_only")
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(
            sa.Column("failed_login_count", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("failed_login_window_start", sa.DateTime(timezone=True), nullable=True)
        )
    op.drop_index("ix_login_failures_user_id_failed_at", table_name="login_failures")
    op.drop_table("login_failures")
