"""Billing-file deliveries per provider and period

Revision ID: 0014d
Revises: 0013
Create Date: 2026-11-30 11:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


# issue 14 (Data Sources shows each source, its periods, last delivery and rows): one row per provider and
# period of every FOCUS / CUR 2.0 import; AUTOINCREMENT on SQLite, as every table whose ids people see
revision: str = '0014d'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('cost_delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('provider', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('window_start', sa.Date(), nullable=False),
    sa.Column('window_end', sa.Date(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('location', sqlmodel.sql.sqltypes.AutoString(length=1024), nullable=False),
    sa.Column('files', sa.Integer(), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('resource_rows', sa.Integer(), nullable=False),
    sa.Column('delivered_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sqlite_autoincrement=True,
    )
    op.create_index('ix_cost_delivery_provider', 'cost_delivery', ['source', 'provider', 'window_start'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_cost_delivery_provider', table_name='cost_delivery')
    op.drop_table('cost_delivery')
