"""Parsing Cost Explorer responses into the cost contract, and the refresh window."""

import json
from datetime import date
from decimal import Decimal

import pytest

from finops.data.sources import CONTRACT_COLUMNS
from finops.data.sources.aws_ce import dimension_names, group_keys_of, parse_results, refresh_window
from finops.money import series_to_micros
from finops.settings import Settings
from tests.conftest import TEST_DATA

SAMPLE = TEST_DATA / "aws-ce" / "ce_get_cost_and_usage_monthly_by_service.json"


def group(service, account, unblended=None, amortized=None, unit="USD", **extra):
    metrics = {}
    if unblended is not None:
        metrics["UnblendedCost"] = {"Amount": unblended, "Unit": unit}
    if amortized is not None:
        metrics["AmortizedCost"] = {"Amount": amortized, "Unit": unit}
    return {"Keys": [service, account], "Metrics": metrics, **extra}


def period(day, groups, estimated=False, **extra):
    end = date.fromordinal(date.fromisoformat(day).toordinal() + 1).isoformat()
    return {"TimePeriod": {"Start": day, "End": end}, "Total": {}, "Groups": groups, "Estimated": estimated, **extra}


CASES = {
    "negative credit": (
        [period("2026-03-01", [group("Amazon EC2", "111", "-12.345678", "-12.345678")])],
        [(-12_345_678, -12_345_678)],
    ),
    "ten decimals exact to the micro": (
        [period("2026-03-01", [group("S3", "111", "0.0051256592", "39.4826997565")])],
        [(5_126, 39_482_700)],
    ),
    "half-even on the 7th decimal": (
        [period("2026-03-01", [group("S3", "111", "0.0000005", "0.0000015")])],
        [(0, 2)],
    ),
    "missing metric counts 0": (
        [period("2026-03-01", [group("Lambda", "111", "3.5", None)])],
        [(3_500_000, 0)],
    ),
    "unexpected keys ignored": (
        [
            period(
                "2026-03-01",
                [group("Lambda", "111", "1", "2", Surprise={"x": 1})],
                NewField="whatever",
            )
        ],
        [(1_000_000, 2_000_000)],
    ),
    "empty groups give no rows": ([period("2026-03-01", []), period("2026-03-02", [])], []),
    "big amounts": (
        [period("2026-03-01", [group("EC2", "111", "123456789.123456789", "0E-10")])],
        [(123_456_789_123_457, 0)],
    ),
}


@pytest.mark.parametrize("results, expected", CASES.values(), ids=CASES.keys())
def test_parse_amounts_exact(results, expected):
    frame = parse_results(results, account_names={})
    assert list(frame.columns) == CONTRACT_COLUMNS
    got = list(zip(series_to_micros(frame["unblended_cost"]), series_to_micros(frame["amortized_cost"]), strict=True))
    assert got == expected


def test_parse_fields():
    results = [
        period("2026-03-01", [group("Amazon S3", "111111111111", "1", "1", unit="EUR")], estimated=False),
        period("2026-03-02", [group("Amazon S3", "222222222222", "2", "2")], estimated=True),
    ]
    frame = parse_results(results, account_names={"111111111111": "prod"})
    first, second = frame.to_dict("records")
    assert first["day"] == date(2026, 3, 1) and second["day"] == date(2026, 3, 2)
    assert (first["provider"], first["region"], first["currency"]) == ("aws", "", "EUR")
    assert (first["account_id"], first["account_name"]) == ("111111111111", "prod")
    assert (second["account_id"], second["account_name"]) == ("222222222222", "222222222222")  # id as name
    assert (first["estimated"], second["estimated"]) == (False, True)
    assert isinstance(first["unblended_cost"], Decimal)


def test_parse_empty_input_has_contract_columns():
    frame = parse_results([], account_names={})
    assert frame.empty and list(frame.columns) == CONTRACT_COLUMNS


def test_dimension_value_attributes_give_names():
    response = {"DimensionValueAttributes": [{"Value": "111", "Attributes": {"description": "prod"}}, {"Value": "2"}]}
    assert dimension_names(response) == {"111": "prod"}


