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


def is_migrated(engine) -> bool:
    """True when the store has our tables."""
    return inspect(engine).has_table("cost_daily")


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
    assert not is_migrated(bare_engine)


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
    assert is_migrated(engine)


def test_downgrade_to_base_then_upgrade(engine):
    cfg = db.alembic_config(engine)
    command.downgrade(cfg, "base")
    assert table_names(engine) <= {"alembic_version"}
    assert current(engine) is None
    assert not is_migrated(engine)
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


def test_0008_keeps_groups_members_and_requests_and_never_reuses_a_referenced_id(bare_engine):
    """A store at 0007 with groups, members (foreign key with ON DELETE CASCADE) and stop/start requests, one
    of them for a group already deleted (id 3): after the upgrade everything is there, each group has a uid its
    requests carry, and the next group's id is past every id anything refers to."""
    from sqlalchemy import text

    from finops.data import groups
    from finops.data.access import Actor
    from finops.data.tables import NEVER_REUSED, ResourceGroup

    cfg = db.alembic_config(bare_engine)
    command.upgrade(cfg, "0007")
    now = "2026-11-01 00:00:00"
    group_sql = text(
        "INSERT INTO resource_group (id, name, description, owner, status, created_at, updated_at) "
        "VALUES (:i, :n, '', 'ana', 'active', :t, :t)"
    )
    member_sql = text(
        "INSERT INTO resource_group_member (group_id, resource_type, resource_id, resource_name, added_at, added_by) "
        "VALUES (2, 'app', 'a-1', 'A', :t, 'ana')"
    )
    action_sql = text(
        "INSERT INTO power_action (requested_at, requested_by, group_id, group_name, action, status, results) "
        "VALUES (:t, 'ana', :g, 'x', 'stop', 'done', '[]')"
    )
    with bare_engine.begin() as conn:
        for gid, name in [(1, "one"), (2, "two")]:
            conn.execute(group_sql, {"i": gid, "n": name, "t": now})
        conn.execute(member_sql, {"t": now})
        for gid in (2, 3):  # group 3 was deleted, its request stayed in the log
            conn.execute(action_sql, {"t": now, "g": gid})
    command.upgrade(cfg, "head")
    assert schema_diff(bare_engine) == []
    with bare_engine.connect() as conn:
        members = conn.execute(text("SELECT group_id, resource_id FROM resource_group_member")).all()
        uids = dict(conn.execute(text("SELECT id, uid FROM resource_group")).all())
        requests = dict(conn.execute(text("SELECT group_id, group_uid FROM power_action")).all())
    assert [tuple(m) for m in members] == [(2, "a-1")]  # rebuilding the parent table cascaded nothing
    assert len(set(uids.values())) == 2 and all(len(u) == 32 for u in uids.values())
    assert requests == {2: uids[2], 3: ""}  # the deleted group's request matches no group
    with Session(bare_engine) as s:
        created = groups.create_group(session=s, actor=Actor("bob"), name="new")
        assert created.id > 3
    if bare_engine.dialect.name == "sqlite":
        with bare_engine.connect() as conn:
            ddl = dict(conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'table'")).all())
        never_reused = {t.name for t in SQLModel.metadata.tables.values() if t.kwargs.get("sqlite_autoincrement")}
        assert {"resource_group", "power_action", "audit_log", "refresh_request"} <= never_reused
        assert all("AUTOINCREMENT" in ddl[name] for name in never_reused)
        assert NEVER_REUSED == {"sqlite_autoincrement": True} and ResourceGroup.__table__.kwargs["sqlite_autoincrement"]


def test_0014d_fills_the_source_rollup_as_a_load_would(bare_engine):
    from sqlalchemy import text

    from finops.data import load

    cfg = db.alembic_config(bare_engine)
    command.upgrade(cfg, "0013")
    daily = [  # day, source, provider, account, currency
        ("2026-09-30", "aws_ce", "aws", "111", "USD"),
        ("2026-10-01", "aws_ce", "aws", "111", "USD"),
        ("2026-10-01", "aws_ce", "aws", "222", "USD"),
        ("2026-10-31", "focus", "Microsoft", "sub-1", "EUR"),
        ("2026-10-02", "focus", "Microsoft", "sub-1", "EUR"),
    ]
    resources = [("2026-10-02", "r-1"), ("2026-10-02", "r-2"), ("2026-10-31", "r-1")]  # Microsoft's, in EUR
    with bare_engine.begin() as conn:
        for n, (day, source, provider, account, currency) in enumerate(daily):
            conn.execute(
                text("INSERT INTO cost_daily (day, provider, account_id, account_name, service, region, "
                     "unblended_micros, amortized_micros, currency, estimated, source) "
                     "VALUES (:d, :p, :a, '', :s, '', 1, 1, :c, false, :src)"),
                {"d": date.fromisoformat(day), "p": provider, "a": account, "s": f"s{n}", "c": currency, "src": source},
            )  # fmt: skip
        for day, rid in resources:
            conn.execute(
                text("INSERT INTO cost_resource_daily (day, provider, account_id, resource_id, resource_name, "
                     "resource_type, service, region, unblended_micros, amortized_micros, currency, tags, source) "
                     "VALUES (:d, 'Microsoft', 'sub-1', :r, '', '', 'svc', '', 1, 1, 'EUR', '{}', 'focus')"),
                {"d": date.fromisoformat(day), "r": rid},
            )  # fmt: skip
    command.upgrade(cfg, "head")
    query = text("SELECT month, source, provider, currency, rows, resource_rows, accounts, first_day, last_day "
                 "FROM cost_source_month ORDER BY month, source, provider")  # fmt: skip
    with bare_engine.connect() as conn:
        migrated = [tuple(str(v) for v in r) for r in conn.execute(query)]
    with bare_engine.begin() as conn:  # what every load computes for the months it touches
        load.rebuild_rollups(conn, date(2026, 9, 1), date(2026, 11, 1))
    with bare_engine.connect() as conn:
        rebuilt = [tuple(str(v) for v in r) for r in conn.execute(query)]
    assert migrated == rebuilt
    assert [r[:7] for r in migrated] == [
        ("2026-09-01", "aws_ce", "aws", "USD", "1", "0", "1"),
        ("2026-10-01", "aws_ce", "aws", "USD", "2", "0", "2"),
        ("2026-10-01", "focus", "Microsoft", "EUR", "2", "3", "1"),
    ]
    assert migrated[2][7:] == ("2026-10-02", "2026-10-31")
