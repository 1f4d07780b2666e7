"""What a budget's figures mean: which thresholds they cross and the budget's status. Pure functions.

Status, worst first: `over` (actual spend reached the amount), `forecast_over` (the forecast to period end
reaches it), `alerting` (a threshold is crossed), `ok`; `no_data` when nothing is known of the scope yet.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from finops.budgeting.specs import ThresholdSpec

STATUSES = ("over", "forecast_over", "alerting", "ok", "no_data")


@dataclass(frozen=True)
class Figures:
    """A scope's spend in one period, in the budget's currency: actual to date and forecast to period end."""

    actual: float
    forecast: float
    basis: str  # billed | estimated: where `actual` comes from
    forecast_basis: str = ""  # how the forecast was made (the model, run rate, schedules)
    known: bool = True  # False: no cost data or resource of the scope at all


def crossed(thresholds: Sequence[ThresholdSpec], amount: float, figures: Figures) -> list[int]:
    """Indexes of the thresholds the figures reach (a limit is reached when spend is at or above it)."""
    out = []
    for i, t in enumerate(thresholds):
        if t.kind == "percent" and amount <= 0:
            continue  # no amount yet (an automatic one without history): a percentage of nothing means nothing
        value = figures.actual if t.on == "actual" else figures.forecast
        if figures.known and value >= t.limit(amount) - 0.005:  # half a cent: money is rounded to cents on screen
            out.append(i)
    return out


def status(thresholds: Sequence[ThresholdSpec], amount: float, figures: Figures) -> str:
    if not figures.known:
        return "no_data"
    if amount > 0 and figures.actual >= amount:
        return "over"
    if amount > 0 and figures.forecast >= amount:
        return "forecast_over"
    return "alerting" if crossed(thresholds, amount, figures) else "ok"


def percent(value: float, amount: float) -> float | None:
    return None if amount <= 0 else round(100 * value / amount, 1)


def cumulative(daily: pd.DataFrame, start, end, amount: float, forecast_total: float | None) -> pd.DataFrame:
    """The budget chart's lines per day of [start, end): cumulative actual spend, the budget line, and a straight
    forecast line from the last actual day to `forecast_total` at period end. Columns: day, line, value."""
    days = pd.date_range(pd.Timestamp(start), pd.Timestamp(end) - pd.Timedelta(days=1), freq="D")
    rows = []
    spent = daily.set_index(pd.to_datetime(daily["day"]))["spend"] if not daily.empty else pd.Series(dtype=float)
    running = spent.reindex(days, fill_value=0.0).cumsum() if not spent.empty else pd.Series(0.0, index=days)
    last = spent.index.max() if not spent.empty else None
    for day in days:
        rows.append([day, "budget", amount])
        if last is not None and day <= last:
            rows.append([day, "actual", float(running[day])])
    if forecast_total is not None and len(days):
        anchor_day = last if last is not None else days[0] - pd.Timedelta(days=1)
        anchor = float(running[last]) if last is not None else 0.0
        span = (days[-1] - anchor_day).days or 1
        for day in days[days >= anchor_day] if last is not None else days:
            share = (day - anchor_day).days / span
            rows.append([day, "forecast", anchor + (forecast_total - anchor) * share])
    return pd.DataFrame(rows, columns=["day", "line", "value"])
