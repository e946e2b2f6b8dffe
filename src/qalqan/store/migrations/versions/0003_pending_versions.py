"""list versions: held as pending until an admin confirms (import guard)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('list_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=32), server_default='accepted', nullable=False))
        batch_op.add_column(sa.Column('held', sa.JSON(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('decided_by', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('decision_reason', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('list_versions', schema=None) as batch_op:
        batch_op.drop_column('decision_reason')
        batch_op.drop_column('decided_at')
        batch_op.drop_column('decided_by')
        batch_op.drop_column('held')
        batch_op.drop_column('status')
