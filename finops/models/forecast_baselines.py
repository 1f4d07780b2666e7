"""The baselines a user would try first: the same weekday over the last 4 weeks, and last week repeated.

Both take `ds, y` history (cleaned as `forecaster.clean_history`: missing days are 0) and return `ds, yhat`
for the `horizon_days` after it.
"""

import numpy as np
import pandas as pd

from finops.models.forecaster import clean_history

WINDOWS = {"seasonal_naive": 28, "last_week": 7}  # days each baseline averages by weekday


def _weekday_forecast(recent: pd.DataFrame, last: pd.Timestamp, horizon_days: int) -> pd.DataFrame:
    """Each forecast day gets the mean of `recent` on its weekday (the overall mean for a weekday not seen)."""
    by_weekday = recent.groupby(recent["ds"].dt.day_of_week)["y"].mean()
    days = pd.date_range(last + pd.Timedelta(days=1), periods=horizon_days, freq="D")
    yhat = by_weekday.reindex(days.day_of_week).fillna(recent["y"].mean()).to_numpy()
    return pd.DataFrame({"ds": days.astype("datetime64[ns]"), "yhat": yhat.astype(float)})


def seasonal_naive(history: pd.DataFrame, *, horizon_days: int) -> pd.DataFrame:
    """Each forecast day is the mean of the same weekday over the last 4 weeks (ds, yhat)."""
    clean = clean_history(history)
    last = clean["ds"].iloc[-1]
    return _weekday_forecast(clean[clean["ds"] > last - pd.Timedelta(days=28)], last, horizon_days)


def last_week(history: pd.DataFrame, *, horizon_days: int) -> pd.DataFrame:
    """Last week repeated: each forecast day is the cost of the same weekday in the last 7 days (ds, yhat)."""
    clean = clean_history(history)
    last = clean["ds"].iloc[-1]
    return _weekday_forecast(clean[clean["ds"] > last - pd.Timedelta(days=7)], last, horizon_days)


BASELINES = {"seasonal_naive": seasonal_naive, "last_week": last_week}


def weekday_means(y: np.ndarray, last: pd.Timestamp, horizon: int, window: int) -> np.ndarray:
    """The same forecasts on a clean array (`y` ends on day `last`, one value a day, NaN unknown): each day
    after it gets the mean of its weekday over the last `window` days; a weekday not seen, the overall mean."""
    recent = np.asarray(y, dtype=float)[-window:]
    weekday = (last.day_of_week - np.arange(len(recent))[::-1]) % 7
    overall = np.nanmean(recent) if np.isfinite(recent).any() else np.nan
    means = np.full(7, overall)
    for w in range(7):
        values = recent[(weekday == w) & np.isfinite(recent)]
        if len(values):
            means[w] = values.mean()
    return means[(last.day_of_week + 1 + np.arange(horizon)) % 7]
