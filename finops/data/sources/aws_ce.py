"""AWS Cost Explorer source: GetCostAndUsage DAILY by SERVICE and LINKED_ACCOUNT, into the cost contract.

Every Cost Explorer request is billed (USD 0.01): the caller has `ce_calls.Recorder` watch the client, which
counts, caps and records every request it makes. Amounts stay exact: Cost Explorer sends them as decimal
text, kept here as `Decimal` so the loader converts them to micro-units without floats.
"""

import logging
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

import pandas as pd
from botocore.exceptions import ClientError

from finops.costs import add_months, month_start
from finops.data.aws_errors import CREDENTIAL_CODES, DENIED_CODES, error_code
from finops.data.sources import CONTRACT_COLUMNS
from finops.money import amount_to_micros
from finops.settings import Settings

log = logging.getLogger(__name__)

SOURCE = "aws_ce"
PROVIDER = "aws"
CE_REGION = "us-east-1"  # Cost Explorer's one endpoint
METRICS = ["UnblendedCost", "AmortizedCost"]
GROUP_BY = [{"Type": "DIMENSION", "Key": "SERVICE"}, {"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"}]
DEFAULT_GROUP_KEYS = ("SERVICE", "LINKED_ACCOUNT")
ORG_DENIED = DENIED_CODES | {"AWSOrganizationsNotInUseException"}


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
    """Cost Explorer's amount as a float; None when missing or unreadable."""
    parsed = decimal_of(value)
    return None if parsed is None else float(parsed)


def day_of(value) -> date | None:
    """The day of a Cost Explorer date or timestamp ("2026-10-11" or "2026-10-11T00:00:00Z"); None if unreadable."""
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _amount(metrics: dict, name: str) -> tuple[Decimal, str | None]:
    """A metric's exact amount and unit; a missing or unreadable metric counts 0."""
    metric = metrics.get(name) if isinstance(metrics, dict) else None
    if not isinstance(metric, dict):
        return Decimal(0), None
    try:
        value = Decimal(str(metric.get("Amount", "0")).strip() or "0")
    except InvalidOperation:
        log.warning("unreadable %s amount %r counted as 0", name, metric.get("Amount"))
        value = Decimal(0)
    return value, metric.get("Unit") or None


def group_keys_of(response: dict) -> tuple[str, ...]:
    """The dimension keys of a response's groups, in order (GroupDefinitions), else SERVICE, LINKED_ACCOUNT."""
    defs = response.get("GroupDefinitions") or []
    keys = tuple(d.get("Key", "") for d in defs if isinstance(d, dict))
    return keys or DEFAULT_GROUP_KEYS


def dimension_names(response: dict) -> dict[str, str]:
    """Account names Cost Explorer itself attaches to LINKED_ACCOUNT values (DimensionValueAttributes)."""
    names = {}
    for item in response.get("DimensionValueAttributes") or []:
        value = item.get("Value")
        desc = (item.get("Attributes") or {}).get("description")
        if value and desc:
            names[value] = desc
    return names


def parse_results(
    results_by_time: Iterable[dict],
    *,
    account_names: dict[str, str],
    group_keys: Sequence[str] = DEFAULT_GROUP_KEYS,
) -> pd.DataFrame:
    """Rows of the cost contract from Cost Explorer's `ResultsByTime`, amounts as exact `Decimal`.

    One row per (period, group); the period's start day is the row's day. Unknown keys are ignored, an
    empty `Groups` gives no rows, a group missing a metric counts 0 for it, `Estimated` is carried over.
    Accounts without a name in `account_names` are named by their id.
    """
    keys = list(group_keys)
    records = []
    for period in results_by_time or []:
        start = (period.get("TimePeriod") or {}).get("Start")
        if not start:
            continue
        day = date.fromisoformat(start[:10])
        estimated = bool(period.get("Estimated", False))
        for group in period.get("Groups") or []:
            values = dict(zip(keys, group.get("Keys") or [], strict=False))
            metrics = group.get("Metrics") or {}
            unblended, unit_u = _amount(metrics, "UnblendedCost")
            amortized, unit_a = _amount(metrics, "AmortizedCost")
            account = values.get("LINKED_ACCOUNT", "")
            records.append(
                {
                    "day": day,
                    "provider": PROVIDER,
                    "account_id": account,
                    "account_name": account_names.get(account) or account,
                    "service": values.get("SERVICE", ""),
                    "region": values.get("REGION", ""),
                    "unblended_cost": unblended,
                    "amortized_cost": amortized,
                    "currency": unit_u or unit_a or "USD",
                    "estimated": estimated,
                }
            )
    frame = pd.DataFrame.from_records(records, columns=CONTRACT_COLUMNS)
    for col in ("unblended_cost", "amortized_cost"):
        frame[col] = frame[col].astype(object)
    return frame


