"""Overview: monthly trend by service, month-over-month change, and daily spend."""

import streamlit as st

from finops import auth, costs, fx, reports, ui
from finops.ui import charts
from finops.ui import executions as xui

auth.require_role(auth.ADMIN)
st.title("Overview")
status = ui.store_status()
ui.freshness_badge(status)
ui.require_data(status)

accounts = ui.account_names(status.version)
c1, c2, c3, c4 = st.columns([1, 2, 2, 1])
months = c1.selectbox("Months", [3, 6, 12, 24, 36], index=2, key="overview_months")
chosen_accounts = c2.multiselect("Accounts", list(accounts), format_func=accounts.get, placeholder="All accounts")
chosen_services = c3.multiselect("Services", ui.service_names(status.version), placeholder="All services")
with c4:
    metric = ui.metric_picker("overview_metric")
providers = ui.provider_names(status.version)
chosen_providers = (
    st.multiselect("Providers", providers, placeholder="All providers", key="overview_providers")
    if len(providers) > 1
    else []
)
include_current = st.toggle("Include the current month (to date)", value=True, key="overview_current")
currency = ui.currency_picker()

this_month = costs.month_start(ui.today())
end_month = costs.add_months(this_month, 1) if include_current else this_month
daily_start, daily_end = reports.last_days(status.last_day, 30)
try:
    data = ui.overview(
        costs.add_months(end_month, -months), end_month, daily_start, daily_end, metric,
        tuple(chosen_accounts), tuple(chosen_services), status.version, currency, tuple(chosen_providers),
        ui.exchange_rates_version(),
    )  # fmt: skip
except fx.NoRate as exc:
    ui.refuse_conversion(exc)
cur, unit = data.currency or "USD", ui.unit(data.currency, data.converted)
st.caption(f"Amounts in {cur}, converted at imported exchange rates." if data.converted else f"Amounts in {cur}.")

st.subheader("Monthly trend")
if data.monthly_totals.empty:
    st.info("No cost data for this selection.")
else:
    st.altair_chart(charts.monthly_stacked(data.monthly_services, data.monthly_totals, metric, unit), width="stretch")
    left, right = st.columns(2)
    with left:
        ui.table(data.monthly_totals, titles={metric: f"Total ({unit})"}, hide=["currency", "converted"], currency=cur,
                 csv=("monthly_totals.csv", "Download monthly totals", "dl_monthly_totals"))  # fmt: skip
    with right:
        ui.table(data.monthly_services, titles={metric: f"Cost ({unit})"}, hide=["currency", "converted"], currency=cur,
                 csv=("monthly_by_service.csv", "Download monthly by service", "dl_monthly_svc"))  # fmt: skip

st.subheader(f"Daily spend, last 30 days (to {status.last_day:%b %d})")
if data.daily_totals.empty:
    st.info("No daily cost data for this selection in the last 30 days.")
else:
    st.altair_chart(charts.daily_stacked(data.daily, metric, unit), width="stretch")
    ui.table(data.daily_totals, titles={metric: f"Total ({unit})"}, hide=["currency", "converted"], currency=cur)
    ui.csv_download(data.daily, "daily_by_service.csv", "Download daily by service", "dl_daily")

st.subheader("Cloud bill and execution costs")
xui.combined_section(costs.add_months(end_month, -months), end_month, metric, status, key="overview")
