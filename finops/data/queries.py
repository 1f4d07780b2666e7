"""Read functions over the store; each returns a DataFrame (or a scalar) in currency units, not micros."""

from collections.abc import Sequence
from datetime import date, datetime

import pandas as pd
from sqlalchemy import case, func, select
from sqlmodel import Session, SQLModel, col
from sqlmodel import col as column

from finops.data.tables import (
    CeApiCall,
    CeFeature,
    CostAccount,
    CostDaily,
    CostDailyService,
    CostMonthly,
    CostMonthlyService,
    CostService,
    ForecastPoint,
    ForecastRun,
    Heartbeat,
    Recommendation,
    RefreshRequest,
    RefreshRun,
    Resource,
)
from finops.money import micros_to_amount

METRICS = {"unblended": "unblended_cost", "amortized": "amortized_cost"}


def _frame(session: Session, stmt, columns: list[str]) -> pd.DataFrame:
    # plain tuples: pandas probes each record for array attributes, which is slow on SQLAlchemy Rows
    rows = [tuple(r) for r in session.connection().execute(stmt)]
    frame = pd.DataFrame.from_records(rows, columns=columns)
    for metric in ("unblended", "amortized"):
        micros = f"{metric}_micros"
        if micros in frame:
            frame[f"{metric}_cost"] = micros_to_amount(frame.pop(micros).astype("int64"))
    return frame


def _dates(frame: pd.DataFrame, *cols: str) -> pd.DataFrame:
    for name in cols:
        frame[name] = pd.to_datetime(frame[name]).dt.date
    return frame


def data_version(*, session: Session) -> int:
    """Id of the newest successful refresh run (0 when there is none)."""
    return session.exec(select(func.max(RefreshRun.id)).where(RefreshRun.status == "ok")).one()[0] or 0


def latest_runs(*, session: Session) -> tuple[RefreshRun | None, RefreshRun | None]:
    """The newest run (a refresh, not one of its parts) of any status, and the newest successful load."""
    last = session.exec(
        select(RefreshRun).where(col(RefreshRun.part_of).is_(None)).order_by(RefreshRun.id.desc()).limit(1)
    ).first()
    ok = session.exec(
        select(RefreshRun).where(RefreshRun.status == "ok").order_by(RefreshRun.id.desc()).limit(1)
    ).first()
    return (last[0] if last else None), (ok[0] if ok else None)


def loaded_sources(*, session: Session) -> list[str]:
    """Sources that have at least one successful run, sorted."""
    rows = session.exec(select(RefreshRun.source).where(RefreshRun.status == "ok").distinct()).all()
    return sorted(r[0] for r in rows)


def coverage(*, session: Session) -> tuple[date | None, date | None]:
    """First and last day that hold cost data."""
    # two scalar subqueries: SQLite answers a lone min() or max() from the index in one seek, not both at once
    lo, hi = session.exec(
        select(select(func.min(CostDaily.day)).scalar_subquery(), select(func.max(CostDaily.day)).scalar_subquery())
    ).one()
    to_date = lambda v: pd.Timestamp(v).date() if v is not None else None  # noqa: E731
    return to_date(lo), to_date(hi)


def accounts(*, session: Session) -> pd.DataFrame:
    """Known accounts: account_id, account_name."""
    c = CostAccount.__table__.c
    return _frame(session, select(c.account_id, c.account_name).order_by(c.account_id), ["account_id", "account_name"])


def services(*, session: Session) -> list[str]:
    """Known service names, sorted."""
    c = CostService.__table__.c
    return [r[0] for r in session.connection().execute(select(c.service).order_by(c.service))]


def _grouped(
    session: Session,
    time_col: str,
    tables: tuple,
    start: date,
    end: date,
    by: Sequence[str],
    accounts: Sequence[str] = (),
    services: Sequence[str] = (),
    currency: str | None = None,
    providers: Sequence[str] = (),
) -> pd.DataFrame:
    """Costs per `time_col` in `[start, end)` and currency, also per service and/or account, summed in SQL.

    `tables` is (per-account table, per-service rollup): the smaller rollup serves whenever no account is
    grouped and no account or provider filtered (the rollups keep no provider). `currency` keeps that one only.
    """
    unknown = set(by) - {"service", "account"}
    if unknown:
        raise ValueError(f"cannot group costs by {', '.join(sorted(unknown))}")
    per_account, rollup = tables
    c = (per_account if "account" in by or accounts or providers else rollup).__table__.c
    keys = [c[time_col]] + ([c.service] if "service" in by else []) + ([c.account_id] if "account" in by else [])
    labels = [func.max(c.account_name)] if "account" in by else []
    stmt = (
        select(*keys, *labels, c.currency, func.sum(c.unblended_micros), func.sum(c.amortized_micros))
        .where(c[time_col] >= start, c[time_col] < end)
        .group_by(*keys, c.currency)
        .order_by(*keys, c.currency)
    )
    stmt = _filtered(stmt, c, accounts, services, currency, providers)
    columns = [k.name for k in keys] + ["account_name"] * bool(labels) + ["currency"]
    return _dates(_frame(session, stmt, [*columns, "unblended_micros", "amortized_micros"]), time_col)


