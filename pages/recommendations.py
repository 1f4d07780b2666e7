"""Recommendations: AWS rightsizing and Savings Plans, plus our own from the inventory; dismiss or mark done."""

import streamlit as st

from finops import auth, ui
from finops.data import db, recommendations

auth.require_role(auth.ADMIN)
st.title("Recommendations")

c1, c2 = st.columns(2)
state = c1.selectbox("Status", list(recommendations.STATUSES), key="rec_status")
source = c2.selectbox("Source", ["all", "aws_rightsizing", "aws_savings_plans", "schedule", "idle"], key="rec_source",
                      format_func=lambda o: "All" if o == "all" else ui.source_name(o))  # fmt: skip
with db.session() as s:
    table = recommendations.list_recommendations(session=s, status=state, source=None if source == "all" else source)

st.metric(f"Estimated monthly savings ({state})", ui.money(table["estimated_monthly_savings"].sum(), decimals=2))
st.caption(
    "FinOps: schedule: non-production resources running around the clock, priced at their hourly cost for the "
    "hours a weekdays 08:00-20:00 schedule stops them (resources whose price is unknown are left out). FinOps: "
    "idle: resources marked idle. AWS: from AWS Cost Explorer."
)
ui.table(table, hide=["id"], csv=("recommendations.csv", "Download recommendations", "dl_recommendations"))
if table.empty:
    st.stop()

labels = dict(zip(table["id"], table["description"].str.slice(0, 120), strict=True))
chosen = st.selectbox("Recommendation", list(labels), format_func=labels.get, key="rec_selected")
b1, b2, b3, _ = st.columns([1, 1, 1, 3])
for column, target, label in [(b1, "done", "Mark done"), (b2, "dismissed", "Dismiss"), (b3, "open", "Reopen")]:
    if target != state and column.button(label, key=f"rec_{target}"):
        try:
            with db.session() as s:
                recommendations.set_status(session=s, recommendation_id=chosen, status=target)
        except recommendations.RecommendationError as exc:  # recomputed meanwhile, say
            st.error(ui.plain(exc))
        else:
            st.rerun()
