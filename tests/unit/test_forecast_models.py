"""Model choice: the baselines, calendar effects (gaps, credits, fees, holidays, yearly dips), the back-test
choice and its calibrated band, and batches with progress."""

import math

import numpy as np
import pandas as pd
import pytest

from finops.models import forecast_backtest, forecast_baselines, forecast_batch, forecast_calendar, forecast_select

pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword:DeprecationWarning")
MONDAY = pd.Timestamp("2025-01-06")
WEEK = np.array([100.0, 105.0, 110.0, 105.0, 100.0, 60.0, 50.0])


def history(values, start=MONDAY) -> pd.DataFrame:
    return pd.DataFrame({"ds": pd.date_range(start, periods=len(values), freq="D"), "y": np.asarray(values, float)})


def weekly(days: int, *, noise: float = 0.0, seed: int = 0, start=MONDAY) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    first = pd.Timestamp(start).day_of_week
    values = np.resize(np.roll(WEEK, -first), days) * np.exp(rng.normal(0.0, noise, days))
    return history(values, start)


# --- baselines and errors -------------------------------------------------------------------------------------


def test_last_week_repeats_the_last_seven_days_by_weekday():
    values = np.arange(1.0, 22.0)  # three weeks from a Monday: the last week is 15..21
    out = forecast_baselines.last_week(history(values), horizon_days=9)
    assert out["yhat"].tolist() == [15.0, 16.0, 17.0, 18.0, 19.0, 20.0, 21.0, 15.0, 16.0]
    assert out["ds"].iloc[0] == MONDAY + pd.Timedelta(days=21)


@pytest.mark.parametrize(
    ("actual", "forecast", "expected"),
    [
        ([100, 100], [90, 120], 0.05),  # errors of single days cancel in the total
        ([100, 0, -50], [100, 10, -40], 0.4),  # credits count: |50 - 70| / 50
        ([100, math.nan], [90, 1000], 0.1),  # an unknown day is left out of both sums
        ([0, 0], [1, 1], None),
    ],
)
def test_total_error(actual, forecast, expected):
    got = forecast_backtest.total_error(actual, forecast)
    assert got == (pytest.approx(expected) if expected is not None else None)


# --- calendar effects -----------------------------------------------------------------------------------------


def test_a_monthly_fee_is_taken_out_of_the_history_and_put_back_on_the_next_firsts():
    frame = weekly(200)
    firsts = frame["ds"].dt.day == 1
    frame.loc[firsts, "y"] += 500.0
    prepared = forecast_calendar.prepare(frame)
    assert prepared.fee == pytest.approx(500.0, rel=0.05)
    assert prepared.history.loc[firsts.to_numpy(), "y"].max() < 200  # the fit sees ordinary days
    days = pd.date_range(frame["ds"].iloc[-1] + pd.Timedelta(days=1), periods=40, freq="D")
    out = prepared.apply(days, np.full(40, 100.0))
    assert list(out[days.day == 1]) == [pytest.approx(600.0, rel=0.05)] * int((days.day == 1).sum())
    assert (out[days.day != 1] == 100.0).all()


@pytest.mark.parametrize(("bad_days", "unknown"), [(5, True), (60, False)])
def test_rare_zero_and_negative_days_are_gaps_and_credits_for_the_fit(bad_days, unknown):
    frame = weekly(365)
    rows = np.linspace(20, 340, bad_days).astype(int)
    frame.loc[rows, "y"] = np.where(rows % 2, 0.0, -300.0)
    prepared = forecast_calendar.prepare(frame)
    assert bool(prepared.history.loc[rows, "y"].isna().all()) is unknown


def test_holidays_of_the_configured_country_are_learned_and_applied():
    frame = weekly(400, start=pd.Timestamp("2024-11-04"))  # holds two Christmases
    names = forecast_calendar.holiday_names("DE", pd.DatetimeIndex(frame["ds"]))
    on_holiday = np.array([bool(n) for n in names])
    frame.loc[on_holiday, "y"] *= 0.5
    prepared = forecast_calendar.prepare(frame, "DE")
    assert prepared.holidays["Christmas Day"] == pytest.approx(0.5, rel=0.05)
    assert prepared.history.loc[on_holiday, "y"].notna().all()  # replaced by an ordinary day's cost
    assert forecast_calendar.prepare(frame).holidays == {}  # no country: no holidays
    days = pd.date_range("2026-05-01", periods=3, freq="D")  # Labour Day, not seen in the history
    out = prepared.apply(days, np.full(3, 100.0))
    assert out[0] == pytest.approx(100 * prepared.holidays[""]) and out[0] < 60 and list(out[1:]) == [100.0, 100.0]


def _dipped(days: int, years: set[int]) -> pd.DataFrame:
    frame = weekly(days, noise=0.03, start=pd.Timestamp("2026-12-10") - pd.Timedelta(days=days))
    ds = frame["ds"].dt
    season = ((ds.month == 12) & (ds.day >= 20)) | ((ds.month == 1) & (ds.day <= 3))
    frame.loc[season & ds.year.add(ds.month.eq(1).astype(int) * -1).isin(years), "y"] *= 0.5
    return frame


@pytest.mark.parametrize(
    ("days", "years", "dip"),
    [(730, {2024, 2025}, True), (730, {2025}, False), (700, {2025}, False)],
    ids=["two-years", "one-off", "short-history"],
)
def test_a_dip_seen_in_each_of_the_last_two_years_is_expected_again(days, years, dip):
    prepared = forecast_calendar.prepare(_dipped(days, years))
    christmas_week = [pd.Timestamp(f"2026-12-{d}") for d in range(21, 31)]
    factors = [prepared.yearly.get(d, 1.0) for d in christmas_week]
    assert (max(factors) < 0.8) if dip else factors == [1.0] * len(christmas_week)
    assert all(d >= pd.Timestamp("2026-12-10") for d in prepared.yearly)


