"""Initial schema: locations, envelopes, items, rules, identity policy, users, audit log.

The audit log is append-only in the database itself (SPEC §8): triggers refuse UPDATE and
DELETE on ``audit_events`` in SQLite and PostgreSQL (and TRUNCATE in PostgreSQL).

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('audit_events',
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('object_type', sa.String(length=40), nullable=True),
    sa.Column('object_id', sa.String(length=64), nullable=True),
    sa.Column('outcome', sa.String(length=10), nullable=False),
    sa.Column('details', sa.Text(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.CheckConstraint("outcome IN ('ok', 'refused', 'failed')", name=op.f('ck_audit_events_outcome')),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_events')),
    sa.UniqueConstraint('hash', name=op.f('uq_audit_events_hash'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index('ix_audit_events_action_seq', ['action', 'seq'], unique=False)
        batch_op.create_index('ix_audit_events_actor_seq', ['actor', 'seq'], unique=False)
        batch_op.create_index('ix_audit_events_object', ['object_type', 'object_id', 'seq'], unique=False)
        batch_op.create_index('ix_audit_events_occurred_at', ['occurred_at'], unique=False)

    op.create_table('identity_policies',
    sa.Column('version', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('policy_json', sa.Text(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('version >= 1', name=op.f('ck_identity_policies_version')),
    sa.PrimaryKeyConstraint('version', name=op.f('pk_identity_policies'))
    )
    op.create_table('locations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_locations')),
    sa.UniqueConstraint('code', name=op.f('uq_locations_code')),
    sa.UniqueConstraint('name', name=op.f('uq_locations_name'))
    )
    op.create_table('retention_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('returned_from', sa.Date(), nullable=False),
    sa.Column('returned_to', sa.Date(), nullable=False),
    sa.Column('retain_until', sa.Date(), nullable=True),
    sa.Column('years', sa.Integer(), nullable=True),
    sa.Column('months', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(kind = 'fixed' AND retain_until IS NOT NULL AND years IS NULL AND months IS NULL) OR (kind = 'fiscal_year' AND years IS NOT NULL AND years >= 0     AND retain_until IS NULL AND months IS NULL) OR (kind = 'months_after' AND months IS NOT NULL AND months >= 0     AND retain_until IS NULL AND years IS NULL)", name=op.f('ck_retention_rules_parameters')),
    sa.CheckConstraint("kind IN ('fixed', 'fiscal_year', 'months_after')", name=op.f('ck_retention_rules_kind')),
    sa.CheckConstraint('returned_from <= returned_to', name=op.f('ck_retention_rules_window')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_retention_rules')),
    sa.UniqueConstraint('label', name=op.f('uq_retention_rules_label'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=100), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('failed_login_count', sa.Integer(), nullable=False),
    sa.Column('failed_login_window_start', sa.DateTime(timezone=True), nullable=True),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("role IN ('clerk', 'records_officer', 'auditor', 'admin')", name=op.f('ck_users_role')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_table('envelopes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('control_no', sa.String(length=20), nullable=False),
    sa.Column('tracking_no', sa.String(length=20), nullable=False),
    sa.Column('addressee', sa.String(length=200), nullable=False),
    sa.Column('address', sa.String(length=400), nullable=False),
    sa.Column('household_code', sa.String(length=20), nullable=True),
    sa.Column('returned_on', sa.Date(), nullable=False),
    sa.Column('return_reason', sa.String(length=20), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('slot', sa.String(length=50), nullable=True),
    sa.Column('intake_by', sa.String(length=100), nullable=False),
    sa.Column('intake_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("return_reason IN ('ATESHO_NASHI', 'ATENA_FUKANZEN', 'TENKYO_FUMEI', 'HOKAN_KEIKA', 'UKETORI_KYOZETSU', 'OTHER')", name=op.f('ck_envelopes_return_reason')),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_envelopes_location_id_locations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_envelopes')),
    sa.UniqueConstraint('control_no', name=op.f('uq_envelopes_control_no')),
    sa.UniqueConstraint('tracking_no', name=op.f('uq_envelopes_tracking_no'))
    )
    with op.batch_alter_table('envelopes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_envelopes_household_code'), ['household_code'], unique=False)
        batch_op.create_index('ix_envelopes_location_slot', ['location_id', 'slot'], unique=False)
        batch_op.create_index('ix_envelopes_returned_on', ['returned_on'], unique=False)

    op.create_table('user_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('end_reason', sa.String(length=20), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_sessions_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_user_sessions_token_hash'))
    )
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_sessions_user_id'), ['user_id'], unique=False)

    op.create_table('items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('control_no', sa.String(length=24), nullable=False),
    sa.Column('envelope_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('name_kana', sa.String(length=200), nullable=False),
    sa.Column('name_key', sa.String(length=200), nullable=False),
    sa.Column('kana_key', sa.String(length=200), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=False),
    sa.Column('relationship_to_head', sa.String(length=50), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('status_changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("kind IN ('notification_card', 'number_notice')", name=op.f('ck_items_kind')),
    sa.CheckConstraint("status IN ('in_custody', 'handed_over', 'destroyed')", name=op.f('ck_items_status')),
    sa.ForeignKeyConstraint(['envelope_id'], ['envelopes.id'], name=op.f('fk_items_envelope_id_envelopes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_items')),
    sa.UniqueConstraint('control_no', name=op.f('uq_items_control_no'))
    )
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.create_index('ix_items_birth_date', ['birth_date'], unique=False)
        batch_op.create_index('ix_items_kana_key', ['kana_key'], unique=False)
        batch_op.create_index('ix_items_name_key', ['name_key'], unique=False)
        batch_op.create_index('ix_items_status', ['status'], unique=False)
        batch_op.create_index('uq_items_envelope_id_position', ['envelope_id', 'position'], unique=True)

    op.create_table('holds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('placed_by', sa.String(length=100), nullable=False),
    sa.Column('placed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('released_by', sa.String(length=100), nullable=True),
    sa.Column('released_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('release_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_holds_item_id_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_holds'))
    )
    with op.batch_alter_table('holds', schema=None) as batch_op:
        batch_op.create_index('ix_holds_item_id_released_at', ['item_id', 'released_at'], unique=False)

    op.create_table('retention_extensions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('retain_until', sa.Date(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_retention_extensions_item_id_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_retention_extensions'))
    )
    with op.batch_alter_table('retention_extensions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_retention_extensions_item_id'), ['item_id'], unique=False)




    install_audit_triggers()


AUDIT_APPEND_ONLY = "audit_events is append-only (SPEC §8)"


def install_audit_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{AUDIT_APPEND_ONLY}' USING ERRCODE = 'insufficient_privilege';
            END;
            $$
            """
        )
        op.execute(
            "CREATE TRIGGER audit_events_no_update_delete BEFORE UPDATE OR DELETE ON audit_events"
            " FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events"
            " FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_events_no_{verb.lower()} BEFORE {verb} ON audit_events"
                f" BEGIN SELECT RAISE(ABORT, '{AUDIT_APPEND_ONLY}'); END"
            )


