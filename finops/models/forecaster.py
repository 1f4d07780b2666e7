"""Daily cost forecasts: `ds, y` history in, `ds, yhat, yhat_lower, yhat_upper` for the next days out (Prophet).

Its back-test and the seasonal-naive baseline are in `forecast_backtest`; `forecast_batch` forecasts many
series in worker processes.
"""

import logging
from functools import cache
from statistics import NormalDist

import numpy as np
import pandas as pd

MIN_HISTORY_DAYS = 14
LOW_CONFIDENCE_DAYS = 56
OUT_COLUMNS = ["ds", "yhat", "yhat_lower", "yhat_upper"]

# Chosen with bench/bench_forecast_quality.py (its docstring lists what was tried and what it measured).
PROPHET_SETTINGS = {
    # minmax: the fit does not depend on the currency unit (absmax on log cost does); a looser trend prior
    # than the 0.05 default follows level shifts better (0.25 did no better and fitted 25 % slower)
    "scaling": "minmax",
    "changepoint_prior_scale": 0.1,
    "changepoint_range": 0.95,  # Prophet's 0.8 leaves the last 20 % without changepoints: a shift there bends the trend
    "n_changepoints": 15,  # 25 by default: about 20 % more CPU for a 0.005 better MAPE ratio
    "weekly_seasonality": True,
    "daily_seasonality": False,
    "uncertainty_samples": 200,  # 1,000 by default: 200 keeps the band and halves the predict time
}
YEARLY_MIN_DAYS = 700  # a yearly wave needs about two cycles of history...
YEARLY_ORDER = 1  # ...and with two or three cycles only a smooth one: more terms learn last year's shifts as "season"
SPIKE_LOG_RATIO = 0.3  # a day more than 35 % above its 15-day median is a one-off: left out of the fit
LEVEL_DAYS = 14  # the forecast is re-anchored on the last two weeks when it misses them by...
LEVEL_GATE = 2.0  # ...more than 2 standard errors (a recent level shift), so noise alone does not move it
TREND_WINDOW_DAYS = 365  # the typical growth: the median slope of the trend segments of the last year

log = logging.getLogger(__name__)


class SeriesSkipped(ValueError):
    """A series that cannot be forecast; the message is the reason."""


def check_interval(level: float) -> int:
    """The prediction interval level as an int percent; ValueError unless it is between 51 and 99."""
    try:
        value = float(level)
    except (TypeError, ValueError):
        raise ValueError(f"interval level must be a number between 51 and 99 %, got {level!r}") from None
    if not 51 <= value <= 99:  # also refuses NaN
        raise ValueError(f"interval level must be between 51 and 99 %, got {level}")
    return round(value)


def quiet_logging() -> None:
    """Silence prophet's plotly notice and cmdstanpy's two lines per fit; also the initializer of each worker."""
    logging.getLogger("prophet.plot").disabled = True
    import cmdstanpy

    cmdstanpy.disable_logging()
    logging.getLogger("cmdstanpy").setLevel(logging.WARNING)


@cache
def _prophet():
    # imported here so that `import finops.models.forecaster` stays cheap (prophet takes about 1 s)
    quiet_logging()
    from prophet import Prophet

    # after the import, which sets INFO; its warnings are about choices made here on purpose (yearly from 700 days)
    logging.getLogger("prophet").setLevel(logging.ERROR)
    return Prophet


def clean_history(history: pd.DataFrame) -> pd.DataFrame:
    """One row per day from the first non-zero day to the last day; missing days are 0, NaN stays unknown."""
    if not {"ds", "y"} <= set(history.columns):
        raise SeriesSkipped(f"history needs columns ds and y, got {', '.join(map(str, history.columns)) or 'none'}")
    ds = pd.to_datetime(history["ds"], errors="coerce")
    if isinstance(ds.dtype, pd.DatetimeTZDtype):
        ds = ds.dt.tz_localize(None)
    y = pd.to_numeric(history["y"], errors="coerce").astype(float).replace([np.inf, -np.inf], np.nan)
    frame = pd.DataFrame({"ds": ds.dt.normalize(), "y": y}).dropna(subset=["ds"])
    if frame.empty:
        raise SeriesSkipped("no history")
    if frame["y"].isna().all():
        raise SeriesSkipped("no numeric values (all NaN)")
    daily = frame.groupby("ds")["y"].sum(min_count=1)  # several rows of one day are parts of its cost
    # Cost Explorer omits days without cost, so a missing day is a zero, not an unknown
    daily = daily.reindex(pd.date_range(daily.index.min(), daily.index.max(), freq="D"), fill_value=0.0)
    known = (daily.notna() & (daily != 0)).to_numpy()
    if not known.any():
        raise SeriesSkipped("all values are zero")
    daily = daily.iloc[known.argmax() :]  # leading zeros are days before the service existed
    return pd.DataFrame({"ds": daily.index, "y": daily.to_numpy()})


