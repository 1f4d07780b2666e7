"""Forecasts in the store: ours (which series the sidecar forecasts, saving a run) and AWS's, and what pages
and CLI read.

Series are named "total", "service:NAME" (the top N services by spend over the last 90 days) and
"account:ID" (every account). A run stores each series' forecast points (`forecast_point`) and its back-test
error beside the two naive baselines' and the model its back-test chose, or the reason it was skipped
(`forecast_series`); a running run holds its progress (`forecast_run.done` of `total`). AWS's own forecast
(GetCostForecast, fetched by `sources.aws_ce_forecast`) is kept beside ours in `aws_forecast`.
"""

import logging
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import delete, func, select, update
from sqlmodel import Session, col

from finops.currency import default_currency
from finops.data import queries
from finops.data.tables import AwsForecast, ForecastPoint, ForecastRun, ForecastSeries, utcnow
from finops.models import forecast_batch, forecaster

log = logging.getLogger(__name__)
TOTAL = "total"
TOP_WINDOW_DAYS = 90  # "top services" = by spend over this many days
SERIES_COLUMNS = [
    "series",
    "model",
    "history_days",
    "low_confidence",
    "mape",
    "naive_mape",
    "last_week_mape",
    "total_error",
    "naive_total_error",
    "last_week_total_error",
    "coverage",
    "skipped",
]
RESULT_FIELDS = SERIES_COLUMNS[1:]  # what forecast_batch.SeriesResult gives for each series
MODEL_LABELS = {
    "seasonal_naive": "Seasonal naive (with holidays and fees)",
    "last_week": "Last week repeated (with holidays and fees)",
    "ets": "ETS",
    "theta": "Theta",
    "prophet": "Prophet",
    "ensemble": "Ensemble (mean of ETS, Theta and Prophet where tried)",
}
BACKTEST_COLUMNS = ["method", "mape", "total_error"]
PROGRESS_SECONDS = 1.0  # a running run writes its progress at most this often
POINT_COLUMNS = ["ds", "yhat", "yhat_lower", "yhat_upper"]


def series_name(kind: str, key: str) -> str:
    """The name of a service's or an account's series ("service:NAME", "account:ID"); the total is TOTAL."""
    return f"{kind}:{key}"


def parse_series(name: str) -> tuple[str, str]:
    """("total", "") | ("service", NAME) | ("account", ID); ValueError for anything else."""
    if name == TOTAL:
        return TOTAL, ""
    kind, sep, key = name.partition(":")
    if not sep or kind not in ("service", "account") or not key:
        raise ValueError(f"series must be total, service:NAME or account:ID, not {name!r}")
    return kind, key


def forecast_currency(*, session: Session) -> str | None:
    """The currency forecasts are made in: the store's default (`currency.default_currency`)."""
    return default_currency(queries.currency_totals(session=session))


def history_frames(
    *, session: Session, top_n: int, metric: str = "unblended_cost", end: date | None = None
) -> dict[str, pd.DataFrame]:
    """Every series' daily history (`ds, y`) over all stored days before `end` (default: after the last day)."""
    first, last = queries.coverage(session=session)
    if first is None:
        return {}
    end = end or last + timedelta(days=1)
    # one currency: the store's default (amounts in different currencies are never added)
    currency = forecast_currency(session=session)
    daily = queries.daily_costs_by(session=session, start=first, end=end, by=["service", "account"], currency=currency)
    if daily.empty:
        return {}
    daily["ds"] = pd.to_datetime(daily["day"])
    frames = {TOTAL: _series(daily, metric)}
    recent = daily[daily["ds"] >= pd.Timestamp(end - timedelta(days=TOP_WINDOW_DAYS))]
    top = recent.groupby("service")[metric].sum().sort_values(ascending=False).head(max(0, top_n)).index
    for service in top:
        frames[series_name("service", service)] = _series(daily[daily["service"] == service], metric)
    # accounts too go largest first: the first series of a run may also try Prophet (forecast_prophet_series)
    accounts = recent.groupby("account_id")[metric].sum().sort_values(ascending=False, kind="stable")
    ordered = [*accounts.index, *sorted(set(daily["account_id"]) - set(accounts.index), key=str)]
    for account in ordered:
        frames[series_name("account", str(account))] = _series(daily[daily["account_id"] == account], metric)
    return frames


def _series(rows: pd.DataFrame, metric: str) -> pd.DataFrame:
    out = rows.groupby("ds", as_index=False)[metric].sum().rename(columns={metric: "y"})
    return out.sort_values("ds").reset_index(drop=True)


