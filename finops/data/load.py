"""Loading a source's rows into the store: an idempotent, atomic replace of one window, then rollups."""

import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import date, timedelta

import pandas as pd
from sqlalchemy import Date, Integer, cast, delete, func, insert, literal_column, select, update
from sqlalchemy.engine import Connection
from sqlmodel import Session
from sqlmodel import col as column

from finops.costs import add_months, month_start
from finops.data import db
from finops.data.bulk import bulk_insert
from finops.data.sources import CONTRACT_COLUMNS
from finops.data.tables import (
    CostAccount,
    CostDaily,
    CostDailyService,
    CostMonthly,
    CostMonthlyService,
    CostResourceDaily,
    CostService,
    CostSourceMonth,
    RefreshRun,
    utcnow,
)
from finops.money import series_to_micros

log = logging.getLogger(__name__)
# The contract's columns as cost_daily stores them (without `source`, which the load adds)
STORE_COLUMNS = [
    "day", "provider", "account_id", "account_name", "service", "region", "currency",
    "unblended_micros", "amortized_micros", "estimated",
]  # fmt: skip


class ContractError(ValueError):
    """Rows handed to the loader do not follow the cost contract."""


def _records(rows: pd.DataFrame) -> pd.DataFrame:
    """Contract rows in the store's columns (STORE_COLUMNS: money in micros)."""
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
    return out


def _insert_rows(conn: Connection, records: pd.DataFrame) -> None:
    """Insert cost_daily rows (`records` in the contract's store columns) inside the caller's transaction."""
    bulk_insert(conn, CostDaily.__table__, records)


# billing files are the bill itself: where they cover an account's day, Cost Explorer's rows of that account and
# day would only be the same cost a second time (CE says "aws", FOCUS "AWS": the account id is the link)
SUPERSEDED_BY = {"aws_ce": "focus"}


def drop_superseded(conn: Connection, start: date, end: date) -> int:
    """Delete, in the caller's transaction, each superseded source's rows (SUPERSEDED_BY) in `[start, end)` of an
    account and day the superseding source has rows for; how many. Called by every load, whichever came last."""
    c = db.table_of(CostDaily)
    gone = 0
    for source, by in SUPERSEDED_BY.items():
        f = c.alias("superseding")
        covered = select(f.c.id).where(f.c.source == by, f.c.account_id == c.c.account_id, f.c.day == c.c.day)
        stmt = delete(c).where(c.c.source == source, c.c.day >= start, c.c.day < end, covered.exists())
        gone += conn.execute(stmt).rowcount or 0
    return gone


def _month_expr(conn: Connection, day=CostDaily.day):
    if conn.dialect.name == "sqlite":
        return func.date(day, literal_column("'start of month'"))
    return cast(func.date_trunc("month", day), Date)


def rebuild_rollups(conn: Connection, start: date, end: date) -> None:
    """Recompute the monthly and daily-per-service rollups of every month overlapping `[start, end)`."""
    if end <= start:
        return
    lo, hi = month_start(start), add_months(end - timedelta(days=1), 1)
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
            [
                m.month,
                m.provider,
                m.account_id,
                m.account_name,
                m.service,
                m.currency,
                m.unblended_micros,
                m.amortized_micros,
                m.days,
                m.estimated,
            ],
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
    _rebuild_monthly_service(conn, lo, hi)
    _rebuild_source_months(conn, lo, hi)
    _rebuild_catalogs(conn)


def _rebuild_monthly_service(conn: Connection, lo: date, hi: date) -> None:
    """Month x service totals over all accounts for months in `[lo, hi)`, from cost_monthly."""
    m, ms = CostMonthly.__table__.c, CostMonthlyService.__table__.c
    conn.execute(delete(CostMonthlyService).where(CostMonthlyService.month >= lo, CostMonthlyService.month < hi))
    by_service = (
        select(m.month, m.service, m.currency, func.sum(m.unblended_micros), func.sum(m.amortized_micros))
        .where(m.month >= lo, m.month < hi)
        .group_by(m.month, m.service, m.currency)
    )
    conn.execute(
        insert(CostMonthlyService.__table__).from_select(
            [ms.month, ms.service, ms.currency, ms.unblended_micros, ms.amortized_micros], by_service
        )
    )


