"""terrorist-content indicators held by this node, and checked files kept on request

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('content_indicators',
    sa.Column('id', sa.String(length=200), nullable=False),
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.Column('value', sa.String(length=2048), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('source_org', sa.String(length=200), nullable=False),
    sa.Column('source_list', sa.String(length=200), nullable=False),
    sa.Column('tlp', sa.String(length=32), nullable=False),
    sa.Column('valid_from', sa.DateTime(timezone=True), nullable=True),
    sa.Column('valid_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('meta', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('retracted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('retracted_by', sa.String(length=200), nullable=True),
    sa.Column('retract_reason', sa.Text(), nullable=True),
    sa.Column('stix_id', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_content_indicators_value', 'content_indicators', ['type', 'value'], unique=False)
    op.create_index('ix_content_indicators_list', 'content_indicators', ['source_list'], unique=False)
    op.create_index('ix_content_indicators_updated', 'content_indicators', ['updated_at'], unique=False)
    op.create_table('content_samples',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('filename', sa.String(length=1000), nullable=False),
    sa.Column('media_type', sa.String(length=200), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('kept_by', sa.String(length=200), nullable=False),
    sa.Column('kept_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('sha256')
    )


def downgrade() -> None:
    op.drop_table('content_samples')
    op.drop_index('ix_content_indicators_updated', table_name='content_indicators')
    op.drop_index('ix_content_indicators_list', table_name='content_indicators')
    op.drop_index('ix_content_indicators_value', table_name='content_indicators')
    op.drop_table('content_indicators')
