"""Forecast model: output contract, interval levels, the seasonal-naive baseline, back-tests, skip reasons, batches."""

import logging
import math
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from finops.models import forecast_backtest, forecast_batch, forecaster
from finops.models.forecaster import SeriesSkipped

# Prophet 1.5 itself calls DataFrame.drop(inplace=True), which pandas 3 deprecates
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword:DeprecationWarning")

MONDAY = pd.Timestamp("2026-01-05")
WEEKDAY_SHAPE = np.array([1.0, 1.05, 1.1, 1.05, 1.0, 0.7, 0.6])  # Monday first: weekends are cheaper


def history(values, start=MONDAY) -> pd.DataFrame:
    values = np.asarray(values, dtype=float)
    return pd.DataFrame({"ds": pd.date_range(start, periods=len(values), freq="D"), "y": values})


def synthetic(days: int, *, level=100.0, noise=0.05, seed=0, start=MONDAY) -> pd.DataFrame:
    """A weekly cost pattern with multiplicative log-normal noise of known size."""
    rng = np.random.default_rng(seed)
    shape = np.resize(WEEKDAY_SHAPE, days)
    return history(level * shape * np.exp(rng.normal(0.0, noise, days)), start)


# --- interval levels ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("level", "expected"), [(51, 51), (80, 80), (95.0, 95), (99, 99), ("90", 90)])
def test_check_interval_accepts(level, expected):
    assert forecaster.check_interval(level) == expected


@pytest.mark.parametrize("level", [50, 100, 0, -5, 50.9, 99.5, math.nan, "wide", None])
def test_check_interval_refuses_with_a_message(level):
    with pytest.raises(ValueError, match=r"interval level must be .*between 51 and 99 %"):
        forecaster.check_interval(level)


def test_bad_interval_is_a_caller_error_not_a_skipped_series():
    with pytest.raises(ValueError, match="between 51 and 99"):
        forecast_batch.forecast_many({"a": synthetic(30)}, interval=100, workers=1)


@pytest.mark.parametrize(
    ("from_level", "to_level", "lower", "upper"),
    [
        (80, 80, 80.0, 130.0),
        (80, 95, 100 - 20 * 1.959964 / 1.281552, 100 + 30 * 1.959964 / 1.281552),
        (95, 51, 100 - 20 * 0.690309 / 1.959964, 100 + 30 * 0.690309 / 1.959964),
        (51, 99, 100 - 20 * 2.575829 / 0.690309, 100 + 30 * 2.575829 / 0.690309),
    ],
)
def test_rescale_interval(from_level, to_level, lower, upper):
    fc = pd.DataFrame({"ds": [MONDAY], "yhat": [100.0], "yhat_lower": [80.0], "yhat_upper": [130.0]})
    out = forecaster.rescale_interval(fc, from_level=from_level, to_level=to_level)
    assert list(out.columns) == forecaster.OUT_COLUMNS
    assert out["yhat"].iloc[0] == 100.0
    assert out["yhat_lower"].iloc[0] == pytest.approx(lower, rel=1e-5)
    assert out["yhat_upper"].iloc[0] == pytest.approx(upper, rel=1e-5)


@pytest.mark.parametrize(
    ("yhat_lower", "expected"),
    [
        (2.0, 0.0),  # the stored band never went below zero, so the wider one does not either
        (-10.0, 10 - 20 * 1.959964 / 1.281552),  # a credit series keeps its negative bound
    ],
)
def test_rescale_interval_clips_at_zero_only_non_negative_forecasts(yhat_lower, expected):
    fc = pd.DataFrame({"ds": [MONDAY], "yhat": [10.0], "yhat_lower": [yhat_lower], "yhat_upper": [30.0]})
    out = forecaster.rescale_interval(fc, from_level=80, to_level=95)
    assert out["yhat_lower"].iloc[0] == pytest.approx(expected, rel=1e-5, abs=1e-12)