# --- choosing a model -----------------------------------------------------------------------------------------


def test_the_lowest_score_is_chosen_and_baselines_never_are():
    errors = pd.DataFrame(
        [
            ("baseline_last_week", 0.01, 0.001, 3),
            ("seasonal_naive", 0.10, 0.05, 3),
            ("ets", 0.08, 0.04, 3),
            ("theta", 0.06, 0.06, 3),
        ],
        columns=forecast_select.ERROR_COLUMNS,
    )
    assert forecast_select._best(errors) == "ets"  # 0.04 + 0.5 x 0.08 = 0.08 < 0.09 (theta), 0.10
    tie = errors.assign(mape=0.1, total_error=0.05)
    assert forecast_select._best(tie) == "seasonal_naive"  # the first in MODELS on a tie
    assert forecast_select._best(errors.iloc[:0]) == "seasonal_naive"  # nothing back-tested


@pytest.mark.slow
def test_choice_contract_errors_beside_both_baselines_and_a_calibrated_band():
    future_inside, backtest_inside = [], []
    for seed in range(8):  # one series' 30 days say little about a band: eight series of known noise
        full = weekly(400 + 30, noise=0.1, seed=seed)
        past, future = full.iloc[:400], full.iloc[400:]
        choice = forecast_select.choose_forecast(past, horizon_days=30, interval=80, prophet=False)
        assert choice.model in forecast_select.FAST
        assert list(choice.forecast.columns) == ["ds", "yhat", "yhat_lower", "yhat_upper"]
        assert choice.forecast["ds"].tolist() == future["ds"].tolist()
        assert set(choice.errors["model"]) == {*forecast_select.FAST, *forecast_select.BASELINE.values()}
        assert (choice.errors["origins"] == 3).all()
        fc = choice.forecast
        assert ((fc["yhat_lower"] <= fc["yhat"]) & (fc["yhat"] <= fc["yhat_upper"])).all()
        assert forecast_backtest.mape(future["y"], fc["yhat"]) < 0.12
        future_inside.append(
            ((future["y"].to_numpy() >= fc["yhat_lower"]) & (future["y"].to_numpy() <= fc["yhat_upper"])).mean()
        )
        backtest_inside.append(choice.coverage)
    assert abs(np.mean(future_inside) - 0.8) <= 0.08
    assert abs(np.mean(backtest_inside) - 0.8) <= 0.08  # out of sample: each origin against the others' errors


@pytest.mark.slow
def test_a_holiday_in_the_forecast_gets_its_dip():
    frame = weekly(450, noise=0.02, start=pd.Timestamp("2024-08-01"))  # to 2025-10-24
    on_holiday = np.array([bool(n) for n in forecast_calendar.holiday_names("US", pd.DatetimeIndex(frame["ds"]))])
    frame.loc[on_holiday, "y"] *= 0.4
    choice = forecast_select.choose_forecast(frame, horizon_days=60, interval=80, prophet=False, country="US")
    fc = choice.forecast.set_index("ds")["yhat"]
    thanksgiving = pd.Timestamp("2025-11-27")  # a Thursday
    ordinary = fc[[thanksgiving - pd.Timedelta(days=7), thanksgiving + pd.Timedelta(days=7)]].mean()
    assert fc[thanksgiving] < 0.55 * ordinary


@pytest.mark.slow
def test_batch_reports_progress_keeps_the_order_and_caps_prophet():
    batch = {f"s{i}": weekly(120, noise=0.05, seed=i) for i in range(3)} | {"bad": history([1.0])}
    calls = []
    results = forecast_batch.forecast_many(
        batch, horizon_days=14, workers=1, prophet_series=0, progress=lambda d, t: calls.append((d, t))
    )
    assert list(results) == list(batch) and calls == [(1, 4), (2, 4), (3, 4), (4, 4)]
    good = [results[f"s{i}"] for i in range(3)]
    assert all(r.model in forecast_select.FAST and r.skipped is None for r in good)
    assert all(r.naive_mape is not None and r.last_week_mape is not None and r.coverage is not None for r in good)
    assert results["bad"].skipped.startswith("only 1 day")


def test_a_holiday_on_the_first_of_the_month_is_not_mistaken_for_the_fee():
    frame = weekly(400, start=pd.Timestamp("2024-11-04"))
    firsts = (frame["ds"].dt.day == 1).to_numpy()
    frame.loc[firsts, "y"] += 500.0
    prepared = forecast_calendar.prepare(frame, "DE")  # 1 January and 1 May are holidays, at an ordinary cost
    assert prepared.fee == pytest.approx(500.0, rel=0.05)
    assert abs(np.log(prepared.holidays.get("New Year's Day", 1.0))) < 0.1


def test_trend_follows_the_typical_growth_and_the_weekly_shape_but_not_a_single_jump():
    from finops.models import forecast_trend

    days = 400
    growth = np.exp(np.log(1.03) * np.arange(days) / 30.44)  # +3 % a month
    frame = weekly(days)
    frame["y"] *= growth
    out = forecast_trend.trend(frame, 28)
    expected = np.resize(np.roll(WEEK, -(days % 7)), 28) * np.exp(np.log(1.03) * np.arange(days, days + 28) / 30.44)
    assert np.allclose(out, expected, rtol=0.02)
    jumped = weekly(days)
    jumped.loc[days - 21 :, "y"] *= 1.5  # a level shift three weeks ago: the new level, no growth from it
    out = forecast_trend.trend(jumped, 28)
    assert np.allclose(out, 1.5 * np.resize(np.roll(WEEK, -(days % 7)), 28), rtol=0.02)
