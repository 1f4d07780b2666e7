"""Synthetic daily cost series with known anomalies and known futures, for the quality benchmark.

Each series is a base cost process (level, monthly growth, weekday pattern, a mild yearly wave, an optional
fee on the 1st of each month as AWS bills RI/Savings Plans/Support fees, multiplicative noise) plus injected
events of a known kind and date. The event magnitudes are fixed here, before any detector is tuned, and are
printed by the benchmark; do not tune them to a detector.

Kinds:
- ``spike``: 1-3 days at +60 % to +300 % of the expected cost, then back to normal.
- ``level_shift``: from the start day on, the cost is +40 % to +100 % higher and stays there.
- ``drift``: a linear climb over 14-28 days to +60 % to +120 %, which then stays.
- ``new_service``: a service that did not exist starts at a normal level and bursts to 4-10x within its first
  3-8 days for 2-4 days (the start itself is not an event).

`Event.end` is the last day on which a detection still counts as finding the event (event-level matching:
a detected anomaly whose days overlap `[start, end]` is a true positive for that event).

Families (issue 15). ``base`` is the process above, the only one the models were tuned on (seed 7). The
hold-out families add, on top of the same base process and events, structure the tuning never saw; none of
it is an anomaly, so a detection that overlaps no event is a false positive:
- ``holiday``: German public holidays cost 40-80 % of a normal day and, in 70 % of the series, the two weeks
  from 20 December to 3 January 40-70 %; history ends on 10 December so the next 30 days hold the dip and the
  return after it.
- ``level_shift``: 1-2 lasting cuts of 25-50 % and a pause of 7-35 days at 20-60 % that then returns.
- ``ramp``: a service that appears 90-400 days before the end and ramps up linearly over 20-60 days (the
  base's new services, which already appear inside the history, are left as they are).
- ``weekly_change``: from a day on, weekends cost 30-70 % of what they did (a stop schedule starts).
- ``missing``: 1-3 gaps of 1-5 days without data (no rows: Cost Explorer omits them).
- ``credits``: 1-4 days with a credit of 0.5-3 days' cost (negative days).
- ``fees``: a fee on the 1st of every month of 1-5 days' cost, varying +/-20 % from month to month.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta

import holidays
import numpy as np
import pandas as pd

KINDS = ("spike", "level_shift", "drift", "new_service")
END = date(2026, 10, 31)  # last history day: fixed so runs on different days measure the same data
FAMILIES = ("base", "holiday", "level_shift", "ramp", "weekly_change", "missing", "credits", "fees")
HOLDOUT = FAMILIES[1:]
TUNING_SEED = 7  # the one seed the models were tuned on (base family only)
HOLIDAY_COUNTRY = "DE"  # the holiday family's calendar (the bench configures the forecaster with it)
HOLIDAY_END = date(2026, 12, 10)


@dataclass(frozen=True)
class Event:
    kind: str
    start: date  # first affected day
    end: date  # last day a detection still counts for this event (inclusive)
    magnitude: float  # relative rise at the peak: 1.5 means +150 %


@dataclass
class Series:
    name: str
    history: pd.DataFrame  # ds, y: `days` days ending at END
    future: pd.DataFrame  # ds, y: the `horizon` days after END (the same process, no new events)
    events: list[Event] = field(default_factory=list)
    kind: str = "steady"  # steady | new_service
    family: str = "base"


def _base(rng: np.random.Generator, days: pd.DatetimeIndex, t0: int) -> np.ndarray:
    """The event-free expected cost for `days` (t0 = index of the first day since the series began)."""
    level = float(np.exp(rng.uniform(np.log(50), np.log(20_000))))
    growth = rng.uniform(-0.01, 0.05)  # per month
    weekend = rng.uniform(0.6, 1.0)
    weekday_wave = rng.uniform(0.0, 0.08)
    yearly_amp, yearly_phase = rng.uniform(0.0, 0.10), rng.uniform(0, 2 * np.pi)
    fee = level * rng.uniform(0.5, 2.0) if rng.random() < 0.25 else 0.0
    t = np.arange(t0, t0 + len(days))
    dow = days.day_of_week.to_numpy()
    y = level * np.exp(np.log1p(growth) * t / 30.44)
    y = y * np.where(dow >= 5, weekend, 1.0 + weekday_wave * np.sin(np.pi * dow / 4))
    y = y * (1 + yearly_amp * np.sin(2 * np.pi * days.day_of_year.to_numpy() / 365.25 + yearly_phase))
    return y + np.where(days.day.to_numpy() == 1, fee, 0.0)


def _place(rng: np.random.Generator, count: int, lo: int, hi: int, gap: int = 45) -> list[int]:
    """Up to `count` start indices in [lo, hi) at least `gap` days apart."""
    starts: list[int] = []
    for _ in range(count * 20):
        if len(starts) == count:
            break
        s = int(rng.integers(lo, hi))
        if all(abs(s - o) >= gap for o in starts):
            starts.append(s)
    return sorted(starts)


def _one(i: int, rng: np.random.Generator, days: int, horizon: int, end: date = END) -> Series:
    all_days = pd.date_range(end - timedelta(days=days - 1), periods=days + horizon, freq="D")
    n = len(all_days)
    mult = np.ones(n)  # event multipliers (level shifts and drifts persist into the future)
    events: list[Event] = []
    alive = np.ones(n, dtype=bool)
    new_service = rng.random() < 0.10
    if new_service:
        birth = int(rng.integers(days - 200, days - 30))
        alive[:birth] = False
        k, d = int(rng.integers(3, 9)), int(rng.integers(2, 5))
        m = rng.uniform(3.0, 9.0)
        mult[birth + k : birth + k + d] *= 1 + m
        events.append(Event("new_service", all_days[birth + k].date(), all_days[birth + k + d + 1].date(), m))
    else:
        count = int(rng.choice([0, 1, 2, 3], p=[0.25, 0.35, 0.25, 0.15]))
        for s in _place(rng, count, 60, days - 5):
            kind = str(rng.choice(["spike", "level_shift", "drift"]))
            if kind == "spike":
                d, m = int(rng.integers(1, 4)), rng.uniform(0.6, 3.0)
                mult[s : s + d] *= 1 + m
                last = s + d - 1 + 2
            elif kind == "level_shift":
                m = rng.uniform(0.4, 1.0)
                mult[s:] *= 1 + m
                last = s + 6
            else:
                length, m = int(rng.integers(14, 29)), rng.uniform(0.6, 1.2)
                ramp = np.minimum(np.arange(n - s) / length, 1.0)
                mult[s:] *= 1 + m * ramp
                last = s + length + 6
            events.append(Event(kind, all_days[s].date(), all_days[min(last, days - 1)].date(), m))
    t0 = 0 if not new_service else -int(np.argmax(alive))
    base = _base(rng, all_days, t0)
    noise = np.exp(rng.normal(0.0, rng.uniform(0.03, 0.10), n))
    y = np.where(alive, base * mult * noise, 0.0).round(2)
    frame = pd.DataFrame({"ds": all_days, "y": y})
    history = frame.iloc[:days].reset_index(drop=True)
    future = frame.iloc[days:].reset_index(drop=True)
    kind = "new_service" if new_service else "steady"
    return Series(f"series-{i:03d}", history, future, events, kind)


def generate(
    n: int = 200, *, seed: int = TUNING_SEED, days: int = 730, horizon: int = 90, family: str = "base"
) -> list[Series]:
    """`n` series of `days` daily costs with their events and the next `horizon` days, of one family."""
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {', '.join(FAMILIES)}")
    end = HOLIDAY_END if family == "holiday" else END
    out = []
    for i in range(n):
        series = _one(i, np.random.default_rng([seed, i]), days, horizon, end)
        if family != "base":  # its own generator: the base process and events stay those of the seed
            series = _holdout(series, family, np.random.default_rng([seed, i, 1000 + FAMILIES.index(family)]))
        out.append(series)
    return out


def _holdout(series: Series, family: str, rng: np.random.Generator) -> Series:
    """`series` with the structure of a hold-out family added (see the module docstring)."""
    frame = pd.concat([series.history, series.future], ignore_index=True)
    days, n, hist = pd.DatetimeIndex(frame["ds"]), len(frame), len(series.history)
    y = frame["y"].to_numpy(dtype=float).copy()
    events = list(series.events)
    drop: list[int] = []
    if family == "holiday":
        calendar = holidays.country_holidays(HOLIDAY_COUNTRY, years=sorted(set(days.year)))
        on_holiday = np.array([d in calendar for d in days.date])
        y *= np.where(on_holiday, rng.uniform(0.4, 0.8), 1.0)
        if rng.random() < 0.7:
            season = ((days.month == 12) & (days.day >= 20)) | ((days.month == 1) & (days.day <= 3))
            y *= np.where(np.asarray(season) & ~on_holiday, rng.uniform(0.4, 0.7), 1.0)
    elif family == "level_shift":
        for s in _place(rng, int(rng.integers(1, 3)), 90, hist - 20, gap=60):
            y[s:] *= rng.uniform(0.5, 0.75)
        start = int(rng.integers(100, hist - 60))
        y[start : start + int(rng.integers(7, 36))] *= rng.uniform(0.2, 0.6)
    elif family == "ramp" and series.kind != "new_service":  # those already start inside the history
        birth = int(rng.integers(hist - 400, hist - 90))
        length = int(rng.integers(20, 61))
        y *= np.clip((np.arange(n) - birth + 1) / length, 0.0, 1.0)
        events = [e for e in events if (pd.Timestamp(e.start) - days[birth]).days > length + 14]
    elif family == "weekly_change":
        change = int(rng.integers(120, hist - 30))
        weekend = np.asarray(days.day_of_week >= 5) & (np.arange(n) >= change)
        y *= np.where(weekend, rng.uniform(0.3, 0.7), 1.0)
    elif family == "missing":
        for s in _place(rng, int(rng.integers(1, 4)), 30, hist - 10, gap=20):
            drop += list(range(s, min(s + int(rng.integers(1, 6)), hist)))
    elif family == "credits":
        typical = float(np.median(y[y > 0])) if (y > 0).any() else 0.0
        for s in rng.choice(np.arange(30, hist), size=int(rng.integers(1, 5)), replace=False):
            y[s] -= typical * rng.uniform(0.5, 3.0)
    elif family == "fees":
        first = np.flatnonzero(np.asarray(days.day == 1))
        typical = float(np.median(y[y > 0])) if (y > 0).any() else 0.0
        size = typical * rng.uniform(1.0, 5.0)
        y[first] += np.where(y[first] > 0, size * rng.uniform(0.8, 1.2, len(first)), 0.0)
    frame["y"] = y.round(2)
    history = frame.iloc[:hist].drop(index=drop).reset_index(drop=True)
    future = frame.iloc[hist:].reset_index(drop=True)
    return Series(series.name, history, future, events, series.kind, family)


if __name__ == "__main__":
    for family in FAMILIES:
        series = generate(family=family)
        events = [e for s in series for e in s.events]
        counts = pd.Series([e.kind for e in events]).value_counts()
        print(f"{family}: {len(series)} series, {len(events)} events: {counts.to_dict()}")