def test_rescale_interval_refuses_bad_levels():
    fc = pd.DataFrame({"ds": [MONDAY], "yhat": [1.0], "yhat_lower": [0.5], "yhat_upper": [1.5]})
    with pytest.raises(ValueError, match="between 51 and 99"):
        forecaster.rescale_interval(fc, from_level=80, to_level=100)


# --- MAPE, the seasonal-naive baseline and back-tests (no Prophet) --------------------------------------------


@pytest.mark.parametrize(
    ("actual", "predicted", "expected"),
    [
        ([100, 200], [110, 180], 0.1),
        ([100, 0, 200], [110, 50, 180], 0.1),  # a day whose actual is 0 does not count
        ([-50, 100], [-40, 100], 0.1),  # credits: |actual| in the denominator
        ([100, math.nan], [110, 1], 0.1),  # an unknown actual does not count
        ([0, 0], [1, 2], None),
        ([], [], None),
    ],
)
def test_mape(actual, predicted, expected):
    got = forecast_backtest.mape(actual, predicted)
    assert got == (pytest.approx(expected) if expected is not None else None)


def test_seasonal_naive_is_the_mean_of_the_same_weekday_over_the_last_4_weeks():
    # day i (0 = Monday) costs i + 1; the last 4 weeks are days 7..34, so weekday j averages j + 8 + 10.5
    out = forecast_backtest.seasonal_naive(history(np.arange(1, 36)), horizon_days=9)
    assert list(out.columns) == ["ds", "yhat"]
    assert out["ds"].tolist() == list(pd.date_range(MONDAY + pd.Timedelta(days=35), periods=9, freq="D"))
    assert out["yhat"].tolist() == [18.5, 19.5, 20.5, 21.5, 22.5, 23.5, 24.5, 18.5, 19.5]


def test_seasonal_naive_fills_unseen_weekdays_with_the_overall_mean():
    out = forecast_backtest.seasonal_naive(history([3.0, 6.0, 9.0]), horizon_days=7)  # Monday..Wednesday only
    assert out["yhat"].tolist() == [6.0, 6.0, 6.0, 6.0, 3.0, 6.0, 9.0]


def test_gaps_are_zero_cost_days():
    full = synthetic(28)
    weekdays_only = full[full["ds"].dt.day_of_week < 5]
    out = forecast_backtest.seasonal_naive(weekdays_only, horizon_days=7)
    weekend = out["ds"].dt.day_of_week >= 5
    assert out.loc[weekend, "yhat"].tolist() == [0.0, 0.0]
    assert (out.loc[~weekend, "yhat"] > 0).all()


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (np.resize([100, 110, 120, 130, 140, 60, 50], 120), 0.0),  # perfectly weekly: the baseline is exact
        ([100] * 14 + [200] * 30, 0.5),  # one origin (14 days of training): predicts 100 for 200
        ([100] * 14 + [200] * 6 + [0] + [200] * 23, 0.5),  # the zero-cost day is left out
        ([0] * 50 + [100] * 14 + [200] * 30, 0.5),  # leading zeros are not training days
        ([100] * 43, None),  # 13 days before the only origin: none fits
    ],
)
def test_backtest_naive(values, expected):
    got = forecast_backtest.backtest_mape(history(values), method="naive")
    assert got == (pytest.approx(expected) if expected is not None else None)


def test_backtest_pools_the_days_of_every_origin():
    # origins at day 30, 60 and 90: the baseline is exact except across the jump at day 90
    values = [100.0] * 90 + [150.0] * 30
    assert forecast_backtest.backtest_mape(history(values), method="naive") == pytest.approx((30 * (1 / 3)) / 90)
    assert forecast_backtest.backtest_mape(history(values), method="naive", origins=1) == pytest.approx(1 / 3)


def test_backtest_refuses_an_unknown_method():
    with pytest.raises(ValueError, match="method"):
        forecast_backtest.backtest_mape(synthetic(60), method="arima")