def _filtered(stmt, c, accounts: Sequence[str], services: Sequence[str], currency: str | None, providers=()):
    """`stmt` kept to the chosen accounts, services, currency and providers (each: all when empty)."""
    if accounts:
        stmt = stmt.where(c.account_id.in_(list(accounts)))
    if services:
        stmt = stmt.where(c.service.in_(list(services)))
    if currency:
        stmt = stmt.where(c.currency == currency)
    if providers:
        stmt = stmt.where(c.provider.in_(list(providers)))
    return stmt


def monthly_summary(
    *,
    session: Session,
    start: date,
    end: date,
    by: Sequence[str] = (),
    accounts: Sequence[str] = (),
    services: Sequence[str] = (),
    currency: str | None = None,
    providers: Sequence[str] = (),
) -> pd.DataFrame:
    """Cost per month for months starting in `[start, end)`, also per service and/or account (`by`), per currency
    (or of `currency` only).

    Returns month, [service], [account_id, account_name], currency, unblended_cost, amortized_cost, sorted.
    """
    tables = (CostMonthly, CostMonthlyService)
    return _grouped(session, "month", tables, start, end, by, accounts, services, currency, providers)


def daily_costs(
    *,
    session: Session,
    start: date,
    end: date,
    accounts: Sequence[str] = (),
    services: Sequence[str] = (),
    currency: str | None = None,
    providers: Sequence[str] = (),
) -> pd.DataFrame:
    """Cost per day and service over `[start, end)` in `currency`, summed over the chosen accounts and providers
    (all when empty). Without `currency` the store must hold one currency only: amounts are never added across
    currencies (ValueError).

    Returns day, service, unblended_cost, amortized_cost.
    """
    currency = currency or _only_currency(session)
    c = _daily_table(per_account=bool(accounts or providers))
    stmt = (
        select(c.day, c.service, func.sum(c.unblended_micros), func.sum(c.amortized_micros))
        .where(c.day >= start, c.day < end)
        .group_by(c.day, c.service)
    )
    stmt = _filtered(stmt, c, accounts, services, currency, providers)
    return _dates(_frame(session, stmt, ["day", "service", "unblended_micros", "amortized_micros"]), "day")


def daily_costs_by(
    *, session: Session, start: date, end: date, by: Sequence[str] = (), currency: str | None = None
) -> pd.DataFrame:
    """Cost per day over `[start, end)`, also per service and/or account (`by`), per currency (or of `currency`).

    Returns day, [service], [account_id, account_name], currency, unblended_cost, amortized_cost, sorted.
    """
    return _grouped(session, "day", (CostDaily, CostDailyService), start, end, by, currency=currency)


def service_costs(
    *,
    session: Session,
    start: date,
    end: date,
    currency: str | None = None,
    accounts: Sequence[str] = (),
    providers: Sequence[str] = (),
) -> pd.DataFrame:
    """Cost per service over `[start, end)` in `currency` (without it: the store's only currency), for the chosen
    accounts and providers (all when empty): service, unblended_cost, amortized_cost."""
    currency = currency or _only_currency(session)
    c = _daily_table(per_account=bool(accounts or providers))
    stmt = (
        select(c.service, func.sum(c.unblended_micros), func.sum(c.amortized_micros))
        .where(c.day >= start, c.day < end)
        .group_by(c.service)
    )
    stmt = _filtered(stmt, c, accounts, (), currency, providers)
    return _frame(session, stmt, ["service", "unblended_micros", "amortized_micros"])


