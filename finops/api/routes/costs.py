"""Cost endpoints (admins only): monthly, daily, per service, forecast, savings, anomalies, combined, all."""

from datetime import date, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response

from finops import costs
from finops.api import schemas, views
from finops.api.deps import METRICS, Admin, Currency, Format, Metric, Months, SessionDep
from finops.api.errors import ERRORS, ApiError
from finops.api.responses import Context, answer
from finops.settings import get_settings

router = APIRouter(tags=["costs"])
CSV: dict[str, Any] = {
    "content": {"text/csv": {"schema": {"type": "string"}}},
    "description": "Rows as JSON, or CSV (?format=csv)",
}
NOT_MODIFIED = {"description": "Not modified: If-None-Match holds the current ETag"}
LIST: dict[int | str, dict[str, Any]] = {200: CSV, 304: NOT_MODIFIED, **ERRORS}
MAX_DAYS = 3660
Day = Annotated[date | None, Query(description="YYYY-MM-DD")]
# the values of recommendations.STATUSES and "open" + anomalies.FEEDBACK (a unit test keeps them equal)
RecommendationStatus = Literal["open", "dismissed", "done"]
AnomalyStatus = Literal["open", "confirmed", "false_positive", "planned"]


FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)


def in_range(day: date | None, field: str) -> None:
    """422 for a date outside 2000-2100 (a window around it would leave the calendar)."""
    if day is not None and not FIRST_DAY <= day <= LAST_DAY:
        raise ApiError(422, f"{field}: {day} is out of range ({FIRST_DAY} to {LAST_DAY})", field)


@router.get("/monthly-costs", response_model=schemas.Costs, responses=LIST)
def monthly_costs(
    request: Request, s: SessionDep, _: Admin, months: Months = 12, metric: Metric = "unblended",
    by: Annotated[Literal["total", "service", "account"], Query()] = "total", currency: Currency = None,
    fmt: Format = "json",
) -> Response:  # fmt: skip
    """Cost per month over the last `months` whole months (the current one to date), in total or per service or
    account, in one currency: the figures of `finops costs --by month` and of Overview."""
    ctx = Context(request, s)
    column, chosen = METRICS[metric], ctx.currency(currency)

    def build():
        table = views.monthly_costs(s, ctx.today, months, column, by, chosen)
        return {"metric": column, "data": table}, table

    return answer(ctx, build, key=("monthly", months, metric, by, chosen), fmt=fmt)


@router.get("/daily-costs", response_model=schemas.Costs, responses=LIST)
def daily_costs(
    request: Request, s: SessionDep, _: Admin, days: Annotated[int, Query(ge=1, le=MAX_DAYS)] = 30,
    metric: Metric = "unblended", currency: Currency = None, fmt: Format = "json",
) -> Response:  # fmt: skip
    """Total cost per day in one currency over the `days` days ending on the last day with data (Overview's daily
    spend)."""
    ctx = Context(request, s)
    column, chosen = METRICS[metric], ctx.currency(currency)

    def build():
        table = views.daily_costs(s, ctx.status.last_day, days, column, chosen)
        return {"metric": column, "data": table}, table

    return answer(ctx, build, key=("daily", days, metric, chosen), fmt=fmt)


@router.get("/service-breakdown", response_model=schemas.ServiceBreakdown, responses=LIST)
def service_breakdown(
    request: Request, s: SessionDep, _: Admin, start_date: Annotated[Day, Query(alias="startDate")] = None,
    end_date: Annotated[Day, Query(alias="endDate")] = None, metric: Metric = "unblended", currency: Currency = None,
    fmt: Format = "json",
) -> Response:  # fmt: skip
    """Cost per service in one currency from startDate to endDate (both included; default: the 30 days before
    today) beside the previous period, as the Service Breakdown page shows it."""
    ctx = Context(request, s)
    in_range(start_date, "startDate")
    in_range(end_date, "endDate")
    start, end = views.breakdown_window(ctx.today, start_date, end_date)
    if end <= start:
        raise ApiError(422, f"endDate: {end - timedelta(days=1)} is before startDate {start}", "endDate")
    if (end - start).days > MAX_DAYS:
        raise ApiError(422, f"endDate: the period may span at most {MAX_DAYS} days", "endDate")
    column, chosen = METRICS[metric], ctx.currency(currency)

    def build():
        table = views.service_breakdown(s, start, end, column, chosen)
        p_start, p_end = costs.previous_period(start, end)
        last, p_last = end - timedelta(days=1), p_end - timedelta(days=1)
        return {"metric": column, "start_date": start.isoformat(), "end_date": last.isoformat(),
                "previous_start_date": p_start.isoformat(), "previous_end_date": p_last.isoformat(),
                "data": table}, table  # fmt: skip

    return answer(ctx, build, key=("services", start, end, metric, chosen), fmt=fmt)