def _rebuild_source_months(conn: Connection, lo: date, hi: date) -> None:
    """Month x source x provider x currency: rows, resource rows, accounts and days, for months in `[lo, hi)`."""
    d, r = db.table_of(CostDaily).c, db.table_of(CostResourceDaily).c
    sm = db.table_of(CostSourceMonth)
    conn.execute(delete(sm).where(sm.c.month >= lo, sm.c.month < hi))
    month = _month_expr(conn).label("month")
    keys = [month, d.source, d.provider, d.currency]
    per_month = (
        select(*keys, func.count(), func.count(func.distinct(d.account_id)), func.min(d.day), func.max(d.day))
        .where(d.day >= lo, d.day < hi)
        .group_by(*keys)
    )
    names = ["month", "source", "provider", "currency", "rows", "accounts", "first_day", "last_day"]
    conn.execute(insert(sm).from_select(names, per_month))
    r_month = _month_expr(conn, CostResourceDaily.day).label("month")
    r_keys = [r_month, r.source, r.provider, r.currency]
    counted = select(*r_keys, func.count()).where(r.day >= lo, r.day < hi).group_by(*r_keys)
    for row in conn.execute(counted).all():
        at, source, provider, currency, n = tuple(row)
        key = (sm.c.month == at, sm.c.source == source, sm.c.provider == provider, sm.c.currency == currency)
        conn.execute(update(sm).where(*key).values(resource_rows=n))


def _rebuild_catalogs(conn: Connection) -> None:
    """The account and service pickers' lists, from the whole monthly rollup (small: one row per name)."""
    m = CostMonthly.__table__.c
    conn.execute(delete(CostAccount))
    conn.execute(
        insert(CostAccount.__table__).from_select(
            ["account_id", "account_name"], select(m.account_id, func.max(m.account_name)).group_by(m.account_id)
        )
    )
    conn.execute(delete(CostService))
    services = select(CostMonthlyService.__table__.c.service).distinct()
    conn.execute(insert(CostService.__table__).from_select(["service"], services))


def replace_window(
    session: Session,
    source: str,
    start: date,
    end: date,
    rows: pd.DataFrame,
    *,
    part_of: int | None = None,
    providers: Mapping[str, tuple[date, date]] | None = None,
    also: Callable[[Connection], None] | None = None,
) -> RefreshRun:
    """Replace `source`'s rows for days in `[start, end)` with `rows`, atomically, and record the run.

    With `providers` (provider -> its own window inside `[start, end)`), only those providers' rows in their
    windows are replaced (billing files: one provider's re-delivered period leaves the others alone), and every
    row must be of one of them, inside its window. `also` runs in the same transaction after the rows are in
    (the resource-level rows of the same files), so both land or neither does.

    A run row is committed as `running` first; the data, the rollups and the run's `ok` status are then
    committed together, so readers see either the old data and version or the new ones. On any error the
    data is untouched and the run is marked `failed` with the reason. `part_of` makes the row a part of that
    run (a history month the same refresh loads): one refresh is one run, each of its loads its own part.
    """
    return replace_window_batches(
        session, source, start, end, lambda: [_records(rows)], part_of=part_of, providers=providers, also=also
    )


def replace_window_batches(
    session: Session,
    source: str,
    start: date,
    end: date,
    batches: Callable[[], Iterable[pd.DataFrame]],
    *,
    part_of: int | None = None,
    providers: Mapping[str, tuple[date, date]] | None = None,
    also: Callable[[Connection], None] | None = None,
) -> RefreshRun:
    """`replace_window` for rows already in the store's columns (STORE_COLUMNS, money in micros), which
    `batches()` yields a part at a time inside the transaction: a large import never holds all its rows."""
    run = RefreshRun(source=source, window_start=start, window_end=end, part_of=part_of)
    session.add(run)
    session.commit()
    try:
        if providers is not None:
            _check_windows_inside(start, end, providers)
        conn = session.connection()
        with db.large_write(conn):
            _delete_window(conn, source, start, end, providers)
            count = 0
            for batch in batches():
                records = _checked(batch, source, start, end, providers)
                _insert_rows(conn, records)
                count += len(records)
            if also is not None:
                also(conn)
            drop_superseded(conn, start, end)
            rebuild_rollups(conn, start, end)
        run.status, run.rows, run.finished_at = "ok", count, utcnow()
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


