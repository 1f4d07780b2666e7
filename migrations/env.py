"""Alembic environment: the engine comes from finops.data.db (or the caller), metadata from tables.py."""

from alembic import context
from sqlmodel import SQLModel

import finops.data.tables  # noqa: F401  (registers the tables on SQLModel.metadata)
from finops.data.db import get_engine

target_metadata = SQLModel.metadata
engine = context.config.attributes.get("engine") or get_engine()

with engine.connect() as connection:
    # render_as_batch lets ALTER TABLE work on SQLite through copy-and-move
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
