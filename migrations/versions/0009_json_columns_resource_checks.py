"""JSON columns; the inventory's own fields instead of finops:* tags

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 05:30:00
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# JSON held in text columns becomes SQLAlchemy's JSON type (PostgreSQL: json; SQLite: JSON text)
JSON_COLUMNS = [
    ('resource', 'tags'), ('resource', 'saved_state'), ('anomaly', 'contributors'), ('audit_log', 'detail'),
    ('power_action', 'results'),
]
NEVER_REUSED = {'resource', 'anomaly', 'audit_log', 'power_action'}  # AUTOINCREMENT since 0008: kept on rebuild


def _move_finops_tags(bind) -> None:
    """Discovery and the CPU check kept their state in tags with a finops: prefix; it moves to columns."""
    rows = bind.exec_driver_sql('SELECT id, tags FROM resource').all()
    for row_id, text in rows:
        try:
            tags = json.loads(text or '{}')
        except ValueError:
            tags = {}
        if not isinstance(tags, dict):
            tags = {}
        own = {k: v for k, v in tags.items() if not str(k).startswith('finops:')}
        peak = tags.get('finops:cpu_peak')
        try:
            peak = float(peak) if peak not in (None, '') else None
        except ValueError:
            peak = None
        values = {
            'id': row_id,
            'tags': json.dumps(own, sort_keys=True),
            'size': str(tags.get('finops:size', ''))[:64],
            'price_known': tags.get('finops:price') != 'unknown',
            'cpu_checked_on': tags.get('finops:cpu_checked') or None,
            'cpu_peak': peak,
            'idle': str(tags.get('finops:idle', '')).lower() == 'true',
        }
        bind.execute(
            sa.text(
                'UPDATE resource SET tags = :tags, size = :size, price_known = :price_known, '
                'cpu_checked_on = :cpu_checked_on, cpu_peak = :cpu_peak, idle = :idle WHERE id = :id'
            ).bindparams(sa.bindparam('cpu_checked_on', type_=sa.Date())),
            {**values, 'cpu_checked_on': _day(values['cpu_checked_on'])},
        )


def _day(text):
    from datetime import date

    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table('resource', schema=None) as batch_op:
        batch_op.add_column(sa.Column('size', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('price_known', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column('cpu_checked_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('cpu_peak', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('idle', sa.Boolean(), nullable=False, server_default=sa.false()))
    _move_finops_tags(bind)
    for table in dict.fromkeys(t for t, _ in JSON_COLUMNS):
        columns = [c for t, c in JSON_COLUMNS if t == table]
        if bind.dialect.name == 'postgresql':
            for column in columns:
                # a text default ('{}' on saved_state, from 0006) cannot be cast: rows get their value from the app
                op.alter_column(table, column, server_default=None)
                op.alter_column(table, column, type_=sa.JSON(), existing_nullable=False,
                                postgresql_using=f'{column}::json')
            continue
        kwargs = {'sqlite_autoincrement': True} if table in NEVER_REUSED else {}
        with op.batch_alter_table(table, schema=None, recreate='always', table_kwargs=kwargs) as batch_op:
            for column in columns:
                batch_op.alter_column(column, type_=sa.JSON(), existing_type=sqlmodel.sql.sqltypes.AutoString(),
                                      existing_nullable=False, server_default=None)


def downgrade() -> None:
    bind = op.get_bind()
    for table in dict.fromkeys(t for t, _ in JSON_COLUMNS):
        columns = [c for t, c in JSON_COLUMNS if t == table]
        if bind.dialect.name == 'postgresql':
            for column in columns:
                op.alter_column(table, column, type_=sqlmodel.sql.sqltypes.AutoString(), existing_nullable=False,
                                postgresql_using=f'{column}::text')
            continue
        kwargs = {'sqlite_autoincrement': True} if table in NEVER_REUSED else {}
        with op.batch_alter_table(table, schema=None, recreate='always', table_kwargs=kwargs) as batch_op:
            for column in columns:
                batch_op.alter_column(column, type_=sqlmodel.sql.sqltypes.AutoString(), existing_type=sa.JSON(),
                                      existing_nullable=False)
    with op.batch_alter_table('resource', schema=None) as batch_op:
        batch_op.drop_column('idle')
        batch_op.drop_column('cpu_peak')
        batch_op.drop_column('cpu_checked_on')
        batch_op.drop_column('price_known')
        batch_op.drop_column('size')
