"""Cost math, table-driven: small hand-made frames, hand-computed expectations."""

import math
from datetime import date

import pandas as pd
import pytest

from finops import costs

D = date.fromisoformat
M = "unblended_cost"


def frame(rows: list[tuple], columns: str) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns.split())


def records(df: pd.DataFrame) -> list[tuple]:
    return [tuple(r) for r in df.itertuples(index=False, name=None)]


def same(a, b) -> bool:
    """Equality that treats NaN as equal to NaN and compares floats to 1e-9."""
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, abs=1e-9)
    return a == b


def assert_records(df: pd.DataFrame, expected: list[tuple]) -> None:
    got = records(df)
    assert len(got) == len(expected), got
    for g, e in zip(got, expected, strict=True):
        assert len(g) == len(e) and all(same(x, y) for x, y in zip(g, e, strict=True)), (g, e)


# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D("2026-03-17"), D("2026-03-01")),
        (D("2026-03-01"), D("2026-03-01")),
        (D("2024-02-29"), D("2024-02-01")),
        (D("2025-12-31"), D("2025-12-01")),
    ],
)
def test_month_start(day, expected):
    assert costs.month_start(day) == expected


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (D("2026-03-17"), 0, D("2026-03-01")),
        (D("2026-03-31"), -1, D("2026-02-01")),
        (D("2026-01-15"), -1, D("2025-12-01")),
        (D("2025-12-15"), 1, D("2026-01-01")),
        (D("2026-03-31"), -14, D("2025-01-01")),
        (D("2026-03-31"), -15, D("2024-12-01")),
        (D("2024-02-29"), 12, D("2025-02-01")),
        (D("2025-11-30"), 26, D("2028-01-01")),
    ],
)
def test_add_months(day, months, expected):
    assert costs.add_months(day, months) == expected


@pytest.mark.parametrize(
    ("current", "previous", "expected"),
    [
        (110.0, 100.0, 10.0),
        (90.0, 100.0, -10.0),
        (0.0, 100.0, -100.0),
        (250.0, 100.0, 150.0),
        (100.0, 100.0, 0.0),
        (5.0, 0.0, None),  # nothing to compare against
        (0.0, 0.0, None),
        (5.0, None, None),
        (5.0, float("nan"), None),
        (-50.0, -100.0, 50.0),  # a smaller credit is an increase, relative to the size of the previous value
        (50.0, -100.0, 150.0),
        (-100.0, 50.0, -300.0),
    ],
)
def test_pct_change(current, previous, expected):
    got = costs.pct_change(current, previous)
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        # whole months -> the same number of whole months before
        ("2026-03-01", "2026-04-01", ("2026-02-01", "2026-03-01")),
        ("2026-01-01", "2026-02-01", ("2025-12-01", "2026-01-01")),  # year boundary
        ("2026-02-01", "2026-03-01", ("2026-01-01", "2026-02-01")),
        ("2026-01-01", "2026-04-01", ("2025-10-01", "2026-01-01")),  # a quarter across the year boundary
        ("2025-01-01", "2026-01-01", ("2024-01-01", "2025-01-01")),  # a year
        ("2025-11-01", "2026-02-01", ("2025-08-01", "2025-11-01")),
        # month to date -> the same days of the previous month, clipped to its end
        ("2026-03-01", "2026-03-11", ("2026-02-01", "2026-02-11")),
        ("2026-01-01", "2026-01-16", ("2025-12-01", "2025-12-16")),  # year boundary
        ("2026-03-01", "2026-03-02", ("2026-02-01", "2026-02-02")),
        ("2026-03-01", "2026-03-31", ("2026-02-01", "2026-03-01")),  # through the 30th: Feb has 28 days
        ("2024-03-01", "2024-03-31", ("2024-02-01", "2024-03-01")),  # leap year: 29 days
        ("2024-03-01", "2024-03-30", ("2024-02-01", "2024-03-01")),  # exactly all of February 2024
        ("2026-05-01", "2026-05-31", ("2026-04-01", "2026-05-01")),  # through the 30th of May: all of April
        ("2026-04-01", "2026-04-30", ("2026-03-01", "2026-03-30")),
        # anything else -> the equally long window just before
        ("2026-03-05", "2026-03-12", ("2026-02-26", "2026-03-05")),
        ("2026-02-20", "2026-03-10", ("2026-02-02", "2026-02-20")),
        ("2026-01-03", "2026-01-04", ("2026-01-02", "2026-01-03")),
        ("2026-01-01", "2026-02-15", ("2025-11-17", "2026-01-01")),  # starts on the 1st, ends in another month
        ("2025-01-01", "2026-01-15", ("2023-12-19", "2025-01-01")),  # starts on the 1st, ends a year later
        ("2026-01-15", "2026-02-01", ("2025-12-29", "2026-01-15")),  # ends on the 1st, starts mid-month
    ],
)
def test_previous_period(start, end, expected):
    assert costs.previous_period(D(start), D(end)) == (D(expected[0]), D(expected[1]))


