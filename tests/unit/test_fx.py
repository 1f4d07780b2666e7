"""Conversion to USD at the rate in force (finops.fx.convert), and the rates file's checks (exchange_rates.parse)."""

from datetime import date

import pandas as pd
import pytest

from finops.data.exchange_rates import RateFileError, parse
from finops.fx import NoRate, convert

D = date.fromisoformat
RATES = pd.DataFrame(
    [("EUR", D("2025-01-01"), 1.10), ("EUR", D("2025-01-15"), 1.20), ("GBP", D("2025-01-10"), 1.25)],
    columns=["currency", "day", "rate"],
)


@pytest.mark.parametrize(
    ("day", "currency", "amount", "expected", "converted"),
    [
        ("2025-01-01", "EUR", 100.0, 110.0, True),  # the first rate's own day
        ("2025-01-14", "EUR", 100.0, 110.0, True),  # still the first rate
        ("2025-01-15", "EUR", 100.0, 120.0, True),  # the next rate from its day on
        ("2025-03-01", "EUR", 10.0, 12.0, True),  # the latest rate stays in force
        ("2025-01-10", "GBP", -8.0, -10.0, True),  # credits convert too
        ("2024-06-01", "USD", 5.5, 5.5, False),  # USD needs no rate, and is not "converted"
        ("2025-01-20", "EUR", 0.333333, 0.4, True),  # rounded to the micro-unit
    ],
)
def test_convert_uses_the_latest_rate_on_or_before_the_day(day, currency, amount, expected, converted):
    frame = pd.DataFrame({"day": [D(day)], "currency": [currency], "unblended_cost": [amount]})
    out = convert(frame, RATES, "day", ("unblended_cost",))
    assert out["unblended_cost"].tolist() == [pytest.approx(expected, abs=1e-9)]
    assert (out["currency"].tolist(), out["converted"].tolist()) == (["USD"], [converted])


def test_convert_keeps_rows_apart_and_both_metrics():
    frame = pd.DataFrame(
        {"month": [D("2025-01-01"), D("2025-02-01"), D("2025-02-01")], "currency": ["EUR", "EUR", "USD"],
         "unblended_cost": [10.0, 10.0, 3.0], "amortized_cost": [20.0, 20.0, 4.0]}
    )  # fmt: skip
    out = convert(frame, RATES, "month")
    assert out["unblended_cost"].tolist() == pytest.approx([11.0, 12.0, 3.0])
    assert out["amortized_cost"].tolist() == pytest.approx([22.0, 24.0, 4.0])
    assert frame["currency"].tolist() == ["EUR", "EUR", "USD"]  # the input is left as it was


@pytest.mark.parametrize(
    ("day", "currency", "message"),
    [
        ("2024-12-31", "EUR", "no EUR rate in force on 2024-12-31: its first rate is of 2025-01-01"),
        ("2025-01-09", "GBP", "no GBP rate in force on 2025-01-09"),
        ("2025-01-20", "JPY", "no JPY rate in force on 2025-01-20: it has no rate"),
    ],
)
def test_convert_refuses_a_day_without_a_rate(day, currency, message):
    frame = pd.DataFrame({"day": [D(day)], "currency": [currency], "unblended_cost": [1.0]})
    with pytest.raises(NoRate, match=message):
        convert(frame, RATES, "day", ("unblended_cost",))


def test_parse_reads_rates_exactly():
    rows = parse("\ufeffcurrency,day,rate\nEUR,2025-01-01,1.0823\n\nJPY,2025-01-01,0.006712345\n")
    assert rows == [("EUR", D("2025-01-01"), 1_082_300_000), ("JPY", D("2025-01-01"), 6_712_345)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("cur,day,rate\nEUR,2025-01-01,1\n", "row 1: the header must be currency,day,rate"),
        ("currency,day,rate\nEUR,2025-01-01,1\neur,2025-01-02,1\n", "row 3, column currency: 'eur'"),
        ("currency,day,rate\nEUR,2025-01-01,1\nEUR,2025-13-01,1\n", "row 3, column day: '2025-13-01'"),
        ("currency,day,rate\nEUR,2025-01-01,abc\n", "row 2, column rate: 'abc'"),
        ("currency,day,rate\nEUR,2025-01-01,-1\n", "row 2, column rate: '-1'"),
        ("currency,day,rate\nEUR,2025-01-01,0\n", "row 2, column rate: '0'"),
        ("currency,day,rate\nUSD,2025-01-01,1\n", "row 2, column currency: USD is the reporting currency"),
        ("currency,day,rate\nEUR,2025-01-01,1\nEUR,2025-01-01,2\n", "row 3, column day: EUR 2025-01-01 is given"),
        ("currency,day,rate\nEUR,2025-01-01\n", "row 2: 2 values, expected 3"),
        ("currency,day,rate\n", "holds no rates"),
    ],
)
def test_parse_names_the_bad_row_and_column(text, message):
    with pytest.raises(RateFileError, match=message.replace("(", r"\(")):
        parse(text)
