"""Fast statistical forecasts (statsforecast): ETS and Theta with a weekly season, on log cost when positive.

Each takes a prepared history (`forecast_calendar.prepare`: one row per day, NaN for an unknown day) and
returns the point forecast of the `horizon` days after it as an array.
"""

import warnings
from functools import cache

import numpy as np
import pandas as pd

FIT_DAYS = 365  # Theta's window: the last year
ETS_DAYS = 182  # ETS's: as good as a year on the tuning data (bench/README.md) at half the CPU
SEASON = 7


@cache
def _models():
    # imported here: statsforecast (with statsmodels and scipy) takes 1.5-5 s to import
    from statsforecast.models import AutoETS, Theta

    return AutoETS, Theta


def _values(history: pd.DataFrame, days: int) -> tuple[np.ndarray, bool]:
    """The last `days` values with unknown days filled (the same weekday a week before, else the median),
    in logs when every value is positive."""
    y = history["y"].to_numpy(dtype=float)[-days:].copy()
    for lag in (SEASON, 2 * SEASON, -SEASON):
        gap = np.flatnonzero(~np.isfinite(y))
        source = gap - lag
        ok = (source >= 0) & (source < len(y))
        y[gap[ok]] = y[source[ok]]
    known = np.isfinite(y)
    y[~known] = np.median(y[known]) if known.any() else 0.0
    positive = bool((y > 0).all())
    return (np.log(y) if positive else y), positive


def _forecast(model, history: pd.DataFrame, horizon: int, days: int = FIT_DAYS) -> np.ndarray:
    y, positive = _values(history, days)
    if len(y) < 2 * SEASON:  # too short for a weekly season: the mean of what there is
        mean = np.full(horizon, y.mean())
    else:
        with warnings.catch_warnings():  # statsmodels' seasonality test divides by zero on a flat series
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.asarray(model.forecast(y=y, h=horizon)["mean"], dtype=float)
    return np.exp(mean) if positive else mean


def ets(history: pd.DataFrame, horizon: int) -> np.ndarray:
    """ETS(A,N,A) with a weekly season, in logs (multiplicative) for positive cost: a level, no trend (a damped
    trend scored the same on the tuning data at twice the CPU)."""
    auto_ets, _ = _models()
    return _forecast(auto_ets(season_length=SEASON, model="ANA"), history, horizon, ETS_DAYS)


def theta(history: pd.DataFrame, horizon: int) -> np.ndarray:
    """Theta (its drift is the trend) on the weekly-deseasonalised series."""
    _, theta_model = _models()
    return _forecast(theta_model(season_length=SEASON), history, horizon)
