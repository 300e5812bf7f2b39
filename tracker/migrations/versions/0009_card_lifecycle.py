"""The whole life of a returned card (issue 13).

- ``items.status`` may also be ``remailed``, ``redelivered`` and ``lost`` (CHECK rebuilt).
- ``register_results``: the latest resident-register result per item (住基照合).
- ``remailings``: cards mailed again with a new tracking number (再送付).
- ``stock_checks`` and ``stock_check_entries``: stock checks per location (棚卸).
- ``loss_reports``: losses confirmed by a records officer (紛失).
- ``holds.kind`` (``general`` | ``investigation`` = 所在調査中) and ``holds.stock_check_id``.
- ``disposal_batch_items``: the eligibility reason frozen with the batch, and who excluded an
  item from an approved batch and when.
- ``retention_rules``: ``period_from`` rules (anchor, period, register outcomes).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

OLD_STATUSES = "'in_custody', 'handed_over', 'destroyed'"
NEW_STATUSES = "'in_custody', 'handed_over', 'remailed', 'redelivered', 'destroyed', 'lost'"

OLD_RULE_PARAMETERS = (
    "(kind = 'fixed' AND retain_until IS NOT NULL AND years IS NULL AND months IS NULL)"
    " OR (kind = 'fiscal_year' AND years IS NOT NULL AND years >= 0"
    "     AND retain_until IS NULL AND months IS NULL)"
    " OR (kind = 'months_after' AND months IS NOT NULL AND months >= 0"
    "     AND retain_until IS NULL AND years IS NULL)"
)
NEW_RULE_PARAMETERS = OLD_RULE_PARAMETERS + (
    " OR (kind = 'period_from' AND anchor IS NOT NULL AND period_count IS NOT NULL"
    "     AND period_count >= 0 AND period_unit IS NOT NULL"
    "     AND retain_until IS NULL AND years IS NULL AND months IS NULL)"
)


def upgrade() -> None:
    # --- item status ---------------------------------------------------------------------
    with op.batch_alter_table("items") as batch_op:
        batch_op.drop_constraint(op.f("ck_items_status"), type_="check")
        batch_op.create_check_constraint("status", f"status IN ({NEW_STATUSES})")

    # --- resident-register results -----------------------------------------------------------
    op.create_table(
        "register_results",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("event_on", sa.Date(), nullable=True),
        sa.Column("checked_on", sa.Date(), nullable=False),
        sa.Column("checked_by", sa.String(length=100), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "outcome IN ('resident', 'moved_within', 'moved_out', 'deceased', 'struck_off',"
            " 'emigrated')",
            name=op.f("ck_register_results_outcome"),
        ),
        sa.CheckConstraint(
            "source IN ('counter', 'file')", name=op.f("ck_register_results_source")
        ),
        sa.CheckConstraint(
            "outcome = 'resident' OR event_on IS NOT NULL",
            name=op.f("ck_register_results_event_date"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_register_results_item_id_items")
        ),
        sa.PrimaryKeyConstraint("item_id", name=op.f("pk_register_results")),
    )
    op.create_index(
        "ix_register_results_outcome_event_on", "register_results", ["outcome", "event_on"]
    )

    # --- re-mailing --------------------------------------------------------------------------
    op.create_table(
        "remailings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("from_envelope_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("requested_by_whom", sa.String(length=100), nullable=False),
        sa.Column("request_reason", sa.Text(), nullable=False),
        sa.Column("address_kind", sa.String(length=12), nullable=False),
        sa.Column("address", sa.String(length=400), nullable=True),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tracking_no", sa.String(length=20), nullable=True),
        sa.Column("mailed_on", sa.Date(), nullable=True),
        sa.Column("mailed_by", sa.String(length=100), nullable=True),
        sa.Column("return_envelope_id", sa.Integer(), nullable=True),
        sa.Column("closed_by", sa.String(length=100), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('requested', 'mailed', 'returned', 'delivered', 'cancelled')",
            name=op.f("ck_remailings_status"),
        ),
        sa.CheckConstraint(
            "address_kind IN ('registered', 'residence', 'forwarding')",
            name=op.f("ck_remailings_address_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_remailings_item_id_items")
        ),
        sa.ForeignKeyConstraint(
            ["from_envelope_id"],
            ["envelopes.id"],
            name=op.f("fk_remailings_from_envelope_id_envelopes"),
        ),
        sa.ForeignKeyConstraint(
            ["return_envelope_id"],
            ["envelopes.id"],
            name=op.f("fk_remailings_return_envelope_id_envelopes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remailings")),
        sa.UniqueConstraint("tracking_no", name=op.f("uq_remailings_tracking_no")),
    )
    op.create_index("ix_remailings_item_id", "remailings", ["item_id"])
    op.create_index("ix_remailings_status_mailed_on", "remailings", ["status", "mailed_on"])
    op.create_index("ix_remailings_from_envelope_id", "remailings", ["from_envelope_id"])

    # --- stock checks ------------------------------------------------------------------------
    op.create_table(
        "stock_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("check_no", sa.String(length=20), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("slot_from", sa.String(length=50), nullable=True),
        sa.Column("slot_to", sa.String(length=50), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("started_by", sa.String(length=100), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_by", sa.String(length=100), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("signed_off_by", sa.String(length=100), nullable=True),
        sa.Column("signed_off_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_by", sa.String(length=100), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'closed', 'signed_off', 'cancelled')",
            name=op.f("ck_stock_checks_status"),
        ),
        sa.CheckConstraint(
            "signed_off_by IS NULL OR signed_off_by <> closed_by",
            name=op.f("ck_stock_checks_two_people"),
        ),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_stock_checks_location_id_locations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_checks")),
        sa.UniqueConstraint("check_no", name=op.f("uq_stock_checks_check_no")),
    )
    op.create_index(
        "ix_stock_checks_location_id_status", "stock_checks", ["location_id", "status"]
    )
    op.create_table(
        "stock_check_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("check_id", sa.Integer(), nullable=False),
        sa.Column("envelope_id", sa.Integer(), nullable=True),
        sa.Column("scanned_code", sa.String(length=40), nullable=True),
        sa.Column("expected", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("ledger_location_id", sa.Integer(), nullable=True),
        sa.Column("ledger_slot", sa.String(length=50), nullable=True),
        sa.Column("scanned_by", sa.String(length=100), nullable=True),
        sa.Column("scanned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("moved_by", sa.String(length=100), nullable=True),
        sa.Column("moved_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "outcome IS NULL OR outcome IN ('found', 'found_elsewhere', 'missing', 'unexpected')",
            name=op.f("ck_stock_check_entries_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["check_id"], ["stock_checks.id"], name=op.f("fk_stock_check_entries_check_id_stock_checks")
        ),
        sa.ForeignKeyConstraint(
            ["envelope_id"],
            ["envelopes.id"],
            name=op.f("fk_stock_check_entries_envelope_id_envelopes"),
        ),
        sa.ForeignKeyConstraint(
            ["ledger_location_id"],
            ["locations.id"],
            name=op.f("fk_stock_check_entries_ledger_location_id_locations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_check_entries")),
    )
    op.create_index(
        "uq_stock_check_entries_check_id_envelope_id",
        "stock_check_entries",
        ["check_id", "envelope_id"],
        unique=True,
    )

    # --- losses ------------------------------------------------------------------------------
    op.create_table(
        "loss_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_no", sa.String(length=20), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("stock_check_id", sa.Integer(), nullable=True),
        sa.Column("circumstances", sa.Text(), nullable=False),
        sa.Column("confirmed_by", sa.String(length=100), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("found_by", sa.String(length=100), nullable=True),
        sa.Column("found_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("found_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_loss_reports_item_id_items")
        ),
        sa.ForeignKeyConstraint(
            ["stock_check_id"],
            ["stock_checks.id"],
            name=op.f("fk_loss_reports_stock_check_id_stock_checks"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loss_reports")),
        sa.UniqueConstraint("report_no", name=op.f("uq_loss_reports_report_no")),
    )
    op.create_index("ix_loss_reports_item_id", "loss_reports", ["item_id"])

    # --- holds -------------------------------------------------------------------------------
    with op.batch_alter_table("holds") as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=20), server_default="general", nullable=False)
        )
        batch_op.add_column(sa.Column("stock_check_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_holds_stock_check_id_stock_checks", "stock_checks", ["stock_check_id"], ["id"]
        )
        batch_op.create_check_constraint("kind", "kind IN ('general', 'investigation')")

    # --- disposal ------------------------------------------------------------------------------
    with op.batch_alter_table("disposal_batch_items") as batch_op:
        batch_op.add_column(sa.Column("eligibility_reason", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("excluded_by", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("excluded_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_constraint(op.f("ck_disposal_batch_items_outcome"), type_="check")
        batch_op.create_check_constraint(
            "outcome", "outcome IN ('pending', 'destroyed', 'skipped', 'excluded')"
        )

    # --- retention rules -----------------------------------------------------------------------
    with op.batch_alter_table("retention_rules") as batch_op:
        batch_op.add_column(sa.Column("anchor", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("period_count", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("period_unit", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("register_outcomes", sa.String(length=200), nullable=True))
        batch_op.drop_constraint(op.f("ck_retention_rules_kind"), type_="check")
        batch_op.create_check_constraint(
            "kind", "kind IN ('fixed', 'fiscal_year', 'months_after', 'period_from')"
        )
        batch_op.drop_constraint(op.f("ck_retention_rules_parameters"), type_="check")
        batch_op.create_check_constraint("parameters", NEW_RULE_PARAMETERS)
        batch_op.create_check_constraint(
            "anchor", "anchor IS NULL OR anchor IN ('returned_on', 'register_event_on')"
        )
        batch_op.create_check_constraint(
            "period_unit", "period_unit IS NULL OR period_unit IN ('days', 'months', 'years')"
        )


def downgrade() -> None:
    op.execute("DELETE FROM retention_rules WHERE kind = 'period_from'")
    with op.batch_alter_table("retention_rules") as batch_op:
        batch_op.drop_constraint(op.f("ck_retention_rules_period_unit"), type_="check")
        batch_op.drop_constraint(op.f("ck_retention_rules_anchor"), type_="check")
        batch_op.drop_constraint(op.f("ck_retention_rules_parameters"), type_="check")
        batch_op.create_check_constraint("parameters", OLD_RULE_PARAMETERS)
        batch_op.drop_constraint(op.f("ck_retention_rules_kind"), type_="check")
        batch_op.create_check_constraint(
            "kind", "kind IN ('fixed', 'fiscal_year', 'months_after')"
        )
        for column in ("register_outcomes", "period_unit", "period_count", "anchor"):
            batch_op.drop_column(column)
    op.execute("UPDATE disposal_batch_items SET outcome = 'skipped' WHERE outcome = 'excluded'")
    with op.batch_alter_table("disposal_batch_items") as batch_op:
        batch_op.drop_constraint(op.f("ck_disposal_batch_items_outcome"), type_="check")
        batch_op.create_check_constraint(
            "outcome", "outcome IN ('pending', 'destroyed', 'skipped')"
        )
        for column in ("excluded_at", "excluded_by", "eligibility_reason"):
            batch_op.drop_column(column)
    with op.batch_alter_table("holds") as batch_op:
        batch_op.drop_constraint(op.f("ck_holds_kind"), type_="check")
        batch_op.drop_constraint(op.f("fk_holds_stock_check_id_stock_checks"), type_="foreignkey")
        batch_op.drop_column("stock_check_id")
        batch_op.drop_column("kind")
    op.drop_table("loss_reports")
    op.drop_table("stock_check_entries")
    op.drop_table("stock_checks")
    op.drop_table("remailings")
    op.drop_table("register_results")
    # Statuses that did not exist before: back to what the old schema can hold.
    op.execute("UPDATE items SET status = 'in_custody' WHERE status IN ('remailed', 'lost')")
    op.execute("UPDATE items SET status = 'handed_over' WHERE status = 'redelivered'")
    with op.batch_alter_table("items") as batch_op:
        batch_op.drop_constraint(op.f("ck_items_status"), type_="check")
        batch_op.create_check_constraint("status", f"status IN ({OLD_STATUSES})")
