"""Fast statistical forecasts (statsforecast): ETS and Theta with a weekly season, on log cost when positive.

Each takes a prepared history (`forecast_calendar.prepare`: one row per day, NaN for an unknown day) and
returns the point forecast of the `horizon` days after it as an array.
"""

from functools import cache

import numpy as np
import pandas as pd

FIT_DAYS = 365  # the last year: enough for the weekly season and the recent level, and fits stay fast
SEASON = 7


@cache
def _models():
    # imported here: statsforecast (with statsmodels and scipy) takes 1.5-5 s to import
    from statsforecast.models import AutoETS, OptimizedTheta

    return AutoETS, OptimizedTheta


def _values(history: pd.DataFrame) -> tuple[np.ndarray, bool]:
    """The last FIT_DAYS values with unknown days filled (the same weekday a week before, else the median),
    in logs when every value is positive."""
    y = pd.Series(history["y"].to_numpy(dtype=float)[-FIT_DAYS:])
    for lag in (SEASON, 2 * SEASON, -SEASON):
        y = y.fillna(y.shift(lag))
    y = y.fillna(y.median()).fillna(0.0).to_numpy()
    positive = bool((y > 0).all())
    return (np.log(y) if positive else y), positive


def _forecast(model, history: pd.DataFrame, horizon: int) -> np.ndarray:
    y, positive = _values(history)
    if len(y) < 2 * SEASON:  # too short for a weekly season: the mean of what there is
        mean = np.full(horizon, y.mean())
    else:
        mean = np.asarray(model.forecast(y=y, h=horizon)["mean"], dtype=float)
    return np.exp(mean) if positive else mean


def ets(history: pd.DataFrame, horizon: int) -> np.ndarray:
    """ETS with additive (in logs: multiplicative) weekly season, damped additive trend."""
    auto_ets, _ = _models()
    return _forecast(auto_ets(season_length=SEASON, model="AAA", damped=True), history, horizon)


def theta(history: pd.DataFrame, horizon: int) -> np.ndarray:
    """Optimized Theta on the weekly-deseasonalised series."""
    _, optimized_theta = _models()
    return _forecast(optimized_theta(season_length=SEASON), history, horizon)
