"""A function the app role may call to refresh the statistics of envelopes and items (PostgreSQL).

An import of a large share of the table leaves the planner with the statistics of a table a
tenth as large, or of an empty one: the search page then read every item of a kana prefix
and sorted it instead of reading its 50 in index order (issue 18: 2.1 pages a second at
10,000,000 items). The import analyzes the two tables in its own transaction
(`tracker.services.importer.writing.refresh_statistics`). Only a table's owner may ANALYZE it
on PostgreSQL 15, and the app role owns nothing (`tracker.pgroles`), so this function runs
as the schema owner (SECURITY DEFINER) with the search path of this migration, and analyzes
those two tables and nothing else. SQLite keeps no statistics here: nothing to do there.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02
"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

#: SQLite's schema is left as it is (tests/cli/test_db_commands.py expects no change there).
CHANGES_SQLITE = False


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        """
        CREATE FUNCTION tracker_analyze(target text) RETURNS void
        LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
        BEGIN
            IF target = 'items' THEN
                ANALYZE items;
            ELSIF target = 'envelopes' THEN
                ANALYZE envelopes;
            ELSE
                RAISE EXCEPTION 'tracker_analyze: % is not a table it analyzes', target;
            END IF;
        END
        $$
        """
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION tracker_analyze(text)")
