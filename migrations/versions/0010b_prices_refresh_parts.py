"""Prices from the AWS Price List API; where a resource's price came from; a refresh run's parts

Revision ID: 0010b
Revises: 0011
Create Date: 2026-11-30 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0010b'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEVER_REUSED = {'sqlite_autoincrement': True}  # refresh_run is AUTOINCREMENT since 0008: kept when SQLite rebuilds it


def upgrade() -> None:
    op.create_table(
        'aws_price',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('family', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('size', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('region', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('engine', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('usd_per_hour', sa.Float(), nullable=True),
        sa.Column('effective_date', sa.Date(), nullable=True),
        sa.Column('fetched_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('sku', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('family', 'size', 'region', 'engine'),
    )
    with op.batch_alter_table('resource', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('price_source', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False, server_default='')
        )
        batch_op.add_column(sa.Column('price_as_of', sa.Date(), nullable=True))
    # the inventory's prices so far all came from the bundled table (discovery) or were typed in (platform)
    op.execute("UPDATE resource SET price_source = 'bundled' WHERE source = 'aws' AND price_known")
    with op.batch_alter_table('refresh_run', schema=None, table_kwargs=NEVER_REUSED) as batch_op:
        batch_op.add_column(sa.Column('part_of', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_refresh_run_part_of'), ['part_of'], unique=False)
        batch_op.create_foreign_key('fk_refresh_run_part_of', 'refresh_run', ['part_of'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('refresh_run', schema=None, table_kwargs=NEVER_REUSED) as batch_op:
        batch_op.drop_constraint('fk_refresh_run_part_of', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_refresh_run_part_of'))
        batch_op.drop_column('part_of')
    with op.batch_alter_table('resource', schema=None) as batch_op:
        batch_op.drop_column('price_as_of')
        batch_op.drop_column('price_source')
    op.drop_table('aws_price')
