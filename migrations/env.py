"""Alembic environment: the engine comes from finops.data.db (or the caller), metadata from tables.py."""

from alembic import context
from sqlmodel import SQLModel

import finops.data.tables  # noqa: F401  (registers the tables on SQLModel.metadata)
from finops.data.db import get_engine

target_metadata = SQLModel.metadata
engine = context.config.attributes.get("engine") or get_engine()

with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # A batch migration rebuilds a table by copy, drop and rename. With foreign keys on, dropping a parent
        # table would cascade-delete its children (group members), so they are off while migrating. The pragma
        # only works outside a transaction, hence before anything else runs on this connection.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    # render_as_batch lets ALTER TABLE work on SQLite through copy-and-move
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
        if sqlite:
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
            if broken:
                raise RuntimeError(f"migration left rows without their parent: {broken[:5]}")
    connection.commit()
    if sqlite:
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
