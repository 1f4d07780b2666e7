"""Forecast quality and speed on bench/quality_series.py: the model each series' back-test chooses against the
naive baselines a user would try first, per family and seed; the speed of 50 and 1,000 series; real series.

    .venv/bin/python bench/bench_forecast_quality.py                   # tuning seed, 8 families x 3 seeds, timing
    .venv/bin/python bench/bench_forecast_quality.py --series 40       # fewer series per family and seed
    .venv/bin/python bench/bench_forecast_quality.py --families holiday --seeds 11
    .venv/bin/python bench/bench_forecast_quality.py --series 0        # the timing runs only
    .venv/bin/python bench/bench_forecast_quality.py --timing 0        # no timing runs

Every series is forecast as the sidecar does it (`forecast_many`: 90 days, 80 % band, 2 workers, the first
`--prophet` series also try Prophet, holidays of quality_series.HOLIDAY_COUNTRY) from its 2-year history, and
compared with its true next days (`Series.future`). The headline error is the error of the 30-day total,
|sum(actual) - sum(forecast)| / sum(actual), averaged over series; the baseline is, per series, the better of
seasonal naive (same weekday, mean of the last 4 weeks) and last week repeated by their back-test (what a user
comparing the two would pick); "oracle" is the better of the two on the true future (no user can pick that).
Coverage: the share of the true future days inside the 80 % band. Prints figures and PASS/FAIL next to the
issue's targets; asserts nothing. How the models were chosen: bench/README.md.
"""

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import quality_series  # noqa: E402

from finops.models import forecast_backtest, forecast_batch  # noqa: E402
from finops.models.forecast_baselines import last_week, seasonal_naive  # noqa: E402

TARGET_RATIO = 0.85  # 30-day total error at most 0.85 x the better naive baseline
TARGET_COVERAGE = (0.75, 0.85)  # the 80 % band holds 75-85 % of the days
TARGET_SECONDS = {50: 5.0, 1000: 60.0}


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def score(series: list, results: dict, horizon: int = 30) -> pd.DataFrame:
    """One row per forecast series: errors of ours and of both baselines against the true future."""
    rows = []
    for s in series:
        r = results[s.name]
        if r.forecast is None:
            continue
        actual = s.future["y"].to_numpy()
        fc = r.forecast
        naive = {
            "seasonal_naive": seasonal_naive(s.history, horizon_days=len(actual))["yhat"].to_numpy(),
            "last_week": last_week(s.history, horizon_days=len(actual))["yhat"].to_numpy(),
        }
        backtested = (r.naive_total_error, r.last_week_total_error)
        picked = "last_week" if None not in backtested and backtested[1] < backtested[0] else "seasonal_naive"
        inside = (actual >= fc["yhat_lower"].to_numpy()) & (actual <= fc["yhat_upper"].to_numpy())
        errors = {name: forecast_backtest.total_error(actual[:horizon], f[:horizon]) for name, f in naive.items()}
        rows.append(
            {
                "series": s.name,
                "model": r.model,
                "ours": forecast_backtest.total_error(actual[:horizon], fc["yhat"].to_numpy()[:horizon]),
                "naive": errors[picked],
                "oracle": min(errors.values()),
                "ours_mape": forecast_backtest.mape(actual[:horizon], fc["yhat"].to_numpy()[:horizon]),
                "naive_mape": forecast_backtest.mape(actual[:horizon], naive[picked][:horizon]),
                "coverage30": inside[:horizon].mean(),
                "coverage90": inside.mean(),
                "backtest_coverage": r.coverage,
            }
        )
    return pd.DataFrame(rows)


def run(series: list, prophet: int, workers: int) -> pd.DataFrame:
    results = forecast_batch.forecast_many(
        {s.name: s.history for s in series},
        horizon_days=90,
        interval=80,
        workers=workers,
        prophet_series=prophet,
        country=quality_series.HOLIDAY_COUNTRY,
    )
    return score(series, results)


def line(label: str, seed, frame: pd.DataFrame) -> dict:
    ratio = frame["ours"].mean() / frame["naive"].mean()
    coverage = frame["coverage30"].mean()
    ok = ratio <= TARGET_RATIO and TARGET_COVERAGE[0] <= coverage <= TARGET_COVERAGE[1]
    models = frame["model"].value_counts()
    print(
        f"{label:<14}{seed!s:>5}{len(frame):>5}{frame['ours'].mean():>8.4f}{frame['naive'].mean():>8.4f}"
        f"{ratio:>7.3f}{frame['ours'].mean() / frame['oracle'].mean():>8.3f}"
        f"{frame['ours_mape'].mean() / frame['naive_mape'].mean():>7.3f}{coverage:>7.1%}"
        f"{frame['coverage90'].mean():>7.1%}{frame['backtest_coverage'].mean():>7.1%}  {verdict(ok)}  "
        + ", ".join(f"{m} {n}" for m, n in models.items())
    )
    return {"ratio": ratio, "coverage": coverage}


