"""Execution Costs: what workflow runs cost per month, workflow and user, beside the cloud bill; the rate card."""

import streamlit as st

from finops import auth, costs, ui
from finops.ui import executions as xui

user = auth.require_role(auth.ADMIN)
st.title("Execution Costs")
status = ui.store_status()
ui.freshness_badge(status)

c1, c2 = st.columns([1, 3])
months = c1.selectbox("Months", [3, 6, 12, 24], index=2, key="ex_months")
with c2:
    metric = ui.metric_picker("ex_metric")
start, end = costs.month_window(ui.today(), months)
view = ui.execution_costs(start, end, status.executions_version)

if view.runs == 0:
    st.info(
        "No workflow runs in these months yet. The platform reports them with `POST /api/v1/finops/executions`; "
        "a file loads with `python -m finops executions import FILE.csv`."
    )
else:
    cards = st.columns(3)
    cards[0].metric("Execution cost", ui.money(view.total, decimals=2), help=f"Runs that started {start} to {end}.")
    cards[1].metric("Runs", f"{view.runs:,}")
    cards[2].metric("Cost per run (mean)", ui.money(view.total / view.runs, decimals=2))
    st.subheader("Trend")
    st.altair_chart(xui.trend_chart(view.daily), width="stretch")
    tabs = st.tabs(["By month", "By workflow", "By user", "Most expensive runs"])
    tables = [
        (view.monthly, "executions_by_month.csv"),
        (view.by_workflow, "executions_by_workflow.csv"),
        (view.by_user, "executions_by_user.csv"),
        (view.top_runs, "most_expensive_runs.csv"),
    ]
    for tab, (table, filename) in zip(tabs, tables, strict=True):
        with tab:
            label = f"Download {filename.removesuffix('.csv').replace('_', ' ')}"
            ui.table(table, csv=(filename, label, f"dl_{filename}"))

st.subheader("Combined with the cloud bill")
xui.combined_section(start, end, metric, status, key="executions")

st.subheader("Rate card")
xui.rate_card_section(user)
