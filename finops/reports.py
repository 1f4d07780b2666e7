"""What each cost view shows, computed from the store: queries + cost math, no Streamlit.

Pages (through cached loaders in finops.ui), the CLI and the REST API call these.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pandas as pd
from sqlmodel import Session

from finops import costs, fx
from finops.currency import default_currency as _default_currency
from finops.data import executions, queries, refresh_requests


@dataclass(frozen=True)
class Status:
    """What the store holds: data version, sources, coverage and the latest runs."""

    version: int
    sources: list[str]
    first_day: date | None
    last_day: date | None
    last_run_status: str | None
    last_run_finished: object | None
    last_run_error: str | None
    last_ok_finished: object | None
    request_status: str | None = None  # pending | running: a refresh someone asked for is on its way
    requested_at: object | None = None
    sidecar_beat_at: object | None = None
    forecast_run: int = 0  # the newest successful forecast run (0: none yet), a cache key for forecast views
    history_error: str | None = None  # the latest run loaded the current data, but a history month failed
    executions_version: int = 0  # the newest stored execution (0: none yet), a cache key for execution views

    @property
    def empty(self) -> bool:
        return self.last_day is None

    @property
    def is_demo(self) -> bool:
        return "demo" in self.sources


@dataclass(frozen=True)
class Freshness:
    """What every API answer states about the data, read in one query (`queries.freshness`)."""

    version: int
    executions_version: int
    forecast_run: int
    last_day: date | None
    last_run_status: str | None
    last_run_error: str | None
    last_ok_finished: datetime | None

    @property
    def empty(self) -> bool:
        return self.last_day is None


def freshness(*, session: Session) -> Freshness:
    version, executions_version, forecast_run, last_day, status_, error, finished = queries.freshness(session=session)
    day = pd.Timestamp(last_day).date() if last_day is not None else None
    return Freshness(version or 0, executions_version or 0, forecast_run or 0, day, status_, error, finished)


STALE_AFTER = timedelta(hours=24)  # three scheduled refreshes a day: a day without a good one means trouble


def stale_reason(status: Status | Freshness, now: datetime) -> str | None:
    """Why the data may be out of date (None when it is not): no data, the latest refresh failed (the last good
    data is served), or no successful refresh for STALE_AFTER."""
    if status.empty:
        return "the store holds no cost data yet"
    if status.last_run_status == "failed":
        return f"the latest refresh failed ({status.last_run_error}); this is the last good data"
    finished = status.last_ok_finished
    if isinstance(finished, datetime) and finished.tzinfo is None:
        finished = finished.replace(tzinfo=UTC)
    if not isinstance(finished, datetime) or now - finished > STALE_AFTER:
        return f"no successful refresh in the last {STALE_AFTER.total_seconds() / 3600:.0f} hours"
    return None


def status(*, session: Session) -> Status:
    last, ok = queries.latest_runs(session=session)
    first_day, last_day = queries.coverage(session=session)
    request = refresh_requests.open_request(session=session)
    beat = queries.heartbeat(session=session)
    failed = queries.failed_parts(session=session, run_id=last.id) if last is not None and last.id else []
    return Status(
        version=queries.data_version(session=session),
        sources=queries.loaded_sources(session=session),
        first_day=first_day,
        last_day=last_day,
        last_run_status=last.status if last else None,
        last_run_finished=(last.finished_at or last.started_at) if last else None,
        last_run_error=last.error if last else None,
        last_ok_finished=ok.finished_at if ok else None,
        request_status=request.status if request else None,
        requested_at=request.requested_at if request else None,
        sidecar_beat_at=beat.beat_at if beat else None,
        forecast_run=queries.forecast_run_id(session=session),
        history_error=_history_error(failed),
        executions_version=executions.version(session=session),
    )


def _history_error(failed: list) -> str | None:
    """ "2025-10: <why>" for each failed history month of the latest run; None when none failed."""
    notes = [f"{p.window_start:%Y-%m}: {p.error}" if p.window_start else str(p.error) for p in failed]
    return "; ".join(notes) or None


@dataclass(frozen=True)
class Kpis:
    """Home's four cards. None means "no data for this card yet"."""

    as_of: date
    mtd_start: date | None
    mtd: float
    mtd_previous: float | None
    mtd_change_pct: float | None
    average_monthly: float | None
    average_months: int
    projected_next_month: float | None
    next_month: date
    potential_savings: float | None
    currency: str | None = None  # of every figure but the savings (USD: AWS's recommendations)
    forecast_currency: str | None = None  # the forecast's (the store's default): no projection in another one
    converted: bool = False  # every currency converted to USD at imported rates (the picker's fx.ALL)


