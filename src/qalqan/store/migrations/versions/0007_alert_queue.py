"""alert queue indexes: each sort of the queue, alone and under a status filter, and by assignee

Revision ID: 0007
Revises: 0006
Create Date: 2027-01-15
"""

from __future__ import annotations

from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

#: (name, columns): `tables.Alert.__table_args__`.
INDEXES = (
    ('ix_alerts_created', ['created_at', 'id']),
    ('ix_alerts_score', ['score', 'id']),
    ('ix_alerts_status_created', ['status', 'created_at', 'id']),
    ('ix_alerts_status_score', ['status', 'score', 'id']),
    ('ix_alerts_status_updated', ['status', 'updated_at', 'id']),
    ('ix_alerts_assignee_status', ['assignee', 'status', 'id']),
)


def upgrade() -> None:
    for name, columns in INDEXES:
        op.create_index(name, 'alerts', columns, unique=False)


def downgrade() -> None:
    for name, _ in reversed(INDEXES):
        op.drop_index(name, table_name='alerts')
