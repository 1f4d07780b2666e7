"""Forecast many series at once, in worker processes, each with its back-test error beside the baseline's."""

import logging
import multiprocessing
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass

import pandas as pd

from finops.models.forecast_backtest import backtest_mape
from finops.models.forecaster import (
    LOW_CONFIDENCE_DAYS,
    SeriesSkipped,
    check_interval,
    clean_history,
    fit_forecast,
    quiet_logging,
)

log = logging.getLogger(__name__)


@dataclass
class SeriesResult:
    series: str
    forecast: pd.DataFrame | None  # None when skipped
    history_days: int
    low_confidence: bool
    mape: float | None  # back-test MAPE of our model
    naive_mape: float | None  # back-test MAPE of the seasonal-naive baseline
    skipped: str | None  # the reason when skipped


def _one(name: str, history: pd.DataFrame, horizon_days: int, interval: int, backtest: bool) -> SeriesResult:
    """Forecast one series; a bad series comes back skipped with its reason instead of raising."""
    days = 0
    try:
        days = len(clean_history(history))
        forecast = fit_forecast(history, horizon_days=horizon_days, interval=interval)
    except SeriesSkipped as exc:
        return SeriesResult(name, None, days, days < LOW_CONFIDENCE_DAYS, None, None, str(exc))
    except Exception as exc:  # a fit that fails on odd data must not stop the batch
        return SeriesResult(name, None, days, days < LOW_CONFIDENCE_DAYS, None, None, f"forecast failed: {exc!r}")
    ours = naive = None
    if backtest:
        try:
            ours = backtest_mape(history, method="prophet")
            naive = backtest_mape(history, method="naive")
        except Exception as exc:  # the forecast is still good without its error figure
            log.warning("series %s: back-test failed: %r", name, exc)
    return SeriesResult(name, forecast, days, days < LOW_CONFIDENCE_DAYS, ours, naive, None)


def _result(future: Future, name: str) -> SeriesResult:
    try:
        return future.result()
    except Exception as exc:  # a worker that died (out of memory, killed) loses its series, not the batch
        return SeriesResult(name, None, 0, True, None, None, f"worker failed: {exc!r}")


def forecast_many(
    series: dict[str, pd.DataFrame],
    *,
    horizon_days: int = 90,
    interval: int = 80,
    backtest: bool = True,
    workers: int = 2,
) -> dict[str, SeriesResult]:
    """Forecast every series in `workers` processes (1: in this one); a bad series is skipped with its reason."""
    level = check_interval(interval)
    if horizon_days < 1:
        raise ValueError(f"horizon_days must be at least 1, got {horizon_days}")
    jobs = [(name, history, horizon_days, level, backtest) for name, history in series.items()]
    workers = min(workers, len(jobs))
    if workers <= 1:
        results = [_one(*job) for job in jobs]
    else:
        # spawn, not fork: the caller is a scheduler process with threads
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, mp_context=context, initializer=quiet_logging) as pool:
            futures = [pool.submit(_one, *job) for job in jobs]
            results = [_result(future, job[0]) for future, job in zip(futures, jobs, strict=True)]
    for result in results:
        if result.skipped:
            log.warning("series %s skipped: %s", result.series, result.skipped)
    return {result.series: result for result in results}