def total_cost(*, session: Session, start: date, end: date, currency: str | None = None) -> dict[str, float]:
    """Total of each metric over `[start, end)` in `currency` (without it: the store's only currency):
    {"unblended_cost": ..., "amortized_cost": ...}."""
    currency = currency or _only_currency(session)
    c = CostDailyService.__table__.c
    stmt = select(func.sum(c.unblended_micros), func.sum(c.amortized_micros)).where(c.day >= start, c.day < end)
    if currency:
        stmt = stmt.where(c.currency == currency)
    u, a = session.connection().execute(stmt).one()
    # int(): PostgreSQL's SUM(bigint) is numeric, which psycopg returns as Decimal
    return {"unblended_cost": micros_to_amount(int(u or 0)), "amortized_cost": micros_to_amount(int(a or 0))}


def _daily_table(*, per_account: bool):
    """The columns of cost_daily (per account and provider) or, smaller, of the per-service rollup."""
    return SQLModel.metadata.tables["cost_daily" if per_account else "cost_daily_service"].c


class MixedCurrencies(ValueError):
    """A total was asked for without a currency from a store that holds several."""


def _only_currency(session: Session) -> str | None:
    """The store's one currency (None when it holds none); MixedCurrencies when it holds several."""
    found = currencies(session=session)
    if len(found) > 1:
        raise MixedCurrencies(f"the store holds {', '.join(found)}: name the currency (amounts are never added)")
    return found[0] if found else None


def forecast_run_id(*, session: Session) -> int:
    """Id of the newest successful forecast run (0 when there is none)."""
    return session.exec(select(func.max(ForecastRun.id)).where(ForecastRun.status == "ok")).one()[0] or 0


def forecast_total(*, session: Session, start: date, end: date) -> float | None:
    """Forecast total spend over `[start, end)` from the newest forecast run, or None when there is none."""
    run = session.exec(select(func.max(ForecastRun.id)).where(ForecastRun.status == "ok")).one()[0]
    if run is None:
        return None
    value, n = session.exec(
        select(func.sum(ForecastPoint.yhat), func.count())
        .where(ForecastPoint.run_id == run, ForecastPoint.series == "total")
        .where(ForecastPoint.ds >= start, ForecastPoint.ds < end)
    ).one()
    return float(value) if n else None


def potential_savings(*, session: Session) -> float | None:
    """Estimated monthly savings of all open recommendations, or None when there are none."""
    value, n = session.exec(
        select(func.sum(Recommendation.estimated_monthly_savings), func.count()).where(Recommendation.status == "open")
    ).one()
    return float(value) if n else None


def heartbeat(*, session: Session, name: str = "sidecar") -> Heartbeat | None:
    """The sidecar's latest heartbeat, if it ever ran."""
    return session.get(Heartbeat, name)


def failed_parts(*, session: Session, run_id: int) -> list[RefreshRun]:
    """The parts of a run (history months) that failed, oldest window first."""
    stmt = select(RefreshRun).where(col(RefreshRun.part_of) == run_id, col(RefreshRun.status) == "failed")
    return list(session.execute(stmt.order_by(col(RefreshRun.window_start))).scalars())


def recent_runs(*, session: Session, limit: int = 50) -> pd.DataFrame:
    """The newest refresh runs, each with what its parts (history months) loaded and the Cost Explorer requests
    it made.

    Returns id, source, status, started_at, finished_at, window_start, window_end, rows (the run's and its
    parts'), history ("13 months loaded, 1 failed"), requests, error.
    """
    r = RefreshRun.__table__.c
    columns = ["id", "source", "status", "started_at", "finished_at", "window_start", "window_end", "rows", "error"]
    stmt = select(*(r[c] for c in columns)).where(r.part_of.is_(None)).order_by(r.id.desc()).limit(limit)
    runs = _frame(session, stmt, columns)
    ids = [int(i) for i in runs["id"]]
    ok = r.status == "ok"
    parts = {
        run: (int(loaded or 0), int(failed or 0), int(rows or 0))
        for run, loaded, failed, rows in session.connection().execute(
            select(r.part_of, func.sum(case((ok, 1), else_=0)), func.sum(case((r.status == "failed", 1), else_=0)),
                   func.sum(case((ok, r.rows), else_=0)))
            .where(r.part_of.in_(ids)).group_by(r.part_of)
        )
    }  # fmt: skip
    c = CeApiCall.__table__.c
    calls = select(c.run_id, func.count()).where(c.run_id.in_(ids)).group_by(c.run_id)
    requests = {run: int(n) for run, n in session.connection().execute(calls)}
    runs["rows"] = [int(n) + parts.get(i, (0, 0, 0))[2] for i, n in zip(ids, runs["rows"], strict=True)]
    runs.insert(8, "history", [_history_note(*parts.get(i, (0, 0, 0))[:2]) for i in ids])
    runs.insert(9, "requests", [requests.get(i, 0) for i in ids])
    return runs


