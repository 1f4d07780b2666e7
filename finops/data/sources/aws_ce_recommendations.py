"""AWS's savings recommendations, as rows for `recommendation`.

- GetRightsizingRecommendation (AmazonEC2, every page through botocore's paginator): one row per instance
  to terminate or modify, source "aws_rightsizing"; a modification saves what its best target saves.
- GetSavingsPlansPurchaseRecommendation (Compute SP, 1 year, no upfront, 30-day lookback; botocore has no
  paginator for it, and the summary is on the first page, so only that page is requested): one row, source
  "aws_savings_plans", or none when AWS recommends nothing to buy.

Amounts arrive as decimal text; unreadable or missing savings count 0, and so do negative ones (a
recommendation never lowers Potential Savings).
"""

from finops.data.sources.aws_ce import decimal_of

RIGHTSIZING = "GetRightsizingRecommendation"
SAVINGS_PLANS = "GetSavingsPlansPurchaseRecommendation"
RIGHTSIZING_SOURCE = "aws_rightsizing"
SAVINGS_PLANS_SOURCE = "aws_savings_plans"
SP_TERMS = {"SavingsPlansType": "COMPUTE_SP", "TermInYears": "ONE_YEAR", "PaymentOption": "NO_UPFRONT"}
SP_RESOURCE = "COMPUTE_SP/ONE_YEAR/NO_UPFRONT"
SP_KIND = "savings_plan_purchase"


def savings_of(value) -> float:
    """A savings amount as a float: missing or unreadable count 0, and so do negative ones."""
    parsed = decimal_of(value)
    return float(parsed) if parsed is not None and parsed > 0 else 0.0


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


def fetch_rightsizing(ce) -> list[dict]:
    """Every EC2 rightsizing recommendation (every page)."""
    rows = []
    for response in ce.get_paginator("get_rightsizing_recommendation").paginate(Service="AmazonEC2"):
        for item in response.get("RightsizingRecommendations") or []:
            parsed = parse_rightsizing(item)
            if parsed is not None:
                rows.append(parsed)
    return rows


def fetch_savings_plans(ce) -> list[dict]:
    """The Compute Savings Plans purchase recommendation (first page: it holds the summary)."""
    params = dict(SP_TERMS, LookbackPeriodInDays="THIRTY_DAYS")
    return parse_savings_plans(ce.get_savings_plans_purchase_recommendation(**params))
