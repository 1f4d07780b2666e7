"""Calendar effects taken out of a history before a model is fitted and put back into its forecast.

Rare zero or negative days in a positive series are gaps and credits (unknown for the fit); a fee on the 1st
of the month (AWS bills RI, Savings Plans, Support and tax then) and public holidays of a configured country
are measured against the same weekday around them, removed from the history, and added to the forecast days
they fall on. Pure: `ds, y` in, a prepared history and an adjustment out.
"""

from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

RARE_SHARE = 0.1  # under 10 % of the last year's days at or below zero: gaps and credits, not the series
FEE_MONTHS = 3  # the fee of the next 1sts: the median of the last 3 months' fees...
FEE_MIN_SHARE = 0.1  # ...when at least 2 of them were over 10 % of the ordinary day
HOLIDAY_MIN_EFFECT = 0.05  # a holiday moving the cost by less than 5 % is left alone
YEAR_DAYS = 364  # 52 weeks: the same weekday a year before
YEARLY_MIN_DAYS = 2 * YEAR_DAYS  # a yearly effect must have happened in each of the last two years...
YEARLY_MIN_EFFECT = 0.1  # ...both times moving the cost by 10 % or more against the weeks around it
YEARLY_AROUND_DAYS = 28  # the weeks around: a dip of two weeks is under half of them


@dataclass
class Prepared:
    """A history ready to fit (`ds, y`, NaN unknown) and what to put back into its forecast."""

    history: pd.DataFrame
    fee: float  # added on each 1st of the month
    holidays: dict[str, float]  # holiday name -> factor on that day
    country: str
    yearly: dict[pd.Timestamp, float]  # day -> factor of a dip or peak seen on its weekday in both last years

    def apply(self, days: pd.DatetimeIndex, yhat: np.ndarray) -> np.ndarray:
        """The forecast `yhat` of `days` with the calendar effects put back."""
        out = np.asarray(yhat, dtype=float) * self.factors(days)
        return out + np.where(np.asarray(days.day) == 1, self.fee, 0.0)

    def factors(self, days: pd.DatetimeIndex) -> np.ndarray:
        """The holiday and yearly factor of each of `days` (1.0 where neither applies)."""
        out = np.ones(len(days))
        if self.holidays:
            names = holiday_names(self.country, days)
            out *= [self.holidays.get(n, self.holidays.get("", 1.0)) if n else 1.0 for n in names]
        else:
            names = [""] * len(days)
        if self.yearly:  # a holiday's own factor was measured against ordinary days: not both
            out *= [1.0 if n else self.yearly.get(d, 1.0) for d, n in zip(days, names, strict=True)]
        return out


@cache
def _calendar(country: str, years: tuple[int, ...]):
    import holidays

    return holidays.country_holidays(country, years=years)


def holiday_names(country: str, days: pd.DatetimeIndex) -> list[str]:
    """The public holiday's name on each day ("" on other days); none when `country` is empty."""
    if not country or not len(days):
        return [""] * len(days)
    if days.is_monotonic_increasing and (days[-1] - days[0]).days == len(days) - 1:  # a run of days: cached
        return list(_names(country, days[0], len(days)))
    calendar = _calendar(country, tuple(range(days.min().year, days.max().year + 1)))
    return [calendar.get(d, "") for d in days.date]


@cache
def _names(country: str, first: pd.Timestamp, count: int) -> tuple[str, ...]:
    days = pd.date_range(first, periods=count, freq="D")
    calendar = _calendar(country, tuple(range(days[0].year, days[-1].year + 1)))
    return tuple(calendar.get(d, "") for d in days.date)


