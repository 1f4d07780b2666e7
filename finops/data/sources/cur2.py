"""AWS Data Exports CUR 2.0 files read as FOCUS: the SQL that gives a CUR 2.0 row the columns the FOCUS import
checks and sums (`finops.data.sources.focus`), and the CUR column each of them comes from, for messages.

Billed cost is `line_item_unblended_cost` on every line (usage, tax, fees, credits and refunds as they are signed).
Effective (amortized) cost follows AWS's own amortized-cost rules by `line_item_line_item_type`: Savings Plans
covered usage costs its `savings_plan_savings_plan_effective_cost` and the Savings Plans negation and upfront fee
lines 0; the recurring fee only its unused part (`savings_plan_total_commitment_to_date -
savings_plan_used_commitment`); reserved-instance usage (`DiscountedUsage`) its `reservation_effective_cost`; the
`RIFee` its unused amortized upfront and recurring fee; an RI's upfront `Fee` 0; every other line its unblended
cost. docs/focus.md has the table.
"""

# The columns a CUR 2.0 file has (and an older CUR, `lineItem/...`, does not).
MARKERS = {"bill_billing_period_start_date", "line_item_line_item_type", "line_item_unblended_cost"}
REQUIRED = [
    "bill_billing_period_start_date",
    "bill_billing_period_end_date",
    "line_item_usage_start_date",
    "line_item_usage_account_id",
    "line_item_product_code",
    "line_item_unblended_cost",
    "line_item_line_item_type",
    "line_item_currency_code",
]
# FOCUS column named in a message -> the CUR 2.0 column it comes from
NAMES = {
    "BillingPeriodStart": "bill_billing_period_start_date",
    "BillingPeriodEnd": "bill_billing_period_end_date",
    "ChargePeriodStart": "line_item_usage_start_date",
    "SubAccountId": "line_item_usage_account_id",
    "SubAccountName": "line_item_usage_account_name",
    "ServiceName": "line_item_product_code",
    "region": "product_region_code",
    "BilledCost": "line_item_unblended_cost",
    "EffectiveCost": "line_item_unblended_cost",
    "BillingCurrency": "line_item_currency_code",
    "ResourceId": "line_item_resource_id",
    "ResourceName": "line_item_resource_id",
    "ResourceType": "line_item_product_code",
    "Tags": "resource_tags",
}


def is_cur2(columns: dict[str, str]) -> bool:
    return MARKERS <= set(columns)


def missing(columns: dict[str, str]) -> list[str]:
    return [c for c in REQUIRED if c not in columns]


def picks(columns: dict[str, str], text, amount: str) -> dict[str, str]:
    """SQL for the import's own columns (see focus._normalised) from a CUR 2.0 file with `columns`; `text(name)`
    is a column as trimmed text or null, `amount` the exact decimal type."""

    def number(name: str) -> str:  # a cost column as an exact decimal; an absent or empty one counts 0
        return f"COALESCE(TRY_CAST({text(name)} AS {amount}), 0)" if name in columns else "0"

    kind = text("line_item_line_item_type")
    unblended = text("line_item_unblended_cost")
    ri_fee = "false"
    if "reservation_reservation_a_r_n" in columns:
        ri_fee = f"{kind} = 'Fee' AND {text('reservation_reservation_a_r_n')} IS NOT NULL"
    effective = (
        f"CASE WHEN {unblended} IS NULL OR TRY_CAST({unblended} AS {amount}) IS NULL THEN {unblended} "
        f"ELSE CAST(CASE "
        f"WHEN {kind} = 'SavingsPlanCoveredUsage' THEN {number('savings_plan_savings_plan_effective_cost')} "
        f"WHEN {kind} IN ('SavingsPlanNegation', 'SavingsPlanUpfrontFee') THEN 0 "
        f"WHEN {kind} = 'SavingsPlanRecurringFee' THEN {number('savings_plan_total_commitment_to_date')} "
        f"- {number('savings_plan_used_commitment')} "
        f"WHEN {kind} = 'DiscountedUsage' THEN {number('reservation_effective_cost')} "
        f"WHEN {kind} = 'RIFee' THEN {number('reservation_unused_amortized_upfront_fee_for_billing_period')} "
        f"+ {number('reservation_unused_recurring_fee')} "
        f"WHEN {ri_fee} THEN 0 "
        f"ELSE TRY_CAST({unblended} AS {amount}) END AS VARCHAR) END"
    )
    return {
        "bp_start": text("bill_billing_period_start_date"),
        "bp_end": text("bill_billing_period_end_date"),
        "charge_start": text("line_item_usage_start_date"),
        "provider": "'AWS'",  # every CUR line is AWS's bill (Marketplace sellers included), as in AWS's FOCUS export
        "account_id": text("line_item_usage_account_id"),
        "account_name": text("line_item_usage_account_name"),
        "service": text("line_item_product_code"),
        "region": text("product_region_code"),
        "billed": unblended,
        "effective": effective,
        "currency": text("line_item_currency_code"),
        "resource_id": text("line_item_resource_id"),
        "resource_name": "CAST(NULL AS VARCHAR)",
        "resource_type": "CAST(NULL AS VARCHAR)",
        "tags": text("resource_tags"),
    }