def enough_history(history: pd.DataFrame) -> pd.DataFrame:
    clean = clean_history(history)
    days, known = len(clean), int(clean["y"].notna().sum())
    if days < MIN_HISTORY_DAYS:
        raise SeriesSkipped(f"only {days} day{'s' if days != 1 else ''} of history (needs {MIN_HISTORY_DAYS})")
    if known < MIN_HISTORY_DAYS:
        raise SeriesSkipped(f"only {known} days with a known cost (needs {MIN_HISTORY_DAYS})")
    return clean


def prophet_forecast(clean: pd.DataFrame, horizon_days: int, level: int, intervals: bool) -> pd.DataFrame:
    """Fit Prophet on a clean history and predict the `horizon_days` after it."""
    values = clean["y"].dropna()
    # in log space weekly pattern, growth and noise are proportional to the cost; zeros and credits rule it out
    use_log = bool((values > 0).all())
    fitted = clean.assign(y=np.log(clean["y"])) if use_log else clean.copy()
    if use_log:  # Prophet copes with missing days, so one-off spikes are simply left out
        fitted["y"] = fitted["y"].mask(_spikes(fitted))
    month_start = (clean["ds"].dt.day == 1).sum() >= 2
    settings = PROPHET_SETTINGS if intervals else PROPHET_SETTINGS | {"uncertainty_samples": 0}
    model = _prophet()(
        **settings,
        yearly_seasonality=YEARLY_ORDER if len(clean) >= YEARLY_MIN_DAYS else False,
        interval_width=level / 100,
    )
    if month_start:  # AWS bills monthly fees (RI, Savings Plans, Support, tax) on the 1st
        model.add_regressor("month_start", prior_scale=10.0, standardize=False)
    model.fit(_with_month_start(fitted, month_start))
    recent = fitted.dropna().tail(LEVEL_DAYS)
    days = pd.date_range(clean["ds"].iloc[-1] + pd.Timedelta(days=1), periods=horizon_days, freq="D")
    state = np.random.get_state()
    np.random.seed(0)  # the band comes from random draws: the same history gives the same band
    try:
        out = model.predict(_with_month_start(pd.DataFrame({"ds": [*recent["ds"], *days]}), month_start))
    finally:
        np.random.set_state(state)
    out = out.reindex(columns=OUT_COLUMNS).fillna({"yhat_lower": out["yhat"], "yhat_upper": out["yhat"]})
    out[OUT_COLUMNS[1:]] = out[OUT_COLUMNS[1:]].add(_reanchor(model, out, recent), axis=0)
    out = out.iloc[len(recent) :]
    if use_log:
        out[OUT_COLUMNS[1:]] = np.exp(out[OUT_COLUMNS[1:]])
    elif values.min() >= 0:  # cost cannot go below zero unless credits ever made it so
        out[OUT_COLUMNS[1:]] = out[OUT_COLUMNS[1:]].clip(lower=0)
    return _contract(out)


def _with_month_start(frame: pd.DataFrame, on: bool) -> pd.DataFrame:
    return frame.assign(month_start=(frame["ds"].dt.day == 1).astype(float)) if on else frame


def _spikes(frame: pd.DataFrame) -> pd.Series:
    """Days whose log cost is far above the median of the 15 days around them; 1sts (fees) excepted."""
    local = frame["y"].rolling(15, center=True, min_periods=8).median()
    return (frame["y"] - local > SPIKE_LOG_RATIO) & (frame["ds"].dt.day != 1)


