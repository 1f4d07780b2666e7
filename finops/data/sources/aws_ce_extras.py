"""The other Cost Explorer calls, at most once a day each: AWS's forecast, anomalies and savings recommendations.

`run_extras` runs after a successful AWS refresh. Each operation is independent and never raises:

- at most one attempt per UTC day (`ce_feature.last_attempt_at`), unless `force`;
- AccessDenied (AccessDeniedException, AccessDenied, UnauthorizedOperation) records status `not_permitted`
  with "not permitted: the role needs ce:<Operation>", any other AWS error records status `error`; the
  other operations still run;
- every request goes through the refresh's `Recorder` (counted, USD 0.01, refused past the daily cap); the
  cap stops the remaining operations, each recorded as `error` with the cap's message;
- a response is stored only once every page of it arrived (no half-replaced data).

What each stores:

- GetCostForecast: DAILY UNBLENDED_COST with an 80 % interval from today up to the first day of the month
  three months ahead (Cost Explorer's DAILY horizon is about three months; ending on a month start keeps the
  window inside it and covers whole months). Replaces every `aws_forecast` row of metric "unblended_cost".
  DataUnavailableException (accounts with too little history) is status ok, "no forecast: not enough
  history", and leaves no rows.
- GetAnomalies: the last 90 days, every page; upserted into `anomaly` (source "aws", external_id AnomalyId).
  A row's `feedback` is ours: a re-fetch never overwrites it (AWS's own Feedback fills it only on a new row).
  Anomalies that age out of the 90 days are kept.
- GetRightsizingRecommendation (AmazonEC2, every page) -> `recommendation` rows source "aws_rightsizing";
  GetSavingsPlansPurchaseRecommendation (Compute SP, 1 year, no upfront, 30-day lookback; the summary is on
  the first page, so only that page is requested) -> one row source "aws_savings_plans".
  Replacement rule: a fetch deletes that source's `open` rows and inserts what AWS recommends now, except
  a recommendation whose (resource_id, kind) has a `dismissed` or `done` row of that source: that person's
  decision stands and the recommendation is not resurrected. Dismissed/done rows are never deleted.

Amounts arrive as decimal text (anomaly figures as numbers) and are parsed as `Decimal` first; unreadable or
missing ones count as absent, negative savings count 0 (a recommendation never lowers Potential Savings).
"""

import json
import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from botocore.exceptions import ClientError
from sqlalchemy import delete, select
from sqlmodel import Session

from finops.costs import add_months
from finops.data.aws_errors import DENIED_CODES, describe, error_code
from finops.data.sources.aws_ce import BudgetExceeded, Recorder
from finops.data.tables import Anomaly, AwsForecast, CeFeature, Recommendation

log = logging.getLogger(__name__)

FORECAST = "GetCostForecast"
ANOMALIES = "GetAnomalies"
RIGHTSIZING = "GetRightsizingRecommendation"
SAVINGS_PLANS = "GetSavingsPlansPurchaseRecommendation"
OPERATIONS = (FORECAST, ANOMALIES, RIGHTSIZING, SAVINGS_PLANS)

FORECAST_METRIC = "unblended_cost"
FORECAST_LEVEL = 80
FORECAST_MONTHS_AHEAD = 3
ANOMALY_DAYS = 90
SP_TERMS = {"SavingsPlansType": "COMPUTE_SP", "TermInYears": "ONE_YEAR", "PaymentOption": "NO_UPFRONT"}
SP_RESOURCE = "COMPUTE_SP/ONE_YEAR/NO_UPFRONT"
SP_KIND = "savings_plan_purchase"
KEPT_STATUSES = ("dismissed", "done")
AWS_FEEDBACK = {"YES": "confirmed", "NO": "false_positive", "PLANNED_ACTIVITY": "planned"}


class NoForecast(Exception):
    """GetCostForecast had too little history to forecast (DataUnavailableException)."""


# --- parsing (pure) ------------------------------------------------------------------------------


def decimal_of(value) -> Decimal | None:
    """Cost Explorer's amount (text or number) as an exact Decimal; None when missing or unreadable."""
    if value is None or isinstance(value, bool):
        return None
    try:
        result = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return result if result.is_finite() else None


