"""Executions, the one module that writes them: workflow runs from the API, a CSV file or the demo organisation,
each priced once with the rate in force when it started (`finops.data.rates`) and stored in micro-units.

Storing is all or nothing and idempotent on the execution id: a run already in the store is left as it was (its
cost was computed once), so a platform may send a batch again after a timeout.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import pandas as pd
from sqlalchemy import String, func, select, type_coerce
from sqlmodel import Session, SQLModel, col

from finops.data import db, rates
from finops.data.execution_fields import (  # noqa: F401  (re-exported: the executions' vocabulary)
    COLUMNS,
    STATUSES,
    ExecutionError,
    check_unique,
    clean,
    cost_micros,
    parse_csv,
)
from finops.data.resource_fields import ResourceImportError, decode
from finops.data.tables import Execution, utcnow
from finops.money import micros_to_amount

SOURCES = ("api", "csv", "demo")
STAGE = "finops_execution_import"
STAGE_BATCH = 20_000  # rows per executemany into the staging table
PG_LOCK = 0x6578_6563  # "exec": the advisory lock key that orders batches on PostgreSQL
STORED = ["execution_id", "workflow_id", "workflow_name", "username", "started_at", "ended_at", "status",
          "compute_type", "compute_count", "rate_micros", "cost_micros", "currency", "source",
          "received_at"]  # fmt: skip
RUN_COLUMNS = ["execution_id", "workflow_id", "workflow_name", "user", "started_at", "ended_at", "duration_hours",
               "status", "compute_type", "compute_count", "usd_per_hour", "cost_micros"]  # fmt: skip


@dataclass(frozen=True)
class Stored:
    """What a store call did: runs received, newly stored, and the ids that were already there (left as they were)."""

    received: int
    inserted: int
    existing: list[str] = field(default_factory=list)


def price(rows: list[dict], index: rates.RateIndex) -> list[dict]:
    """`rows` (from `clean`) with `rate_micros` and `cost_micros`; ExecutionError for a type with no rate then."""
    priced = []
    for position, row in enumerate(rows):
        rate = index.lookup(row["compute_type"], row["started_at"])
        if rate is None:
            known = ", ".join(index.known()) or "none yet: an admin sets them"
            raise ExecutionError(
                f"compute_type: {row['compute_type']!r} has no rate in force at {row['started_at']:%Y-%m-%dT%H:%M:%SZ}"
                f" (rated types: {known})",
                "compute_type",
                position,
            )
        cost = cost_micros(rate, row["compute_count"], row["started_at"], row["ended_at"])
        priced.append({**row, "rate_micros": rate, "cost_micros": cost})
    return priced


def _merge(session: Session, rows: list[dict], source: str) -> list[str]:
    """Insert `rows` whose execution id is new, in the caller's transaction; returns the ids already stored.

    The rows go first into a temporary table (outside the store's file on SQLite, so it takes none of its locks);
    one INSERT ... SELECT ... ON CONFLICT DO NOTHING then holds the write lock for that statement only.
    """
    conn = session.connection()
    sqlite = conn.dialect.name == "sqlite"
    if not sqlite:
        # one batch at a time, so ids are handed out in commit order and the newest id (`version`, the API's and
        # the pages' cache key) moves whenever stored runs change; SQLite's single writer does this by itself
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_LOCK})")
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {'temp.' if sqlite else ''}{STAGE}")
    columns = ", ".join(STORED)
    # the staging table copies the store's column types, so both backends bind values as for `execution`
    conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {STAGE} AS SELECT {columns} FROM execution WHERE 1 = 0")
    table = SQLModel.metadata.tables["execution"]
    processors = [table.c[name].type.dialect_impl(conn.dialect).bind_processor(conn.dialect) for name in STORED]
    now = utcnow()
    mark = "?" if sqlite else "%s"
    insert_stage = f"INSERT INTO {STAGE} ({columns}) VALUES ({', '.join([mark] * len(STORED))})"
    raw = conn.connection.driver_connection
    assert raw is not None
    cursor = raw.cursor()
    for lo in range(0, len(rows), STAGE_BATCH):
        batch = []
        for row in rows[lo : lo + STAGE_BATCH]:
            values = [*(row[c] for c in STORED[:11]), "USD", source, now]
            batch.append(tuple(p(v) if p else v for p, v in zip(processors, values, strict=True)))
        cursor.executemany(insert_stage, batch)
    existing = [r[0] for r in conn.exec_driver_sql(
        f"SELECT s.execution_id FROM {STAGE} s JOIN execution e ON e.execution_id = s.execution_id"
    )]  # fmt: skip
    conn.exec_driver_sql(
        f"INSERT INTO execution ({columns}) SELECT {columns} FROM {STAGE} WHERE true "
        "ON CONFLICT (execution_id) DO NOTHING"
    )
    conn.exec_driver_sql(f"DROP TABLE {STAGE}")
    return existing


def store(*, session: Session, rows: list[dict], source: str) -> Stored:
    """Price and store checked runs (`clean`), all or none; runs whose id is already stored are left as they were.

    ExecutionError (nothing stored) for an id twice in `rows` or a compute type without a rate when it started.
    """
    if source not in SOURCES:
        raise ExecutionError(f"source must be one of: {', '.join(SOURCES)}")
    check_unique(rows)
    db.begin_write(session)  # the rates and the stored ids are read under the write lock: one consistent view
    try:
        stored = _store(session, rows, source)
        session.commit()
    except Exception:
        session.rollback()
        raise
    return stored


def _store(session: Session, rows: list[dict], source: str) -> Stored:
    if not rows:
        return Stored(0, 0)
    priced = price(rows, rates.rate_index(session=session))
    existing = _merge(session, priced, source)
    return Stored(len(rows), len(rows) - len(existing), existing)


def import_csv(*, session: Session, source: Path | str) -> Stored:
    """Store the executions of a CSV file (a Path, or CSV text), all rows or none.

    The header must hold execution_id, workflow_id, started_at, ended_at and compute_type; workflow_name, user,
    status and compute_count are optional. ExecutionError names the first bad row's line and column.
    """
    if isinstance(source, Path):
        try:
            text = decode(source.read_bytes(), str(source))
        except ResourceImportError as exc:
            raise ExecutionError(str(exc)) from None
    else:
        text = str(source)
    rows, lines = parse_csv(text)
    try:
        return store(session=session, rows=rows, source="csv")
    except ExecutionError as exc:
        if exc.index is None:
            raise
        where = f"row {exc.index + 1} (line {lines[exc.index]}), column "
        raise ExecutionError(where + str(exc), exc.column, exc.index) from None


def version(*, session: Session) -> int:
    """The newest execution's id (0 when there is none): grows with every stored run, never reused."""
    return session.execute(select(func.max(Execution.id))).scalar() or 0


def runs(*, session: Session, start: datetime, end: datetime) -> pd.DataFrame:
    """Runs that started in `[start, end)` (RUN_COLUMNS); cost stays in exact micro-units (`cost_micros`)."""
    e = SQLModel.metadata.tables["execution"].c
    raw = [type_coerce(e.started_at, String), type_coerce(e.ended_at, String)]  # parsed below, all at once
    stmt = (
        select(e.execution_id, e.workflow_id, e.workflow_name, e.username, *raw, e.status, e.compute_type,
               e.compute_count, e.rate_micros, e.cost_micros)
        .where(col(Execution.started_at) >= start, col(Execution.started_at) < end)
        .order_by(e.started_at, e.id)
    )  # fmt: skip
    rows = [tuple(r) for r in session.connection().execute(stmt).all()]
    frame = pd.DataFrame.from_records(
        rows, columns=[*RUN_COLUMNS[:6], *RUN_COLUMNS[7:10], "rate_micros", "cost_micros"]
    )
    for column in ("started_at", "ended_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601")
    frame["duration_hours"] = (frame["ended_at"] - frame["started_at"]).dt.total_seconds() / 3600
    frame["usd_per_hour"] = micros_to_amount(frame.pop("rate_micros").astype("int64"))
    frame["cost_micros"] = frame["cost_micros"].astype("int64")
    return frame[RUN_COLUMNS]


def monthly_totals(*, session: Session, start: datetime, end: datetime) -> pd.DataFrame:
    """Per month (UTC) of the start of runs in `[start, end)`: month (date), runs, cost_micros (exact sum)."""
    conn = session.connection()
    started = col(Execution.started_at)
    if conn.dialect.name == "sqlite":
        month = func.strftime("%Y-%m-01", started)
    else:
        month = func.to_char(func.date_trunc("month", func.timezone("UTC", started)), "YYYY-MM-01")
    stmt = (
        select(month, func.count(), func.sum(col(Execution.cost_micros)))
        .where(started >= start, started < end)
        .group_by(month)
        .order_by(month)
    )
    rows = [(date.fromisoformat(m), int(n), int(c)) for m, n, c in conn.execute(stmt)]
    return pd.DataFrame(rows, columns=["month", "runs", "cost_micros"])


def load_demo(*, session: Session, runs_to_add: list[dict], rate_card: list[dict]) -> Stored:
    """The demo organisation's rate card (rates it lacks) and runs (ids it lacks), in one transaction."""
    rows = [clean(r) for r in runs_to_add]
    check_unique(rows)
    db.begin_write(session)
    try:
        rates.add_missing(session=session, rates=rate_card)
        session.flush()
        stored = _store(session, rows, "demo")
        session.commit()
    except Exception:
        session.rollback()
        raise
    return stored
