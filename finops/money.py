"""Conversions between currency amounts and the store's integer micro-units."""

from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np
import pandas as pd

MICROS = 1_000_000


def amount_to_micros(amount: str | float | Decimal) -> int:
    """Exact micro-units of an amount given as text, Decimal or float (half-even on the 7th decimal)."""
    value = amount if isinstance(amount, Decimal) else Decimal(str(amount))
    return int((value * MICROS).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def series_to_micros(values: pd.Series) -> pd.Series:
    """Micro-units of a column: floats are rounded directly, text or Decimal goes through Decimal."""
    if pd.api.types.is_numeric_dtype(values):
        return pd.Series(np.rint(values.to_numpy(dtype="float64") * MICROS).astype("int64"), index=values.index)
    return values.map(amount_to_micros).astype("int64")


def micros_to_amount(values):
    """Currency amounts (floats) from micro-units; works on scalars, arrays and Series."""
    return values / MICROS
