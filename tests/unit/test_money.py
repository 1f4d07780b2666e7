"""Money as integer micro-units: exact conversion from text, Decimal and floats; exact sums."""

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from finops.money import MICROS, amount_to_micros, micros_to_amount, series_to_micros


@pytest.mark.parametrize(
    ("amount", "micros"),
    [
        # text with 10 decimals, as Cost Explorer returns it; half-even on the 7th decimal
        ("12.3456789012", 12_345_679),
        ("12.3456784999", 12_345_678),
        ("0.0000005000", 0),  # exactly half: to even (0)
        ("0.0000015000", 2),  # exactly half: to even (2)
        ("0.0000025000", 2),
        ("0.0000025001", 3),
        ("-0.0000025000", -2),
        ("-250.1234564999", -250_123_456),
        ("-250.1234565001", -250_123_457),
        ("0E-10", 0),
        ("1E+3", 1_000_000_000),
        ("99999999.9999994999", 99_999_999_999_999),
        ("123456789012.123456", 123_456_789_012_123_456),  # beyond float precision, still exact
        ("-0", 0),
        ("7", 7_000_000),
        # Decimal
        (Decimal("1.0000000001"), 1_000_000),
        (Decimal("-3.1415926535"), -3_141_593),
        (Decimal("0.1"), 100_000),
        # floats go through their shortest repr, so 0.1 is 0.1 and not 0.1000000000000000055...
        (0.1, 100_000),
        (0.3, 300_000),
        (-0.3, -300_000),
        (12.345678, 12_345_678),
        (1e-7, 0),
        (2.5e-6, 2),
        (1234567.891234, 1_234_567_891_234),
        (5, 5_000_000),
        (-5, -5_000_000),
    ],
)
def test_amount_to_micros(amount, micros):
    got = amount_to_micros(amount)
    assert got == micros
    assert type(got) is int


def test_micros_per_unit():
    assert MICROS == 1_000_000


@pytest.mark.parametrize(
    "values",
    [
        [0.1, 0.2, -0.3, 12.345678, -1e-6, 0.0],
        ["0.1000000000", "0.2000000000", "-0.3000000000", "12.3456780000", "-0.0000010000", "0"],
        [Decimal("0.1"), Decimal("0.2"), Decimal("-0.3"), Decimal("12.345678"), Decimal("-0.000001"), Decimal(0)],
    ],
    ids=["float", "text", "decimal"],
)
def test_series_to_micros(values):
    series = pd.Series(values, index=[10, 11, 12, 13, 14, 15])
    got = series_to_micros(series)
    assert got.tolist() == [100_000, 200_000, -300_000, 12_345_678, -1, 0]
    assert got.dtype == np.int64
    assert got.index.tolist() == [10, 11, 12, 13, 14, 15]
    assert int(got.sum()) == 12_345_677  # 0.1 + 0.2 - 0.3 is exactly 0 here


def test_series_of_text_with_ten_decimals_rounds_half_even():
    series = pd.Series(["12.3456789012", "-250.1234564999", "0.0000015000", "0.0000025000"], dtype="str")
    assert series_to_micros(series).tolist() == [12_345_679, -250_123_456, 2, 2]


def test_series_to_micros_of_integers_and_empty():
    assert series_to_micros(pd.Series([1, -2, 0])).tolist() == [1_000_000, -2_000_000, 0]
    empty = series_to_micros(pd.Series([], dtype="float64"))
    assert empty.empty and empty.dtype == np.int64


def test_sums_are_exact():
    # summing floats drifts; summing micros does not
    assert sum([0.1] * 10) != 1.0
    floats = pd.Series([0.1] * 10 + [-0.3] * 3 + [0.01] * 100)
    assert int(series_to_micros(floats).sum()) == 1_100_000
    texts = pd.Series(["0.0000004999"] * 1000 + ["0.1000000000"] * 10)
    assert int(series_to_micros(texts).sum()) == 1_000_000  # each tiny amount rounds to 0 on its own
    assert sum(amount_to_micros(v) for v in ["19.99"] * 7 + ["-139.93"]) == 0


def test_micros_to_amount():
    assert micros_to_amount(1_500_000) == 1.5
    assert micros_to_amount(-1) == -0.000001
    assert micros_to_amount(0) == 0
    series = micros_to_amount(pd.Series([12_345_679, -250_123_456], dtype="int64"))
    assert series.tolist() == [12.345679, -250.123456]
    assert micros_to_amount(np.array([2_000_000]))[0] == 2.0


@pytest.mark.parametrize("text", ["12.3456789012", "-250.1234564999", "0.0000010000", "99999.999999"])
def test_round_trip_to_the_micro(text):
    assert micros_to_amount(amount_to_micros(text)) == pytest.approx(float(text), abs=5e-7)
