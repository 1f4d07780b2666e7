"""Data Sources: refresh runs, requests, Cost Explorer API spend and permission problems."""

import streamlit as st

from finops import auth, ui
from finops.settings import get_settings

auth.require_role(auth.ADMIN)
st.title("Data Sources")
status = ui.store_status()
ui.freshness_badge(status)
sources = ui.data_sources()
settings = get_settings()

c1, c2, c3 = st.columns(3)
c1.metric("Cost Explorer requests this month", f"{sources.month_requests:,}")
c2.metric("Cost Explorer spend this month", ui.money(sources.month_usd, decimals=2), help="USD 0.01 per request")
c3.metric(
    "Requests today",
    f"{sources.today_requests:,} / {settings.aws_max_requests_per_day:,}",
    help="FINOPS_AWS_MAX_REQUESTS_PER_DAY caps them: past it a refresh stops instead of spending more.",
)
beat = status.sidecar_beat_at
st.caption(
    f"Sidecar: {'running' if ui.sidecar_alive(status) else 'not running'} (last heartbeat "
    f"{beat:%Y-%m-%d %H:%M:%S} UTC) · refreshes on `{settings.refresh_cron}` (UTC)"
    if beat
    else "Sidecar: never started on this store (`python -m finops.jobs`, or `make run`)"
)

problems = sources.features[sources.features["status"].isin(["not_permitted", "error"])]
for row in problems.itertuples():
    st.warning(f"{row.operation}: {ui.plain(row.message)}")

st.subheader("Refresh runs")
st.dataframe(sources.runs, hide_index=True, width="stretch")
ui.csv_download(sources.runs, "refresh_runs.csv", "Download refresh runs", "dl_runs")

st.subheader("Refresh requests")
st.dataframe(sources.requests, hide_index=True, width="stretch")
ui.csv_download(sources.requests, "refresh_requests.csv", "Download refresh requests", "dl_requests")

st.subheader("Once-a-day Cost Explorer calls")
if sources.features.empty:
    st.caption("None yet: forecasts, anomalies and recommendations are fetched after an AWS refresh.")
else:
    st.dataframe(sources.features, hide_index=True, width="stretch")
    ui.csv_download(sources.features, "ce_features.csv", "Download call status", "dl_features")