# --- requests ------------------------------------------------------------------------------------


def _pages(client, params: dict) -> Iterator[dict]:
    """Every page of one GetCostAndUsage request, following NextPageToken (botocore has no paginator for it)."""
    token = None
    while True:
        response = client.get_cost_and_usage(**(dict(params, NextPageToken=token) if token else params))
        yield response
        token = response.get("NextPageToken")
        if not token:
            return


def fetch_costs(client, start: date, end: date, *, account_names: dict[str, str] | None = None) -> pd.DataFrame:
    """Daily cost rows for `[start, end)` from GetCostAndUsage grouped by SERVICE and LINKED_ACCOUNT."""
    params = {
        "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
        "Granularity": "DAILY",
        "Metrics": list(METRICS),
        "GroupBy": [dict(g) for g in GROUP_BY],
    }
    names = dict(account_names or {})
    frames = []
    for response in _pages(client, params):
        for account, name in dimension_names(response).items():
            names.setdefault(account, name)
        frames.append((response.get("ResultsByTime") or [], group_keys_of(response)))
    parts = [parse_results(rbt, account_names=names, group_keys=keys) for rbt, keys in frames]
    return pd.concat(parts, ignore_index=True) if parts else parse_results([], account_names=names)


def fetch_daily_totals(client, start: date, end: date) -> dict[date, tuple[int, int]]:
    """Per-day totals of both metrics over `[start, end)`, in micro-units, from one ungrouped request.

    A month of days fits one page, so this costs one request: the cheap probe that tells which days
    changed since the last pull.
    """
    params = {
        "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
        "Granularity": "DAILY",
        "Metrics": list(METRICS),
    }
    totals: dict[date, tuple[int, int]] = {}
    for response in _pages(client, params):
        for period in response.get("ResultsByTime") or []:
            day = date.fromisoformat(period["TimePeriod"]["Start"])
            total = period.get("Total") or {}
            unblended, _ = _amount(total, "UnblendedCost")
            amortized, _ = _amount(total, "AmortizedCost")
            totals[day] = (amount_to_micros(unblended), amount_to_micros(amortized))
    return totals


def account_names(org_client) -> dict[str, str]:
    """Account id -> name from AWS Organizations; {} (and a logged note) when not permitted or not in use."""
    names: dict[str, str] = {}
    try:
        for page in org_client.get_paginator("list_accounts").paginate():
            for account in page.get("Accounts", []):
                names[account["Id"]] = account.get("Name") or account["Id"]
    except ClientError as exc:
        code = error_code(exc)
        if code in ORG_DENIED:
            log.info("AWS Organizations not readable (%s): accounts are shown by id", code)
            return {}
        if code in CREDENTIAL_CODES:
            raise
        log.warning("AWS Organizations list_accounts failed (%s): accounts are shown by id", code)
        return {}
    return names


# --- windows and clients -------------------------------------------------------------------------


def refresh_window(
    today: date, *, has_data: bool, settings: Settings, last_loaded: date | None = None
) -> tuple[date, date]:
    """The days `[start, end)` a refresh pulls.

    Backfill (no data yet): from the first day of the month `aws_refresh_months_back` months back to today
    (exclusive: data through yesterday).
    Steady: the open month, plus the previous month during its first `aws_grace_days` days (Cost Explorer
    still restates a closed month for a few days). `last_loaded` (the end of the last loaded window), when
    older than that start, pulls the gap too, from its month on. Once something was loaded (`last_loaded`
    given), the newest `aws_partial_days` days are left out: Cost Explorer is still filling them in, and
    re-pulling a day that changes at every update is what a steady refresh spends most on.
    """
    end = today
    if not has_data:
        return add_months(today, -settings.aws_refresh_months_back), end
    if last_loaded is not None:
        end = today - timedelta(days=settings.aws_partial_days)
    start = add_months(today, -1 if today.day <= settings.aws_grace_days else 0)
    if start >= end:  # the 1st (or the partial days) with no grace days: close the previous month at least
        start = month_start(end - timedelta(days=1))
    if last_loaded is not None and last_loaded < start:
        start = max(month_start(last_loaded), add_months(today, -settings.aws_refresh_months_back))
    return start, end


def make_clients(settings: Settings):
    """(ce, organizations) boto3 clients; endpoints and credentials come from boto3's own configuration."""
    import boto3
    from botocore.config import Config

    # total_max_attempts counts the first attempt (botocore's "max_attempts" counts only the retries)
    retries = {"mode": settings.aws_retry_mode, "total_max_attempts": settings.aws_max_attempts}
    config = Config(retries=retries)
    session = boto3.Session()
    ce = session.client("ce", region_name=CE_REGION, config=config)
    org = session.client("organizations", region_name=CE_REGION, config=config)
    return ce, org
