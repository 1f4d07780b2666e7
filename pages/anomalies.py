"""Anomalies: ours and AWS's in one table, the series with the anomaly's days shaded, and feedback."""

from datetime import timedelta

import streamlit as st

from finops import auth, ui
from finops.data import anomalies, db
from finops.ui import charts

user = auth.require_role(auth.ADMIN)
st.title("Anomalies")
status = ui.store_status()
ui.freshness_badge(status)
ui.require_data(status)
ui.run_progress("anomalies")

c1, c2, c3, c4, c5 = st.columns([1, 1, 1, 1, 2])
since = c1.date_input("Since", value=status.last_day - timedelta(days=180), key="an_since")
source = c2.selectbox("Source", ["all", "finops", "aws"], key="an_source",
                      format_func=lambda o: "All" if o == "all" else ui.source_name(o))  # fmt: skip
state = c3.selectbox("Status", ["all", "open", *anomalies.FEEDBACK], key="an_status")
dimension = c4.selectbox("By", ["all", "service", "account"], key="an_dimension")
search = c5.text_input("Service or account", key="an_search")
with db.session() as s:
    table = anomalies.list_anomalies(
        session=s, since=since, search=search,
        source=None if source == "all" else source,
        status=None if state == "all" else state,
        dimension=None if dimension == "all" else dimension, events=True,
    )  # fmt: skip

cur = ui.store_currency()
st.caption(f"{len(table)} anomalies, amounts in {cur}. FinOps's own come from a robust seasonal model per service "
           "and per account (one row when both see the same rise); AWS's from AWS Cost Anomaly Detection.")  # fmt: skip
ui.table(table, hide=["id", "score"], currency=cur, csv=("anomalies.csv", "Download anomalies", "dl_anomalies"))
if table.empty:
    st.stop()

labels = {r.id: f"{r.start_day} · {r.service or r.account_id or 'AWS monitor'} · {ui.money(r.impact, cur)} "
              f"({ui.source_name(r.source)})" for r in table.itertuples()}  # fmt: skip
chosen = st.selectbox("Anomaly", list(labels), format_func=labels.get, key="an_selected")
with db.session() as s:
    views = [anomalies.series_around(session=s, anomaly_id=r.id) for r in anomalies.event_rows(session=s,
             anomaly_id=chosen)]  # fmt: skip
picked = table.set_index("id").loc[chosen]
for series, view in views:  # the service's and the account's series when both saw the rise
    if len(views) > 1:
        st.markdown(ui.plain(f"By {view.dimension}: {view.service or view.account_id}"))
    st.altair_chart(charts.anomaly_window(series, view.start_day, view.end_day or view.start_day, cur), width="stretch")
if picked["low_confidence"]:
    st.warning("Low confidence: the series had little history when this happened.")
st.markdown(f"**Contributors:** {ui.plain(picked['contributors']) or '—'}", help="Largest impact first")

options = ["open", *anomalies.FEEDBACK]
with st.form(f"an_feedback_{chosen}"):
    choice = st.radio(
        "Feedback", options, index=options.index(picked["status"]), horizontal=True, key=f"an_choice_{chosen}",
        format_func=lambda o: anomalies.FEEDBACK_LABELS.get(o, "Open"),
    )  # fmt: skip
    if st.form_submit_button("Save feedback", key="an_save"):
        try:
            with db.session() as s:
                anomalies.set_feedback(
                    session=s, anomaly_id=chosen, feedback=None if choice == "open" else choice, actor=user.username
                )
        except anomalies.AnomalyError as exc:  # dropped by a detection run since the page was drawn, say
            st.error(ui.plain(exc))
        else:
            st.success("Feedback saved: later detection runs keep it.")
            st.rerun()
