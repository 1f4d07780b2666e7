"""Execution fields, exact cost, the rate card in memory and the execution cost math: tables of cases."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pandas as pd
import pytest

from finops import costs, run_costs
from finops.data import anomalies, recommendations
from finops.data.execution_fields import ExecutionError, check_unique, clean, cost_micros, parse_csv
from finops.data.rates import RateIndex
from finops.data.sources import demo_executions

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def run(**fields) -> dict:
    base = {"execution_id": "e-1", "workflow_id": "wf", "started_at": "2026-03-01T08:00:00Z",
            "ended_at": "2026-03-01T09:30:00Z", "compute_type": "gpu-a100"}  # fmt: skip
    return {**base, **fields}


@pytest.mark.parametrize(
    ("rate_micros", "count", "seconds", "expected"),
    [
        (4_100_000, 1, 3600, 4_100_000),  # one unit-hour is the rate
        (4_100_000, 4, 5400, 24_600_000),  # 4 units x 1.5 h x 4.10
        (100_000, 1, 1, 28),  # 0.10 / 3600 = 27.78 micro-USD: rounded once
        (1, 1, 1800, 0),  # half a micro-unit rounds to the even 0
        (3, 1, 1800, 2),  # 1.5 -> 2 (half-even)
        (530_000, 2, 0, 0),  # a run of no time costs nothing
        (10_000_000_000, 10_000, 366 * 86400, 878_400_000_000_000_000),  # the caps still fit a BIGINT
    ],
)
def test_cost_is_rate_times_units_times_duration_rounded_once(rate_micros, count, seconds, expected):
    assert cost_micros(rate_micros, count, T0, T0 + timedelta(seconds=seconds)) == expected
    assert expected < 2**63


def test_cost_keeps_microseconds_exactly():
    # 1 micro-second at 3,600,000,000 micro-USD per hour is exactly 1 micro-USD
    assert cost_micros(3_600_000_000, 1, T0, T0 + timedelta(microseconds=1)) == 1
    # an exact decimal check against Decimal arithmetic over many durations
    for micros in range(0, 10_000_000, 999_983):
        exact = Decimal(2_345_678) * Decimal(micros) / Decimal(3_600_000_000)
        assert cost_micros(2_345_678, 1, T0, T0 + timedelta(microseconds=micros)) == int(exact.to_integral_value())


@pytest.mark.parametrize(
    ("fields", "column", "message"),
    [
        ({"ended_at": "2026-03-01T07:00:00Z"}, "ended_at", "is before started_at"),
        ({"ended_at": "2027-03-02T08:00:01Z"}, "ended_at", "at most 366 days"),
        ({"started_at": "yesterday"}, "started_at", "is not an ISO 8601 date-time"),
        ({"started_at": ""}, "started_at", "is required"),
        ({"started_at": "1999-12-31T00:00:00Z", "ended_at": "2000-01-01T00:00:00Z"}, "started_at", "out of range"),
        ({"execution_id": " "}, "execution_id", "is required"),
        ({"execution_id": "x" * 129}, "execution_id", "at most 128"),
        ({"workflow_id": ""}, "workflow_id", "is required"),
        ({"compute_type": ""}, "compute_type", "is required"),
        ({"compute_count": "0"}, "compute_count", "whole number from 1"),
        ({"compute_count": "2.5"}, "compute_count", "whole number from 1"),
        ({"compute_count": True}, "compute_count", "whole number from 1"),
        ({"compute_count": 10_001}, "compute_count", "whole number from 1"),
        ({"status": "running"}, "status", "must be one of succeeded, failed, cancelled"),
        ({"user": "u" * 65}, "user", "at most 64"),
    ],
)
def test_a_bad_field_is_named(fields, column, message):
    with pytest.raises(ExecutionError) as err:
        clean(run(**fields))
    assert err.value.column == column and str(err.value).startswith(f"{column}: ") and message in str(err.value)


def test_clean_normalises_times_to_utc_and_fills_defaults():
    row = clean(run(started_at="2026-03-01T10:00:00+02:00", ended_at="2026-03-01T09:00:00", compute_count=""))
    assert row["started_at"] == T0 and row["ended_at"] == T0 + timedelta(hours=1)  # naive is UTC
    assert (row["status"], row["compute_count"], row["workflow_name"], row["username"]) == ("succeeded", 1, "wf", "")


def test_duplicate_ids_in_one_batch_are_refused_at_the_second():
    rows = [clean(run(execution_id=i)) for i in ("a", "b", "a")]
    with pytest.raises(ExecutionError, match="'a' already appears at position 1") as err:
        check_unique(rows)
    assert err.value.index == 2


def test_csv_names_the_line_and_column_of_the_first_bad_row():
    text = (
        "execution_id,workflow_id,started_at,ended_at,compute_type\n"
        "a,wf,2026-03-01T08:00:00Z,2026-03-01T09:00:00Z,cpu-small\n"
        '"b\nstill b",wf,2026-03-01T08:00:00Z,2026-03-01T09:00:00Z,cpu-small\n'  # a quoted line break
        "c,wf,2026-03-01T08:00:00Z,2026-03-01T07:00:00Z,cpu-small\n"
    )
    with pytest.raises(ExecutionError) as err:
        parse_csv(text)
    assert str(err.value).startswith("row 3 (line 5), column ended_at: ") and err.value.column == "ended_at"


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("execution_id,workflow_id,started_at,ended_at", "lacks column(s) compute_type"),
        ("execution_id,workflow_id,started_at,ended_at,compute_type,cost", "unknown column 'cost'"),
    ],
)
def test_csv_header_problems_are_named(header, message):
    with pytest.raises(ExecutionError) as err:
        parse_csv(header + "\n")
    assert str(err.value).startswith("line 1: ") and message in str(err.value)


def test_rate_index_gives_the_rate_in_force_when_a_run_started():
    index = RateIndex([("gpu", T0, 4_100_000), ("gpu", T0 + timedelta(days=10), 3_670_000), ("cpu", T0, 100_000)])
    assert index.lookup("gpu", T0 - timedelta(seconds=1)) is None  # before any rate
    assert index.lookup("gpu", T0) == 4_100_000
    assert index.lookup("gpu", T0 + timedelta(days=10) - timedelta(microseconds=1)) == 4_100_000
    assert index.lookup("gpu", T0 + timedelta(days=10)) == 3_670_000
    assert index.lookup("tpu", T0) is None and index.known() == ["cpu", "gpu"]


BILL = pd.DataFrame(
    {"month": [date(2026, 1, 1), date(2026, 2, 1), date(2026, 2, 1)], "currency": ["USD", "USD", "EUR"],
     "unblended_cost": [1000.0, 800.0, 50.0]}
)  # fmt: skip
RUNS = pd.DataFrame({"month": [date(2026, 2, 1), date(2026, 3, 1)], "runs": [3, 1], "cost": [200.0, 40.0]})


@pytest.mark.parametrize(
    ("in_bill", "expected"),
    [
        # month, currency, bill, executions, total, share %
        (False, [("2026-01-01", "USD", 1000, 0, 1000, 0.0), ("2026-02-01", "EUR", 50, 0, 50, 0.0),
                 ("2026-02-01", "USD", 800, 200, 1000, 20.0), ("2026-03-01", "USD", 0, 40, 40, 100.0)]),
        (True, [("2026-01-01", "USD", 1000, 0, 1000, 0.0), ("2026-02-01", "EUR", 50, 0, 50, 0.0),
                ("2026-02-01", "USD", 800, 200, 800, 25.0), ("2026-03-01", "USD", 0, 40, 0, None)]),
    ],
)  # fmt: skip
def test_combined_adds_executions_or_shows_them_as_a_share_of_the_bill(in_bill, expected):
    out = run_costs.combined(BILL, RUNS, "unblended_cost", in_bill)
    got = [(str(r.month), r.currency, r.infrastructure_cost, r.execution_cost, r.total_cost,
            None if pd.isna(r.execution_share_pct) else round(r.execution_share_pct, 6))
           for r in out.itertuples()]  # fmt: skip
    assert got == expected


def test_spread_per_workflow_from_exact_micros():
    runs = pd.DataFrame({"workflow_id": ["a"] * 4 + ["b"], "cost_micros": [1_000_000, 2_000_000, 3_000_000,
                                                                             10_000_000, 5]})  # fmt: skip
    out = run_costs.spread(runs, ["workflow_id"]).set_index("workflow_id")
    a = out.loc["a"]
    assert (a["runs"], a["cost"], a["cost_per_run"], a["median_per_run"]) == (4, 16.0, 4.0, 2.5)
    assert (a["min_per_run"], a["max_per_run"]) == (1.0, 10.0)
    assert a["p90_per_run"] == pytest.approx(pd.Series([1, 2, 3, 10]).quantile(0.9))
    assert out.loc["b", "cost"] == 5e-6 and out["share_pct"].sum() == pytest.approx(100.0)
    assert list(out.index) == ["a", "b"]  # most expensive first


@pytest.mark.parametrize(
    ("today", "months", "year", "window"),
    [
        (date(2026, 11, 30), 12, None, (date(2025, 12, 1), date(2026, 12, 1))),
        (date(2026, 1, 1), 1, None, (date(2026, 1, 1), date(2026, 2, 1))),
        (date(2026, 11, 30), 12, 2025, (date(2025, 1, 1), date(2026, 1, 1))),
        (date(2026, 11, 30), 3, 2024, (date(2024, 1, 1), date(2024, 4, 1))),
    ],
)
def test_month_window(today, months, year, window):
    assert costs.month_window(today, months, year) == window


@pytest.mark.parametrize("months", [0, 121, -1])
def test_month_window_refuses_months_out_of_range(months):
    with pytest.raises(ValueError, match="months must be from 1 to 120"):
        costs.month_window(date(2026, 1, 1), months)


def test_demo_runs_have_a_weekly_rhythm_and_stable_ids():
    start, end = date(2026, 3, 2), date(2026, 3, 15)  # Monday to Sunday, two weeks
    runs = demo_executions.runs(42, start, end)
    assert runs == demo_executions.runs(42, start, end)  # same seed, same runs
    assert {r["execution_id"] for r in demo_executions.runs(42, start, start)} <= {r["execution_id"] for r in runs}
    per_day = pd.Series([r["started_at"].date() for r in runs]).value_counts()
    weekdays = [
        per_day.get(start + timedelta(days=d), 0) for d in range(14) if (start + timedelta(days=d)).weekday() < 5
    ]
    weekends = [
        per_day.get(start + timedelta(days=d), 0) for d in range(14) if (start + timedelta(days=d)).weekday() >= 5
    ]
    assert min(weekdays) > 2 * max(weekends)
    assert all(clean(r) for r in runs)  # every demo run passes the checks an API run passes
    card = {(r["compute_type"], r["effective_from"]) for r in demo_executions.rate_card(start, end)}
    assert {r["compute_type"] for r in runs} <= {t for t, _ in card}


def test_the_api_status_values_are_the_data_modules_values():
    from typing import get_args

    from finops.api.routes import costs as cost_routes

    assert get_args(cost_routes.RecommendationStatus) == recommendations.STATUSES
    assert get_args(cost_routes.AnomalyStatus) == ("open", *anomalies.FEEDBACK)
