"""The other Cost Explorer calls: AWS's forecast and anomalies once a day, its savings recommendations once a week.

`run_extras` runs after a successful AWS refresh. Each operation is independent and never raises:

- at most one attempt per `EVERY_DAYS` UTC days (`ce_feature.last_attempt_at`), unless `force`: a day for the
  forecast and anomalies, a week for the rightsizing and Savings Plans recommendations (AWS recomputes those
  about once a day from 14 or more days of usage, so a weekly look loses little and saves 2 requests a day);
- AccessDenied (AccessDeniedException, AccessDenied, UnauthorizedOperation) records status `not_permitted`
  with "not permitted: the role needs ce:<Operation>", any other AWS error records status `error`; the
  other operations still run;
- every request passes the refresh's `ce_calls.Recorder`, which watches the client (counted, USD 0.01,
  refused past the daily cap); the cap stops the remaining operations, each recorded as `error` with the
  cap's message;
- a response is stored only once every page of it arrived (no half-replaced data).

The sources (`sources.aws_ce_forecast`, `aws_ce_anomalies`, `aws_ce_recommendations`) fetch and parse; the
tables' owners store: `forecasts.store_aws_forecast` (replaces AWS's forecast; "no forecast: not enough
history" when AWS has too little, leaving none), `anomalies.store_aws_anomalies` (upserts by AnomalyId,
keeping our feedback) and `recommendations.store_recommendations` (replaces a source's open rows, keeping
what people dismissed or marked done). This module owns `ce_feature`, the status Data Sources shows.
"""

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime

from botocore.exceptions import ClientError
from sqlmodel import Session

from finops.data import anomalies, forecasts, recommendations
from finops.data.aws_errors import DENIED_CODES, describe, error_code
from finops.data.ce_calls import BudgetExceeded, Recorder
from finops.data.sources import aws_ce_anomalies, aws_ce_forecast, aws_ce_recommendations
from finops.data.tables import CeFeature

log = logging.getLogger(__name__)

FORECAST = aws_ce_forecast.OPERATION
ANOMALIES = aws_ce_anomalies.OPERATION
RIGHTSIZING = aws_ce_recommendations.RIGHTSIZING
SAVINGS_PLANS = aws_ce_recommendations.SAVINGS_PLANS
OPERATIONS = (FORECAST, ANOMALIES, RIGHTSIZING, SAVINGS_PLANS)
EVERY_DAYS = {FORECAST: 1, ANOMALIES: 1, RIGHTSIZING: 7, SAVINGS_PLANS: 7}  # UTC days between attempts


def _steps(session: Session, ce, today: date, now: Callable[[], datetime]):
    """(operation, step) pairs; a step fetches and stores one feature and returns a message or None."""

    def forecast() -> str | None:
        try:
            rows = aws_ce_forecast.fetch_forecast(ce, today)
        except aws_ce_forecast.NoForecast:
            forecasts.store_aws_forecast(session, aws_ce_forecast.METRIC, [], now())  # an older one no longer stands
            return "no forecast: not enough history"
        forecasts.store_aws_forecast(session, aws_ce_forecast.METRIC, rows, now())
        return None

    def found() -> None:
        anomalies.store_aws_anomalies(session, aws_ce_anomalies.fetch_anomalies(ce, today), now())

    def rightsizing() -> None:
        rows = aws_ce_recommendations.fetch_rightsizing(ce)
        recommendations.store_recommendations(session, aws_ce_recommendations.RIGHTSIZING_SOURCE, rows, now())

    def savings_plans() -> None:
        rows = aws_ce_recommendations.fetch_savings_plans(ce)
        recommendations.store_recommendations(session, aws_ce_recommendations.SAVINGS_PLANS_SOURCE, rows, now())

    return [(FORECAST, forecast), (ANOMALIES, found), (RIGHTSIZING, rightsizing), (SAVINGS_PLANS, savings_plans)]


def _record(session: Session, operation: str, status: str, message: str | None, now: datetime) -> None:
    feature = session.get(CeFeature, operation) or CeFeature(operation=operation)
    feature.status = status
    feature.message = message[:2000] if message else message
    feature.last_attempt_at = now
    if status == "ok":
        feature.last_success_at = now
    session.add(feature)
    session.commit()


def _utc_day(moment: datetime | None) -> date | None:
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.date()  # naive datetimes (SQLite) are UTC


def _attempt(operation: str, step: Callable[[], str | None], session: Session) -> tuple[str, str | None]:
    """Run one step; (status, message). BudgetExceeded is raised for the caller to stop the others."""
    try:
        return "ok", step()
    except BudgetExceeded:
        session.rollback()
        raise
    except ClientError as exc:
        session.rollback()
        if error_code(exc) in DENIED_CODES:
            return "not_permitted", f"not permitted: the role needs ce:{operation}"
        return "error", describe(exc)
    except Exception as exc:  # noqa: BLE001  (BotoCoreError, bad data...: an extra never fails the refresh)
        session.rollback()
        return "error", describe(exc)


def due(operation: str, last_attempt_at: datetime | None, today: date) -> bool:
    """True when `operation` was never attempted, or last attempted `EVERY_DAYS[operation]` UTC days ago or more."""
    last = _utc_day(last_attempt_at)
    return last is None or (today - last).days >= EVERY_DAYS[operation]


def run_extras(session: Session, ce, recorder: Recorder, *, today: date, force: bool = False) -> dict[str, str]:
    """Run each extra Cost Explorer call that is due (see `due`); returns operation -> outcome.

    Outcomes: "ok", "not_permitted", "error" (the `ce_feature` row has the message) or "skipped" (not due:
    attempted today, or this week for the recommendations). `recorder` watches `ce` from here on. Attempt times
    come from `recorder.now` and are compared with `today`.
    """

    def now() -> datetime:  # aware UTC (sqlmodel's datetime columns refuse naive values)
        moment = recorder.now()
        return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)

    recorder.watch(ce)
    outcomes: dict[str, str] = {}
    capped: str | None = None
    for operation, step in _steps(session, ce, today, now):
        feature = session.get(CeFeature, operation)
        if not force and feature is not None and not due(operation, feature.last_attempt_at, today):
            outcomes[operation] = "skipped"
            continue
        if capped is not None:  # the cap refuses every further request today: do not even try
            _record(session, operation, "error", capped, now())
            outcomes[operation] = "error"
            continue
        try:
            status, message = _attempt(operation, step, session)
        except BudgetExceeded as exc:
            status, message = "error", str(exc)
            capped = message
        _record(session, operation, status, message, now())
        outcomes[operation] = status
        if status != "ok":
            log.warning("Cost Explorer %s: %s", operation, message)
    return outcomes