def _progress_writer(session: Session, run_id: int | None) -> Callable[[int, int], None]:
    """A callback that records a run's progress in a transaction of its own, at most every PROGRESS_SECONDS."""
    last = [0.0]

    def write(done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - last[0] < PROGRESS_SECONDS:
            return
        last[0] = now
        with Session(session.get_bind()) as own:  # the caller's session may be inside a read
            own.execute(update(ForecastRun).where(col(ForecastRun.id) == run_id).values(done=done, total=total))
            own.commit()

    return write


def run_forecasts(
    *,
    session: Session,
    settings: Any,
    refresh_run_id: int | None = None,
    interval: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ForecastRun:
    """Forecast every series and store the run (status ok, or failed with the reason); never raises for data.

    While it runs, the run row holds how many series are done (`done` of `total`); `progress(done, total)`
    is also called, for a terminal's progress bar.
    """
    level = forecaster.check_interval(interval if interval is not None else settings.forecast_interval)
    run = ForecastRun(
        refresh_run_id=refresh_run_id,
        interval_level=level / 100,
        horizon_days=settings.forecast_horizon_days,
        status="running",
    )
    session.add(run)
    session.commit()
    write = _progress_writer(session, run.id)

    def report(done: int, total: int) -> None:
        write(done, total)
        if progress:
            progress(done, total)

    try:
        frames = history_frames(session=session, top_n=settings.forecast_top_n)
        session.commit()  # end the read: progress is written from another session
        report(0, len(frames))
        results = forecast_batch.forecast_many(
            frames,
            horizon_days=settings.forecast_horizon_days,
            interval=level,
            backtest=True,
            workers=settings.forecast_workers,
            prophet_series=settings.forecast_prophet_series,
            country=settings.forecast_holidays_country,
            progress=report,
        )
        points, series = [], []
        for name, result in results.items():
            series.append({"run_id": run.id, "series": name, **{f: getattr(result, f) for f in RESULT_FIELDS}})
            if result.forecast is not None:
                f = result.forecast
                points += [
                    {"run_id": run.id, "series": name, "ds": ds.date(), "yhat": a, "yhat_lower": lo, "yhat_upper": hi}
                    for ds, a, lo, hi in zip(f["ds"], f["yhat"], f["yhat_lower"], f["yhat_upper"], strict=True)
                ]
        if series:
            session.execute(ForecastSeries.__table__.insert(), series)
        if points:
            session.execute(ForecastPoint.__table__.insert(), points)
        skipped = sum(1 for s in series if s["skipped"])
        session.refresh(run)  # the progress was written by another session
        run.done = run.total = len(series)
        run.status = "ok" if frames else "failed"
        run.message = f"{len(series) - skipped} series forecast, {skipped} skipped" if frames else "no cost data yet"
    except Exception as exc:  # a model failure must not lose the previous run: it stays the newest "ok"
        session.rollback()
        log.exception("forecast run %s failed", run.id)
        run = session.get(ForecastRun, run.id)
        session.execute(delete(ForecastPoint).where(ForecastPoint.run_id == run.id))
        session.execute(delete(ForecastSeries).where(ForecastSeries.run_id == run.id))
        run.status, run.message = "failed", f"{type(exc).__name__}: {exc}"
    run.finished_at = utcnow()
    session.add(run)
    session.commit()
    session.refresh(run)
    return run


def running_run(*, session: Session) -> ForecastRun | None:
    """The forecast run in progress, if any (the newest one still `running`)."""
    stmt = select(ForecastRun).where(col(ForecastRun.status) == "running").order_by(col(ForecastRun.id).desc()).limit(1)
    return session.execute(stmt).scalars().first()


def latest_run(*, session: Session) -> ForecastRun | None:
    """The newest successful forecast run."""
    stmt = select(ForecastRun).where(ForecastRun.status == "ok").order_by(ForecastRun.id.desc()).limit(1)
    return session.execute(stmt).scalars().first()


def last_modeled_version(*, session: Session) -> int | None:
    """The data version (refresh run id) the newest forecast run, whatever its status, was computed for."""
    stmt = select(ForecastRun.refresh_run_id).order_by(ForecastRun.id.desc()).limit(1)
    return session.execute(stmt).scalar()


def series_table(*, session: Session, run_id: int) -> pd.DataFrame:
    """SERIES_COLUMNS of a run, total first, then services and accounts by name."""
    rows = session.execute(select(ForecastSeries).where(ForecastSeries.run_id == run_id)).scalars().all()
    frame = pd.DataFrame([{c: getattr(r, c) for c in SERIES_COLUMNS} for r in rows], columns=SERIES_COLUMNS)
    order = frame["series"].map(lambda s: (s != TOTAL, not s.startswith("service:"), s))
    return frame.iloc[order.argsort(kind="stable")].reset_index(drop=True) if len(frame) else frame


def points(*, session: Session, run_id: int, series: str) -> pd.DataFrame:
    """A series' forecast in a run: ds (Timestamp), yhat, yhat_lower, yhat_upper, by day."""
    stmt = (
        select(ForecastPoint.ds, ForecastPoint.yhat, ForecastPoint.yhat_lower, ForecastPoint.yhat_upper)
        .where(ForecastPoint.run_id == run_id, ForecastPoint.series == series)
        .order_by(ForecastPoint.ds)
    )
    frame = pd.DataFrame(session.execute(stmt).all(), columns=POINT_COLUMNS)
    frame["ds"] = pd.to_datetime(frame["ds"])
    return frame


def history(*, session: Session, series: str, start: date, end: date, metric: str = "unblended_cost") -> pd.DataFrame:
    """A series' actual daily cost in `[start, end)` as `ds, y` (days without cost are 0), in the currency forecasts
    are made in (`forecast_currency`)."""
    kind, key = parse_series(series)
    currency = forecast_currency(session=session)
    if kind == "account":
        daily = queries.daily_costs(session=session, start=start, end=end, accounts=[key], currency=currency)
    else:
        services = [key] if key else ()
        daily = queries.daily_costs(session=session, start=start, end=end, services=services, currency=currency)
    days = pd.date_range(start, end - timedelta(days=1), freq="D")
    if daily.empty:
        return pd.DataFrame({"ds": days, "y": 0.0})
    y = daily.groupby(pd.to_datetime(daily["day"]))[metric].sum()
    return pd.DataFrame({"ds": days, "y": y.reindex(days, fill_value=0.0).to_numpy()})


def store_aws_forecast(session: Session, metric: str, rows: list[dict], now: datetime) -> None:
    """Replace AWS's forecast of `metric` with `rows` (none: an older forecast no longer stands)."""
    session.execute(delete(AwsForecast).where(AwsForecast.metric == metric))
    for row in rows:
        session.add(AwsForecast(fetched_at=now, metric=metric, **row))
    session.commit()


def aws_forecast(*, session: Session) -> pd.DataFrame:
    """AWS's own total forecast from the newest fetch (ingestion): ds, yhat, yhat_lower, yhat_upper."""
    newest = session.execute(select(func.max(AwsForecast.fetched_at))).scalar()
    if newest is None:
        return pd.DataFrame(columns=POINT_COLUMNS)
    stmt = (
        select(AwsForecast.ds, AwsForecast.yhat, AwsForecast.yhat_lower, AwsForecast.yhat_upper)
        .where(AwsForecast.fetched_at == newest)
        .order_by(AwsForecast.ds)
    )
    frame = pd.DataFrame(session.execute(stmt).all(), columns=POINT_COLUMNS)
    frame["ds"] = pd.to_datetime(frame["ds"])
    return frame


def monthly(points_frame: pd.DataFrame) -> pd.DataFrame:
    """Monthly sums of a daily forecast: month (first day), yhat, yhat_lower, yhat_upper, days.

    The bounds are sums of the daily bounds: a conservative band (it assumes the days err together).
    """
    if points_frame.empty:
        return pd.DataFrame(columns=["month", "yhat", "yhat_lower", "yhat_upper", "days"])
    frame = points_frame.assign(month=points_frame["ds"].dt.to_period("M").dt.to_timestamp().dt.date)
    out = frame.groupby("month", as_index=False).agg(
        yhat=("yhat", "sum"), yhat_lower=("yhat_lower", "sum"), yhat_upper=("yhat_upper", "sum"), days=("ds", "size")
    )
    return out


def close_interrupted(*, session: Session) -> int:
    """Mark forecast runs left `running` by a sidecar that died as failed (the previous successful run stays the
    one shown); returns how many. The caller commits."""
    rows = session.execute(select(ForecastRun).where(ForecastRun.status == "running")).scalars().all()
    for row in rows:
        row.status, row.finished_at, row.message = "failed", utcnow(), "interrupted: the sidecar stopped"
        session.add(row)
    return len(rows)


def model_label(model: str | None) -> str:
    """The chosen model in words ("n/a" for a run before models were chosen)."""
    return MODEL_LABELS.get(model or "", model or "n/a")


def backtest_table(row: pd.Series) -> pd.DataFrame:
    """The chosen model's back-test errors beside the two baselines' (BACKTEST_COLUMNS), from a series row."""
    rows = [
        (f"Model: {model_label(row.get('model'))}", row.get("mape"), row.get("total_error")),
        ("Seasonal naive (same weekday, last 4 weeks)", row.get("naive_mape"), row.get("naive_total_error")),
        ("Last week repeated", row.get("last_week_mape"), row.get("last_week_total_error")),
    ]
    return pd.DataFrame(rows, columns=BACKTEST_COLUMNS)
