"""The migrations build exactly the schema tables.py declares, on SQLite and PostgreSQL."""

from datetime import date

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select
from sqlmodel import Session, SQLModel

import finops.data.tables  # noqa: F401  (registers every table on SQLModel.metadata)
from finops.data import db
from finops.data.tables import CostDaily


def schema_diff(engine) -> list:
    """What `alembic revision --autogenerate` would put into a new migration (empty when in sync)."""
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "render_as_batch": True})
        return compare_metadata(ctx, SQLModel.metadata)


def head() -> str:
    return ScriptDirectory.from_config(db.alembic_config(None)).get_current_head()


def current(engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def table_names(engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def test_migrated_schema_matches_tables(engine):
    # fails when someone edits tables.py without adding a migration (or the other way round)
    assert schema_diff(engine) == []
    assert current(engine) == head()
    assert set(SQLModel.metadata.tables) <= table_names(engine)


def test_empty_store_is_not_in_sync(bare_engine):
    # the comparison above really sees tables: on an empty store it reports every one missing
    diff = schema_diff(bare_engine)
    added = {d[1].name for d in diff if d[0] == "add_table"}
    assert added == set(SQLModel.metadata.tables)
    assert not db.is_migrated(bare_engine)


def test_init_db_twice_is_harmless(engine):
    with Session(engine) as s:
        s.add(
            CostDaily(
                day=date(2025, 1, 1),
                provider="aws",
                account_id="1",
                service="S",
                unblended_micros=5,
                amortized_micros=5,
                source="t",
            )
        )
        s.commit()
    db.init_db(engine)
    assert current(engine) == head()
    assert schema_diff(engine) == []
    with Session(engine) as s:
        assert s.exec(select(CostDaily.unblended_micros)).all() == [(5,)]
    assert db.is_migrated(engine)


def test_downgrade_to_base_then_upgrade(engine):
    cfg = db.alembic_config(engine)
    command.downgrade(cfg, "base")
    assert table_names(engine) <= {"alembic_version"}
    assert current(engine) is None
    assert not db.is_migrated(engine)
    command.upgrade(cfg, "head")
    assert current(engine) == head()
    assert schema_diff(engine) == []


def test_0002_fills_the_new_rollups_from_a_0001_store(bare_engine):
    from sqlalchemy import text

    cfg = db.alembic_config(bare_engine)
    command.upgrade(cfg, "0001")
    rows = [  # month, account, name, service, unblended micros
        ("2025-01-01", "A", "alpha", "EC2", 10),
        ("2025-01-01", "B", "beta", "EC2", 5),
        ("2025-02-01", "A", "alpha-renamed", "S3", 7),
    ]
    with bare_engine.begin() as conn:
        for month, account, name, service, micros in rows:
            conn.execute(
                text(
                    "INSERT INTO cost_monthly (month, provider, account_id, account_name, service, currency, "
                    "unblended_micros, amortized_micros, days, estimated) "
                    "VALUES (:m, 'aws', :a, :n, :s, 'USD', :u, :u, 1, false)"
                ),
                {"m": date.fromisoformat(month), "a": account, "n": name, "s": service, "u": micros},
            )
    command.upgrade(cfg, "head")
    with bare_engine.connect() as conn:
        by_service = conn.execute(
            text("SELECT month, service, unblended_micros FROM cost_monthly_service ORDER BY month, service")
        ).all()
        accounts = conn.execute(text("SELECT account_id, account_name FROM cost_account ORDER BY 1")).all()
        services = conn.execute(text("SELECT service FROM cost_service ORDER BY 1")).all()
    assert [(str(m)[:10], s, u) for m, s, u in by_service] == [("2025-01-01", "EC2", 15), ("2025-02-01", "S3", 7)]
    assert [tuple(r) for r in accounts] == [("A", "alpha-renamed"), ("B", "beta")]
    assert [r[0] for r in services] == ["EC2", "S3"]
