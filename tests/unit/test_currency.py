"""Which currency a view shows by default, and how figures name it (finops.currency)."""

import pandas as pd
import pytest

from finops.currency import cost_title, default_currency, pick


def totals(*pairs: tuple[str, float]) -> pd.DataFrame:
    return pd.DataFrame(pairs, columns=["currency", "unblended_cost"])


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([], None),
        ([("USD", 1.0)], "USD"),
        ([("EUR", 5.0)], "EUR"),
        ([("EUR", 500.0), ("USD", 1.0)], "USD"),  # USD whenever present, however small
        ([("EUR", 10.0), ("GBP", 20.0)], "GBP"),  # else the one with the most cost
        ([("GBP", 10.0), ("EUR", 10.0)], "EUR"),  # a tie: alphabetical
        ([("EUR", 10.0), ("GBP", 4.0), ("GBP", 7.0)], "GBP"),  # rows are summed per currency
        ([("EUR", -5.0), ("JPY", 0.0)], "JPY"),  # credits count as less
    ],
)
def test_default_currency(rows, expected):
    assert default_currency(totals(*rows)) == expected


@pytest.mark.parametrize(
    ("choice", "available", "default", "expected"),
    [
        ("EUR", ["EUR", "USD"], "USD", "EUR"),
        ("GBP", ["EUR", "USD"], "USD", "USD"),  # picked on another store
        (None, ["EUR", "USD"], "USD", "USD"),
        (None, [], None, None),
    ],
)
def test_pick(choice, available, default, expected):
    assert pick(choice, available, default) == expected


@pytest.mark.parametrize(
    ("currency", "label", "converted", "expected"),
    [
        ("EUR", "Cost", False, "Cost (EUR)"),
        ("USD", "Total", True, "Total (USD, converted)"),
        (None, "Cost", False, "Cost"),
    ],
)
def test_cost_title(currency, label, converted, expected):
    assert cost_title(currency, label, converted) == expected