def _history_note(ok: int, failed: int) -> str:
    """ "3 months loaded, 1 failed" for a run's history parts ("" when it had none)."""
    if not ok and not failed:
        return ""
    loaded = f"{ok} month{'s' * (ok != 1)} loaded"
    return f"{loaded}, {failed} failed" if failed else loaded


def api_spend(*, session: Session, since: datetime) -> tuple[int, float]:
    """Cost Explorer requests made since `since` and what they cost (USD)."""
    count, usd = session.execute(
        select(func.count(CeApiCall.id), func.coalesce(func.sum(CeApiCall.cost_usd), 0.0)).where(
            CeApiCall.called_at >= since
        )
    ).one()
    return int(count), float(usd)


def ce_features(*, session: Session) -> pd.DataFrame:
    """The once-a-day Cost Explorer calls and how they last went: operation, status, message, last_attempt_at,
    last_success_at."""
    c = CeFeature.__table__.c
    stmt = select(c.operation, c.status, c.message, c.last_attempt_at, c.last_success_at).order_by(c.operation)
    return _frame(session, stmt, ["operation", "status", "message", "last_attempt_at", "last_success_at"])


def refresh_requests(*, session: Session, limit: int = 20) -> pd.DataFrame:
    """The newest refresh requests: id, requested_at, requested_by, backfill, status, run_id, error."""
    c = RefreshRequest.__table__.c
    stmt = select(c.id, c.requested_at, c.requested_by, c.backfill, c.status, c.run_id, c.error)
    cols = ["id", "requested_at", "requested_by", "backfill", "status", "run_id", "error"]
    return _frame(session, stmt.order_by(c.id.desc()).limit(limit), cols)


def price_sources(*, session: Session) -> pd.DataFrame:
    """AWS resources of the inventory by where their price came from: source (price_list_api, bundled or
    unknown), resources."""
    source = case((col(Resource.price_known), col(Resource.price_source)), else_="unknown")
    stmt = select(source, func.count()).where(col(Resource.source) == "aws").group_by(source).order_by(source)
    return _frame(session, stmt, ["source", "resources"])


def currencies(*, session: Session) -> list[str]:
    """Currencies the cost data holds, sorted (from the monthly rollup: a few thousand rows at most)."""
    currency = column(CostMonthlyService.currency)
    return [r[0] for r in session.connection().execute(select(currency).distinct().order_by(currency))]


def currency_totals(*, session: Session) -> pd.DataFrame:
    """Each currency's whole cost in the store: currency, unblended_cost, amortized_cost (from the monthly rollup)."""
    c = SQLModel.metadata.tables["cost_monthly_service"].c
    stmt = select(c.currency, func.sum(c.unblended_micros), func.sum(c.amortized_micros)).group_by(c.currency)
    return _frame(session, stmt.order_by(c.currency), ["currency", "unblended_micros", "amortized_micros"])


def providers(*, session: Session) -> list[str]:
    """Providers the cost data holds, sorted (from the monthly per-account table)."""
    provider = column(CostMonthly.provider)
    return [r[0] for r in session.connection().execute(select(provider).distinct().order_by(provider))]


def freshness(*, session: Session) -> tuple:
    """In one query: data version, newest execution id, newest successful forecast run, last day with data, the
    newest run's status and error, and when the newest successful run finished (the API's meta on every request)."""
    run = SQLModel.metadata.tables["refresh_run"].c
    newest = lambda column: select(column).order_by(run.id.desc()).limit(1).scalar_subquery()  # noqa: E731
    ok = run.status == "ok"
    stmt = select(
        select(func.max(run.id)).where(ok).scalar_subquery(),
        select(func.max(SQLModel.metadata.tables["execution"].c.id)).scalar_subquery(),
        select(func.max(SQLModel.metadata.tables["forecast_run"].c.id))
        .where(SQLModel.metadata.tables["forecast_run"].c.status == "ok")
        .scalar_subquery(),
        select(func.max(SQLModel.metadata.tables["cost_daily"].c.day)).scalar_subquery(),
        newest(run.status),
        newest(run.error),
        select(run.finished_at).where(ok).order_by(run.id.desc()).limit(1).scalar_subquery(),
    )
    return tuple(session.connection().execute(stmt).one())
