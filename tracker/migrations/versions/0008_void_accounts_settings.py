"""The counter and the office desk (issue 12): voids, forced password change, settings.

- ``handovers``: who voided a handover (交付取消), when and why, and a clerk's request for it.
- ``handover_items.voided``: the rows of a voided handover stay; the uniqueness of an item
  across handovers holds only among those that stand (a partial unique index replaces the
  plain one), so a voided item can be handed over again.
- ``users.must_change_password``: set for new accounts and after an admin reset.
- ``settings``: municipality, office, receipt addressee and opening hours as data.
- ``disposal_batches.certificate_issuer``: the names printed on a certificate, frozen.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("handovers") as batch_op:
        batch_op.add_column(sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("voided_by", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("void_reason", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("void_requested_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("void_requested_by", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("void_request_reason", sa.Text(), nullable=True))
    with op.batch_alter_table("handover_items") as batch_op:
        batch_op.add_column(
            sa.Column("voided", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.drop_constraint("uq_handover_items_item_id", type_="unique")
    op.create_index(
        "uq_handover_items_item_id_standing",
        "handover_items",
        ["item_id"],
        unique=True,
        sqlite_where=sa.text("NOT voided"),
        postgresql_where=sa.text("NOT voided"),
    )
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(
            sa.Column(
                "must_change_password", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )
    with op.batch_alter_table("disposal_batches") as batch_op:
        batch_op.add_column(sa.Column("certificate_issuer", sa.Text(), nullable=True))
    op.create_table(
        "settings",
        sa.Column("key", sa.String(length=50), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_settings")),
    )


def downgrade() -> None:
    op.drop_table("settings")
    with op.batch_alter_table("disposal_batches") as batch_op:
        batch_op.drop_column("certificate_issuer")
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("must_change_password")
    op.drop_index("uq_handover_items_item_id_standing", table_name="handover_items")
    op.execute("DELETE FROM handover_items WHERE voided")
    with op.batch_alter_table("handover_items") as batch_op:
        batch_op.create_unique_constraint("uq_handover_items_item_id", ["item_id"])
        batch_op.drop_column("voided")
    with op.batch_alter_table("handovers") as batch_op:
        for column in (
            "void_request_reason", "void_requested_by", "void_requested_at",
            "void_reason", "voided_by", "voided_at",
        ):
            batch_op.drop_column(column)