@pytest.mark.parametrize(
    ("as_of", "current", "previous"),
    [
        ("2026-03-10", ("2026-03-01", "2026-03-11"), ("2026-02-01", "2026-02-11")),
        ("2026-03-01", ("2026-03-01", "2026-03-02"), ("2026-02-01", "2026-02-02")),
        ("2026-03-30", ("2026-03-01", "2026-03-31"), ("2026-02-01", "2026-03-01")),  # Feb clipped
        ("2026-03-31", ("2026-03-01", "2026-04-01"), ("2026-02-01", "2026-03-01")),  # whole month
        ("2026-01-15", ("2026-01-01", "2026-01-16"), ("2025-12-01", "2025-12-16")),
        ("2024-03-29", ("2024-03-01", "2024-03-30"), ("2024-02-01", "2024-03-01")),
        ("2024-02-29", ("2024-02-01", "2024-03-01"), ("2024-01-01", "2024-02-01")),
        ("2025-12-31", ("2025-12-01", "2026-01-01"), ("2025-11-01", "2025-12-01")),
    ],
)
def test_month_to_date(as_of, current, previous):
    got_current, got_previous = costs.month_to_date(D(as_of))
    assert got_current == (D(current[0]), D(current[1]))
    assert got_previous == (D(previous[0]), D(previous[1]))


PRESET_CASES = {
    "2026-01-01": {
        "Last 7 days": ("2025-12-25", "2026-01-01"),
        "Last 30 days": ("2025-12-02", "2026-01-01"),
        "Last 90 days": ("2025-10-03", "2026-01-01"),
        "Month to date": ("2026-01-01", "2026-01-02"),
        "Last month": ("2025-12-01", "2026-01-01"),
        "Quarter to date": ("2026-01-01", "2026-01-02"),
        "Year to date": ("2026-01-01", "2026-01-02"),
        "Last 12 months": ("2025-01-01", "2026-01-01"),
    },
    "2026-03-31": {
        "Last 7 days": ("2026-03-24", "2026-03-31"),
        "Last 30 days": ("2026-03-01", "2026-03-31"),
        "Last 90 days": ("2025-12-31", "2026-03-31"),
        "Month to date": ("2026-03-01", "2026-04-01"),
        "Last month": ("2026-02-01", "2026-03-01"),
        "Quarter to date": ("2026-01-01", "2026-04-01"),
        "Year to date": ("2026-01-01", "2026-04-01"),
        "Last 12 months": ("2025-03-01", "2026-03-01"),
    },
    "2024-02-29": {
        "Last 7 days": ("2024-02-22", "2024-02-29"),
        "Last 30 days": ("2024-01-30", "2024-02-29"),
        "Last 90 days": ("2023-12-01", "2024-02-29"),
        "Month to date": ("2024-02-01", "2024-03-01"),
        "Last month": ("2024-01-01", "2024-02-01"),
        "Quarter to date": ("2024-01-01", "2024-03-01"),
        "Year to date": ("2024-01-01", "2024-03-01"),
        "Last 12 months": ("2023-02-01", "2024-02-01"),
    },
    "2025-08-15": {
        "Last 7 days": ("2025-08-08", "2025-08-15"),
        "Last 30 days": ("2025-07-16", "2025-08-15"),
        "Last 90 days": ("2025-05-17", "2025-08-15"),
        "Month to date": ("2025-08-01", "2025-08-16"),
        "Last month": ("2025-07-01", "2025-08-01"),
        "Quarter to date": ("2025-07-01", "2025-08-16"),
        "Year to date": ("2025-01-01", "2025-08-16"),
        "Last 12 months": ("2024-08-01", "2025-08-01"),
    },
}


