"""How good a forecast is: the back-test error (MAPE) of ours and of the seasonal-naive baseline."""

import numpy as np
import pandas as pd

from finops.models.forecast_baselines import seasonal_naive
from finops.models.forecaster import MIN_HISTORY_DAYS, SeriesSkipped, clean_history, enough_history, prophet_forecast

__all__ = ["backtest_mape", "mape", "seasonal_naive", "total_error"]


def mape(actual, forecast) -> float | None:
    """Mean of |actual - forecast| / |actual| over the days whose actual is known and not 0; None if none are."""
    a, f = np.asarray(actual, dtype=float), np.asarray(forecast, dtype=float)
    keep = np.isfinite(a) & (a != 0) & np.isfinite(f)
    return float(np.mean(np.abs(a[keep] - f[keep]) / np.abs(a[keep]))) if keep.any() else None


def total_error(actual, forecast) -> float | None:
    """|sum(actual) - sum(forecast)| / |sum(actual)| over the days whose actual is known; None if that sum is 0."""
    a, f = np.asarray(actual, dtype=float), np.asarray(forecast, dtype=float)
    keep = np.isfinite(a) & np.isfinite(f)
    total = float(a[keep].sum())
    return abs(total - float(f[keep].sum())) / abs(total) if keep.any() and total != 0 else None


def backtest_mape(
    history: pd.DataFrame, *, method: str = "prophet", horizon_days: int = 30, origins: int = 3
) -> float | None:
    """MAPE of `horizon_days`-ahead forecasts from the last `origins` origins (end-30, end-60, ... days).

    Each origin fits on the days before it and is compared with the actual next `horizon_days`. Origins with
    fewer than MIN_HISTORY_DAYS days before them are left out; the errors of all their days are pooled (see
    `mape` for which days count). None when no origin fits.
    """
    if method not in ("prophet", "naive"):
        raise ValueError(f"method must be 'prophet' or 'naive', got {method!r}")
    clean = clean_history(history)
    actual, predicted = [], []
    for k in range(1, origins + 1):
        cut = len(clean) - k * horizon_days
        if cut < MIN_HISTORY_DAYS:
            break
        train, test = clean.iloc[:cut], clean.iloc[cut : cut + horizon_days]
        try:
            if method == "naive":
                fc = seasonal_naive(train, horizon_days=horizon_days)
            else:  # the point forecast only: no band, no sampling
                fc = prophet_forecast(enough_history(train), horizon_days, 80, intervals=False)
        except SeriesSkipped:
            continue
        actual.append(test["y"].to_numpy())
        predicted.append(fc["yhat"].to_numpy())
    return mape(np.concatenate(actual), np.concatenate(predicted)) if actual else None
