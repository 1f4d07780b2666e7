"""Converting amounts to the reporting currency at imported exchange rates, pure (no store).

The reporting currency is USD, fixed. An amount of day D (or of the month starting on D) is converted at the
latest rate of its currency on or before D. An amount dated before its currency's first rate, or in a currency
without rates, is never guessed: `convert` refuses (NoRate) and names the currency and the first day it needs.
"""

import numpy as np
import pandas as pd

REPORTING = "USD"
ALL = "*"  # the currency picker's "All, converted to USD" (never an ISO code)
ALL_LABEL = f"All, converted to {REPORTING}"
METRICS = ("unblended_cost", "amortized_cost")


class NoRate(ValueError):
    """An amount has no rate in force: its currency has no rate on or before its day."""


def convert(frame: pd.DataFrame, rates: pd.DataFrame, on: str, metrics: tuple[str, ...] = METRICS) -> pd.DataFrame:
    """`frame`'s amounts in REPORTING, row by row (nothing summed).

    Expects `on` (a date column: day or month), `currency` and the `metrics` present; `rates` has currency, day,
    rate (units of REPORTING per unit). Returns the same rows with the metrics converted (rounded to the
    micro-unit), `currency` = REPORTING, and `converted` (True where a rate was applied). NoRate when a row has no
    rate in force.
    """
    out = frame.copy()
    factor = np.ones(len(out))
    when = pd.to_datetime(out[on]).to_numpy() if len(out) else np.array([], dtype="datetime64[ns]")
    for currency in sorted(set(out["currency"]) - {REPORTING}):
        rows = (out["currency"] == currency).to_numpy()
        mine = rates[rates["currency"] == currency].sort_values("day")
        days = pd.to_datetime(mine["day"]).to_numpy()
        at = np.searchsorted(days, when[rows], side="right") - 1
        if len(days) == 0 or (at < 0).any():
            first = pd.Timestamp(when[rows].min()).date()
            since = f"its first rate is of {pd.Timestamp(days[0]).date()}" if len(days) else "it has no rate"
            raise NoRate(f"no {currency} rate in force on {first}: {since} (import rates from {first} on)")
        factor[rows] = mine["rate"].to_numpy()[at]
    present = [m for m in metrics if m in out.columns]
    for metric in present:
        out[metric] = np.round(out[metric].to_numpy(dtype=float) * factor, 6)
    out["converted"] = (out["currency"] != REPORTING).to_numpy()
    out["currency"] = REPORTING
    return out
