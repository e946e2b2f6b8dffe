"""how each list's last fetch ended

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


# Plain ALTER TABLE (no batch copy): `lists` is referenced by other tables' foreign keys, and
# SQLite (>= 3.35) adds and drops columns in place.
def upgrade() -> None:
    op.add_column('lists', sa.Column('fetch_status', sa.String(length=32), nullable=True))
    op.add_column('lists', sa.Column('fetch_error', sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column('lists', 'fetch_error')
    op.drop_column('lists', 'fetch_status')