@pytest.mark.parametrize("today", sorted(PRESET_CASES))
def test_presets(today):
    got = costs.presets(D(today))
    expected = {name: (D(a), D(b)) for name, (a, b) in PRESET_CASES[today].items()}
    assert got == expected
    assert list(got) == list(PRESET_CASES[today])  # the order the picker shows


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (
            # unsorted input, two rows in February, a zero month, then growth from zero
            [
                ("2026-02-01", 30.0),
                ("2026-01-01", 100.0),
                ("2026-02-01", 20.0),
                ("2026-04-01", 25.0),
                ("2026-03-01", 0.0),
            ],
            [
                ("2026-01-01", 100.0, math.nan),
                ("2026-02-01", 50.0, -50.0),
                ("2026-03-01", 0.0, -100.0),
                ("2026-04-01", 25.0, math.nan),
            ],
        ),
        (
            # a credit month: change is relative to the size of the previous total
            [("2025-11-01", -10.0), ("2025-12-01", 10.0), ("2026-01-01", 15.0)],
            [("2025-11-01", -10.0, math.nan), ("2025-12-01", 10.0, 200.0), ("2026-01-01", 15.0, 50.0)],
        ),
        ([("2026-01-01", 7.0)], [("2026-01-01", 7.0, math.nan)]),
    ],
)
def test_monthly_totals(rows, expected):
    monthly = frame([(D(m), v) for m, v in rows], f"month {M}")
    got = costs.monthly_totals(monthly, M)
    assert list(got.columns) == ["month", M, "mom_pct"]
    assert_records(got, [(D(m), v, p) for m, v, p in expected])


def test_monthly_totals_uses_the_named_metric():
    monthly = frame([(D("2026-01-01"), 1.0, 10.0), (D("2026-02-01"), 2.0, 5.0)], "month unblended_cost amortized_cost")
    got = costs.monthly_totals(monthly, "amortized_cost")
    assert_records(got, [(D("2026-01-01"), 10.0, math.nan), (D("2026-02-01"), 5.0, -50.0)])


TOP_ROWS = [("A", 10.0), ("B", 20.0), ("A", 5.0), ("C", 1.0), ("D", 3.0)]  # totals: B 20, A 15, D 3, C 1


@pytest.mark.parametrize(
    ("n", "expected_keys"),
    [
        (2, ["A", "B", "A", "Other", "Other"]),
        (3, ["A", "B", "A", "Other", "D"]),
        (1, ["Other", "B", "Other", "Other", "Other"]),
        (4, ["A", "B", "A", "C", "D"]),
        (10, ["A", "B", "A", "C", "D"]),
        (0, ["Other"] * 5),
    ],
)
def test_top_n_with_other(n, expected_keys):
    df = frame(TOP_ROWS, f"service {M}")
    got = costs.top_n_with_other(df, "service", M, n)
    assert got["service"].tolist() == expected_keys
    assert got[M].tolist() == [v for _, v in TOP_ROWS]  # amounts and order untouched
    assert df["service"].tolist() == [k for k, _ in TOP_ROWS]  # input not modified


def test_monthly_by_service():
    jan, feb = D("2026-01-01"), D("2026-02-01")
    monthly = frame(
        [
            (jan, "EC2", 100.0),
            (jan, "S3", 30.0),
            (jan, "Lambda", 5.0),
            (jan, "SQS", 2.0),
            (feb, "EC2", 80.0),
            (feb, "S3", 50.0),
            (feb, "EC2", 10.0),  # a second account's EC2 in February
            (feb, "SQS", 4.0),
            (feb, "KMS", 1.0),
        ],
        f"month service {M}",
    )
    # totals: EC2 190, S3 80, SQS 6, Lambda 5, KMS 1 -> top 2 are EC2 and S3
    got = costs.monthly_by_service(monthly, M, top_n=2)
    assert list(got.columns) == ["month", "service", M]
    assert_records(
        got,
        [
            (jan, "EC2", 100.0),
            (jan, "S3", 30.0),
            (jan, "Other", 7.0),
            (feb, "EC2", 90.0),
            (feb, "S3", 50.0),
            (feb, "Other", 5.0),
        ],
    )
    everything = costs.monthly_by_service(monthly, M, top_n=10)
    assert "Other" not in set(everything["service"])
    assert everything[M].sum() == pytest.approx(monthly[M].sum())
    # the default keeps eight services
    many = frame(
        [(jan, f"big{i}", 100.0 * i) for i in range(1, 9)] + [(jan, f"small{i}", float(i)) for i in range(1, 5)],
        f"month service {M}",
    )
    default = costs.monthly_by_service(many, M)
    assert default["service"].tolist() == [f"big{i}" for i in range(8, 0, -1)] + ["Other"]
    assert default[M].iloc[-1] == pytest.approx(1 + 2 + 3 + 4)


