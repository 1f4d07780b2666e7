"""Home: the four KPI cards."""

import streamlit as st

from finops import auth, costs, fx, ui

auth.require_role(auth.ADMIN)
st.title("Home")
status = ui.store_status()
ui.freshness_badge(status)
ui.require_data(status)

today = ui.today()
left, right = st.columns(2)
with left:
    months = st.selectbox("Average over", [3, 6, 12, 24], index=2, format_func=lambda n: f"last {n} months")
with right:
    metric = ui.metric_picker("home_metric")
currency = ui.currency_picker()
try:
    kpis = ui.home_kpis(today, costs.add_months(today, -months), metric, currency, status.version,
                        ui.exchange_rates_version())  # fmt: skip
except fx.NoRate as exc:
    ui.refuse_conversion(exc)
cur = kpis.currency or "USD"
converted = ", converted at imported exchange rates" if kpis.converted else ""
st.caption(f"Amounts in {cur}{converted}" + (" (savings in USD)." if cur != "USD" else "."))

cards = st.columns(4)
if kpis.mtd_start is None:
    cards[0].metric(
        "Current Month Spend", ui.money(0, cur), help=f"No data for {today:%B} yet (data as of {kpis.as_of})."
    )
else:
    cards[0].metric(
        "Current Month Spend",
        ui.money(kpis.mtd, cur),
        ui.pct(kpis.mtd_change_pct),
        delta_color="inverse",
        help=f"{kpis.mtd_start:%b %d} – {kpis.as_of:%b %d}, against the same days of last month "
        f"({ui.money(kpis.mtd_previous, cur)}).",
    )
cards[1].metric(
    "Average Monthly Cost",
    ui.money(kpis.average_monthly, cur),
    help=f"Mean of the {kpis.average_months} complete months in the last {months} months.",
)
cards[2].metric(
    f"Projected Next Month ({kpis.next_month:%B})",
    ui.money(kpis.projected_next_month, cur) if kpis.projected_next_month is not None else "Not yet",
    help="Sum of the daily total-spend forecast over next month, from the newest forecast run.",
)
if kpis.forecast_currency and kpis.currency != kpis.forecast_currency:
    cards[2].caption(f"Forecasts are made in {kpis.forecast_currency}, the store's default currency.")
elif kpis.projected_next_month is None:
    cards[2].caption("No forecast yet: forecasts appear once the sidecar has computed them.")
cards[3].metric(
    "Potential Savings",
    f"{ui.money(kpis.potential_savings)}/mo" if kpis.potential_savings is not None else "Not yet",
    help="Estimated monthly savings of all open recommendations.",
)
if kpis.potential_savings is None:
    cards[3].caption("No recommendations yet: they appear once savings have been analysed.")
scheduled = ui.schedule_savings()
if scheduled is not None:
    cards[3].caption(f"Schedules: {ui.money(scheduled[0])}/mo predicted, {ui.money(scheduled[1], decimals=2)} "
                     "saved this month (Schedules page).")  # fmt: skip

spend = ui.data_sources()
if spend.month_requests:
    st.caption(
        f"Cost Explorer API this month: {spend.month_requests:,} requests, {ui.money(spend.month_usd, decimals=2)} "
        "(USD 0.01 each; details on Data Sources)."
    )
