"""forecast models per series, progress of forecast and anomaly runs, one event per rise

Revision ID: 0010c
Revises: 0010a
Create Date: 2026-11-30 06:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


# written after 0010s; main's 0011, 0010b and 0010a came first, so this one follows 0010a (the chain is
# 0009 -> 0010s -> 0011 -> 0010b -> 0010a -> 0010c: one head for `alembic upgrade head`)
revision: str = '0010c'
down_revision: str | None = '0010a'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('anomaly_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('refresh_run_id', sa.Integer(), nullable=True),
    sa.Column('started_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('finished_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('step', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('message', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.ForeignKeyConstraint(['refresh_run_id'], ['refresh_run.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('anomaly', schema=None) as batch_op:
        batch_op.add_column(sa.Column('event_id', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True))
        batch_op.create_index(batch_op.f('ix_anomaly_event_id'), ['event_id'], unique=False)

    with op.batch_alter_table('forecast_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('done', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('total', sa.Integer(), nullable=False, server_default='0'))

    with op.batch_alter_table('forecast_series', schema=None) as batch_op:
        batch_op.add_column(sa.Column('model', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.add_column(sa.Column('last_week_mape', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('total_error', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('naive_total_error', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('last_week_total_error', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('coverage', sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('forecast_series', schema=None) as batch_op:
        batch_op.drop_column('coverage')
        batch_op.drop_column('last_week_total_error')
        batch_op.drop_column('naive_total_error')
        batch_op.drop_column('total_error')
        batch_op.drop_column('last_week_mape')
        batch_op.drop_column('model')

    with op.batch_alter_table('forecast_run', schema=None) as batch_op:
        batch_op.drop_column('total')
        batch_op.drop_column('done')

    with op.batch_alter_table('anomaly', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_anomaly_event_id'))
        batch_op.drop_column('event_id')

    op.drop_table('anomaly_run')
