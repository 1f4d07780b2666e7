"""Service Breakdown: each service's cost in a period beside the previous period."""

from datetime import timedelta

import streamlit as st

from finops import auth, costs, ui
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
p_start, p_end = costs.previous_period(start, end)
table = ui.service_breakdown(start, end, metric, status.version)
st.caption(
    f"{start:%Y-%m-%d} to {end - timedelta(days=1):%Y-%m-%d}, compared with "
    f"{p_start:%Y-%m-%d} to {p_end - timedelta(days=1):%Y-%m-%d}"
)

if table.empty or table[metric].abs().sum() == 0:
    st.info("No cost data in this period.")
    st.stop()

total, previous = table[metric].sum(), table[f"previous_{metric}"].sum()
st.metric("Total this period", ui.money(total), ui.pct(costs.pct_change(total, previous)), delta_color="inverse")
ui.table(
    table,
    titles={metric: "Cost this period", f"previous_{metric}": "Cost previous period", "share_pct": "% of total"},
    csv=(f"services_{start}_{end}.csv", "Download service breakdown", "dl_breakdown"),
)
st.altair_chart(charts.service_bars(table, metric), width="stretch")