# --- what cannot be forecast ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        (history([42.0]), "only 1 day of history (needs 14)"),
        (history(np.full(13, 5.0)), "only 13 days of history (needs 14)"),
        (history([0.0] * 30 + [5.0] * 10), "only 10 days of history (needs 14)"),  # leading zeros trimmed
        (history(np.zeros(60)), "all values are zero"),
        (history([math.nan] * 30), "no numeric values (all NaN)"),
        (history([0.0, math.nan] * 20), "all values are zero"),
        (pd.DataFrame({"ds": [], "y": []}), "no history"),
        (pd.DataFrame({"ds": [None, "not a day"], "y": [1.0, 2.0]}), "no history"),
        (pd.DataFrame({"day": [MONDAY], "cost": [1.0]}), "history needs columns ds and y"),
    ],
    ids=["single-day", "13-days", "leading-zeros", "all-zero", "all-nan", "zero-and-nan", "empty", "bad-ds", "columns"],
)
def test_skip_reasons(frame, reason):
    with pytest.raises(SeriesSkipped, match="^" + re.escape(reason)):
        forecaster.fit_forecast(frame)
    result = forecast_batch.forecast_many({"s": frame}, workers=1)["s"]
    assert result.skipped.startswith(reason)
    assert result.forecast is None and result.mape is None


def test_import_does_not_load_prophet():
    code = "import sys, finops.models.forecaster; print('prophet' in sys.modules, 'cmdstanpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


# --- Prophet fits ---------------------------------------------------------------------------------------------


def _credits(days: int) -> pd.DataFrame:
    frame = synthetic(days, seed=3)
    frame.loc[frame.index % 30 == 10, "y"] = -250.0  # a credit now and then
    return frame


def _gappy(days: int) -> pd.DataFrame:
    frame = synthetic(days, seed=4)
    return frame.drop(index=[20, 21, 22, 50]).sample(frac=1, random_state=1)  # missing days, unsorted


def _with_nans(days: int) -> pd.DataFrame:
    frame = synthetic(days, seed=5)
    frame.loc[[3, 40, 41], "y"] = math.nan
    return frame


@pytest.mark.slow
@pytest.mark.parametrize(
    ("frame", "horizon"),
    [
        (synthetic(120), 90),
        (synthetic(14), 7),
        (synthetic(400, level=5000, noise=0.1), 30),
        (_credits(120), 30),
        (_gappy(90), 30),
        (_with_nans(90), 30),
    ],
    ids=["120-days", "14-days", "400-days", "credits", "gaps-unsorted", "nans"],
)
def test_output_contract(frame, horizon):
    out = forecaster.fit_forecast(frame, horizon_days=horizon)
    assert list(out.columns) == ["ds", "yhat", "yhat_lower", "yhat_upper"]
    assert str(out["ds"].dtype) == "datetime64[ns]"
    assert all(str(out[c].dtype) == "float64" for c in ["yhat", "yhat_lower", "yhat_upper"])
    assert len(out) == horizon
    last = pd.to_datetime(frame["ds"]).max()
    assert out["ds"].tolist() == list(pd.date_range(last + pd.Timedelta(days=1), periods=horizon, freq="D"))
    assert out[["yhat", "yhat_lower", "yhat_upper"]].notna().all().all()
    assert (out["yhat_lower"] <= out["yhat"]).all() and (out["yhat"] <= out["yhat_upper"]).all()
    if (frame["y"].dropna() >= 0).all():
        assert (out["yhat_lower"] >= 0).all()


@pytest.mark.slow
def test_the_currency_unit_does_not_change_the_forecast():
    frame = synthetic(120, noise=0.08, seed=2)
    dollars = forecaster.fit_forecast(frame, horizon_days=30)
    cents = forecaster.fit_forecast(frame.assign(y=frame["y"] * 100), horizon_days=30)
    for column in ["yhat", "yhat_lower", "yhat_upper"]:
        assert np.allclose(cents[column], dollars[column] * 100, rtol=1e-3), column


