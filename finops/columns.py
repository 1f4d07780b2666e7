"""The one vocabulary of table columns: each column's title and kind, for the UI's tables and for CSV exports.

The kind says how a value is shown and written: `money` is an amount read from the store (exact micro-units;
CSV: a decimal with 6 places), `estimate` an amount computed by a model or from a price (CSV: to the cent),
`hourly` a price per hour (CSV: 6 places), `change_pct` and `share_pct` percentages (already x 100), `ratio` a
share between 0 and 1 shown as a percentage, `percent` a figure already x 100 shown to one decimal,
`date`/`month`/`datetime` moments (CSV: ISO 8601), `source` a source code shown in words. A column not listed
here is titled from its name, never shown raw.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    title: str
    kind: str = "text"  # text | money | estimate | hourly | change_pct | share_pct | ratio | int | bool | date ...


MONEY_KINDS = ("money", "estimate", "hourly")
PLACES = {"money": 6, "hourly": 6, "estimate": 2, "change_pct": 6, "share_pct": 6, "ratio": 6, "float": 6,
          "percent": 1, "fx_rate": 9}  # fmt: skip

COLUMNS: dict[str, Column] = {
    # costs
    "month": Column("Month", "month"),
    "day": Column("Day", "date"),
    "service": Column("Service"),
    "account_id": Column("Account ID"),
    "account_name": Column("Account"),
    "unblended_cost": Column("Unblended cost", "money"),
    "amortized_cost": Column("Amortized cost", "money"),
    "previous_unblended_cost": Column("Previous period (unblended)", "money"),
    "previous_amortized_cost": Column("Previous period (amortized)", "money"),
    "mom_pct": Column("Change from the previous month", "change_pct"),
    "change_pct": Column("Change", "change_pct"),
    "share_pct": Column("Share of total", "share_pct"),
    "currency": Column("Currency"),
    # forecasts
    "ds": Column("Day", "date"),
    "yhat": Column("Forecast", "estimate"),
    "yhat_lower": Column("Lower bound", "estimate"),
    "yhat_upper": Column("Upper bound", "estimate"),
    "days": Column("Days", "int"),
    "series": Column("Series"),
    "history_days": Column("Days of history", "int"),
    "low_confidence": Column("Low confidence", "bool"),
    "mape": Column("Back-test error (MAPE)", "ratio"),
    "naive_mape": Column("Seasonal-naive error (MAPE)", "ratio"),
    "model": Column("Model"),
    "last_week_mape": Column("Last-week-repeated error (MAPE)", "ratio"),
    "total_error": Column("Error of the 30-day total", "ratio"),
    "naive_total_error": Column("Seasonal-naive error of the total", "ratio"),
    "last_week_total_error": Column("Last-week-repeated error of the total", "ratio"),
    "coverage": Column("Band coverage (back-test)", "ratio"),
    "skipped": Column("Not forecast because"),
    # anomalies and recommendations
    "start_day": Column("Start", "date"),
    "end_day": Column("End", "date"),
    "duration_days": Column("Days", "int"),
    "dimension": Column("By"),
    "expected": Column("Expected", "estimate"),
    "actual": Column("Actual", "estimate"),
    "impact": Column("Impact", "estimate"),
    "impact_pct": Column("Impact %", "change_pct"),
    "score": Column("Score", "float"),
    "source": Column("Source", "source"),
    "status": Column("Status"),
    "contributors": Column("Contributors"),
    "views": Column("Seen by"),
    "kind": Column("Kind"),
    "resource_id": Column("Resource ID"),
    "description": Column("Description"),
    "estimated_monthly_savings": Column("Est. monthly savings", "estimate"),
    "created_at": Column("Created", "datetime"),
    # resources, groups, stop/start
    "id": Column("ID", "int"),
    "name": Column("Name"),
    "owner": Column("Owner"),
    "resources": Column("Resources", "int"),
    "updated_at": Column("Updated", "datetime"),
    "resource_type": Column("Type"),
    "resource_name": Column("Resource"),
    "state": Column("State"),
    "hourly_cost": Column("Hourly cost", "hourly"),
    "monthly_cost": Column("Est. monthly cost", "estimate"),
    "price": Column("Price from"),
    "added_at": Column("Added", "datetime"),
    "added_by": Column("Added by"),
    "change": Column("What changes"),
    "action": Column("Action"),
    "requested_by": Column("Requested by"),
    "requested_at": Column("Requested", "datetime"),
    "finished_at": Column("Finished", "datetime"),
    "started_at": Column("Started", "datetime"),
    "summary": Column("Result"),
    "error": Column("Error"),
    "before": Column("Before"),
    "after": Column("After"),
    "outcome": Column("Outcome"),
    # schedules
    "timezone": Column("Time zone"),
    "periods": Column("Periods", "int"),
    "targets": Column("Targets", "int"),
    "enforced": Column("Enforced", "bool"),
    "retain_running": Column("Retain running", "bool"),
    "active": Column("Active", "bool"),
    "desired": Column("Wants now"),
    "next_start_local": Column("Next start (local)"),
    "next_start_utc": Column("Next start (UTC)"),
    "next_stop_local": Column("Next stop (local)"),
    "next_stop_utc": Column("Next stop (UTC)"),
    "saved_this_month": Column("Saved this month", "estimate"),
    "stopped_hours": Column("Hours stopped", "float"),
    "saved": Column("Saved", "estimate"),
    "schedule": Column("Schedule"),
    # executions and the rate card
    "execution_id": Column("Execution"),
    "workflow_id": Column("Workflow ID"),
    "workflow_name": Column("Workflow"),
    "user": Column("User"),
    "ended_at": Column("Ended", "datetime"),
    "duration_hours": Column("Hours", "float"),
    "compute_type": Column("Compute type"),
    "compute_count": Column("Units", "int"),
    "usd_per_hour": Column("USD per unit-hour", "hourly"),
    "rate": Column("USD per unit", "fx_rate"),  # an exchange rate (finops.data.exchange_rates)
    "imported_at": Column("Imported", "datetime"),
    "converted": Column("Converted to USD", "bool"),
    "gpu": Column("GPU", "bool"),
    "effective_from": Column("In force from", "date"),
    "in_force": Column("In force", "bool"),
    "note": Column("Note"),
    "created_by": Column("Set by"),
    "runs": Column("Runs", "int"),
    "cost": Column("Cost", "money"),
    "cost_per_run": Column("Per run (mean)", "money"),
    "median_per_run": Column("Median per run", "money"),
    "p90_per_run": Column("90th percentile per run", "money"),
    "min_per_run": Column("Cheapest run", "money"),
    "max_per_run": Column("Dearest run", "money"),
    "infrastructure_cost": Column("Infrastructure (bill)", "money"),
    "execution_cost": Column("Executions", "money"),
    "total_cost": Column("Total", "money"),
    "execution_share_pct": Column("Executions' share", "percent"),
    # budgets and alerts
    "scope": Column("Scope"),
    "period": Column("Period"),
    "amount": Column("Amount", "estimate"),
    "metric": Column("Metric"),
    "thresholds": Column("Thresholds"),
    "period_start": Column("Period start", "date"),
    "period_end": Column("Period end (excluded)", "date"),
    "forecast": Column("Forecast to period end", "estimate"),
    "pct_actual": Column("Actual, % of amount", "percent"),
    "pct_forecast": Column("Forecast, % of amount", "percent"),
    "basis": Column("Actual is"),
    "forecast_basis": Column("Forecast from"),
    "amount_basis": Column("Amount set by"),
    "crossed": Column("Thresholds crossed"),
    "budget": Column("Budget"),
    "threshold": Column("Threshold"),
    "on": Column("On"),
    "value": Column("Spend", "estimate"),
    "limit": Column("Threshold at", "estimate"),
    "deliveries": Column("Sent to"),
    "saved_per_day": Column("Saves a day", "estimate"),
    "spend": Column("Spend", "estimate"),
    "approved_by": Column("Approved by"),
    "done_at": Column("Done", "datetime"),
    "undone_at": Column("Undone", "datetime"),
    "alert_id": Column("Alert", "int"),
    "channel": Column("Channel"),
    "attempts": Column("Attempts", "int"),
    "next_attempt_at": Column("Next attempt", "datetime"),
    "delivered_at": Column("Delivered", "datetime"),
    "last_error": Column("Last error"),
    # audit log
    "at": Column("When", "datetime"),
    "actor": Column("Who"),
    "object_type": Column("Object"),
    "object_id": Column("Object ID"),
    "detail": Column("Detail"),
    # data sources
    "window_start": Column("From", "date"),
    "window_end": Column("To (excluded)", "date"),
    "rows": Column("Rows", "int"),
    "history": Column("History months"),
    "requests": Column("Cost Explorer requests", "int"),
    "backfill": Column("Backfill", "bool"),
    "run_id": Column("Run", "int"),
    "operation": Column("Call"),
    "message": Column("Message"),
    "last_attempt_at": Column("Last attempt", "datetime"),
    "last_success_at": Column("Last success", "datetime"),
    # billing-file sources and deliveries
    "provider": Column("Provider"),
    "accounts": Column("Accounts", "int"),
    "first_day": Column("First day", "date"),
    "last_day": Column("Last day", "date"),
    "months": Column("Months", "int"),
    "resource_rows": Column("Resource rows", "int"),
    "last_delivery": Column("Last delivery", "datetime"),
    "location": Column("Location"),
    "files": Column("Files", "int"),
    "times_delivered": Column("Times delivered", "int"),
    "checked_at": Column("Last look", "datetime"),
}

# source codes in words (refresh runs, anomalies, recommendations, resources, prices)
SOURCE_NAMES = {
    "aws_ce": "AWS Cost Explorer",
    "focus": "Billing files (FOCUS, CUR 2.0)",
    "demo": "Demo data",
    "finops": "FinOps",
    "aws": "AWS",
    "aws_rightsizing": "AWS rightsizing",
    "aws_savings_plans": "AWS Savings Plans",
    "schedule": "FinOps: schedule",
    "idle": "FinOps: idle",
    "platform": "Platform",
    "price_list_api": "AWS Price List API",
    "bundled": "Bundled price table (offline fallback)",
}


def column(name: str) -> Column:
    """The column's title and kind; an unlisted column is titled from its name ("refresh_runs" -> "Refresh runs")."""
    return COLUMNS.get(name) or Column(name.replace("_", " ").strip().capitalize() or name)


def source_name(code) -> str:
    """A source code in words ("aws_ce" -> "AWS Cost Explorer"); an unknown code as it is."""
    return SOURCE_NAMES.get(str(code), str(code)) if code is not None else ""