def test_amazon_sample_parses():
    response = json.loads(SAMPLE.read_text())
    keys = group_keys_of(response)
    assert keys == ("SERVICE",)
    frame = parse_results(response["ResultsByTime"], account_names={}, group_keys=keys)
    assert len(frame) == 23 + 26 + 27 + 31 + 27 + 26
    assert sorted(frame["day"].unique()) == [date(2023, m, 1) for m in range(4, 10)]
    assert (frame["amortized_cost"] == 0).all()  # UnblendedCost only in that request
    assert not frame["estimated"].any() and set(frame["currency"]) == {"USD"}
    total = sum(frame["unblended_cost"], Decimal(0))
    assert total == Decimal("1957.6799440971")
    assert series_to_micros(frame["unblended_cost"]).sum() == sum(
        round(Decimal(g["Metrics"]["UnblendedCost"]["Amount"]) * 1_000_000)
        for r in response["ResultsByTime"]
        for g in r["Groups"]
    )
    assert round(total, 2) == Decimal("1957.68")


S = Settings(aws_refresh_months_back=13, aws_grace_days=3)
WINDOWS = {
    "backfill mid-month": (date(2026, 11, 27), False, S, (date(2025, 10, 1), date(2026, 11, 27))),
    "backfill across years": (date(2026, 1, 15), False, S, (date(2024, 12, 1), date(2026, 1, 15))),
    "steady mid-month": (date(2026, 11, 27), True, S, (date(2026, 11, 1), date(2026, 11, 27))),
    "steady on the 1st: previous month too": (date(2026, 11, 1), True, S, (date(2026, 10, 1), date(2026, 11, 1))),
    "steady last grace day": (date(2026, 11, 3), True, S, (date(2026, 10, 1), date(2026, 11, 3))),
    "steady day after grace": (date(2026, 11, 4), True, S, (date(2026, 11, 1), date(2026, 11, 4))),
    "grace across the year boundary": (date(2026, 1, 2), True, S, (date(2025, 12, 1), date(2026, 1, 2))),
    "no grace, on the 1st: closes the previous month": (
        date(2026, 3, 1),
        True,
        Settings(aws_grace_days=0),
        (date(2026, 2, 1), date(2026, 3, 1)),
    ),
    "no grace, on the 2nd": (date(2026, 3, 2), True, Settings(aws_grace_days=0), (date(2026, 3, 1), date(2026, 3, 2))),
    "shorter backfill": (
        date(2026, 3, 10),
        False,
        Settings(aws_refresh_months_back=2),
        (date(2026, 1, 1), date(2026, 3, 10)),
    ),
}


@pytest.mark.parametrize("today, has_data, settings, expected", WINDOWS.values(), ids=WINDOWS.keys())
def test_refresh_window(today, has_data, settings, expected):
    assert refresh_window(today, has_data=has_data, settings=settings) == expected


def test_refresh_window_pulls_a_gap_since_the_last_load():
    start, end = refresh_window(date(2026, 11, 20), has_data=True, settings=S, last_loaded=date(2026, 8, 14))
    assert (start, end) == (date(2026, 8, 1), date(2026, 11, 19))  # yesterday is left out: still partial
    # but never further back than Cost Explorer keeps
    start, _ = refresh_window(date(2026, 11, 20), has_data=True, settings=S, last_loaded=date(2023, 1, 1))
    assert start == date(2025, 10, 1)


STEADY = {  # a steady refresh (something loaded) leaves out the newest `aws_partial_days` days
    "mid-month": (date(2026, 11, 27), S, (date(2026, 11, 1), date(2026, 11, 26))),
    "on the 1st, grace: the whole previous month but its last day": (
        date(2026, 11, 1),
        S,
        (date(2026, 10, 1), date(2026, 10, 31)),
    ),
    "on the 2nd, no grace: closes the previous month": (
        date(2026, 3, 2),
        Settings(aws_grace_days=0),
        (date(2026, 2, 1), date(2026, 3, 1)),
    ),
    "two partial days": (date(2026, 11, 27), Settings(aws_partial_days=2), (date(2026, 11, 1), date(2026, 11, 25))),
    "none left out": (date(2026, 11, 27), Settings(aws_partial_days=0), (date(2026, 11, 1), date(2026, 11, 27))),
}


@pytest.mark.parametrize("today, settings, expected", STEADY.values(), ids=STEADY.keys())
def test_steady_window_leaves_out_the_partial_days(today, settings, expected):
    assert refresh_window(today, has_data=True, settings=settings, last_loaded=today) == expected
