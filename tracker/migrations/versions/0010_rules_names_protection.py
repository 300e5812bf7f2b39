"""Rules as offices write them, names as registered, protected persons (issue 14).

- ``items``: ``alias`` and its search key (通称), the event dates rules count from
  (``notice_sent_on``, ``first_notice_on``, ``renotice_on``) and ``card_expires_on``; the kind
  may also be ``mynumber_card`` (未受領のマイナンバーカード).
- ``retention_rules``: ``item_kinds`` and ``sub_rules`` (``later_of``); the kind, parameter
  and anchor CHECKs rebuilt.
- ``protections``: 支援措置 flags on items.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

SEARCH_KEY = sa.String(length=200).with_variant(sa.String(200, collation="C"), "postgresql")

OLD_KINDS = "'notification_card', 'number_notice'"
NEW_KINDS = "'notification_card', 'number_notice', 'mynumber_card'"
OLD_ANCHORS = "'returned_on', 'register_event_on'"
NEW_ANCHORS = "'returned_on', 'register_event_on', 'notice_sent_on', 'first_notice_on', 'renotice_on'"
OLD_RULE_KINDS = "'fixed', 'fiscal_year', 'months_after', 'period_from'"
NEW_RULE_KINDS = "'fixed', 'fiscal_year', 'months_after', 'period_from', 'later_of'"
OLD_PARAMETERS = (
    "(kind = 'fixed' AND retain_until IS NOT NULL AND years IS NULL AND months IS NULL)"
    " OR (kind = 'fiscal_year' AND years IS NOT NULL AND years >= 0"
    "     AND retain_until IS NULL AND months IS NULL)"
    " OR (kind = 'months_after' AND months IS NOT NULL AND months >= 0"
    "     AND retain_until IS NULL AND years IS NULL)"
    " OR (kind = 'period_from' AND anchor IS NOT NULL AND period_count IS NOT NULL"
    "     AND period_count >= 0 AND period_unit IS NOT NULL"
    "     AND retain_until IS NULL AND years IS NULL AND months IS NULL)"
)
NEW_PARAMETERS = OLD_PARAMETERS + (
    " OR (kind = 'later_of' AND sub_rules IS NOT NULL AND retain_until IS NULL"
    "     AND years IS NULL AND months IS NULL AND anchor IS NULL"
    "     AND period_count IS NULL)"
)


def upgrade() -> None:
    with op.batch_alter_table("items") as batch_op:
        batch_op.add_column(sa.Column("alias", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("alias_key", SEARCH_KEY, nullable=True))
        batch_op.add_column(sa.Column("notice_sent_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("first_notice_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("renotice_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("card_expires_on", sa.Date(), nullable=True))
        batch_op.drop_constraint(op.f("ck_items_kind"), type_="check")
        batch_op.create_check_constraint("kind", f"kind IN ({NEW_KINDS})")
        batch_op.create_index("ix_items_alias_key", ["alias_key"])

    with op.batch_alter_table("retention_rules") as batch_op:
        batch_op.add_column(sa.Column("item_kinds", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("sub_rules", sa.Text(), nullable=True))
        batch_op.drop_constraint(op.f("ck_retention_rules_kind"), type_="check")
        batch_op.create_check_constraint("kind", f"kind IN ({NEW_RULE_KINDS})")
        batch_op.drop_constraint(op.f("ck_retention_rules_parameters"), type_="check")
        batch_op.create_check_constraint("parameters", NEW_PARAMETERS)
        batch_op.drop_constraint(op.f("ck_retention_rules_anchor"), type_="check")
        batch_op.create_check_constraint("anchor", f"anchor IS NULL OR anchor IN ({NEW_ANCHORS})")

    op.create_table(
        "protections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("review_on", sa.Date(), nullable=False),
        sa.Column("placed_by", sa.String(length=100), nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_by", sa.String(length=100), nullable=True),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("release_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_protections_item_id_items")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_protections")),
    )
    op.create_index(
        "ix_protections_item_id_released_at", "protections", ["item_id", "released_at"]
    )


def downgrade() -> None:
    op.drop_table("protections")
    op.execute("DELETE FROM retention_rules WHERE kind = 'later_of' OR anchor IN"
               " ('notice_sent_on', 'first_notice_on', 'renotice_on')")
    with op.batch_alter_table("retention_rules") as batch_op:
        batch_op.drop_constraint(op.f("ck_retention_rules_anchor"), type_="check")
        batch_op.create_check_constraint("anchor", f"anchor IS NULL OR anchor IN ({OLD_ANCHORS})")
        batch_op.drop_constraint(op.f("ck_retention_rules_parameters"), type_="check")
        batch_op.create_check_constraint("parameters", OLD_PARAMETERS)
        batch_op.drop_constraint(op.f("ck_retention_rules_kind"), type_="check")
        batch_op.create_check_constraint("kind", f"kind IN ({OLD_RULE_KINDS})")
        batch_op.drop_column("sub_rules")
        batch_op.drop_column("item_kinds")
    # Unclaimed My Number cards have no place in the old schema: counted as notices.
    op.execute("UPDATE items SET kind = 'number_notice' WHERE kind = 'mynumber_card'")
    with op.batch_alter_table("items") as batch_op:
        batch_op.drop_index("ix_items_alias_key")
        batch_op.drop_constraint(op.f("ck_items_kind"), type_="check")
        batch_op.create_check_constraint("kind", f"kind IN ({OLD_KINDS})")
        for column in (
            "card_expires_on", "renotice_on", "first_notice_on", "notice_sent_on",
            "alias_key", "alias",
        ):
            batch_op.drop_column(column)
