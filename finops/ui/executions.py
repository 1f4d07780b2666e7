"""Helpers for the Execution Costs page and Overview: charts, the combined-costs section and the rate card form."""

from datetime import date

import altair as alt
import pandas as pd
import streamlit as st

from finops.auth import CurrentUser
from finops.data import access, db, rates
from finops.markup import plain
from finops.reports import Status
from finops.settings import get_settings
from finops.ui.loaders import combined_costs, rate_card
from finops.ui.tables import table
from finops.ui.widgets import today


def trend_chart(daily: pd.DataFrame) -> alt.LayerChart:
    """Daily execution cost with its 7-day mean: the weekly rhythm and the trend."""
    data = daily.assign(day=pd.to_datetime(daily["day"]))
    data["mean_7d"] = data["cost"].rolling(7, min_periods=1).mean()
    base = alt.Chart(data).encode(x=alt.X("day:T", title="Day"))
    bars = base.mark_bar(opacity=0.45).encode(
        y=alt.Y("cost:Q", title="Execution cost ($)", axis=alt.Axis(format="$,.0f")),
        tooltip=[alt.Tooltip("day:T"), alt.Tooltip("runs:Q"), alt.Tooltip("cost:Q", format="$,.2f")],
    )
    return bars + base.mark_line(color="#f58518").encode(y="mean_7d:Q")


def combined_chart(table: pd.DataFrame, in_bill: bool) -> alt.Chart:
    """Monthly stacks that add up to the total: bill + executions, or (in the bill) the rest of it + executions."""
    rest = table["infrastructure_cost"] - table["execution_cost"] if in_bill else table["infrastructure_cost"]
    label = "Rest of the bill" if in_bill else "Infrastructure (bill)"
    parts = pd.concat(
        [table.assign(part=label, cost=rest), table.assign(part="Executions", cost=table["execution_cost"])]
    )
    parts["month"] = pd.to_datetime(parts["month"])
    return (
        alt.Chart(parts)
        .mark_bar()
        .encode(
            x=alt.X("yearmonth(month):O", title="Month"),
            y=alt.Y("cost:Q", title="Cost ($)", axis=alt.Axis(format="$,.0f")),
            color=alt.Color("part:N", title=None, scale=alt.Scale(range=["#4c78a8", "#f58518"])),
            tooltip=[
                alt.Tooltip("yearmonth(month):T", title="Month"),
                alt.Tooltip("part:N"),
                alt.Tooltip("cost:Q", format="$,.2f"),
                alt.Tooltip("total_cost:Q", format="$,.2f"),
            ],
        )  # fmt: skip
    )


def combined_section(start: date, end: date, metric: str, status: Status, key: str) -> None:
    """The bill and execution costs per month side by side with their total, chart, table and CSV."""
    in_bill = get_settings().executions_in_bill
    data = combined_costs(start, end, metric, in_bill, status.version, status.executions_version)
    how = (
        "Executions run on infrastructure already in the bill (FINOPS_EXECUTIONS_IN_BILL=true): the total is the "
        "bill, and executions are shown as their share of it."
        if in_bill
        else "Executions are billed apart from the cloud bill: the total adds them (FINOPS_EXECUTIONS_IN_BILL=false)."
    )
    st.caption(how)
    if data.empty:
        st.info("No cloud bill or execution costs in these months.")
        return
    st.altair_chart(combined_chart(data, in_bill), width="stretch")
    csv = ("combined_costs.csv", "Download combined costs", f"dl_combined_{key}")
    titles = {"infrastructure_cost": "Infrastructure (bill)" if in_bill else "Infrastructure"}
    table(data, csv=csv, titles=titles)


def rate_card_section(user: CurrentUser) -> None:
    """The rate card and, for admins, a form that puts a new rate in force (history keeps the old ones)."""
    table(rate_card(), csv=("rate_card.csv", "Download rate card", "dl_rate_card"))
    with st.form("ex_rate", clear_on_submit=True):
        st.markdown("**Set a rate** (runs that already have a cost keep it; later runs use the rate in force)")
        c1, c2, c3 = st.columns(3)
        compute_type = c1.text_input("Compute type", key="ex_rate_type", max_chars=64)
        usd = c2.number_input("USD per unit-hour", min_value=0.0, step=0.01, format="%.4f", key="ex_rate_usd")
        since = c3.date_input("In force from (UTC)", value=today(), key="ex_rate_from")
        gpu = st.checkbox("GPU type", key="ex_rate_gpu")
        if st.form_submit_button("Save rate", key="ex_rate_save"):
            actor = access.Actor(user.username, user.is_admin)
            try:
                with db.session() as s:
                    rates.set_rate(session=s, actor=actor, compute_type=compute_type, usd_per_hour=usd,
                                   effective_from=since, gpu=gpu)  # fmt: skip
            except (rates.RateError, access.Forbidden) as exc:
                st.error(plain(exc))
            else:
                rate_card.clear()
                st.success(f"Rate of {plain(compute_type)} saved from {since:%Y-%m-%d}.")
