"""The tables behind each cost endpoint, from the same `finops` functions the pages and the CLI call.

Each takes the session and the request's parameters and returns a DataFrame whose columns are the endpoint's
row schema (`finops.api.schemas`); `/all` puts them together.
"""

from datetime import date, timedelta

import pandas as pd
from sqlmodel import Session

from finops import costs, execution_reports, reports
from finops.data import anomalies, forecasts, recommendations
from finops.settings import get_settings

BY_DIMS = {"total": (), "service": ("service",), "account": ("account",)}
TOP_RUNS = 100
ANOMALY_DAYS = 180  # the Anomalies page's default window


def monthly_costs(s: Session, today: date, months: int, metric: str, by: str, currency: str | None) -> pd.DataFrame:
    """Whole months, the current one to date, in `currency`, as `finops costs --by month[,service|account]` gives
    them."""
    start, end = costs.month_window(today, months)
    table = reports.cost_report(
        session=s, start=start, end=end, grain="month", dims=BY_DIMS[by], metric=metric, currency=currency
    )
    return table.rename(columns={metric: "cost"})


def daily_costs(s: Session, last_day: date | None, days: int, metric: str, currency: str | None) -> pd.DataFrame:
    """The `days` days ending on the last day with data (Overview's daily spend), one total per day in `currency`."""
    if last_day is None:
        return pd.DataFrame(columns=["day", "cost", "currency"])
    start, end = reports.last_days(last_day, days)
    table = reports.cost_report(session=s, start=start, end=end, grain="day", dims=(), metric=metric, currency=currency)
    return table.rename(columns={metric: "cost"})


def breakdown_window(today: date, start: date | None, end: date | None) -> tuple[date, date]:
    """`[start, end)` from the inclusive startDate/endDate; by default the page's "Last 30 days"."""
    last = end if end is not None else today - timedelta(days=1)
    first = start if start is not None else last - timedelta(days=29)
    return first, last + timedelta(days=1)


def service_breakdown(s: Session, start: date, end: date, metric: str, currency: str | None) -> pd.DataFrame:
    """Per service in `[start, end)` beside the previous period in `currency` (the Service Breakdown page's
    table)."""
    table = reports.service_breakdown(session=s, start=start, end=end, metric=metric, currency=currency)
    return table.rename(columns={metric: "cost", f"previous_{metric}": "previous_cost"})


def cost_forecast(s: Session, today: date, months_ahead: int) -> tuple[pd.DataFrame, int | None, int]:
    """The newest forecast run's total per calendar month, from next month on (Home's "Projected Next Month" is
    the first row); returns the rows, the run id and the interval level."""
    level = get_settings().forecast_interval
    view = reports.forecast_view(session=s, series=forecasts.TOTAL, level=level)
    first = costs.add_months(today, 1)
    monthly = view.monthly
    if len(monthly):
        months = pd.to_datetime(monthly["month"]).dt.date
        monthly = monthly[(months >= first) & (months < costs.add_months(first, months_ahead))]
    return monthly.reset_index(drop=True), view.run_id, level


def savings(s: Session, status: str | None) -> pd.DataFrame:
    return recommendations.list_recommendations(session=s, status=status)


def cost_anomalies(s: Session, last_day: date | None, since: date | None, status: str | None) -> pd.DataFrame:
    """The Anomalies page's table; by default the last 180 days of data, every status."""
    if since is None:
        since = (last_day or date.today()) - timedelta(days=ANOMALY_DAYS)
    return anomalies.list_anomalies(session=s, since=since, status=status)


def execution_costs(
    s: Session, today: date, months: int, year: int | None, by: str
) -> tuple[pd.DataFrame, execution_reports.ExecutionView, date, date]:
    """The Execution Costs page's figures over whole months, the table chosen by `by`."""
    start, end = costs.month_window(today, months, year)
    view = execution_reports.execution_costs(session=s, start=start, end=end, top_n=TOP_RUNS)
    table = {"month": view.monthly, "workflow": view.by_workflow, "user": view.by_user, "run": view.top_runs}[by]
    return table, view, start, end


def combined_costs(s: Session, today: date, months: int, metric: str) -> pd.DataFrame:
    start, end = costs.month_window(today, months)
    in_bill = get_settings().executions_in_bill
    return execution_reports.combined_costs(session=s, start=start, end=end, metric=metric, in_bill=in_bill)
