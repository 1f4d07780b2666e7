"""Billing-file deliveries per provider and period; the monthly rollup per source and provider

Revision ID: 0014d
Revises: 0014
Create Date: 2026-11-30 11:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


# issue 14 (Data Sources shows each source, its periods, last delivery and rows): one row per provider and
# period of every FOCUS / CUR 2.0 import; AUTOINCREMENT on SQLite, as every table whose ids people see
revision: str = '0014d'
down_revision: str | None = '0014'
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
    op.create_table('cost_source_month',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('provider', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('resource_rows', sa.Integer(), nullable=False),
    sa.Column('accounts', sa.Integer(), nullable=False),
    sa.Column('first_day', sa.Date(), nullable=False),
    sa.Column('last_day', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_cost_source_month_month', 'cost_source_month', ['month', 'source', 'provider'], unique=False)
    # the rollup of the data already in the store (later loads keep it up to date)
    sqlite = op.get_bind().dialect.name == 'sqlite'
    month = "date(day, 'start of month')" if sqlite else "CAST(date_trunc('month', day) AS DATE)"
    next_month = "date(m.month, '+1 month')" if sqlite else "CAST(m.month + INTERVAL '1 month' AS DATE)"
    op.execute(
        "INSERT INTO cost_source_month (month, source, provider, currency, rows, resource_rows, accounts, "
        f"first_day, last_day) SELECT {month}, source, provider, currency, COUNT(*), 0, COUNT(DISTINCT account_id), "
        f"MIN(day), MAX(day) FROM cost_daily GROUP BY {month}, source, provider, currency"
    )
    op.execute(
        "UPDATE cost_source_month SET resource_rows = (SELECT COUNT(*) FROM cost_resource_daily r, cost_source_month m "
        "WHERE m.id = cost_source_month.id AND r.source = m.source AND r.provider = m.provider "
        f"AND r.currency = m.currency AND r.day >= m.month AND r.day < {next_month})"
    )


def downgrade() -> None:
    op.drop_index('ix_cost_source_month_month', table_name='cost_source_month')
    op.drop_table('cost_source_month')
    op.drop_index('ix_cost_delivery_provider', table_name='cost_delivery')
    op.drop_table('cost_delivery')
