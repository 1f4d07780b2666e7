"""The one place that makes an engine and sessions."""

import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import cast

from sqlalchemy import Table, event
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, create_engine

from finops.settings import get_settings

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


class StoreUnavailable(RuntimeError):
    """The store named by FINOPS_DATABASE_URL cannot be reached."""


def redact(url: str) -> str:
    """The URL with any password replaced by ***."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


def _on_sqlite_connect(dbapi_conn, _record) -> None:
    # WAL lets the UI read while the sidecar writes; busy_timeout makes writers queue, not fail.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def create_private(path: Path) -> None:
    """Create the SQLite file (and its folder) readable by the owner only, before SQLite opens it: the store holds
    password hashes and costs. An existing file is left as it is. SQLite gives its -wal and -shm files the
    database file's mode."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))  # atomic: no window at 0644
    except FileExistsError:
        pass


def _json_text(value) -> str:
    """How JSON columns are written: keys sorted, so equal values are equal text."""
    return json.dumps(value, sort_keys=True, default=str)


def make_engine(url: str) -> Engine:
    """A new engine for `url`, configured for this project (used by get_engine and by tests)."""
    if url.startswith("sqlite"):
        path = make_url(url).database  # None or "" for an in-memory store
        if path and path != ":memory:":
            try:
                create_private(Path(path))
            except OSError as exc:
                raise StoreUnavailable(f"cannot open the store at {url}: {exc.strerror}: {exc.filename}") from exc
        engine = create_engine(
            url, connect_args={"timeout": 30, "check_same_thread": False}, json_serializer=_json_text
        )
        event.listen(engine, "connect", _on_sqlite_connect)
        return engine
    return create_engine(url, pool_pre_ping=True, json_serializer=_json_text)


@cache
def get_engine() -> Engine:
    """The process's engine for the configured store."""
    return make_engine(get_settings().store_url)


@contextmanager
def session() -> Iterator[Session]:
    """A session on the configured store; the caller commits."""
    with Session(get_engine()) as s:
        yield s


@contextmanager
def large_write(connection: Connection, cache_mib: int = 256) -> Iterator[None]:
    """Give a SQLite connection a page cache of `cache_mib` MiB while it writes millions of rows, then the
    default again (PostgreSQL: nothing to do).

    With SQLite's default 2 MiB, an index whose new entries land all over it (cost_resource_daily by
    resource, filled day after day) writes a page out and reads it back for nearly every row."""
    if connection.dialect.name != "sqlite":
        yield
        return
    before = connection.exec_driver_sql("PRAGMA cache_size").scalar_one()
    connection.exec_driver_sql(f"PRAGMA cache_size = -{cache_mib * 1024}")  # negative: KiB, not pages
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size = {int(before)}")


def begin_write(session: Session) -> None:
    """Start the session's next transaction as a writer (committing what it held first).

    On SQLite a transaction that has read the store can no longer write once another process committed: SQLite
    answers "database is locked" at once, whatever the busy timeout. A writer that reads before it writes in one
    transaction therefore takes the write lock first (BEGIN IMMEDIATE, which waits the busy timeout like any
    write). PostgreSQL needs nothing here.
    """
    session.commit()
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def check_reachable(engine: Engine | None = None) -> None:
    """Raise StoreUnavailable with a readable message when the store cannot be opened."""
    engine = engine or get_engine()
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise StoreUnavailable(f"cannot open the store at {redact(str(engine.url))}: {reason}") from exc


def alembic_config(engine: Engine):
    """An Alembic config pointing at our migrations and at `engine`."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def init_db(engine: Engine | None = None) -> None:
    """Bring the store's schema to the newest migration (creating it if empty)."""
    from alembic import command

    engine = engine or get_engine()
    check_reachable(engine)
    command.upgrade(alembic_config(engine), "head")


@cache
def _code_heads() -> frozenset[str]:
    from alembic.script import ScriptDirectory

    return frozenset(ScriptDirectory.from_config(alembic_config(None)).get_heads())


def schema_revisions(engine: Engine) -> tuple[set[str], set[str]]:
    """The store's Alembic revisions (empty when never migrated) and the newest ones this code knows."""
    from alembic.migration import MigrationContext

    with engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    return current, set(_code_heads())


def table_of(model) -> Table:
    """A SQLModel class's Core table (Core statements skip the ORM's per-row bookkeeping)."""
    return cast(Table, sa_inspect(model).local_table)


def _dialect_insert(session: Session, model, unique: list[str]):
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(table_of(model)).on_conflict_do_nothing(index_elements=unique)


def insert_new(session: Session, model, values: dict, unique: list[str]) -> int | None:
    """Insert one row unless a row with the same `unique` columns exists (the database decides, so two writers
    racing insert it once); the new row's id, or None when it existed. Part of the session's transaction."""
    stmt = _dialect_insert(session, model, unique).values(**values).returning(table_of(model).c.id)
    return session.execute(stmt).scalar()


def insert_missing(session: Session, model, rows: list[dict], unique: list[str]) -> None:
    """`insert_new` for many rows in one executemany (no ids back). Part of the session's transaction."""
    if rows:
        session.execute(_dialect_insert(session, model, unique), rows)
