"""Two indexes that a million items need (issue 18, measured with ``scripts/bench``).

- ``ix_handover_items_item_id``: the item page lists the item's handovers, voided ones
  included. The only index on ``item_id`` was the partial unique one of standing handovers,
  which cannot answer that: SQLite walked every handover in time order instead (42–47 ms a
  page with 100,000 handovers).
- ``ix_items_kana_order`` on ``(kana_key, birth_date, id)``: the search's order. A kana prefix
  shared by 22,000 of a million items was read whole and sorted for each page of 50 (170 ms);
  with the order in the index the page reads its 51 rows. It replaces ``ix_items_kana_key``,
  whose column it starts with.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01
"""

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_handover_items_item_id", "handover_items", ["item_id"])
    op.create_index("ix_items_kana_order", "items", ["kana_key", "birth_date", "id"])
    op.drop_index("ix_items_kana_key", table_name="items")


def downgrade() -> None:
    op.create_index("ix_items_kana_key", "items", ["kana_key"])
    op.drop_index("ix_items_kana_order", table_name="items")
    op.drop_index("ix_handover_items_item_id", table_name="handover_items")
