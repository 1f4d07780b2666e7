"""FOCUS 1.2 export: the store's daily costs of `[start, end)` as FOCUS rows, per resource where billing files named
resources (cost_resource_daily) and per account, service and region elsewhere (cost_daily). docs/focus.md,
"Export", says where each column comes from."""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import text
from sqlmodel import Session

from finops.data.focus_catalog import region_name, service_category

# FOCUS columns first (the spec's order within each group), then our own, prefixed x_ as the spec asks
COLUMNS = [
    "BilledCost",
    "EffectiveCost",
    "ListCost",
    "ContractedCost",
    "BillingCurrency",
    "BillingAccountId",
    "BillingAccountName",
    "SubAccountId",
    "SubAccountName",
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargeFrequency",
    "InvoiceId",
    "InvoiceIssuerName",
    "ProviderName",
    "PublisherName",
    "ServiceName",
    "ServiceCategory",
    "ServiceSubcategory",
    "RegionId",
    "RegionName",
    "ResourceId",
    "ResourceName",
    "ResourceType",
    "Tags",
    "PricingQuantity",
    "PricingUnit",
    "x_Source",
    "x_Estimated",
]
AMOUNTS = ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost", "PricingQuantity")
MOMENTS = ("BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd")
PROVIDER_NAMES = {"aws": "AWS"}  # the store's provider codes, as providers name themselves in their FOCUS files
TAX_SERVICE = "Tax"  # Cost Explorer's SERVICE value for tax

# Resource rows where billing files gave them for the (source, day, provider, account), else the daily rows: both
# hold the same totals (resource_costs writes them in one transaction), so nothing is counted twice or missed.
_QUERY = """
SELECT r.source, r.day, r.provider, r.account_id, r.service, r.region, r.currency, r.unblended_micros,
       r.amortized_micros, r.resource_id, r.resource_name, r.resource_type, r.tags, 0 AS estimated
FROM cost_resource_daily r WHERE r.day >= :start AND r.day < :end
UNION ALL
SELECT c.source, c.day, c.provider, c.account_id, c.service, c.region, c.currency, c.unblended_micros,
       c.amortized_micros, '' AS resource_id, '' AS resource_name, '' AS resource_type, NULL AS tags,
       CASE WHEN c.estimated THEN 1 ELSE 0 END AS estimated
FROM cost_daily c WHERE c.day >= :start AND c.day < :end AND NOT EXISTS (
    SELECT 1 FROM cost_resource_daily x WHERE x.source = c.source AND x.day = c.day AND x.provider = c.provider
    AND x.account_id = c.account_id)
ORDER BY 2, 3, 4, 5, 6, 10, 1
"""
_NAMES = """
SELECT provider, account_id, MAX(account_name) FROM cost_daily WHERE day >= :start AND day < :end
GROUP BY provider, account_id
"""


@dataclass(frozen=True)
class BillingAccount:
    """The payer every row is billed to (`--billing-account`); None: each sub account pays its own bill."""

    id: str
    name: str


def amount(micros: int) -> Decimal:
    """The exact amount of a number of micro-units, with 6 places."""
    return Decimal(int(micros)).scaleb(-6).quantize(Decimal("0.000001"))


def moment(day: date) -> str:
    """Midnight UTC of a day, as FOCUS writes date-times."""
    return f"{day.isoformat()}T00:00:00Z"


def month_bounds(day: date) -> tuple[date, date]:
    """The calendar month holding `day`, as `[first day, first day of the next month)`."""
    first = day.replace(day=1)
    return first, (first + timedelta(days=32)).replace(day=1)


def flat_tags(value) -> str | None:
    """Tags as a FOCUS key-value JSON object (nested values as JSON text); None when there are none."""
    tags = json.loads(value) if isinstance(value, str) else value
    if not tags:
        return None
    if not isinstance(tags, dict):
        tags = {"tags": tags}
    flat = {str(k): json.dumps(v) if isinstance(v, dict | list) else v for k, v in tags.items()}
    return json.dumps(flat, ensure_ascii=False, sort_keys=True)


def charge_category(service: str, billed: Decimal) -> str:
    """Tax for Cost Explorer's tax line, Credit for a net negative row (credits beyond the day's charges), else
    Usage: a store row is the sum of a day's charges, so its category is the one that dominates it."""
    if service == TAX_SERVICE:
        return "Tax"
    return "Credit" if billed < 0 else "Usage"


def focus_row(row, names: dict[tuple[str, str], str], payer: BillingAccount | None) -> dict:
    """One FOCUS 1.2 row (COLUMNS; amounts as Decimal, nulls as None) from a store row of _QUERY."""
    source, day, provider, account, service, region, currency, unblended, amortized = row[:9]
    resource_id, resource_name, resource_type, tags, estimated = row[9:]
    day = day if isinstance(day, date) else date.fromisoformat(str(day))
    billed, effective = amount(unblended), amount(amortized)
    period_start, period_end = month_bounds(day)
    category = charge_category(service, billed)
    account_name = names.get((provider, account)) or account
    what = (service or "charges without a service") + (f" for resource {resource_id}" if resource_id else "")
    provider_name = PROVIDER_NAMES.get(provider, provider)
    service_cat, service_sub = service_category(service)
    return {
        "BilledCost": billed,
        "EffectiveCost": effective,
        # the store keeps no list or negotiated prices: BilledCost is what the spec asks for charges priced by no
        # unit price of ours (docs/focus.md, "Export")
        "ListCost": billed,
        "ContractedCost": billed,
        "BillingCurrency": currency,
        "BillingAccountId": payer.id if payer else account or None,
        "BillingAccountName": payer.name if payer else account_name or None,
        "SubAccountId": account or None,
        "SubAccountName": account_name or None if account else None,
        "BillingPeriodStart": moment(period_start),
        "BillingPeriodEnd": moment(period_end),
        "ChargePeriodStart": moment(day),
        "ChargePeriodEnd": moment(day + timedelta(days=1)),
        "ChargeCategory": category,
        "ChargeClass": None,
        "ChargeDescription": f"Daily total of {what}",
        "ChargeFrequency": "One-Time" if category == "Credit" else "Usage-Based",
        "InvoiceId": None,
        "InvoiceIssuerName": provider_name,
        "ProviderName": provider_name,
        "PublisherName": provider_name,
        "ServiceName": service or None,
        "ServiceCategory": service_cat,
        "ServiceSubcategory": service_sub,
        "RegionId": region or None,
        "RegionName": region_name(region) if region else None,
        "ResourceId": resource_id or None,
        "ResourceName": resource_name or None if resource_id else None,
        "ResourceType": resource_type or None if resource_id else None,
        "Tags": flat_tags(tags),
        "PricingQuantity": None,
        "PricingUnit": None,
        "x_Source": source,
        "x_Estimated": bool(estimated),
    }


def focus_rows(
    *, session: Session, start: date, end: date, payer: BillingAccount | None = None, chunk: int = 5000
) -> Iterator[list[dict]]:
    """FOCUS 1.2 rows of the store's costs in `[start, end)`, in lists of up to `chunk` rows, streamed from the
    store (ordered by day, provider, account, service, region, resource)."""
    params = {"start": start, "end": end}
    conn = session.connection()
    names = {(p, a): n for p, a, n in conn.execute(text(_NAMES), params).all()}
    result = conn.execute(text(_QUERY), params, execution_options={"stream_results": True})
    try:
        for part in result.partitions(chunk):
            yield [focus_row(row, names, payer) for row in part]
    finally:
        result.close()