MONTHS = [(D("2026-01-01"), 100.0), (D("2026-01-01"), 20.0), (D("2026-02-01"), 60.0), (D("2026-03-01"), 999.0)]


@pytest.mark.parametrize(
    ("rows", "today", "expected"),
    [
        (MONTHS, "2026-03-15", (90.0, 2)),  # (120 + 60) / 2; March is still open
        (MONTHS, "2026-03-01", (90.0, 2)),
        (MONTHS, "2026-02-28", (120.0, 1)),
        (MONTHS, "2026-04-02", (393.0, 3)),  # (120 + 60 + 999) / 3
        (MONTHS, "2026-01-20", (None, 0)),  # only the current month
        (MONTHS, "2025-06-01", (None, 0)),
        ([], "2026-03-15", (None, 0)),
    ],
)
def test_average_monthly(rows, today, expected):
    monthly = frame(rows, f"month {M}")
    got = costs.average_monthly(monthly, M, D(today))
    if expected[0] is None:
        assert got == (None, 0)
    else:
        assert got[0] == pytest.approx(expected[0])
        assert got[1] == expected[1]


def test_daily_totals():
    daily = frame(
        [
            (D("2026-03-02"), "EC2", 5.0),
            (D("2026-03-01"), "EC2", 1.0),
            (D("2026-03-01"), "S3", 2.5),
            (D("2026-03-02"), "Credits", -1.5),
        ],
        f"day service {M}",
    )
    got = costs.daily_totals(daily, M)
    assert list(got.columns) == ["day", M]
    assert_records(got, [(D("2026-03-01"), 3.5), (D("2026-03-02"), 3.5)])


def test_service_comparison():
    current = frame([("EC2", 60.0), ("S3", 20.0), ("S3", 10.0), ("New", 10.0)], f"service {M}")
    previous = frame([("EC2", 50.0), ("S3", 0.0), ("Old", 40.0)], f"service {M}")
    got = costs.service_comparison(current, previous, M)
    assert list(got.columns) == ["service", M, f"previous_{M}", "change_pct", "share_pct"]
    assert_records(
        got,
        [
            ("EC2", 60.0, 50.0, 20.0, 60.0),
            ("S3", 30.0, 0.0, math.nan, 30.0),  # zero before: no percentage
            ("New", 10.0, 0.0, math.nan, 10.0),  # absent before: counts as 0
            ("Old", 0.0, 40.0, -100.0, 0.0),  # absent now: counts as 0
        ],
    )
    assert got["share_pct"].sum() == pytest.approx(100.0)


@pytest.mark.parametrize(
    ("current", "previous", "expected"),
    [
        ([], [("EC2", 5.0)], [("EC2", 0.0, 5.0, -100.0, 0.0)]),  # nothing this period: shares are 0, not NaN
        ([("EC2", 3.0)], [], [("EC2", 3.0, 0.0, math.nan, 100.0)]),
        (
            [("EC2", 30.0), ("Credits", -10.0)],
            [("EC2", 20.0), ("Credits", -20.0)],
            [("EC2", 30.0, 20.0, 50.0, 150.0), ("Credits", -10.0, -20.0, 50.0, -50.0)],
        ),
    ],
)
def test_service_comparison_edges(current, previous, expected):
    got = costs.service_comparison(frame(current, f"service {M}"), frame(previous, f"service {M}"), M)
    assert_records(got, expected)
    if sum(v for _, v in current):
        assert got["share_pct"].sum() == pytest.approx(100.0)


def test_sums_of_money_are_exact_where_float_sums_drift():
    from decimal import Decimal

    from finops.export import exact_amount

    frame = pd.DataFrame({"service": ["s"] * 10 + ["t"] * 3, "unblended_cost": [0.1] * 10 + [0.1, 0.2, 0.3]})
    assert sum([0.1] * 10) != 1.0 and 0.1 + 0.2 + 0.3 != 0.6  # floats added one by one drift
    summed = costs.sum_by(frame, ["service"], ["unblended_cost"])
    assert summed["unblended_cost"].tolist() == [1.0, 0.6]
    big = pd.DataFrame({"day": [1] * 3, "unblended_cost": [123456789.123456, 0.000001, 987654321.987654]})
    total = costs.sum_by(big, ["day"], ["unblended_cost"])["unblended_cost"].iloc[0]
    assert Decimal(exact_amount(total)) == Decimal("123456789.123456") + Decimal("0.000001") + Decimal(
        "987654321.987654"
    )