def default_currency(*, session: Session) -> str | None:
    """The currency views show unless one is picked (`currency.default_currency`); None for an empty store."""
    return _default_currency(queries.currency_totals(session=session))


def _reads(currency: str | None):
    """Where a view's costs come from: `queries`, or for `fx.ALL` its namesakes converted to USD."""
    from finops import converted_costs

    return converted_costs if currency == fx.ALL else queries


def home_kpis(*, session: Session, today: date, range_start: date, metric: str, currency: str | None = None) -> Kpis:
    """Home's cards for `today` in `currency` (default: the store's); the average covers complete months from
    `range_start` on. The forecast card is the forecast's, made in the store's default currency (None otherwise)."""
    default = default_currency(session=session)
    currency = currency or default
    reads = _reads(currency)
    _, last_day = queries.coverage(session=session)
    as_of = last_day or today
    this_month = costs.month_start(today)
    mtd_start = mtd_prev = change = None
    mtd = 0.0
    if as_of >= this_month:
        (start, end), (p_start, p_end) = costs.month_to_date(min(as_of, today))
        mtd = reads.total_cost(session=session, start=start, end=end, currency=currency)[metric]
        mtd_prev = reads.total_cost(session=session, start=p_start, end=p_end, currency=currency)[metric]
        mtd_start, change = start, costs.pct_change(mtd, mtd_prev)
    monthly = reads.monthly_summary(session=session, start=range_start, end=this_month, currency=currency)
    average, n_months = costs.average_monthly(monthly, metric, today) if len(monthly) else (None, 0)
    next_month = costs.add_months(today, 1)
    return Kpis(
        as_of=as_of,
        mtd_start=mtd_start,
        mtd=mtd,
        mtd_previous=mtd_prev,
        mtd_change_pct=change,
        average_monthly=average,
        average_months=n_months,
        projected_next_month=queries.forecast_total(
            session=session, start=next_month, end=costs.add_months(next_month, 1)
        )
        if currency == default
        else None,
        next_month=next_month,
        potential_savings=queries.potential_savings(session=session),
        currency=fx.REPORTING if currency == fx.ALL else currency,
        forecast_currency=default,
        converted=currency == fx.ALL,
    )


@dataclass(frozen=True)
class Overview:
    """Overview page data: monthly totals with MoM %, monthly per top service, daily totals."""

    monthly_totals: pd.DataFrame  # month, <metric>, mom_pct
    monthly_services: pd.DataFrame  # month, service, <metric>
    daily: pd.DataFrame  # day, service, <metric>
    daily_totals: pd.DataFrame  # day, <metric>
    currency: str | None = None  # of every figure; each frame has a `currency` column too (for its CSV)
    converted: bool = False  # every currency converted to USD at imported rates: frames have `converted` too


def overview(
    *,
    session: Session,
    start_month: date,
    end_month: date,
    daily_start: date,
    daily_end: date,
    metric: str,
    accounts: tuple[str, ...] = (),
    services: tuple[str, ...] = (),
    top_n: int = 8,
    currency: str | None = None,
    providers: tuple[str, ...] = (),
) -> Overview:
    """Months in `[start_month, end_month)` and days in `[daily_start, daily_end)` in `currency` (default: the
    store's), filtered."""
    currency = currency or default_currency(session=session)
    reads = _reads(currency)
    monthly = reads.monthly_summary(
        session=session, start=start_month, end=end_month, by=("service",), accounts=accounts, services=services,
        currency=currency, providers=providers,
    )  # fmt: skip
    daily = reads.daily_costs(
        session=session, start=daily_start, end=daily_end, accounts=accounts, services=services, currency=currency,
        providers=providers,
    )  # fmt: skip
    if monthly.empty:
        monthly_totals = pd.DataFrame(columns=["month", metric, "mom_pct"])
        by_service = pd.DataFrame(columns=["month", "service", metric])
    else:
        monthly_totals = costs.monthly_totals(monthly, metric)
        by_service = costs.monthly_by_service(monthly, metric, top_n)
    daily_totals = costs.daily_totals(daily, metric) if len(daily) else pd.DataFrame(columns=["day", metric])
    daily = costs.top_n_with_other(daily, "service", metric, top_n) if len(daily) else daily
    daily = costs.sum_by(daily, ["day", "service"], [metric]) if len(daily) else daily
    return Overview(
        with_currency(monthly_totals, currency), with_currency(by_service, currency), with_currency(daily, currency),
        with_currency(daily_totals, currency), fx.REPORTING if currency == fx.ALL else currency, currency == fx.ALL,
    )  # fmt: skip


