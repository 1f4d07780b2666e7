"""AWS's own cost forecast (GetCostForecast), as rows for `aws_forecast`.

DAILY UNBLENDED_COST with an 80 % interval from today up to the first day of the month three months ahead:
Cost Explorer's DAILY horizon is about three months, and ending on a month start keeps the window inside it
and covers whole months. One response holds the whole window (GetCostForecast has no paginator).
DataUnavailableException (an account with too little history) raises NoForecast.
"""

from datetime import date

from botocore.exceptions import ClientError

from finops.costs import add_months
from finops.data.aws_errors import error_code
from finops.data.sources.aws_ce import day_of, float_of

OPERATION = "GetCostForecast"
METRIC = "unblended_cost"
LEVEL = 80
MONTHS_AHEAD = 3


class NoForecast(Exception):
    """GetCostForecast had too little history to forecast (DataUnavailableException)."""


def forecast_window(today: date) -> tuple[date, date]:
    """[today, first day of the month three months ahead)."""
    return today, add_months(today, MONTHS_AHEAD)


def parse_forecast(response: dict) -> list[dict]:
    """AwsForecast fields per ForecastResultsByTime day; days without a readable MeanValue are left out."""
    rows = []
    for item in response.get("ForecastResultsByTime") or []:
        ds = day_of((item.get("TimePeriod") or {}).get("Start"))
        yhat = float_of(item.get("MeanValue"))
        if ds is None or yhat is None:
            continue
        rows.append(
            {
                "ds": ds,
                "yhat": yhat,
                "yhat_lower": float_of(item.get("PredictionIntervalLowerBound")),
                "yhat_upper": float_of(item.get("PredictionIntervalUpperBound")),
                "interval_level": LEVEL,
            }
        )
    return rows


def fetch_forecast(ce, today: date) -> list[dict]:
    """The forecast rows for `forecast_window(today)`; raises NoForecast when AWS has too little history."""
    start, end = forecast_window(today)
    params = {
        "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
        "Metric": "UNBLENDED_COST",
        "Granularity": "DAILY",
        "PredictionIntervalLevel": LEVEL,
    }
    try:
        response = ce.get_cost_forecast(**params)
    except ClientError as exc:
        if error_code(exc) == "DataUnavailableException":
            raise NoForecast from exc
        raise
    return parse_forecast(response)
