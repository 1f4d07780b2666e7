"""Streamlit-only helpers: cached loaders, widgets, formatting, CSV download."""

from finops.columns import source_name
from finops.ui.currency import currency_picker, refuse_conversion, store_currency, unit
from finops.ui.format import money, pct, plain, ratio_pct
from finops.ui.fx import exchange_rates_section
from finops.ui.loaders import (
    account_names,
    combined_costs,
    data_sources,
    exchange_rates_version,
    execution_costs,
    forecast_series,
    forecast_view,
    home_kpis,
    overview,
    provider_names,
    rate_card,
    schedule_savings,
    service_breakdown,
    service_names,
    store_status,
)
from finops.ui.progress import run_progress
from finops.ui.tables import csv_download, table
from finops.ui.widgets import (
    date_range_picker,
    freshness_badge,
    metric_picker,
    refresh_button,
    require_data,
    sidecar_alive,
    today,
)

__all__ = [
    "account_names",
    "combined_costs",
    "csv_download",
    "currency_picker",
    "data_sources",
    "date_range_picker",
    "exchange_rates_section",
    "execution_costs",
    "freshness_badge",
    "home_kpis",
    "metric_picker",
    "money",
    "overview",
    "pct",
    "plain",
    "provider_names",
    "rate_card",
    "ratio_pct",
    "forecast_series",
    "forecast_view",
    "refresh_button",
    "refuse_conversion",
    "require_data",
    "run_progress",
    "schedule_savings",
    "service_breakdown",
    "service_names",
    "sidecar_alive",
    "source_name",
    "store_currency",
    "store_status",
    "table",
    "today",
    "unit",
    "exchange_rates_version",
]