def _reanchor(model, out: pd.DataFrame, recent: pd.DataFrame) -> np.ndarray:
    """What to add to Prophet's rows (the `recent` days, then the forecast) for a cautious slope and level.

    Prophet extends the slope of its last trend segment, which a level shift or a ramp near the end makes
    steep. We extend the gentler of that slope and the typical one of the last year, from a level that the
    last LEVEL_DAYS days confirm.
    """
    slopes, weights = _segment_slopes(model)
    ahead = (out["ds"] - model.history["ds"].max()).dt.days.to_numpy()
    typical, last = _weighted_median(slopes, weights), slopes[-1]
    # the gentler of the two; flat when they disagree on the direction
    slope = 0.0 if typical * last < 0 else min(typical, last, key=abs)
    shift = (slope - last) * ahead
    if len(recent):
        offset = np.median(recent["y"].to_numpy() - (out["yhat"].to_numpy() + shift)[: len(recent)])
        sigma = float(np.nanmean(model.params["sigma_obs"])) * model.y_scale
        if abs(offset) > LEVEL_GATE * 1.25 * sigma / np.sqrt(len(recent)):  # 1.25: standard error of a median
            shift = shift + offset
    return shift


def _segment_slopes(model) -> tuple[np.ndarray, np.ndarray]:
    """Trend slope (y per day) of each segment between changepoints, weighted by its days in the last year."""
    k = float(np.nanmean(model.params["k"]))
    slopes = k + np.r_[0.0, np.cumsum(np.nanmean(model.params["delta"], axis=0))]
    span = model.t_scale / pd.Timedelta(days=1)
    edges = np.r_[0.0, model.changepoints_t, 1.0]
    start = max(0.0, 1.0 - TREND_WINDOW_DAYS / span)
    weights = np.clip(np.minimum(edges[1:], 1.0) - np.maximum(edges[:-1], start), 0.0, None)
    return slopes * model.y_scale / span, weights


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cumulative, cumulative[-1] / 2)])


def _contract(out: pd.DataFrame) -> pd.DataFrame:
    """Our output shape: float columns, normalized days, lower <= yhat <= upper on every row."""
    out = out[OUT_COLUMNS].astype({c: float for c in OUT_COLUMNS[1:]}).reset_index(drop=True)
    out["ds"] = pd.to_datetime(out["ds"]).dt.normalize().astype("datetime64[ns]")
    out["yhat_lower"] = np.minimum(out["yhat_lower"], out["yhat"])
    out["yhat_upper"] = np.maximum(out["yhat_upper"], out["yhat"])
    return out


def fit_forecast(history: pd.DataFrame, *, horizon_days: int = 90, interval: int = 80) -> pd.DataFrame:
    """Forecast the `horizon_days` after the last history day with an `interval` % band; raises SeriesSkipped.

    history: ds (day), y (daily cost). Missing days count as 0 (Cost Explorer omits them), leading zero days
    are trimmed, NaN is an unknown day. Returns ds, yhat, yhat_lower, yhat_upper, one row per forecast day.
    """
    level = check_interval(interval)
    if horizon_days < 1:
        raise ValueError(f"horizon_days must be at least 1, got {horizon_days}")
    return prophet_forecast(enough_history(history), horizon_days, level, intervals=True)


def _z(level: int) -> float:
    return NormalDist().inv_cdf(0.5 + level / 200)


def rescale_interval(forecast: pd.DataFrame, *, from_level: int, to_level: int) -> pd.DataFrame:
    """The same forecast with its band moved from `from_level` to `to_level` %, each side a normal error.

    sigma_side = |bound - yhat| / z(from); new bound = yhat -/+ z(to) * sigma_side. A forecast whose lower
    bounds are all >= 0 keeps them >= 0 (its history had no credits).
    """
    ratio = _z(check_interval(to_level)) / _z(check_interval(from_level))
    out = forecast.copy()
    out["yhat_lower"] = out["yhat"] - (out["yhat"] - out["yhat_lower"]).abs() * ratio
    out["yhat_upper"] = out["yhat"] + (out["yhat_upper"] - out["yhat"]).abs() * ratio
    if (forecast["yhat_lower"] >= 0).all():
        out["yhat_lower"] = out["yhat_lower"].clip(lower=0)
    return out