def with_currency(frame: pd.DataFrame, currency: str | None) -> pd.DataFrame:
    """`frame` with a last `currency` column (the currency of all its amounts), for its CSV; for `fx.ALL` the
    reporting currency and then `converted` (true: converted at imported rates)."""
    if currency == fx.ALL:
        return with_currency(frame, fx.REPORTING).assign(converted=True)
    return frame.assign(currency=pd.Series([currency] * len(frame), index=frame.index, dtype=object))


def service_breakdown(
    *,
    session: Session,
    start: date,
    end: date,
    metric: str,
    currency: str | None = None,
    accounts: tuple[str, ...] = (),
    providers: tuple[str, ...] = (),
) -> pd.DataFrame:
    """Per service for `[start, end)` beside the previous period (see costs.previous_period), in `currency`
    (default: the store's), for the chosen accounts and providers (all when empty); last column `currency`."""
    currency = currency or default_currency(session=session)
    p_start, p_end = costs.previous_period(start, end)
    reads = _reads(currency)
    current, previous = (
        reads.service_costs(session=session, start=a, end=b, currency=currency, accounts=accounts, providers=providers)
        for a, b in ((start, end), (p_start, p_end))
    )
    if current.empty and previous.empty:
        table = pd.DataFrame(columns=["service", metric, f"previous_{metric}", "change_pct", "share_pct"])
    else:
        table = costs.service_comparison(current, previous, metric)
    return with_currency(table, currency)


def last_days(as_of: date, days: int) -> tuple[date, date]:
    """The `days`-day window ending on `as_of` (included)."""
    end = as_of + timedelta(days=1)
    return end - timedelta(days=days), end


@dataclass(frozen=True)
class DataSources:
    """The data-sources page: recent runs, requests, Cost Explorer spend and the once-a-day calls."""

    runs: pd.DataFrame
    requests: pd.DataFrame
    features: pd.DataFrame
    month_requests: int
    month_usd: float
    today_requests: int
    price_sources: pd.DataFrame  # AWS resources by where their price came from: source, resources
    prices_stored: int  # prices from the AWS Price List API in the store
    prices_fetched_at: datetime | None  # when the newest of them was fetched
    sources: pd.DataFrame  # every source and provider: deliveries.SOURCE_COLUMNS
    periods: pd.DataFrame  # billing-file deliveries per provider and period: deliveries.COLUMNS
    locations: pd.DataFrame  # FOCUS locations the sidecar polls: focus_sources.LOCATION_COLUMNS


def data_sources(*, session: Session, now: datetime, focus_paths: Sequence[str] = ()) -> DataSources:
    """What the data-sources page shows, with API spend counted from the first of `now`'s month (UTC) and the
    configured FOCUS locations `focus_paths`."""
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    today_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    month_requests, month_usd = queries.api_spend(session=session, since=month_start)
    today_requests, _ = queries.api_spend(session=session, since=today_start)
    from finops.data import aws_prices, deliveries, focus_sources

    stored, fetched_at = aws_prices.summary(session=session)
    return DataSources(
        runs=queries.recent_runs(session=session),
        requests=queries.refresh_requests(session=session),
        features=queries.ce_features(session=session),
        month_requests=month_requests,
        month_usd=month_usd,
        today_requests=today_requests,
        price_sources=queries.price_sources(session=session),
        prices_stored=stored,
        prices_fetched_at=fetched_at,
        sources=deliveries.sources(session),
        periods=deliveries.periods(session),
        locations=focus_sources.locations(session, list(focus_paths)),
    )


