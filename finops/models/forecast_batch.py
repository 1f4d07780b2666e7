"""Forecast many series at once, in worker processes: each series gets the model its back-test chose, that
model's errors beside the two naive baselines', and how often its calibrated band held on the back-test."""

import atexit
import logging
import multiprocessing
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass

import pandas as pd

from finops.models.forecast_select import BASELINE, choose_forecast
from finops.models.forecaster import LOW_CONFIDENCE_DAYS, SeriesSkipped, check_interval, clean_history, fit_forecast
from finops.models.forecaster import quiet_logging as quiet_logging

log = logging.getLogger(__name__)
Progress = Callable[[int, int], None]  # (series done, series in all)


@dataclass
class SeriesResult:
    series: str
    forecast: pd.DataFrame | None  # None when skipped
    history_days: int
    low_confidence: bool
    mape: float | None = None  # back-test MAPE (30 days ahead) of the chosen model
    naive_mape: float | None = None  # the same for seasonal naive over 4 weeks
    skipped: str | None = None  # the reason when skipped
    model: str | None = None  # the model the back-test chose
    last_week_mape: float | None = None  # back-test MAPE of "last week repeated"
    total_error: float | None = None  # back-test error of the 30-day total, chosen model
    naive_total_error: float | None = None
    last_week_total_error: float | None = None
    coverage: float | None = None  # share of back-test days inside the calibrated band


def _one(
    name: str, history: pd.DataFrame, horizon_days: int, interval: int, backtest: bool, prophet: bool, country: str
) -> SeriesResult:
    """Forecast one series; a bad series comes back skipped with its reason instead of raising."""
    days = 0
    try:
        days = len(clean_history(history))
        if not backtest:  # Prophet alone, with its own band
            forecast = fit_forecast(history, horizon_days=horizon_days, interval=interval)
            return SeriesResult(name, forecast, days, days < LOW_CONFIDENCE_DAYS, model="prophet")
        choice = choose_forecast(
            history, horizon_days=horizon_days, interval=interval, prophet=prophet, country=country
        )
    except SeriesSkipped as exc:
        return SeriesResult(name, None, days, days < LOW_CONFIDENCE_DAYS, skipped=str(exc))
    except Exception as exc:  # a fit that fails on odd data must not stop the batch
        return SeriesResult(name, None, days, days < LOW_CONFIDENCE_DAYS, skipped=f"forecast failed: {exc!r}")
    errors = choice.errors.set_index("model")
    errors = errors.astype(object).where(errors.notna(), None)

    def error(model: str, column: str) -> float | None:
        return errors.at[model, column] if model in errors.index else None

    return SeriesResult(
        name,
        choice.forecast,
        days,
        days < LOW_CONFIDENCE_DAYS,
        mape=error(choice.model, "mape"),
        naive_mape=error(BASELINE["seasonal_naive"], "mape"),
        model=choice.model,
        last_week_mape=error(BASELINE["last_week"], "mape"),
        total_error=error(choice.model, "total_error"),
        naive_total_error=error(BASELINE["seasonal_naive"], "total_error"),
        last_week_total_error=error(BASELINE["last_week"], "total_error"),
        coverage=choice.coverage,
    )


_pools: dict[int, ProcessPoolExecutor] = {}


def _pool(workers: int) -> ProcessPoolExecutor:
    """A pool of `workers` spawned processes, kept for the next batch: starting one and importing Prophet and
    statsforecast there costs seconds, more than a small batch's fits."""
    pool = _pools.get(workers)
    if pool is None or getattr(pool, "_broken", False):
        # spawn, not fork: the caller is a scheduler process with threads
        context = multiprocessing.get_context("spawn")
        pool = _pools[workers] = ProcessPoolExecutor(workers, mp_context=context, initializer=quiet_logging)
    return pool


@atexit.register
def _close_pools() -> None:
    for pool in _pools.values():
        pool.shutdown(cancel_futures=True)
    _pools.clear()


def _result(future: Future, name: str) -> SeriesResult:
    try:
        return future.result()
    except Exception as exc:  # a worker that died (out of memory, killed) loses its series, not the batch
        return SeriesResult(name, None, 0, True, skipped=f"worker failed: {exc!r}")


def forecast_many(
    series: dict[str, pd.DataFrame],
    *,
    horizon_days: int = 90,
    interval: int = 80,
    backtest: bool = True,
    workers: int = 2,
    prophet_series: int | None = None,
    country: str = "",
    progress: Progress | None = None,
) -> dict[str, SeriesResult]:
    """Forecast every series in `workers` processes (1: in this one); a bad series is skipped with its reason.

    The first `prophet_series` series (all when None) also try Prophet among the candidates; `country` names
    the public holidays (ISO code, empty: none); `progress(done, total)` is called as series finish. With
    `backtest=False` every series gets Prophet alone with its own band (no errors, no choice).
    """
    level = check_interval(interval)
    if horizon_days < 1:
        raise ValueError(f"horizon_days must be at least 1, got {horizon_days}")
    cap = len(series) if prophet_series is None else prophet_series
    jobs = [
        (name, history, horizon_days, level, backtest, i < cap, country)
        for i, (name, history) in enumerate(series.items())
    ]
    done: dict[str, SeriesResult] = {}
    if min(workers, len(jobs)) <= 1:
        for job in jobs:
            done[job[0]] = _one(*job)
            if progress:
                progress(len(done), len(jobs))
    else:
        futures = {_pool(workers).submit(_one, *job): job[0] for job in jobs}
        for future in as_completed(futures):
            done[futures[future]] = _result(future, futures[future])
            if progress:
                progress(len(done), len(jobs))
    results = [done[job[0]] for job in jobs]
    for result in results:
        if result.skipped:
            log.warning("series %s skipped: %s", result.series, result.skipped)
    return {result.series: result for result in results}
