"""Inbox: the budget alerts of the budgets a person may see (their own, their groups'; admins all), newest first,
with where each was sent. Opening it marks them seen."""

import streamlit as st

from finops import auth
from finops.data import notifications
from finops.ui import budgets as bui
from finops.ui import table

user = auth.require_role(auth.MEMBER)
actor = bui.actor_of(user)
st.title("Inbox")
bui.flash()
alerts = bui.call(notifications.alerts, actor=actor)
if alerts is None or alerts.empty:
    st.info("No alerts yet. A budget's thresholds alert here (and by email or webhook when they name channels).")
else:
    table(alerts, csv=("alerts.csv", "Download alerts", "dl_alerts"), hide=["owner"])
bui.call(notifications.mark_read, actor=actor)
st.subheader("Deliveries by email and webhook")
bui.deliveries(actor)
