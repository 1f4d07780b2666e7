"""One series' forecast: every candidate model back-tested, the best one chosen, its band calibrated from its
back-test errors. `ds, y` history in; the chosen model's `ds, yhat, yhat_lower, yhat_upper` and the errors out.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from finops.models import forecast_stats
from finops.models.forecast_backtest import mape, total_error
from finops.models.forecast_baselines import WINDOWS, weekday_means
from finops.models.forecast_calendar import Prepared, prepare
from finops.models.forecast_trend import trend
from finops.models.forecaster import MIN_HISTORY_DAYS, OUT_COLUMNS, enough_history, prophet_forecast

BACKTEST_DAYS = 30  # each back-test forecasts 30 days, from origins 30, 60 and 90 days before the end
ORIGINS = 3
FAST = ("seasonal_naive", "last_week", "trend", "ets", "theta", "ensemble")  # in order of preference on a tie
MODELS = (*FAST, "prophet")
ENSEMBLE = ("trend", "ets", "theta", "prophet")  # the mean of those of them that were fitted
# the baselines a user would try first, on the plain history: reported beside the chosen model, never chosen
BASELINE = {"seasonal_naive": "baseline_seasonal_naive", "last_week": "baseline_last_week"}
MAPE_WEIGHT = 0.5  # a model is chosen by its 30-day total error plus half its daily MAPE (both back-tested)
LEVEL_MAX = 95  # a band is widened up to the 95 % band's quantiles to cover its level out of sample
CALENDAR_UNCERTAINTY = 0.5  # the band widens by half the size of a holiday or yearly effect on its days
ERROR_COLUMNS = ["model", "mape", "total_error", "origins"]


@dataclass
class Choice:
    """The chosen model's forecast, every candidate's back-test errors and the band's back-test coverage."""

    model: str
    forecast: pd.DataFrame  # OUT_COLUMNS
    errors: pd.DataFrame  # ERROR_COLUMNS, one row per candidate
    coverage: float | None  # share of back-test days inside the calibrated band (None: no back-test)


def _points(model: str, raw: pd.DataFrame, prep: Prepared, horizon: int, cache: dict[str, np.ndarray]) -> np.ndarray:
    """The point forecast of one candidate; the ensemble reuses its members from `cache`."""
    if model in cache:
        return cache[model]
    days = pd.date_range(raw["ds"].iloc[-1] + pd.Timedelta(days=1), periods=horizon, freq="D")
    last = raw["ds"].iloc[-1]
    if model in BASELINE.values():  # as a user would compute them: on the plain history
        plain = next(name for name, key in BASELINE.items() if key == model)
        out = weekday_means(raw["y"].to_numpy(), last, horizon, WINDOWS[plain])
    elif model in WINDOWS:  # the candidate: on the prepared history, with the calendar put back
        out = prep.apply(days, weekday_means(prep.history["y"].to_numpy(), last, horizon, WINDOWS[model]))
    elif model == "ensemble":
        out = np.mean([_points(m, raw, prep, horizon, cache) for m in ENSEMBLE if m in cache], axis=0)
    elif model == "prophet":
        fitted = prophet_forecast(prep.history, horizon, 80, intervals=False)["yhat"].to_numpy()
        out = prep.apply(days, fitted)
    elif model == "trend":
        out = prep.apply(days, trend(prep.history, horizon))
    else:
        out = prep.apply(days, getattr(forecast_stats, model)(prep.history, horizon))
    cache[model] = out
    return out


def backtest(raw: pd.DataFrame, models: tuple[str, ...], country: str) -> tuple[pd.DataFrame, dict]:
    """Errors of every model from up to ORIGINS origins, and each model's (actual, forecast) back-test days."""
    days: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {m: [] for m in models}
    for k in range(1, ORIGINS + 1):
        cut = len(raw) - k * BACKTEST_DAYS
        if cut < MIN_HISTORY_DAYS:
            break
        train, actual = raw.iloc[:cut], raw["y"].to_numpy()[cut : cut + BACKTEST_DAYS]
        prep, cache = prepare(train, country), dict[str, np.ndarray]()
        for model in models:
            days[model].append((actual, _points(model, train, prep, BACKTEST_DAYS, cache)))
    rows = []
    for model, pairs in days.items():
        totals = [e for a, f in pairs if (e := total_error(a, f)) is not None]
        pooled = mape(np.concatenate([a for a, _ in pairs]), np.concatenate([f for _, f in pairs])) if pairs else None
        rows.append([model, pooled, float(np.mean(totals)) if totals else None, len(pairs)])
    return pd.DataFrame(rows, columns=ERROR_COLUMNS), days


def _best(errors: pd.DataFrame) -> str:
    """The candidate with the lowest 30-day total error plus MAPE_WEIGHT x daily MAPE; the first in MODELS on a
    tie; seasonal naive when nothing could be back-tested."""
    ranked = errors[errors["model"].isin(MODELS)].dropna(subset=["total_error", "mape"])
    if ranked.empty:
        return "seasonal_naive"
    score = ranked["total_error"] + MAPE_WEIGHT * ranked["mape"]
    order = ranked["model"].map(MODELS.index)
    return str(ranked.assign(score=score, order=order).sort_values(["score", "order"]).iloc[0]["model"])