@pytest.mark.slow
def test_the_same_history_gives_the_same_forecast():
    frame = synthetic(90, noise=0.1, seed=6)
    pd.testing.assert_frame_equal(forecaster.fit_forecast(frame), forecaster.fit_forecast(frame))


@pytest.mark.slow
def test_wider_level_gives_a_wider_band_and_the_same_point_forecast():
    frame = synthetic(200, noise=0.1)
    narrow = forecaster.fit_forecast(frame, horizon_days=30, interval=80)
    wide = forecaster.fit_forecast(frame, horizon_days=30, interval=95)
    assert np.allclose(narrow["yhat"], wide["yhat"])
    assert ((wide["yhat_upper"] - wide["yhat_lower"]) > (narrow["yhat_upper"] - narrow["yhat_lower"])).all()


@pytest.mark.slow
@pytest.mark.parametrize("level", [80, 95])
def test_interval_coverage_on_known_noise(level):
    # two years plus 90 days of one process; the band should hold about `level` % of the unseen days
    full = synthetic(730 + 90, level=1000, noise=0.1, seed=11)
    past, future = full.iloc[:730], full.iloc[730:]
    out = forecaster.fit_forecast(past, horizon_days=90, interval=level)
    inside = (future["y"].to_numpy() >= out["yhat_lower"]) & (future["y"].to_numpy() <= out["yhat_upper"])
    assert abs(inside.mean() - level / 100) <= 0.12
    assert forecast_backtest.mape(future["y"], out["yhat"]) < 0.1


@pytest.mark.slow
def test_forecast_follows_the_weekly_pattern_and_gaps_as_zero():
    frame = synthetic(84, noise=0.02)
    out = forecaster.fit_forecast(frame[frame["ds"].dt.day_of_week < 5], horizon_days=14)  # weekends missing
    weekend = out["ds"].dt.day_of_week >= 5
    assert out.loc[weekend, "yhat"].max() < 0.2 * out.loc[~weekend, "yhat"].min()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("leading_zeros", "days", "low_confidence"), [(100, 40, True), (100, 56, False), (0, 55, True)]
)
def test_leading_zeros_are_trimmed_and_short_histories_are_low_confidence(leading_zeros, days, low_confidence):
    frame = history(np.r_[np.zeros(leading_zeros), synthetic(days)["y"]])
    result = forecast_batch.forecast_many({"new": frame}, horizon_days=10, backtest=False, workers=1)["new"]
    assert result.skipped is None and len(result.forecast) == 10
    assert result.history_days == days
    assert result.low_confidence is low_confidence


@pytest.mark.slow
def test_forecast_many_in_spawned_workers_skips_bad_series_and_keeps_the_rest(caplog):
    batch = {
        "good": synthetic(120, seed=1),
        "one-day": history([5.0]),
        "zeros": history(np.zeros(30)),
        "credits": _credits(50),
        "empty": pd.DataFrame({"ds": [], "y": []}),
        "nan": history([math.nan] * 20),
    }
    with caplog.at_level(logging.WARNING, logger="finops.models.forecast_batch"):
        results = forecast_batch.forecast_many(batch, horizon_days=30, interval=90, backtest=True, workers=2)
    assert list(results) == list(batch)
    assert {name for name, r in results.items() if r.skipped is None} == {"good", "credits"}
    good = results["good"]
    assert good.series == "good" and len(good.forecast) == 30 and good.history_days == 120
    assert not good.low_confidence
    assert 0 <= good.mape < 0.2 and 0 <= good.naive_mape < 0.2
    assert results["credits"].low_confidence and results["credits"].mape is not None
    assert results["one-day"].skipped == "only 1 day of history (needs 14)"
    assert results["zeros"].skipped == "all values are zero"
    assert "series zeros skipped: all values are zero" in caplog.text
