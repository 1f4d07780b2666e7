"""Cost anomalies of one daily series: `ds, y` in, one row per cost rise out (a causal robust seasonal model).

`anomaly_breakdown` runs it over every service and account of the cost rows and names what moved.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pandas as pd

# The defaults and their trade-offs were measured with bench/bench_anomaly_quality.py (see its --sweep).
DEFAULT_MIN_IMPACT = 20.0  # USD over the anomaly: a +60 % day of a USD 50/day service still counts
DEFAULT_MIN_PCT = 0.15  # impact / expected over the anomaly: a rise in one account is diluted in its service
DEFAULT_THRESHOLD = 5.0  # robust z-score of the anomaly (its highest day, or its days combined)

LEVEL_DAYS = 28  # the level follows level shifts after ~2 weeks: long enough to see slow drifts
WEEKS = 8  # weeks of history behind each weekday's pattern
SCALE_DAYS = 91  # days of residuals behind the scale: one drift or shift must not fill half of them
MIN_HISTORY_DAYS = 3  # the first days are not scored: a service's first day is often partial
LOW_CONFIDENCE_DAYS = 56  # under 8 weeks of history the weekday pattern and the scale are rough
RAMP_DAYS = 90  # a service this young may be ramping up: its level follows the climb while it lasts
RAMP_SPAN_DAYS = 3  # its climb: the median of the last 3 days (`_median3`) against that of the 3 before
RAMP_LEAD_DAYS = 2  # from the middle of the last 3 days to the day scored
RETURN_DAYS = 56  # back to the highest level of the 4-8 weeks before: the end of a dip, not a rise
REPORT_AFTER_DAYS = 56  # a store's first detection reports from 8 weeks after its first data (issue 15)
CANDIDATE_SCORE = 2.0  # a day at least this unusual can be part of an anomaly
MAX_GAP_DAYS = 1  # one ordinary day inside a rise does not split it in two
SCALE_FLOOR_USD = 1.0

SERIES_COLUMNS = ["ds", "y", "expected", "score", "history_days"]
DETECT_COLUMNS = ["start_day", "end_day", "duration_days", "expected", "actual", "impact", "score", "low_confidence"]
DTYPES = {
    **dict.fromkeys(["column", "duration_days", "history_days"], "int64"),
    **dict.fromkeys(
        ["start_day", "end_day", "dimension", "service", "account_id", "contributors", "external_id", "event_id"],
        "object",
    ),
    "low_confidence": "bool",
    "ds": "datetime64[us]",
}

log = logging.getLogger(__name__)

# How a day is judged. Its expected cost uses only the days before it, as in production every morning, so a
# day's result never changes once scored and feedback stays attached to its anomaly. The expectation is a robust
# level (the median of the last LEVEL_DAYS days with the weekly pattern taken out) with the day's weekday
# pattern put back (the median, over the last WEEKS weeks, of that weekday's ratio to, or difference from, the
# median of its week). The 1st of the month is a class of its own because AWS bills monthly fees (RI, Savings
# Plans, Support, tax) on it. The score is the residual over a robust scale: 1.4826 times the median absolute
# relative residual of the last SCALE_DAYS days, floored so that a near-constant series does not explode. Days
# scoring CANDIDATE_SCORE or more are merged into runs; a run is an anomaly when it is unusual enough (a day at
# the threshold, or its days combined) and large enough (min_impact, min_pct). Only increases are anomalies, as
# in AWS Cost Anomaly Detection: a drop saves money, and a weekend dip is the weekly pattern.


def _rolling_median(a: np.ndarray, window: int, min_periods: int, *, center: bool = False) -> np.ndarray:
    """Rolling median down each column of `a` (NaN ignored), in one pass over a padded 1-D copy."""
    # pandas rolls a wide frame column by column in Python; one long series with `window` NaNs between the
    # columns is several times faster and no window reaches into the neighbouring column
    n, m = a.shape
    flat = np.vstack([np.full((window, m), np.nan), a]).T.ravel()
    rolled = pd.Series(flat).rolling(window, min_periods=min_periods, center=center).median().to_numpy()
    return rolled.reshape(m, n + window).T[window:]


def _lag(a: np.ndarray, days: int) -> np.ndarray:
    out = np.full_like(a, np.nan)
    out[days:] = a[: len(a) - days]
    return out


def _same_weekday(a: np.ndarray) -> np.ndarray:
    """Each day's median of `a` on the same weekday over the `WEEKS` weeks before it (NaN if under three)."""
    n, m = a.shape
    weeks = -(-n // 7)
    # row t of `before` holds day t-7's value, whose centred week ends on day t-4: the result stays causal
    before = np.full((weeks * 7, m), np.nan)
    before[:n] = _lag(a, 7)
    by_week = before.reshape(weeks, 7 * m)  # one row per week, one column per (weekday, series)
    # three weeks at least, so that one odd week (a partial first day, a zero day) is outvoted
    return _rolling_median(by_week, WEEKS, min_periods=3).reshape(weeks * 7, m)[:n]


def _with_fee(expected: np.ndarray, actual: np.ndarray, base: np.ndarray) -> np.ndarray:
    """The expected cost of each 1st of the month: its ordinary expectation plus the fee of the months before."""
    # A fee is measured against its own week, whose days after the 1st are still before next month's 1st.
    # It is carried both as an amount (RI, Savings Plans) and as a share (Support, tax); the larger expectation
    # wins, and so does the larger of last month's fee and the median of the last three: a new fee is reported
    # once, and a noisy or missing month does not make a regular fee look new.
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(base > 0, np.clip(actual / base - 1, 0.0, None), np.nan)
    amount = np.clip(actual - base, 0.0, None)

    def carried(fee: np.ndarray) -> np.ndarray:
        return np.nan_to_num(_lag(np.fmax(fee, _rolling_median(fee, 3, min_periods=1)), 1))

    return np.fmax(expected * (1 + carried(share)), expected + carried(amount))


def _rolling_max(a: np.ndarray, window: int) -> np.ndarray:
    """Rolling maximum down each column of `a` (NaN ignored), in one pass as `_rolling_median`."""
    n, m = a.shape
    flat = np.vstack([np.full((window, m), np.nan), a]).T.ravel()
    rolled = pd.Series(flat).rolling(window, min_periods=1).max().to_numpy()
    return rolled.reshape(m, n + window).T[window:]


def _median3(a: np.ndarray) -> np.ndarray:
    """The median of each day and the two before it, down each column (at least two known)."""
    stack = np.stack([a, _lag(a, 1), _lag(a, 2)])
    known = np.isfinite(stack).sum(axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices are masked just below
        out = np.nanmedian(stack, axis=0)
    return np.where(known >= 2, out, np.nan)


def _ramping(age: np.ndarray, climb: np.ndarray) -> np.ndarray:
    """Where a series is still ramping up: while it is young (under RAMP_DAYS), and after that for as long as
    the climb that started while it was young goes on."""
    young = age < RAMP_DAYS
    climbing = np.nan_to_num(climb) > 0
    # number the runs of climbing days (per column); a run is a ramp when one of its days was young
    n = len(climbing)
    key = (np.cumsum(~climbing, axis=0) + (n + 1) * np.arange(climbing.shape[1])[None, :]).T.ravel()
    run = np.r_[0, np.cumsum(np.diff(key) != 0)]  # the keys ascend column after column: no sort needed
    young_runs = np.bincount(run, weights=(young & climbing).T.ravel()) > 0
    return young | (climbing & young_runs[run].reshape(climbing.shape[::-1]).T)


def _level(x: np.ndarray, age: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ordinary level of each day from the days before it (for the scale), and the level to score rises
    against.

    The level is the median of the last LEVEL_DAYS days; while a series is ramping up as it is adopted (see
    `_ramping`) it also follows its recent climb. And a day is only a rise against the highest level of the
    4-8 weeks before it too: coming back from a dip (holidays, a paused service) to where the cost was before
    it is not an anomaly.
    """
    level = _rolling_median(x, LEVEL_DAYS, min_periods=1)
    plain = _lag(level, 1)
    recent = _median3(x)
    climb = np.clip((_lag(recent, 1) - _lag(recent, RAMP_SPAN_DAYS + 1)) / RAMP_SPAN_DAYS, 0.0, None)  # rises only
    ramping = np.fmax(plain, _lag(recent, 1) + RAMP_LEAD_DAYS * np.nan_to_num(climb))
    ordinary = np.where(_ramping(age, climb), ramping, plain)
    prior = _lag(_rolling_max(level, RETURN_DAYS - LEVEL_DAYS), LEVEL_DAYS + 1)
    return ordinary, np.fmax(ordinary, prior)


def _expectations(values: np.ndarray, days: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Expected cost to score rises against, the ordinary expectation (for the scale), and the age."""
    n = len(values)
    alive = values > 0
    birth = np.where(alive.any(axis=0), alive.argmax(axis=0), n)  # leading zeros are not history
    age = np.arange(n)[:, None] - birth[None, :]
    first = np.asarray(days.day == 1)
    # the first day is often partial (a service created in the evening), and the 1st of the month has fees
    regular = np.where((age >= 1) & ~first[:, None], values, np.nan)
    week = _rolling_median(regular, 7, min_periods=3, center=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.clip(np.nan_to_num(_same_weekday(np.where(week > 0, regular / week, np.nan)), nan=1.0), 0.05, 20)
        offset = np.nan_to_num(_same_weekday(regular - week), nan=0.0)
        scaled = [level * factor for level in _level(regular / factor, age)]
    shifted = [level + offset for level in _level(regular - offset, age)]
    # The weekly pattern as a factor fits a rise of everything; as an offset, a new always-on resource (which
    # does not dip at weekends). The larger expectation is kept so that neither kind of change makes the next
    # weekends look like rises; they agree while the level is steady.
    ordinary, expected = np.fmax(scaled[0], shifted[0]), np.fmax(scaled[1], shifted[1])
    rows = np.flatnonzero(first)
    base = np.fmax(week * factor, week + offset)
    for frame in (ordinary, expected):
        frame[rows] = _with_fee(frame[rows], values[rows], base[rows])
        frame[age < MIN_HISTORY_DAYS] = np.nan
    # a young service's first monthly fees are part of how it starts, not a rise
    young_fee = first[:, None] & (age < RAMP_DAYS)
    expected[young_fee] = np.fmax(expected[young_fee], values[young_fee])
    return expected, ordinary, age


def expected_cost(values: np.ndarray, days: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray]:
    """Expected cost and age (days since the first cost) of each column of `values` (days x series, gaps 0)."""
    expected, _, age = _expectations(values, days)
    return expected, age


def _model(values: np.ndarray, days: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Expected cost, score and history days of each column of `values` (days x series, gaps already 0)."""
    expected, ordinary, age = _expectations(values, days)
    # the scale comes from the ordinary residuals: a dip below an earlier level must not widen it
    size = np.maximum(np.abs(ordinary), SCALE_FLOOR_USD)
    spread = _lag(1.4826 * _rolling_median(np.abs(values - ordinary) / size, SCALE_DAYS, min_periods=7), 1)
    # young series get a wide floor: their weekday pattern is still unknown (a Monday after a first weekend)
    floor = np.where(age < 14, 0.5, np.where(age < LOW_CONFIDENCE_DAYS, 0.1, 0.02))
    size = np.maximum(np.abs(expected), SCALE_FLOOR_USD)
    scale = np.maximum(np.fmax(spread, floor) * size, SCALE_FLOOR_USD)
    return expected, (values - expected) / scale, np.maximum(age, 0)


def _runs(score: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Start and end rows (inclusive, flat column-major indices) of runs of unusual days in each column."""
    n = score.shape[0]
    flat = np.nan_to_num(score.T.ravel(), nan=-np.inf) >= min(CANDIDATE_SCORE, threshold)
    idx = np.flatnonzero(flat)
    if not len(idx):
        return idx, idx
    new = np.r_[True, (np.diff(idx) > MAX_GAP_DAYS + 1) | (np.diff(idx // n) != 0)]
    return idx[new], idx[np.r_[new[1:], True]]


def find_anomalies(
    values: np.ndarray, days: pd.DatetimeIndex, *, min_impact: float, min_pct: float, threshold: float
) -> pd.DataFrame:
    """Anomalies of each column of `values`: DETECT_COLUMNS plus `column`, the series' column index."""
    n = values.shape[0]
    expected, score, age = _model(values, days)
    starts, ends = _runs(score, threshold)
    if not len(starts):
        return empty_frame(["column", *DETECT_COLUMNS])
    lengths = ends - starts + 1
    head = np.cumsum(lengths) - lengths  # where each run begins in `pos`
    run = np.repeat(np.arange(len(starts)), lengths)
    pos = starts[run] + np.arange(lengths.sum()) - head[run]  # every day of every run, as a flat index

    def so_far(a: np.ndarray) -> np.ndarray:
        """Sum of `a` over each run's days up to each of its days."""
        total = np.r_[0.0, np.cumsum(np.nan_to_num(a.T.ravel(), nan=0.0))]
        return total[pos + 1] - total[starts[run]]

    expected_sum, actual_sum = so_far(expected), so_far(values)
    impact = actual_sum - expected_sum
    # several moderate days are as unusual as one big day: their scores' sum over the square root of their count
    combined = so_far(score) / np.sqrt(pos - starts[run] + 1)
    unusual = (so_far(score >= threshold) > 0) | (combined >= threshold)
    ok = unusual & (impact >= min_impact) & (impact >= min_pct * np.clip(expected_sum, 0.0, None))
    # a run is an anomaly once any of its beginnings passes, so a day appended later never takes it away
    keep = np.logical_or.reduceat(ok, head)
    last = (head + lengths - 1)[keep]
    found = pd.DataFrame(
        {
            "column": starts[keep] // n,
            "start_day": days[starts[keep] % n].date,
            "end_day": days[ends[keep] % n].date,
            "duration_days": lengths[keep],
            "expected": expected_sum[last],
            "actual": actual_sum[last],
            "impact": impact[last],
            "score": np.maximum.reduceat(np.fmax(np.nan_to_num(score.T.ravel()[pos]), combined), head)[keep],
            "low_confidence": age.T.ravel()[starts[keep]] < LOW_CONFIDENCE_DAYS,
        }
    )
    return found


def _clean(history: pd.DataFrame) -> pd.Series:
    """Daily `y` indexed by day from the first to the last day; missing days, NaN and inf are 0."""
    if history.empty:
        return pd.Series(dtype=float, index=pd.DatetimeIndex([]))
    missing = {"ds", "y"} - set(history.columns)
    if missing:
        raise ValueError(f"history needs columns ds and y (missing {', '.join(sorted(missing))})")
    ds = pd.to_datetime(history["ds"], errors="coerce")
    if isinstance(ds.dtype, pd.DatetimeTZDtype):
        ds = ds.dt.tz_localize(None)
    y = pd.to_numeric(history["y"], errors="coerce").astype(float).replace([np.inf, -np.inf], np.nan)
    daily = y.groupby(ds.dt.normalize().to_numpy()).sum()  # NaN sums to 0; NaT days are dropped
    if daily.empty:
        return daily
    return daily.reindex(pd.date_range(daily.index.min(), daily.index.max(), freq="D"), fill_value=0.0)


def score_series(history: pd.DataFrame) -> pd.DataFrame:
    """Each day's causal expected cost and robust score: `ds, y` in, `ds, y, expected, score, history_days` out.

    Missing days and NaN are 0 cost. `expected` and `score` are NaN until the series has MIN_HISTORY_DAYS
    days since its first cost; `history_days` counts the days since that first cost (0 before it).
    """
    daily = _clean(history)
    if daily.empty:
        return empty_frame(SERIES_COLUMNS)
    expected, score, age = _model(daily.to_numpy()[:, None], daily.index)
    frame = {"ds": daily.index, "y": daily.to_numpy(), "expected": expected[:, 0], "score": score[:, 0]}
    return pd.DataFrame({**frame, "history_days": age[:, 0]})


def empty_frame(columns: list[str]) -> pd.DataFrame:
    """A frame with no rows and `columns` of the types a full one has."""
    return pd.DataFrame({c: pd.Series(dtype=DTYPES.get(c, "float64")) for c in columns})


def detect(
    history: pd.DataFrame,
    *,
    min_impact: float = DEFAULT_MIN_IMPACT,
    min_pct: float = DEFAULT_MIN_PCT,
    threshold: float = DEFAULT_THRESHOLD,
) -> pd.DataFrame:
    """Cost increases of a daily `ds, y` series, one row per anomaly; drops are never anomalies.

    Unusual days (score >= CANDIDATE_SCORE) are merged into runs, across at most MAX_GAP_DAYS ordinary days.
    A run is an anomaly once its first days have `score >= threshold`, `impact >= min_impact` and
    `impact >= min_pct * expected`, so a day appended later never takes an anomaly away. Returns
    `start_day, end_day` (dates, inclusive), `duration_days`, `expected` and `actual` (sums over the run),
    `impact` (actual minus expected), `score` (the highest of its days' scores and of its first days' scores
    summed over the square root of their count) and `low_confidence` (under 8 weeks of history at the start).
    """
    daily = _clean(history)
    if daily.empty:
        return empty_frame(DETECT_COLUMNS)
    found = find_anomalies(
        daily.to_numpy()[:, None], daily.index, min_impact=min_impact, min_pct=min_pct, threshold=threshold
    )
    return found[DETECT_COLUMNS] if len(found) else empty_frame(DETECT_COLUMNS)