def float_of(value) -> float | None:
    parsed = decimal_of(value)
    return None if parsed is None else float(parsed)


def savings_of(value) -> float:
    """A savings amount as a float: missing or unreadable count 0, and so do negative ones."""
    parsed = decimal_of(value)
    return float(parsed) if parsed is not None and parsed > 0 else 0.0


def _day(value) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def forecast_window(today: date) -> tuple[date, date]:
    """[today, first day of the month three months ahead)."""
    return today, add_months(today, FORECAST_MONTHS_AHEAD)


def parse_forecast(response: dict) -> list[dict]:
    """AwsForecast fields per ForecastResultsByTime day; days without a readable MeanValue are left out."""
    rows = []
    for item in response.get("ForecastResultsByTime") or []:
        ds = _day((item.get("TimePeriod") or {}).get("Start"))
        yhat = float_of(item.get("MeanValue"))
        if ds is None or yhat is None:
            continue
        rows.append(
            {
                "ds": ds,
                "yhat": yhat,
                "yhat_lower": float_of(item.get("PredictionIntervalLowerBound")),
                "yhat_upper": float_of(item.get("PredictionIntervalUpperBound")),
            }
        )
    return rows


def parse_anomaly(item: dict) -> dict | None:
    """Anomaly fields (without feedback) of one GetAnomalies item; None without an id or a start day."""
    start = _day(item.get("AnomalyStartDate"))
    if not item.get("AnomalyId") or start is None:
        return None
    impact = item.get("Impact") or {}
    total = float_of(impact.get("TotalImpact"))
    causes = [c for c in item.get("RootCauses") or [] if isinstance(c, dict)]
    first = causes[0] if causes else {}
    return {
        "external_id": str(item["AnomalyId"]),
        "service": str(first.get("Service") or ""),
        "account_id": str(first.get("LinkedAccount") or ""),
        "start_day": start,
        "end_day": _day(item.get("AnomalyEndDate")),
        "impact": total if total is not None else (float_of(impact.get("MaxImpact")) or 0.0),
        "actual": float_of(impact.get("TotalActualSpend")),
        "expected": float_of(impact.get("TotalExpectedSpend")),
        "score": float_of((item.get("AnomalyScore") or {}).get("CurrentScore")),
        "contributors": json.dumps(causes, sort_keys=True, default=str),
    }


def _instance_type(details: dict | None) -> str:
    return str(((details or {}).get("EC2ResourceDetails") or {}).get("InstanceType") or "")


def parse_rightsizing(item: dict) -> dict | None:
    """Recommendation fields of one RightsizingRecommendations item; None for an unknown type."""
    kind = str(item.get("RightsizingType") or "").lower()
    if kind not in ("terminate", "modify"):
        return None
    current = item.get("CurrentInstance") or {}
    resource = str(current.get("ResourceId") or "")
    current_type = _instance_type(current.get("ResourceDetails"))
    currency = current.get("CurrencyCode") or "USD"
    if kind == "terminate":
        detail = item.get("TerminateRecommendationDetail") or {}
        savings = savings_of(detail.get("EstimatedMonthlySavings"))
        currency = detail.get("CurrencyCode") or currency
        description = f"Terminate {resource}" + (f" ({current_type})" if current_type else "")
    else:
        targets = (item.get("ModifyRecommendationDetail") or {}).get("TargetInstances") or []
        best = max(targets, key=lambda t: savings_of(t.get("EstimatedMonthlySavings")), default={})
        savings = savings_of(best.get("EstimatedMonthlySavings"))
        currency = best.get("CurrencyCode") or currency
        target_type = _instance_type(best.get("ResourceDetails"))
        description = f"Modify {resource} ({current_type or '?'} -> {target_type or '?'})"
    return {
        "kind": kind,
        "account_id": str(item.get("AccountId") or ""),
        "resource_id": resource,
        "description": description[:1000],
        "estimated_monthly_savings": savings,
        "currency": str(currency)[:3],
    }