@router.get("/cost-forecast", response_model=schemas.Forecast, responses=LIST)
def cost_forecast(
    request: Request, s: SessionDep, _: Admin,
    months_ahead: Annotated[int, Query(alias="monthsAhead", ge=1, le=120)] = 3, fmt: Format = "json",
) -> Response:  # fmt: skip
    """Forecast total per calendar month from next month on (as far as the forecast horizon reaches), from the
    newest forecast run, at FINOPS_FORECAST_INTERVAL %, in the store's default currency (meta.currency)."""
    ctx = Context(request, s)
    ctx.currency(None)

    def build():
        table, run_id, level = views.cost_forecast(s, ctx.today, months_ahead)
        return {"forecast_run": run_id, "interval_level": level, "data": table}, table

    key = ("forecast", months_ahead, ctx.status.forecast_run, get_settings().forecast_interval)
    return answer(ctx, build, key=key, fmt=fmt)


@router.get("/savings-recommendations", response_model=schemas.Recommendations, responses=LIST)
def savings_recommendations(
    request: Request, s: SessionDep, _: Admin,
    status: Annotated[RecommendationStatus | None, Query()] = "open", fmt: Format = "json",
) -> Response:  # fmt: skip
    """Recommendations, largest savings first (the Recommendations page), with their monthly total."""
    ctx = Context(request, s)

    def build():
        table = views.savings(s, status)
        total = float(table["estimated_monthly_savings"].sum()) if len(table) else 0.0
        return {"total_monthly_savings": total, "data": table}, table

    return answer(ctx, build, fmt=fmt)


@router.get("/cost-anomalies", response_model=schemas.Anomalies, responses=LIST)
def cost_anomalies(
    request: Request, s: SessionDep, _: Admin, since: Day = None,
    status: Annotated[AnomalyStatus | None, Query()] = None, fmt: Format = "json",
) -> Response:  # fmt: skip
    """Anomalies from `since` on (default: 180 days before the last day with data), ours and AWS's, newest first;
    `status` is open (no feedback yet) or a feedback value. Amounts are in the store's default currency."""
    ctx = Context(request, s)
    ctx.currency(None)
    in_range(since, "since")

    def build():
        table = views.cost_anomalies(s, ctx.status.last_day, since, status)
        return {"data": table}, table

    return answer(ctx, build, fmt=fmt)


@router.get("/combined-costs", response_model=schemas.Combined, responses=LIST)
def combined_costs(
    request: Request, s: SessionDep, _: Admin, months: Months = 12, metric: Metric = "unblended", fmt: Format = "json"
) -> Response:
    """The cloud bill and execution costs per month with their total; with FINOPS_EXECUTIONS_IN_BILL the total is
    the bill and executions are its share (never added twice)."""
    ctx = Context(request, s)
    column, in_bill = METRICS[metric], get_settings().executions_in_bill

    def build():
        table = views.combined_costs(s, ctx.today, months, column)
        return {"metric": column, "executions_in_bill": in_bill, "data": table}, table

    return answer(ctx, build, key=("combined", months, metric, in_bill), fmt=fmt)


@router.get("/all", response_model=schemas.Everything, responses={k: v for k, v in LIST.items() if k != 200})
def everything(request: Request, s: SessionDep, _: Admin, months: Months = 12, currency: Currency = None) -> Response:
    """Everything the dashboard shows in one call, each part with its endpoint's defaults (unblended cost), the
    costs in one currency (forecast and anomalies: the store's default)."""
    ctx = Context(request, s)
    metric, chosen = METRICS["unblended"], ctx.currency(currency)

    def build():
        start, end = views.breakdown_window(ctx.today, None, None)
        return {
            "monthly_costs": views.monthly_costs(s, ctx.today, months, metric, "total", chosen),
            "daily_costs": views.daily_costs(s, ctx.status.last_day, 30, metric, chosen),
            "service_breakdown": views.service_breakdown(s, start, end, metric, chosen),
            "cost_forecast": views.cost_forecast(s, ctx.today, 3)[0],
            "savings_recommendations": views.savings(s, "open"),
            "cost_anomalies": views.cost_anomalies(s, ctx.status.last_day, None, None),
            "execution_costs": views.execution_costs(s, ctx.today, months, None, "month")[0],
            "combined_costs": views.combined_costs(s, ctx.today, months, metric),
        }, None

    return answer(ctx, build)
