"""Disposal batches and their frozen items (SPEC §5).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('disposal_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('certificate_no', sa.String(length=20), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('approved_by', sa.String(length=100), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_by', sa.String(length=100), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancel_reason', sa.Text(), nullable=True),
    sa.Column('executed_by', sa.String(length=100), nullable=True),
    sa.Column('executed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('destroyed_on', sa.Date(), nullable=True),
    sa.Column('method', sa.String(length=20), nullable=True),
    sa.Column('place', sa.String(length=200), nullable=True),
    sa.Column('executor', sa.String(length=100), nullable=True),
    sa.Column('witness', sa.String(length=100), nullable=True),
    sa.Column('contractor_name', sa.String(length=200), nullable=True),
    sa.Column('contractor_certificate_no', sa.String(length=100), nullable=True),
    sa.Column('audit_head_seq', sa.Integer(), nullable=True),
    sa.Column('audit_head_hash', sa.String(length=64), nullable=True),
    sa.Column('certificate_sha256', sa.String(length=64), nullable=True),
    sa.CheckConstraint("method IS NULL OR method IN ('shredding', 'pulping', 'incineration')", name=op.f('ck_disposal_batches_method')),
    sa.CheckConstraint("status IN ('created', 'approved', 'executed', 'cancelled')", name=op.f('ck_disposal_batches_status')),
    sa.CheckConstraint('approved_by IS NULL OR approved_by <> created_by', name=op.f('ck_disposal_batches_four_eyes')),
    sa.CheckConstraint('witness IS NULL OR witness <> executor', name=op.f('ck_disposal_batches_two_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disposal_batches')),
    sa.UniqueConstraint('certificate_no', name=op.f('uq_disposal_batches_certificate_no')),
    sa.UniqueConstraint('certificate_sha256', name=op.f('uq_disposal_batches_certificate_sha256'))
    )
    op.create_table('disposal_batch_items',
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('rule_label', sa.String(length=100), nullable=False),
    sa.Column('retain_until', sa.Date(), nullable=False),
    sa.Column('outcome', sa.String(length=10), nullable=False),
    sa.Column('skip_reason', sa.String(length=200), nullable=True),
    sa.Column('control_no', sa.String(length=24), nullable=False),
    sa.Column('tracking_no', sa.String(length=20), nullable=True),
    sa.Column('returned_on', sa.Date(), nullable=True),
    sa.Column('masked_name', sa.String(length=100), nullable=True),
    sa.CheckConstraint("outcome IN ('pending', 'destroyed', 'skipped')", name=op.f('ck_disposal_batch_items_outcome')),
    sa.ForeignKeyConstraint(['batch_id'], ['disposal_batches.id'], name=op.f('fk_disposal_batch_items_batch_id_disposal_batches')),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_disposal_batch_items_item_id_items')),
    sa.PrimaryKeyConstraint('batch_id', 'item_id', name=op.f('pk_disposal_batch_items'))
    )
    with op.batch_alter_table('disposal_batch_items', schema=None) as batch_op:
        batch_op.create_index('ix_disposal_batch_items_item_id', ['item_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('disposal_batch_items', schema=None) as batch_op:
        batch_op.drop_index('ix_disposal_batch_items_item_id')

    op.drop_table('disposal_batch_items')
    op.drop_table('disposal_batches')