def _reference(y: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The ordinary cost of each of `rows`: the median of the same weekday one and two weeks before and after."""
    n = len(y)
    around = rows[:, None] + np.array([-14, -7, 7, 14])[None, :]
    values = np.where((around >= 0) & (around < n), y[np.clip(around, 0, n - 1)], np.nan)
    out = np.full(len(rows), np.nan)
    known = np.isfinite(values).any(axis=1)
    out[known] = np.nanmedian(values[known], axis=1)
    return out


def prepare(clean: pd.DataFrame, country: str = "") -> Prepared:
    """Take gaps, credits, the monthly fee and holidays out of `clean` (`ds, y`, one row per day)."""
    ds = pd.DatetimeIndex(clean["ds"])
    y = clean["y"].to_numpy(dtype=float).copy()
    recent = y[-365:][np.isfinite(y[-365:])]
    if len(recent) and 0 < (recent <= 0).mean() < RARE_SHARE:
        y[y <= 0] = np.nan
    names = holiday_names(country, ds)
    special = np.array([bool(n) for n in names], dtype=bool)
    first = np.asarray(ds.day == 1)
    ordinary = np.where(special | first, np.nan, y)  # what references are made of
    fee = 0.0
    firsts = np.flatnonzero(first & ~special)
    fees = y[firsts] - _reference(ordinary, firsts)
    measured = np.isfinite(fees)
    fees, refs = fees[measured][-FEE_MONTHS:], _reference(ordinary, firsts[measured][-FEE_MONTHS:])
    if len(fees) >= 2 and (fees > FEE_MIN_SHARE * refs).sum() >= 2:
        fee = float(np.median(fees))
        y[first] -= fee  # holidays on a 1st too (1 January, 1 May): their factor is the day's
    effects: dict[str, float] = {}
    if special.any():
        rows = np.flatnonzero(special)
        ref = _reference(ordinary, rows)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = y[rows] / ref
        ok = np.isfinite(ratio) & (ratio > 0)
        by_name = pd.Series(np.log(ratio[ok]), index=[names[i] for i in rows[ok]])
        pooled = float(by_name.median()) if len(by_name) else 0.0
        effects = {str(k): float(np.exp(v)) for k, v in by_name.groupby(level=0).median().items()}
        effects[""] = float(np.exp(pooled))  # a holiday not seen yet gets the typical one
        effects = {k: v for k, v in effects.items() if abs(np.log(v)) >= HOLIDAY_MIN_EFFECT}
        y[rows] = ref  # the fit sees an ordinary day
    yearly = _yearly(y, ds) if len(y) >= YEARLY_MIN_DAYS else {}
    return Prepared(pd.DataFrame({"ds": ds, "y": y}), fee, effects, country, yearly)


def _yearly(y: np.ndarray, ds: pd.DatetimeIndex, horizon: int = YEAR_DAYS) -> dict[pd.Timestamp, float]:
    """Factors for the days after `ds` where each of the last two years had a dip or a peak on the same weekday.

    Year k's day is measured against the same weekday's median over the 8 weeks after the day a year (k years)
    before the forecast starts; the median of its week is then measured against the 8 weeks around it (so
    growth over the horizon is not counted). A day gets a factor only when both years moved it the same way
    by YEARLY_MIN_EFFECT or more, and gets the milder of the two.
    """
    n = len(y)
    logs = []
    for k in (1, 2):
        origin = n - k * YEAR_DAYS  # the index of the forecast's first day, k years before
        base = pd.Series(y[origin : origin + 56]).groupby(np.arange(min(56, n - origin)) % 7).median().to_numpy()
        lead = min(YEARLY_AROUND_DAYS, origin)  # the weeks before too, so the first days have weeks around them
        past = y[origin - lead : min(origin + horizon, n)]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = pd.Series(np.log(past / np.roll(np.resize(base, len(past)), lead)))
        ratio = ratio.where(np.isfinite(ratio))
        week = ratio.rolling(7, center=True, min_periods=4).median()  # a week at least: one day is a holiday
        around = ratio.rolling(2 * YEARLY_AROUND_DAYS + 1, center=True, min_periods=14).median()
        logs.append((week - around).to_numpy()[lead:])
    size = min(len(a) for a in logs)
    first, second = logs[0][:size], logs[1][:size]
    agree = (np.sign(first) == np.sign(second)) & (np.minimum(np.abs(first), np.abs(second)) >= YEARLY_MIN_EFFECT)
    effect = np.where(np.abs(first) < np.abs(second), first, second)
    start = ds[-1] + pd.Timedelta(days=1)
    return {start + pd.Timedelta(days=int(i)): float(np.exp(effect[i])) for i in np.flatnonzero(agree)}