def quality(families: list[str], seeds: list[int], n: int, prophet: int, workers: int) -> None:
    print(f"\n30-day total error, ours against the better naive baseline (target ratio <= {TARGET_RATIO}); 80 % band "
          f"coverage of the true future (target {TARGET_COVERAGE[0]:.0%}-{TARGET_COVERAGE[1]:.0%})")  # fmt: skip
    print(f"{'family':<14}{'seed':>5}{'n':>5}{'ours':>8}{'naive':>8}{'ratio':>7}{'oracle':>8}{'mape':>7}"
          f"{'cov30':>7}{'cov90':>7}{'bt-cov':>7}  verdict  models chosen")  # fmt: skip
    t0 = time.perf_counter()
    line("base (tuning)", quality_series.TUNING_SEED, run(quality_series.generate(n), prophet, workers))
    for family in families:
        frames = []
        for seed in seeds:
            frame = run(quality_series.generate(n, seed=seed, family=family), prophet, workers)
            line(family, seed, frame)
            frames.append(frame)
        line(family, "all", pd.concat(frames, ignore_index=True))
    print(f"(quality runs: {time.perf_counter() - t0:.0f} s, {load()})")


def timing(counts: list[int], prophet: int, workers: int) -> None:
    print(f"\nspeed: forecast_many, 90-day horizon, 80 % band, back-test choice, {workers} workers, Prophet tried on "
          f"the first {prophet} series")  # fmt: skip
    print("(cold: the first call in a process starts the workers, which import Prophet and statsforecast; warm: the")
    print(" sidecar keeps its workers, so every later run is warm)")
    for count in counts:
        series = [s for seed in range(-(-count // 200)) for s in quality_series.generate(200, seed=500 + seed)]
        histories = {f"{s.name}-{i}": s.history for i, s in enumerate(series[:count])}
        for label in ("cold", "warm"):
            if label == "cold":
                forecast_batch._close_pools()
            before = load()
            t0 = time.perf_counter()
            forecast_batch.forecast_many(
                histories, horizon_days=90, interval=80, workers=workers, prophet_series=prophet, country="DE"
            )
            seconds = time.perf_counter() - t0
            target = TARGET_SECONDS.get(count)
            mark = f"target <= {target:g} s: {verdict(seconds <= target)}" if target else ""
            print(f"  {count:>5} series {label}: {seconds:6.1f} s wall ({before} before)  {mark}")


def real_series() -> None:
    """Public daily series shipped inside installed packages, forecast 30 days from all but their last 30."""
    import matplotlib.cbook
    import prophet

    found = []
    path = Path(prophet.__file__).parent / "tests" / "data.csv"
    if path.exists():
        found.append(("prophet tests/data.csv (daily, trading days)", pd.read_csv(path)))
    with matplotlib.cbook.get_sample_data("goog.npz") as data:
        prices = data["price_data"]
        found.append(
            ("matplotlib goog.npz (GOOG daily close)", pd.DataFrame({"ds": prices["date"], "y": prices["adj_close"]}))
        )
    print("\nreal daily series (not tuned on; trading days renumbered as consecutive days, last 30 held out):")
    for name, frame in found:
        y = frame["y"].to_numpy(dtype=float)
        days = pd.date_range("2020-01-01", periods=len(y), freq="D")
        past = pd.DataFrame({"ds": days[:-30], "y": y[:-30]})
        result = forecast_batch.forecast_many({"s": past}, horizon_days=30, workers=1)["s"]
        actual = y[-30:]
        ours = forecast_backtest.total_error(actual, result.forecast["yhat"].to_numpy())
        naive = {
            "seasonal_naive": seasonal_naive(past, horizon_days=30)["yhat"].to_numpy(),
            "last_week": last_week(past, horizon_days=30)["yhat"].to_numpy(),
        }
        errors = {k: forecast_backtest.total_error(actual, v) for k, v in naive.items()}
        inside = (actual >= result.forecast["yhat_lower"]) & (actual <= result.forecast["yhat_upper"])
        print(f"  {name}: {len(y)} days, model {result.model}: 30-day total error {ours:.4f}; seasonal naive "
              f"{errors['seasonal_naive']:.4f}, last week {errors['last_week']:.4f}; "
              f"band holds {inside.mean():.0%}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=100, help="series per family and seed, 0 to skip")
    parser.add_argument("--seeds", type=int, nargs="*", default=[101, 102, 103], help="hold-out seeds")
    parser.add_argument("--families", nargs="*", default=list(quality_series.HOLDOUT))
    parser.add_argument("--timing", type=int, nargs="*", default=[50, 1000], help="series counts to time")
    parser.add_argument("--prophet", type=int, default=3, help="series that also try Prophet (the setting's default)")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    print(f"Python {platform.python_version()}, {os.cpu_count()} CPUs, {load()}")
    started = time.perf_counter()
    if args.series:
        quality(args.families, args.seeds, args.series, args.prophet, args.workers)
        real_series()
    if args.timing and args.timing != [0]:
        timing(args.timing, args.prophet, args.workers)
    print(f"\nbench done in {time.perf_counter() - started:.0f} s ({load()})")


if __name__ == "__main__":
    main()
