"""alert decisions bound to their audit entries

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('alert_decisions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('audit_seq', sa.BigInteger(), nullable=True))
        batch_op.create_index(batch_op.f('ix_alert_decisions_audit_seq'), ['audit_seq'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('alert_decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_decisions_audit_seq'))
        batch_op.drop_column('audit_seq')