def parse_savings_plans(response: dict) -> list[dict]:
    """The one Compute Savings Plans purchase recommendation, or none when AWS recommends nothing to buy."""
    rec = response.get("SavingsPlansPurchaseRecommendation") or {}
    summary = rec.get("SavingsPlansPurchaseRecommendationSummary") or {}
    savings = savings_of(summary.get("EstimatedMonthlySavingsAmount"))
    if savings <= 0:
        return []
    hourly = decimal_of(summary.get("HourlyCommitmentToPurchase"))
    currency = str(summary.get("CurrencyCode") or "USD")[:3]
    commitment = f"{currency} {hourly:.3f}/hour" if hourly is not None else "an hourly commitment"
    return [
        {
            "kind": SP_KIND,
            "account_id": "",
            "resource_id": SP_RESOURCE,
            "description": f"Buy a 1-year Compute Savings Plan (no upfront) committing {commitment}",
            "estimated_monthly_savings": savings,
            "currency": currency,
        }
    ]


# --- fetching ------------------------------------------------------------------------------------


def _pages(recorder: Recorder, operation: str, send: Callable[..., dict], params: dict) -> list[dict]:
    """Every page of a NextPageToken-paginated Cost Explorer call (CE has no boto3 paginators)."""
    pages, page, token = [], 1, None
    while True:
        request = dict(params, NextPageToken=token) if token else params
        response = recorder.call(operation, page, send, **request)
        pages.append(response)
        token = response.get("NextPageToken")
        if not token:
            return pages
        page += 1


def fetch_forecast(ce, recorder: Recorder, today: date) -> list[dict]:
    start, end = forecast_window(today)
    params = {
        "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
        "Metric": "UNBLENDED_COST",
        "Granularity": "DAILY",
        "PredictionIntervalLevel": FORECAST_LEVEL,
    }
    try:
        response = recorder.call(FORECAST, 1, ce.get_cost_forecast, **params)
    except ClientError as exc:
        if error_code(exc) == "DataUnavailableException":
            raise NoForecast from exc
        raise
    return parse_forecast(response)


def fetch_anomalies(ce, recorder: Recorder, today: date) -> list[dict]:
    params = {
        "DateInterval": {
            "StartDate": (today - timedelta(days=ANOMALY_DAYS)).isoformat(),
            "EndDate": today.isoformat(),
        }
    }
    rows = []
    for response in _pages(recorder, ANOMALIES, ce.get_anomalies, params):
        for item in response.get("Anomalies") or []:
            parsed = parse_anomaly(item)
            if parsed is not None:
                parsed["aws_feedback"] = AWS_FEEDBACK.get(str(item.get("Feedback") or ""))
                rows.append(parsed)
    return rows


def fetch_rightsizing(ce, recorder: Recorder) -> list[dict]:
    rows = []
    for response in _pages(recorder, RIGHTSIZING, ce.get_rightsizing_recommendation, {"Service": "AmazonEC2"}):
        for item in response.get("RightsizingRecommendations") or []:
            parsed = parse_rightsizing(item)
            if parsed is not None:
                rows.append(parsed)
    return rows


def fetch_savings_plans(ce, recorder: Recorder) -> list[dict]:
    params = dict(SP_TERMS, LookbackPeriodInDays="THIRTY_DAYS")
    response = recorder.call(SAVINGS_PLANS, 1, ce.get_savings_plans_purchase_recommendation, **params)
    return parse_savings_plans(response)


# --- storing -------------------------------------------------------------------------------------


def store_forecast(session: Session, rows: list[dict], now: datetime) -> None:
    session.execute(delete(AwsForecast).where(AwsForecast.metric == FORECAST_METRIC))
    for row in rows:
        session.add(AwsForecast(fetched_at=now, metric=FORECAST_METRIC, interval_level=FORECAST_LEVEL, **row))
    session.commit()


def store_anomalies(session: Session, rows: list[dict], now: datetime) -> None:
    ids = [r["external_id"] for r in rows]
    existing = (
        {
            a.external_id: a
            for a in session.execute(select(Anomaly).where(Anomaly.source == "aws", Anomaly.external_id.in_(ids)))
            .scalars()
            .all()
        }
        if ids
        else {}
    )
    for row in rows:
        fields = dict(row)
        aws_feedback = fields.pop("aws_feedback", None)
        anomaly = existing.get(fields["external_id"])
        if anomaly is None:
            anomaly = Anomaly(source="aws", detected_at=now, feedback=aws_feedback, **fields)
            existing[fields["external_id"]] = anomaly
            session.add(anomaly)
        else:  # feedback is ours: never touched on a re-fetch
            for name, value in fields.items():
                setattr(anomaly, name, value)
    session.commit()


