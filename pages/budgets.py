"""Budgets: spending limits on the platform, a person's or a group's resources, with thresholds that alert and
act. Members see and edit the budgets on themselves and their groups; admins every budget."""

from datetime import UTC, datetime

import streamlit as st

from finops import auth, ui
from finops.data import budget_runs
from finops.ui import budgets as bui
from finops.ui import charts

user = auth.require_role(auth.MEMBER)
actor = bui.actor_of(user)
now = datetime.now(UTC)
st.title("Budgets")
st.caption("Platform budgets count the bill (billed); user and group budgets count the hours their resources ran "
           "times their hourly cost (estimated), or a billing file's rows for the resources it names (billed). "
           "Each threshold alerts once per period; actions wait for an "
           "approval unless they say automatic, and are undone when the period ends.")  # fmt: skip

bui.flash()
bui.approvals(actor)
status = bui.call(budget_runs.status, actor=actor, as_of=now)
opts = bui.options(actor)
if status is not None and not status.empty:
    st.altair_chart(charts.budget_progress(status, bui.threshold_marks(status)), width="stretch")
    ui.table(bui.status_table(status), csv=("budgets.csv", "Download budgets", "dl_budgets"), hide=["id"])
    names = dict(zip(status["id"], status["name"] + " (" + status["scope"] + ")", strict=True))
    bid = st.selectbox("Budget", list(names), format_func=names.get, key="bd_selected")
    bui.details(actor, status.set_index("id").loc[bid].to_dict() | {"id": bid}, now)
    with st.expander("Edit or delete this budget"):
        bui.edit_panel(actor, int(bid), opts)
else:
    st.info("No budgets yet: create one below, for example 1,000 USD a month for a group, alerting at 80 % of "
            "actual spend and at 100 % of the forecast.")  # fmt: skip

st.subheader("New budget")
bui.new_panel(actor, opts)