def _delete_window(
    conn: Connection, source: str, start: date, end: date, providers: Mapping[str, tuple[date, date]] | None
) -> None:
    """Delete `source`'s cost_daily rows in `[start, end)`, or in each of `providers`' windows."""
    if providers is None:
        conn.execute(delete(CostDaily).where(CostDaily.source == source, CostDaily.day >= start, CostDaily.day < end))
        return
    for provider, (lo, hi) in providers.items():
        conn.execute(
            delete(CostDaily).where(
                column(CostDaily.source) == source,
                column(CostDaily.provider) == provider,
                column(CostDaily.day) >= lo,
                column(CostDaily.day) < hi,
            )
        )


def _checked(
    batch: pd.DataFrame, source: str, start: date, end: date, providers: Mapping[str, tuple[date, date]] | None
) -> pd.DataFrame:
    """The batch's STORE_COLUMNS and its source, once every row is inside the window (and its provider's)."""
    missing = [c for c in STORE_COLUMNS if c not in batch.columns]
    if missing:
        raise ContractError(f"rows lack the store columns: {', '.join(missing)}")
    records = batch[STORE_COLUMNS].assign(source=source)
    outside = records[(records["day"] < start) | (records["day"] >= end)]
    if len(outside):
        raise ContractError(f"{len(outside)} rows fall outside the window [{start}, {end})")
    if providers is not None:
        _check_provider_windows(records, providers)
    return records


def _check_windows_inside(start: date, end: date, providers: Mapping[str, tuple[date, date]]) -> None:
    """Every provider window lies in `[start, end)`."""
    for provider, (lo, hi) in providers.items():
        if lo < start or hi > end or hi <= lo:
            raise ContractError(f"provider {provider}'s window [{lo}, {hi}) is not inside [{start}, {end})")


def _check_provider_windows(records: pd.DataFrame, providers: Mapping[str, tuple[date, date]]) -> None:
    """Every row is of one of `providers`, inside its window."""
    known = records["provider"].isin(list(providers))
    if not known.all():
        raise ContractError(f"rows of providers outside the load: {sorted(set(records.loc[~known, 'provider']))}")
    lo_of = records["provider"].map({p: w[0] for p, w in providers.items()})
    hi_of = records["provider"].map({p: w[1] for p, w in providers.items()})
    outside = (records["day"] < lo_of) | (records["day"] >= hi_of)
    if outside.any():
        raise ContractError(f"{int(outside.sum())} rows fall outside their provider's window")


def record_failed_run(
    session: Session, source: str, start: date | None, end: date | None, message: str, *, part_of: int | None = None
) -> RefreshRun:
    """Record a refresh (or, with `part_of`, a part of one) that failed before loading anything (the data and the
    data version stay)."""
    session.rollback()
    now = utcnow()
    run = RefreshRun(
        source=source, status="failed", started_at=now, finished_at=now, window_start=start, window_end=end,
        error=message[:2000], part_of=part_of,
    )  # fmt: skip
    session.add(run)
    session.commit()
    session.refresh(run)
    return run


def record_unchanged_run(session: Session, source: str, start: date, end: date) -> RefreshRun:
    """Record a refresh whose probe found nothing new: no data moves, the data version stays."""
    now = utcnow()
    run = RefreshRun(source=source, status="unchanged", started_at=now, finished_at=now, window_start=start,
                     window_end=end)  # fmt: skip
    session.add(run)
    session.commit()
    session.refresh(run)
    return run


def finish_run(session: Session, run: RefreshRun) -> None:
    """Stamp a run finished now, after the parts its refresh loaded (its status is the current data's)."""
    run.finished_at = utcnow()
    session.add(run)
    session.commit()


def close_interrupted_runs(session: Session) -> int:
    """Mark runs left `running` by a sidecar that died as failed (their load rolled back); returns how many.
    The caller commits."""
    runs = session.execute(select(RefreshRun).where(RefreshRun.status == "running")).scalars().all()
    for run in runs:
        run.status, run.finished_at = "failed", utcnow()
        run.error = "interrupted: the sidecar stopped during this refresh; the previous data was kept"
        session.add(run)
    return len(runs)