def store_recommendations(session: Session, source: str, rows: list[dict], now: datetime) -> None:
    """Replace `source`'s open rows with `rows`, skipping those a person dismissed or marked done."""
    session.execute(delete(Recommendation).where(Recommendation.source == source, Recommendation.status == "open"))
    decided = select(Recommendation.resource_id, Recommendation.kind).where(
        Recommendation.source == source, Recommendation.status.in_(KEPT_STATUSES)
    )
    kept = {tuple(r) for r in session.execute(decided).all()}
    for row in rows:
        if (row["resource_id"], row["kind"]) in kept:
            continue
        session.add(Recommendation(source=source, status="open", created_at=now, **row))
    session.commit()


def _feature(session: Session, operation: str) -> CeFeature:
    feature = session.get(CeFeature, operation)
    if feature is None:
        feature = CeFeature(operation=operation)
        session.add(feature)
    return feature


def _record(session: Session, operation: str, status: str, message: str | None, now: datetime) -> None:
    feature = _feature(session, operation)
    feature.status = status
    feature.message = message[:2000] if message else message
    feature.last_attempt_at = now
    if status == "ok":
        feature.last_success_at = now
    session.commit()


def _utc_day(moment: datetime | None) -> date | None:
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.date()  # naive datetimes (SQLite) are UTC


# --- entry point ---------------------------------------------------------------------------------


def run_extras(
    session: Session, clients_or_ce_client, recorder: Recorder, *, today: date, force: bool = False
) -> dict[str, str]:
    """Run each extra Cost Explorer call not yet attempted today (UTC); returns operation -> outcome.

    Outcomes: "ok", "not_permitted", "error" (the `ce_feature` row has the message) or "skipped" (already
    attempted today). `clients_or_ce_client` is the (ce, organizations) pair of the refresh, or a ce client.
    Attempt times come from `recorder.now` and are compared with `today`.
    """
    ce = clients_or_ce_client[0] if isinstance(clients_or_ce_client, tuple | list) else clients_or_ce_client

    def now() -> datetime:  # aware UTC (sqlmodel's datetime columns refuse naive values)
        moment = recorder.now()
        return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)

    def forecast() -> str | None:
        try:
            rows = fetch_forecast(ce, recorder, today)
        except NoForecast:
            store_forecast(session, [], now())  # an older forecast no longer stands
            return "no forecast: not enough history"
        store_forecast(session, rows, now())
        return None

    steps: list[tuple[str, Callable[[], str | None]]] = [
        (FORECAST, forecast),
        (ANOMALIES, lambda: store_anomalies(session, fetch_anomalies(ce, recorder, today), now())),
        (
            RIGHTSIZING,
            lambda: store_recommendations(session, "aws_rightsizing", fetch_rightsizing(ce, recorder), now()),
        ),
        (
            SAVINGS_PLANS,
            lambda: store_recommendations(session, "aws_savings_plans", fetch_savings_plans(ce, recorder), now()),
        ),
    ]
    outcomes: dict[str, str] = {}
    capped: str | None = None
    for operation, step in steps:
        feature = session.get(CeFeature, operation)
        if not force and feature is not None and _utc_day(feature.last_attempt_at) == today:
            outcomes[operation] = "skipped"
            continue
        if capped is not None:  # the cap refuses every further request today: do not even try
            _record(session, operation, "error", capped, now())
            outcomes[operation] = "error"
            continue
        status, message = "ok", None
        try:
            message = step()
        except BudgetExceeded as exc:
            session.rollback()
            status, message = "error", str(exc)
            capped = message
        except ClientError as exc:
            session.rollback()
            if error_code(exc) in DENIED_CODES:
                status, message = "not_permitted", f"not permitted: the role needs ce:{operation}"
            else:
                status, message = "error", describe(exc)
        except Exception as exc:  # noqa: BLE001  (BotoCoreError, bad data...: an extra never fails the refresh)
            session.rollback()
            status, message = "error", describe(exc)
        _record(session, operation, status, message, now())
        outcomes[operation] = status
        if status != "ok":
            log.warning("Cost Explorer %s: %s", operation, message)
    return outcomes
