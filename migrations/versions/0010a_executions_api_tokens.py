"""executions, the rate card, API tokens

Revision ID: 0010a
Revises: 0010b
Create Date: 2026-11-30 05:30:05.848165
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0010a'
down_revision: str | None = '0010b'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('api_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('username', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('prefix', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('revoked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('last_used_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name'),
    sa.UniqueConstraint('token_hash'),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_token_username'), ['username'], unique=False)

    op.create_table('execution',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('execution_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('workflow_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('workflow_name', sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
    sa.Column('username', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('started_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('ended_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('compute_type', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('compute_count', sa.Integer(), nullable=False),
    sa.Column('rate_micros', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('cost_micros', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('received_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('execution_id'),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('execution', schema=None) as batch_op:
        batch_op.create_index('ix_execution_started_at', ['started_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_execution_workflow_id'), ['workflow_id'], unique=False)

    op.create_table('execution_rate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('compute_type', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('effective_from', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('usd_per_hour_micros', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('gpu', sa.Boolean(), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('compute_type', 'effective_from'),
    sqlite_autoincrement=True
    )


def downgrade() -> None:
    op.drop_table('execution_rate')
    with op.batch_alter_table('execution', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_execution_workflow_id'))
        batch_op.drop_index('ix_execution_started_at')

    op.drop_table('execution')
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_token_username'))

    op.drop_table('api_token')
