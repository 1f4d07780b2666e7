"""Cost math: pure functions over DataFrames with named metric columns (no I/O, no Streamlit).

Windows are `[start, end)`. `metric` is a column name: "unblended_cost" or "amortized_cost".
"""

from datetime import date, timedelta

import pandas as pd

from finops.money import micros_to_amount, series_to_micros

OTHER = "Other"
METRIC_COLUMNS = ("unblended_cost", "amortized_cost")
MAX_MONTHS = 120  # the longest window a report or the API takes


def sum_by(frame: pd.DataFrame, keys: list[str], metrics: list[str], *, sort: bool = True) -> pd.DataFrame:
    """Exact sums of money columns per `keys`: amounts are added as integer micro-units (as the store holds them),
    so every sum is the float nearest to its exact value, and a CSV writes that value to the last digit."""
    micros = frame[keys].assign(**{m: series_to_micros(frame[m]) for m in metrics})
    out = micros.groupby(keys, as_index=False, sort=sort)[metrics].sum()
    for m in metrics:
        out[m] = micros_to_amount(out[m].astype("int64"))
    return out


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    """The first day of the month `months` after `day`'s month (negative goes back)."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def pct_change(current: float, previous: float) -> float | None:
    """Percentage change from previous to current; None when there is nothing to compare against."""
    if previous is None or previous == 0 or pd.isna(previous):
        return None
    return (current - previous) / abs(previous) * 100.0


def previous_period(start: date, end: date) -> tuple[date, date]:
    """The window to compare `[start, end)` against.

    Whole months -> the same number of whole months before; a month-to-date window -> the same days of the
    previous month (clipped to its end); anything else -> the equally long window just before.
    """
    if start.day == 1 and end.day == 1 and end > start:
        months = (end.year - start.year) * 12 + end.month - start.month
        return add_months(start, -months), start
    last = end - timedelta(days=1)
    if start.day == 1 and (start.year, start.month) == (last.year, last.month) and end > start:
        prev = add_months(start, -1)
        return prev, min(prev + (end - start), start)
    return start - (end - start), start


def month_to_date(as_of: date) -> tuple[tuple[date, date], tuple[date, date]]:
    """This month's window through `as_of` (included) and the same days of the previous month."""
    start = month_start(as_of)
    end = as_of + timedelta(days=1)
    return (start, end), previous_period(start, end)


def presets(today: date) -> dict[str, tuple[date, date]]:
    """Named date windows ending today (exclusive end, so the last full day is yesterday)."""
    quarter = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    this_month = month_start(today)
    return {
        "Last 7 days": (today - timedelta(days=7), today),
        "Last 30 days": (today - timedelta(days=30), today),
        "Last 90 days": (today - timedelta(days=90), today),
        "Month to date": (this_month, today + timedelta(days=1)),
        "Last month": (add_months(today, -1), this_month),
        "Quarter to date": (quarter, today + timedelta(days=1)),
        "Year to date": (date(today.year, 1, 1), today + timedelta(days=1)),
        "Last 12 months": (add_months(today, -12), this_month),
    }


def month_window(today: date, months: int, year: int | None = None) -> tuple[date, date]:
    """`[start, end)` of whole months: the last `months` ending with `today`'s month (to date), or with `year` the
    first `months` of that year (12: the whole year)."""
    if not 1 <= months <= MAX_MONTHS:
        raise ValueError(f"months must be from 1 to {MAX_MONTHS}")
    if year is None:
        end = add_months(today, 1)
        return add_months(end, -months), end
    start = date(year, 1, 1)
    return start, add_months(start, months)


def monthly_totals(monthly: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Total per month with month-over-month change.

    Expects month, <metric>; returns month, <metric>, mom_pct (NaN for the first month).
    """
    totals = sum_by(monthly, ["month"], [metric]).sort_values("month", ignore_index=True)
    previous = totals[metric].shift(1)
    totals["mom_pct"] = (totals[metric] - previous) / previous.abs().where(previous != 0) * 100.0
    return totals


def top_n_with_other(frame: pd.DataFrame, key: str, metric: str, n: int) -> pd.DataFrame:
    """`frame` with `key` values outside the top `n` (by total `metric`) renamed to "Other"."""
    ranking = frame.groupby(key)[metric].sum().sort_values(ascending=False)
    keep = set(ranking.index[:n])
    out = frame.copy()
    out[key] = out[key].where(out[key].isin(keep), OTHER)
    return out


def monthly_by_service(monthly: pd.DataFrame, metric: str, top_n: int = 8) -> pd.DataFrame:
    """Per month, the top services and the rest as "Other".

    Expects month, service, <metric>; returns month, service, <metric>, sorted by month then cost.
    """
    grouped = top_n_with_other(monthly, "service", metric, top_n)
    out = sum_by(grouped, ["month", "service"], [metric])
    return out.sort_values(["month", metric], ascending=[True, False], ignore_index=True)


def average_monthly(monthly: pd.DataFrame, metric: str, today: date) -> tuple[float | None, int]:
    """Mean monthly total over the complete months (before today's month) in `monthly`, and their count."""
    totals = monthly.groupby("month")[metric].sum()
    complete = totals[[m < month_start(today) for m in totals.index]]
    if complete.empty:
        return None, 0
    return float(complete.mean()), len(complete)


def daily_totals(daily: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Expects day, <metric>; returns day, <metric> summed per day, sorted."""
    return sum_by(daily, ["day"], [metric]).sort_values("day", ignore_index=True)


def service_comparison(current: pd.DataFrame, previous: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Service costs of a period beside the previous period.

    Expects service, <metric> in both; returns service, <metric>, previous_<metric>, change_pct, share_pct,
    sorted by this period's cost, highest first. A service absent from a period counts as 0 there.
    """
    cur = sum_by(current, ["service"], [metric]).set_index("service")[metric]
    prev = sum_by(previous, ["service"], [metric]).set_index("service")[metric]
    out = pd.DataFrame({metric: cur, f"previous_{metric}": prev}).fillna(0.0)
    base = out[f"previous_{metric}"]
    out["change_pct"] = (out[metric] - base) / base.abs().where(base != 0) * 100.0
    total = micros_to_amount(int(series_to_micros(out[metric]).sum()))
    out["share_pct"] = out[metric] / total * 100.0 if total else 0.0
    out = out.rename_axis("service").reset_index()
    return out.sort_values(metric, ascending=False, ignore_index=True)