def _errors(pairs: list, positive: bool) -> np.ndarray:
    """Back-test errors of (actual, forecast) pairs: log ratios for positive cost, else differences."""
    actual = np.concatenate([a for a, _ in pairs]) if pairs else np.array([])
    forecast = np.concatenate([f for _, f in pairs]) if pairs else np.array([])
    keep = np.isfinite(actual) & np.isfinite(forecast)
    if positive:
        keep &= (actual > 0) & (forecast > 0)
        return np.log(actual[keep] / forecast[keep])
    return actual[keep] - forecast[keep]


def _coverage(pairs: list, positive: bool, quantiles: tuple[float, float]) -> float | None:
    """How often each origin's days fell inside the band the other origins' errors give (None: under 2)."""
    inside, days = 0, 0
    for k, pair in enumerate(pairs):
        others = _errors(pairs[:k] + pairs[k + 1 :], positive)
        mine = _errors([pair], positive)
        if len(others) and len(mine):
            lo, hi = np.quantile(others, quantiles)
            inside, days = inside + int(((mine >= lo) & (mine <= hi)).sum()), days + len(mine)
    return inside / days if len(pairs) >= 2 and days else None


def _calibrated(pairs: list, positive: bool, level: int) -> tuple[float, float]:
    """The quantiles of the band: those of `level` %, or of the smallest wider level (in 1-point steps, up to
    LEVEL_MAX) whose band covers `level` % of the days out of sample (each origin against the others' errors)."""
    for wider in range(level, max(level, LEVEL_MAX) + 1):
        quantiles = ((1 - wider / 100) / 2, (1 + wider / 100) / 2)
        coverage = _coverage(pairs, positive, quantiles)
        if coverage is None or coverage >= level / 100:
            break
    return quantiles


def _band(pairs: list, yhat: np.ndarray, level: int, raw: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, float | None]:
    """Lower and upper bounds from the back-test errors' quantiles (in logs when the cost is positive), widening
    past the back-tested horizon, and the band's coverage out of sample (each origin against the others');
    without a back-test, from last-week-repeated errors in the history."""
    y = raw["y"].to_numpy(dtype=float)
    source = pairs or [(y[7:], y[:-7])]
    positive = bool((yhat > 0).all()) and len(_errors(source, True)) == len(_errors(source, False))
    quantiles = _calibrated(pairs, positive, level)
    errors = _errors(source, positive)
    if not len(errors):
        return yhat.copy(), yhat.copy(), None
    lo_q, hi_q = np.quantile(errors, quantiles)
    widen = np.sqrt(np.maximum(np.arange(1, len(yhat) + 1), BACKTEST_DAYS) / BACKTEST_DAYS)
    coverage = _coverage(pairs, positive, quantiles)
    if positive:
        return yhat * np.exp(lo_q * widen), yhat * np.exp(hi_q * widen), coverage
    return yhat + lo_q * widen, yhat + hi_q * widen, coverage


def choose_forecast(
    history: pd.DataFrame, *, horizon_days: int, interval: int, prophet: bool = True, country: str = ""
) -> Choice:
    """Back-test every candidate on `history` (`ds, y`), forecast with the best; raises SeriesSkipped."""
    raw = enough_history(history)
    models = (*(MODELS if prophet else FAST), *BASELINE.values())
    errors, days = backtest(raw, models, country)
    model = _best(errors)
    cache: dict[str, np.ndarray] = {}
    prep = prepare(raw, country)
    if model == "ensemble":
        for member in ENSEMBLE:
            if member in models:
                _points(member, raw, prep, horizon_days, cache)
    yhat = _points(model, raw, prep, horizon_days, cache)
    lower, upper, coverage = _band(days[model], yhat, interval, raw)
    # a holiday or yearly effect was seen once or twice: as uncertain as half its size, on both sides
    ds = pd.date_range(raw["ds"].iloc[-1] + pd.Timedelta(days=1), periods=horizon_days, freq="D")
    spread = np.exp(CALENDAR_UNCERTAINTY * np.abs(np.log(prep.factors(ds))))
    lower, upper = np.where(lower > 0, lower / spread, lower), np.where(upper > 0, upper * spread, upper)
    if (raw["y"].dropna() >= 0).all():  # cost cannot go below zero unless credits ever made it so
        yhat, lower, upper = (np.clip(a, 0, None) for a in (yhat, lower, upper))
    out = pd.DataFrame({"ds": ds.astype("datetime64[ns]"), "yhat": yhat, "yhat_lower": lower, "yhat_upper": upper})
    out["yhat_lower"] = np.minimum(out["yhat_lower"], out["yhat"])
    out["yhat_upper"] = np.maximum(out["yhat_upper"], out["yhat"])
    return Choice(model, out[OUT_COLUMNS].astype({c: float for c in OUT_COLUMNS[1:]}), errors, coverage)
