"""A robust local trend with a weekly pattern, in numpy: the recent level, the typical growth of the last year
and the weekday shape of the last 8 weeks, extended (the same ideas that made Prophet good here, in a few ms).

Takes a prepared history (`forecast_calendar.prepare`: one row per day, NaN unknown) and returns the point
forecast of the `horizon` days after it.
"""

import numpy as np
import pandas as pd

LEVEL_DAYS = 14  # the level: the median of the last two weeks (deseasonalised)
SHAPE_WEEKS = 8  # the weekday shape: the last 8 weeks
YEAR_WEEKS = 52  # the typical growth: the median week-on-week change over the last year...
RECENT_WEEKS = 12  # ...and over the last quarter; the gentler of the two, none when they disagree


def trend(history: pd.DataFrame, horizon: int) -> np.ndarray:
    """Level x weekly shape x growth, in logs for positive cost (multiplicative), else in the currency."""
    y = history["y"].to_numpy(dtype=float)
    known = y[np.isfinite(y)]
    positive = bool(len(known)) and bool((known > 0).all())
    z = np.log(np.where(np.isfinite(y) & (y > 0), y, np.nan)) if positive else y.copy()
    n = len(z)
    weekday = np.arange(n) % 7
    week = pd.Series(z).rolling(7, center=True, min_periods=4).median().to_numpy()
    recent = slice(max(0, n - 7 * SHAPE_WEEKS), n)
    shape = np.zeros(7)
    for d in range(7):
        mask = weekday[recent] == d
        diff = (z[recent] - week[recent])[mask]
        diff = diff[np.isfinite(diff)]
        shape[d] = np.median(diff) if len(diff) else 0.0
    shape -= shape.mean()
    flat = z - shape[weekday]
    level = np.nanmedian(flat[-LEVEL_DAYS:]) if np.isfinite(flat[-LEVEL_DAYS:]).any() else np.nanmedian(flat)
    weekly = pd.Series(flat[n % 7 :]).groupby(np.arange(n - n % 7) // 7).median().to_numpy()
    slope = _gentler(_median_step(weekly[-YEAR_WEEKS:]), _median_step(weekly[-RECENT_WEEKS:])) / 7
    ahead = (LEVEL_DAYS - 1) / 2 + np.arange(1, horizon + 1)
    out = level + slope * ahead + shape[(n + np.arange(horizon)) % 7]
    return np.exp(out) if positive else out


def _median_step(weekly: np.ndarray) -> float:
    steps = np.diff(weekly)
    steps = steps[np.isfinite(steps)]
    return float(np.median(steps)) if len(steps) else 0.0


def _gentler(a: float, b: float) -> float:
    return 0.0 if a * b <= 0 else min(a, b, key=abs)
