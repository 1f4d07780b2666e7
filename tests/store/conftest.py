"""The `engine` fixture: a migrated, empty store on SQLite and on PostgreSQL.

PostgreSQL comes from FINOPS_TEST_POSTGRES_URL (`make test` starts a throwaway server and sets it); without
it the postgres variants are skipped. Migrating takes a while, so each backend is migrated from scratch once
per session (with `init_db`, the code path the app uses) and later tests get a copy (SQLite) or emptied tables
(PostgreSQL) of that; `bare_engine` gives an empty, unmigrated store for tests of the migrations themselves.
"""

import os
import shutil
import socket

import pytest
import requests
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import finops.data.tables  # noqa: F401  (registers every table on SQLModel.metadata)
from finops.data import db

PG_ENV = "FINOPS_TEST_POSTGRES_URL"
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def postgres_url() -> str:
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"{PG_ENV} is not set (make test starts a throwaway PostgreSQL server and sets it)")
    return url


def reset_postgres(engine: Engine) -> None:
    """Drop everything in the database (tables, alembic_version, sequences) by recreating schema public."""
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")


def at_head(engine: Engine) -> bool:
    """True when the store is at the newest migration and has every table of tables.py."""
    head = ScriptDirectory.from_config(db.alembic_config(engine)).get_current_head()
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    return current == head and set(SQLModel.metadata.tables) <= set(inspect(engine).get_table_names())


def empty_postgres(engine: Engine) -> None:
    """Delete every row of every table but alembic_version, and restart the id sequences."""
    names = [t for t in inspect(engine).get_table_names() if t != "alembic_version"]
    if names:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"TRUNCATE {', '.join(f'public.{n!s}' for n in names)} RESTART IDENTITY CASCADE")


@pytest.fixture(params=BACKENDS)
def bare_engine(request, tmp_path):
    """An engine on an empty, unmigrated store; SQLite file or PostgreSQL."""
    if request.param == "sqlite":
        engine = db.make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    else:
        engine = db.make_engine(postgres_url())
        reset_postgres(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("template") / "store.db"
    engine = db.make_engine(f"sqlite:///{path}")
    db.init_db(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


_pg_state = {"migrated": False}


@pytest.fixture(params=BACKENDS)
def engine(request, tmp_path):
    """An empty store migrated to the newest revision; SQLite file or PostgreSQL."""
    if request.param == "sqlite":
        template = request.getfixturevalue("_sqlite_template")
        shutil.copy(template, tmp_path / "store.db")
        engine = db.make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    else:
        engine = db.make_engine(postgres_url())
        if _pg_state["migrated"] and at_head(engine):
            empty_postgres(engine)
        else:  # first use, or a test changed the schema: rebuild it through the migrations
            reset_postgres(engine)
            db.init_db(engine)
            _pg_state["migrated"] = True
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def moto_url():
    """A moto server (AWS stand-in) on a free loopback port, for the whole test session."""
    from moto.server import ThreadedMotoServer

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def moto_env(moto_url, monkeypatch):
    """boto3 pointed at a freshly reset moto server (AWS_ENDPOINT_URL, dummy credentials, us-east-1)."""
    requests.post(f"{moto_url}/moto-api/reset", timeout=10).raise_for_status()
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    yield moto_url
    requests.post(f"{moto_url}/moto-api/reset", timeout=10).raise_for_status()
