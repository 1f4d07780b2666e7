"""ids never reused, group uid, login limits

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 05:00:00
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Tables whose ids people see or requests point at: on SQLite they become AUTOINCREMENT (rebuilt by copy, ids
# kept), so a deleted row's id is never handed out again. PostgreSQL sequences already never go back.
NEVER_REUSED = [
    'refresh_run', 'app_user', 'forecast_run', 'recommendation', 'refresh_request', 'anomaly', 'resource',
    'resource_group', 'resource_group_member', 'audit_log', 'power_action',
]


def _referenced_group_ids(bind) -> int:
    """The largest group id anything refers to: a deleted group's id must not come back either."""
    top = bind.exec_driver_sql("SELECT coalesce(max(id), 0) FROM resource_group").scalar()
    top = max(top, bind.exec_driver_sql("SELECT coalesce(max(group_id), 0) FROM power_action").scalar())
    for (object_id,) in bind.exec_driver_sql("SELECT object_id FROM audit_log WHERE object_type = 'resource_group'"):
        if str(object_id).isdigit():
            top = max(top, int(object_id))
    return top


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_logins', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('locked_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('sessions_valid_after', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))

    with op.batch_alter_table('power_action', schema=None) as batch_op:
        batch_op.add_column(sa.Column('group_uid', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False, server_default=''))

    with op.batch_alter_table('resource_group', schema=None) as batch_op:
        batch_op.add_column(sa.Column('uid', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
    groups = sa.table('resource_group', sa.column('id', sa.Integer), sa.column('uid', sa.String))
    for (group_id,) in bind.execute(sa.select(groups.c.id)).all():
        bind.execute(groups.update().where(groups.c.id == group_id).values(uid=uuid.uuid4().hex))
    actions = sa.table('power_action', sa.column('group_id', sa.Integer), sa.column('group_uid', sa.String))
    # requests of groups that still exist belong to them; those of deleted groups keep an empty uid (refused)
    bind.execute(
        actions.update()
        .values(group_uid=sa.select(groups.c.uid).where(groups.c.id == actions.c.group_id).scalar_subquery())
        .where(sa.exists().where(groups.c.id == actions.c.group_id))
    )
    with op.batch_alter_table('resource_group', schema=None) as batch_op:
        batch_op.alter_column('uid', existing_type=sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_resource_group_uid'), ['uid'])

    top_group = _referenced_group_ids(bind)
    if bind.dialect.name == 'postgresql' and top_group:
        # the sequence never goes back, but make sure it is past every id a request or the audit log names
        bind.exec_driver_sql(
            "SELECT setval(pg_get_serial_sequence('resource_group', 'id'), greatest(%(top)s, "
            "(SELECT coalesce(max(id), 1) FROM resource_group)))",
            {'top': top_group},
        )
    if bind.dialect.name == 'sqlite':
        for table in NEVER_REUSED:
            with op.batch_alter_table(table, recreate='always', table_kwargs={'sqlite_autoincrement': True}):
                pass
        # the copy set each table's counter to its largest id; a deleted group's id may be larger
        bind.exec_driver_sql(
            "UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = 'resource_group'", (top_group,)
        )
        if bind.exec_driver_sql("SELECT count(*) FROM sqlite_sequence WHERE name = 'resource_group'").scalar() == 0:
            bind.exec_driver_sql("INSERT INTO sqlite_sequence (name, seq) VALUES ('resource_group', ?)", (top_group,))


def downgrade() -> None:
    with op.batch_alter_table('resource_group', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_resource_group_uid'), type_='unique')
        batch_op.drop_column('uid')
    with op.batch_alter_table('power_action', schema=None) as batch_op:
        batch_op.drop_column('group_uid')
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_column('sessions_valid_after')
        batch_op.drop_column('locked_until')
        batch_op.drop_column('failed_logins')
