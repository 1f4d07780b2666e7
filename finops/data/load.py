"""Loading a source's rows into the store: an idempotent, atomic replace of one window, then rollups."""

import logging
from datetime import date, timedelta

import pandas as pd
from sqlalchemy import Date, Integer, cast, delete, func, insert, literal_column, select
from sqlalchemy.engine import Connection
from sqlmodel import Session

from finops.data.sources import CONTRACT_COLUMNS
from finops.data.tables import CostDaily, CostDailyService, CostMonthly, RefreshRun, utcnow
from finops.money import series_to_micros

log = logging.getLogger(__name__)
CHUNK = 50_000


class ContractError(ValueError):
    """Rows handed to the loader do not follow the cost contract."""


def month_floor(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def _records(rows: pd.DataFrame, source: str) -> pd.DataFrame:
    missing = [c for c in CONTRACT_COLUMNS if c not in rows.columns]
    if missing:
        raise ContractError(f"rows lack the contract columns: {', '.join(missing)}")
    out = rows[CONTRACT_COLUMNS].copy()
    out["day"] = pd.to_datetime(out["day"]).dt.date
    out["unblended_micros"] = series_to_micros(out.pop("unblended_cost"))
    out["amortized_micros"] = series_to_micros(out.pop("amortized_cost"))
    for col in ("provider", "account_id", "account_name", "service", "region", "currency"):
        out[col] = out[col].astype("str").fillna("")
    out["estimated"] = out["estimated"].astype(bool)
    out["source"] = source
    return out


def _insert_rows(conn: Connection, records: pd.DataFrame) -> None:
    cols = list(records.columns)
    for lo in range(0, len(records), CHUNK):
        part = records.iloc[lo : lo + CHUNK]
        batch = [dict(zip(cols, row, strict=True)) for row in part.itertuples(index=False, name=None)]
        conn.execute(insert(CostDaily.__table__), batch)


def _month_expr(conn: Connection):
    if conn.dialect.name == "sqlite":
        return func.date(CostDaily.day, literal_column("'start of month'"))
    return cast(func.date_trunc("month", CostDaily.day), Date)


def rebuild_rollups(conn: Connection, start: date, end: date) -> None:
    """Recompute the monthly and daily-per-service rollups of every month overlapping `[start, end)`."""
    if end <= start:
        return
    lo, hi = month_floor(start), next_month(end - timedelta(days=1))
    d = CostDaily.__table__.c
    month = _month_expr(conn).label("month")
    conn.execute(delete(CostMonthly).where(CostMonthly.month >= lo, CostMonthly.month < hi))
    conn.execute(delete(CostDailyService).where(CostDailyService.day >= lo, CostDailyService.day < hi))
    in_window = (d.day >= lo) & (d.day < hi)
    estimated = func.max(cast(d.estimated, Integer)) > 0
    monthly = (
        select(
            month,
            d.provider,
            d.account_id,
            func.max(d.account_name),
            d.service,
            d.currency,
            func.sum(d.unblended_micros),
            func.sum(d.amortized_micros),
            func.count(func.distinct(d.day)),
            estimated,
        )
        .where(in_window)
        .group_by(month, d.provider, d.account_id, d.service, d.currency)
    )
    m = CostMonthly.__table__.c
    conn.execute(
        insert(CostMonthly.__table__).from_select(
            [m.month, m.provider, m.account_id, m.account_name, m.service, m.currency,
             m.unblended_micros, m.amortized_micros, m.days, m.estimated],
            monthly,
        )
    )
    daily = (
        select(d.day, d.service, d.currency, func.sum(d.unblended_micros), func.sum(d.amortized_micros))
        .where(in_window)
        .group_by(d.day, d.service, d.currency)
    )
    s = CostDailyService.__table__.c
    conn.execute(
        insert(CostDailyService.__table__).from_select(
            [s.day, s.service, s.currency, s.unblended_micros, s.amortized_micros], daily
        )
    )


def replace_window(session: Session, source: str, start: date, end: date, rows: pd.DataFrame) -> RefreshRun:
    """Replace `source`'s rows for days in `[start, end)` with `rows`, atomically, and record the run.

    A run row is committed as `running` first; the data, the rollups and the run's `ok` status are then
    committed together, so readers see either the old data and version or the new ones. On any error the
    data is untouched and the run is marked `failed` with the reason.
    """
    run = RefreshRun(source=source, window_start=start, window_end=end)
    session.add(run)
    session.commit()
    try:
        records = _records(rows, source)
        outside = records[(records["day"] < start) | (records["day"] >= end)]
        if len(outside):
            raise ContractError(f"{len(outside)} rows fall outside the window [{start}, {end})")
        conn = session.connection()
        conn.execute(delete(CostDaily).where(CostDaily.source == source, CostDaily.day >= start, CostDaily.day < end))
        _insert_rows(conn, records)
        rebuild_rollups(conn, start, end)
        run.status, run.rows, run.finished_at = "ok", len(records), utcnow()
        session.add(run)
        session.commit()
    except Exception as exc:
        session.rollback()
        run.status, run.error, run.finished_at = "failed", str(exc)[:2000], utcnow()
        session.add(run)
        session.commit()
        raise
    log.info("loaded %s rows from %s for [%s, %s) as run %s", run.rows, source, start, end, run.id)
    return run
