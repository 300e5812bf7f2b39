"""The PostgreSQL extend-only trigger always finds the chain head through the primary key.

The trigger function (migration 0002) reads the newest event with ``ORDER BY seq DESC LIMIT 1``.
PL/pgSQL plans that query once per connection and keeps the plan: a connection whose first
append ran while ``audit_events`` held a few rows (after an ANALYZE) kept a sequential scan and
sort, so each append read the whole log, and inserting many events in one session became
quadratic (measured: 2,000 events 1.0 s, 4,000 3.6 s, 8,000 15.2 s, against 0.08 / 0.19 / 0.34 s
with the index; see docs/measured.md). The function now plans with sequential scans disabled,
so the head is found by a backward scan of the primary-key index whatever the statistics said
when the plan was made. The check itself is unchanged. SQLite's trigger is planned on every
statement and always uses the rowid: nothing to do there.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

#: SQLite's schema is left as it is (tests/cli/test_db_commands.py expects no change there).
CHANGES_SQLITE = False


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER FUNCTION audit_events_extend_only() SET enable_seqscan = off")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER FUNCTION audit_events_extend_only() RESET enable_seqscan")
