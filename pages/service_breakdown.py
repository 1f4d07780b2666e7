"""Service Breakdown: each service's cost in a period beside the previous period."""

from datetime import timedelta

import streamlit as st

from finops import auth, costs, fx, ui
from finops.ui import charts

auth.require_role(auth.ADMIN)
st.title("Service Breakdown")
status = ui.store_status()
ui.freshness_badge(status)
ui.require_data(status)

left, right = st.columns([2, 1])
with left:
    start, end = ui.date_range_picker("breakdown", default="Last 30 days")
with right:
    metric = ui.metric_picker("breakdown_metric")
accounts, providers = ui.account_names(status.version), ui.provider_names(status.version)
a_col, p_col = st.columns([2, 1]) if len(providers) > 1 else (st.container(), None)
chosen_accounts = a_col.multiselect("Accounts", list(accounts), format_func=accounts.get, placeholder="All accounts",
                                    key="breakdown_accounts")  # fmt: skip
chosen_providers = p_col.multiselect("Providers", providers, placeholder="All providers",
                                     key="breakdown_providers") if p_col else []  # fmt: skip
currency = ui.currency_picker()
p_start, p_end = costs.previous_period(start, end)
chosen = (currency, tuple(chosen_accounts), tuple(chosen_providers))
try:
    table = ui.service_breakdown(start, end, metric, status.version, *chosen, ui.exchange_rates_version())
except fx.NoRate as exc:
    ui.refuse_conversion(exc)
cur, unit = ("USD", "USD, converted") if currency == fx.ALL else (currency or "USD",) * 2
st.caption(
    f"{start:%Y-%m-%d} to {end - timedelta(days=1):%Y-%m-%d}, compared with "
    f"{p_start:%Y-%m-%d} to {p_end - timedelta(days=1):%Y-%m-%d}; amounts in {cur}"
    + (", converted at imported exchange rates" if currency == fx.ALL else "")
)

if table.empty or table[metric].abs().sum() == 0:
    st.info("No cost data in this period.")
    st.stop()

total, previous = table[metric].sum(), table[f"previous_{metric}"].sum()
st.metric("Total this period", ui.money(total, cur), ui.pct(costs.pct_change(total, previous)), delta_color="inverse")
ui.table(
    table,
    titles={
        metric: f"Cost this period ({cur})",
        f"previous_{metric}": f"Cost previous period ({cur})",
        "share_pct": "% of total",
    },
    hide=["currency", "converted"],
    currency=cur,
    csv=(f"services_{start}_{end}.csv", "Download service breakdown", "dl_breakdown"),
)
st.altair_chart(charts.service_bars(table, metric, currency=unit), width="stretch")
