"""travel screening: messages as received, travellers, lost and stolen documents,
re-personalisation requests; alerts may name a traveller instead of a subject

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('travel_messages',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=True),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('error_segment', sa.String(length=32), nullable=True),
    sa.Column('error_position', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=1000), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_by', sa.String(length=200), nullable=False),
    sa.Column('messages', sa.JSON(), nullable=False),
    sa.Column('warnings', sa.JSON(), nullable=False),
    sa.Column('travellers', sa.Integer(), nullable=False),
    sa.Column('hits', sa.Integer(), nullable=False),
    sa.Column('first_departure', sa.DateTime(timezone=True), nullable=True),
    sa.Column('raw', sa.LargeBinary(), nullable=True),
    sa.Column('sealed', sa.LargeBinary(), nullable=True),
    sa.Column('depersonalised_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('hold', sa.String(length=200), nullable=True),
    sa.Column('hold_by', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_travel_messages_received', 'travel_messages', ['received_at', 'id'], unique=False)
    op.create_index('ix_travel_messages_sha256', 'travel_messages', ['sha256'], unique=False)
    op.create_table('travellers',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('message_id', BigId, nullable=False),
    sa.Column('part', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('surname', sa.String(length=1000), nullable=False),
    sa.Column('given_names', sa.String(length=1000), nullable=False),
    sa.Column('birth_date', sa.String(length=32), nullable=True),
    sa.Column('gender', sa.String(length=32), nullable=True),
    sa.Column('nationality', sa.String(length=32), nullable=True),
    sa.Column('residence_country', sa.String(length=32), nullable=True),
    sa.Column('documents', sa.JSON(), nullable=False),
    sa.Column('booking_reference', sa.String(length=32), nullable=True),
    sa.Column('legs', sa.JSON(), nullable=False),
    sa.Column('address', sa.Text(), nullable=True),
    sa.Column('contacts', sa.JSON(), nullable=False),
    sa.Column('frequent_flyer', sa.String(length=200), nullable=True),
    sa.Column('payment', sa.Text(), nullable=True),
    sa.Column('remarks', sa.JSON(), nullable=False),
    sa.Column('tickets', sa.JSON(), nullable=False),
    sa.Column('doc_keys', sa.Text(), nullable=False),
    sa.Column('first_departure', sa.DateTime(timezone=True), nullable=True),
    sa.Column('masked', sa.Boolean(), nullable=False),
    sa.Column('sealed', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['message_id'], ['travel_messages.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_travellers_message', 'travellers', ['message_id', 'part', 'position'], unique=False)
    op.create_table('lost_documents',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('version_id', BigId, nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('number', sa.String(length=200), nullable=False),
    sa.Column('country', sa.String(length=32), nullable=True),
    sa.Column('type', sa.String(length=200), nullable=True),
    sa.Column('reported', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['version_id'], ['list_versions.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_lost_documents_key', 'lost_documents', ['version_id', 'key'], unique=False)
    op.create_table('travel_repersonalisations',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('traveller_id', BigId, nullable=False),
    sa.Column('requested_by', sa.String(length=200), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('decided_by', sa.String(length=200), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['traveller_id'], ['travellers.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    # On SQLite the batch copies `alerts` (a column's nullability cannot change in place);
    # `Database.migrate` runs migrations with foreign-key enforcement off and checks them after.
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.alter_column('subject_id', existing_type=BigId, nullable=True)
        batch_op.alter_column('record_id', existing_type=BigId, nullable=True)
        batch_op.add_column(sa.Column('traveller_id', BigId, nullable=True))
        batch_op.add_column(sa.Column('departure_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key('fk_alerts_traveller', 'travellers', ['traveller_id'], ['id'])
        batch_op.create_index('ix_alerts_status_departure', ['status', 'departure_at', 'id'], unique=False)
        batch_op.create_index('ix_alerts_traveller', ['traveller_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index('ix_alerts_traveller')
        batch_op.drop_index('ix_alerts_status_departure')
        batch_op.drop_constraint('fk_alerts_traveller', type_='foreignkey')
        batch_op.drop_column('departure_at')
        batch_op.drop_column('traveller_id')
        batch_op.alter_column('record_id', existing_type=BigId, nullable=False)
        batch_op.alter_column('subject_id', existing_type=BigId, nullable=False)
    op.drop_table('travel_repersonalisations')
    op.drop_index('ix_lost_documents_key', table_name='lost_documents')
    op.drop_table('lost_documents')
    op.drop_index('ix_travellers_message', table_name='travellers')
    op.drop_table('travellers')
    op.drop_index('ix_travel_messages_sha256', table_name='travel_messages')
    op.drop_index('ix_travel_messages_received', table_name='travel_messages')
    op.drop_table('travel_messages')