def cost_report(
    *,
    session: Session,
    start: date,
    end: date,
    grain: str,
    dims: Sequence[str],
    metric: str,
    currency: str | None = None,
) -> pd.DataFrame:
    """Cost per `grain` ("day" or "month") and `dims` ("service", "account") over `[start, end)`, per currency
    (or of `currency` only).

    Returns <grain>, [service], [account_id, account_name], <metric>, currency, sorted by <grain> then cost
    (highest first). Months cut by the window only count the window's days.
    """
    keys = [grain] + ["service"] * ("service" in dims) + ["account_id"] * ("account" in dims)
    labels = ["account_name"] * ("account" in dims)
    columns = keys + labels + [metric, "currency"]
    if grain == "month" and start.day == 1 and end.day == 1:
        rows = queries.monthly_summary(session=session, start=start, end=end, by=dims, currency=currency)  # rollups
    else:
        rows = queries.daily_costs_by(session=session, start=start, end=end, by=dims, currency=currency)
        if grain == "month":
            rows["month"] = [costs.month_start(day) for day in rows["day"]]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    out = costs.sum_by(rows, keys + ["currency"], [metric], sort=False)
    if labels:  # an account's name, the greatest if it changed (as the rollups keep it)
        names = rows.groupby(keys + ["currency"], as_index=False, sort=False)[labels].max()
        out = out.merge(names, on=keys + ["currency"], how="left")
    order = [grain, metric] + keys[1:] + ["currency"]
    return out.sort_values(order, ascending=[True, False] + [True] * (len(order) - 2), ignore_index=True)[columns]


@dataclass(frozen=True)
class ForecastView:
    """What the Forecast page shows for one series at one interval level."""

    run_id: int | None
    run_created_at: datetime | None
    stored_level: int
    series: pd.DataFrame  # forecasts.SERIES_COLUMNS of the run
    history: pd.DataFrame  # ds, y
    forecast: pd.DataFrame  # ds, yhat, yhat_lower, yhat_upper at the chosen level
    monthly: pd.DataFrame  # month, yhat, yhat_lower, yhat_upper, days
    aws: pd.DataFrame  # AWS's own forecast (total only), ds, yhat, yhat_lower, yhat_upper
    currency: str | None = None  # of history and forecast: the store's default (forecasts.forecast_currency)


def forecast_series(*, session: Session) -> pd.DataFrame:
    """The newest successful forecast run's series (forecasts.SERIES_COLUMNS); empty when there is none."""
    from finops.data import forecasts

    run = forecasts.latest_run(session=session)
    if run is None:
        return pd.DataFrame(columns=forecasts.SERIES_COLUMNS)
    return forecasts.series_table(session=session, run_id=run.id)


def forecast_view(*, session: Session, series: str, level: int, history_days: int = 180) -> ForecastView:
    """The newest successful run's forecast of `series` with its band at `level` % (51-99) and its history."""
    from finops.data import forecasts
    from finops.models.forecaster import check_interval, rescale_interval

    level = check_interval(level)
    run = forecasts.latest_run(session=session)
    empty = pd.DataFrame(columns=forecasts.POINT_COLUMNS)
    if run is None:
        return ForecastView(None, None, level, pd.DataFrame(columns=forecasts.SERIES_COLUMNS), empty, empty,
                            forecasts.monthly(empty), empty)  # fmt: skip
    stored = round(run.interval_level * 100)
    points = forecasts.points(session=session, run_id=run.id, series=series)
    if not points.empty and level != stored:
        points = rescale_interval(points, from_level=stored, to_level=level)
    _, last = queries.coverage(session=session)
    history = empty[[]]
    if last is not None:
        end = last + timedelta(days=1)
        history = forecasts.history(session=session, series=series, start=end - timedelta(days=history_days), end=end)
    aws = forecasts.aws_forecast(session=session) if series == forecasts.TOTAL else empty
    return ForecastView(
        run.id, run.created_at, stored, forecasts.series_table(session=session, run_id=run.id), history, points,
        forecasts.monthly(points), aws, forecasts.forecast_currency(session=session),
    )  # fmt: skip