def drop_audit_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_events_no_truncate ON audit_events")
        op.execute("DROP TRIGGER audit_events_no_update_delete ON audit_events")
        op.execute("DROP FUNCTION audit_events_append_only()")
    else:
        op.execute("DROP TRIGGER audit_events_no_update")
        op.execute("DROP TRIGGER audit_events_no_delete")


def downgrade() -> None:
    drop_audit_triggers()

    with op.batch_alter_table('retention_extensions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_retention_extensions_item_id'))

    op.drop_table('retention_extensions')
    with op.batch_alter_table('holds', schema=None) as batch_op:
        batch_op.drop_index('ix_holds_item_id_released_at')

    op.drop_table('holds')
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_index('uq_items_envelope_id_position')
        batch_op.drop_index('ix_items_status')
        batch_op.drop_index('ix_items_name_key')
        batch_op.drop_index('ix_items_kana_key')
        batch_op.drop_index('ix_items_birth_date')

    op.drop_table('items')
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_sessions_user_id'))

    op.drop_table('user_sessions')
    with op.batch_alter_table('envelopes', schema=None) as batch_op:
        batch_op.drop_index('ix_envelopes_returned_on')
        batch_op.drop_index('ix_envelopes_location_slot')
        batch_op.drop_index(batch_op.f('ix_envelopes_household_code'))

    op.drop_table('envelopes')
    op.drop_table('users')
    op.drop_table('retention_rules')
    op.drop_table('locations')
    op.drop_table('identity_policies')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_occurred_at')
        batch_op.drop_index('ix_audit_events_object')
        batch_op.drop_index('ix_audit_events_actor_seq')
        batch_op.drop_index('ix_audit_events_action_seq')

    op.drop_table('audit_events')

