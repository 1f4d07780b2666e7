"""Data Sources: every source with its periods and last delivery, refresh runs, requests, Cost Explorer API spend
and permission problems."""

import streamlit as st

from finops import auth, ui
from finops.cron_words import cron_in_words
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
sidecar = (
    f"{'running' if ui.sidecar_alive(status) else 'not running'} (last heartbeat {beat:%Y-%m-%d %H:%M:%S} UTC)"
    if beat
    else "never started on this store (`python -m finops.jobs`, or `make run`)"
)
st.caption(f"Sidecar: {sidecar} · it refreshes costs {cron_in_words(settings.refresh_cron)}")

problems = sources.features[sources.features["status"].isin(["not_permitted", "error"])]
for row in problems.itertuples():
    st.warning(f"{row.operation}: {ui.plain(row.message)}")

st.subheader("Sources")
st.caption("Every source with cost data, per provider: what it covers and when it last delivered. Billing files "
           "(FOCUS, CUR 2.0) replace a provider's period when it is delivered again.")  # fmt: skip
if sources.sources.empty:
    st.info("No cost data yet: refresh from AWS Cost Explorer, or import billing files with "
            "`python -m finops import focus PATH`.")  # fmt: skip
else:
    ui.table(sources.sources, csv=("sources.csv", "Download sources", "dl_sources"))
if not sources.periods.empty:
    st.caption("Billing periods: the newest delivery of each provider's period.")
    ui.table(sources.periods, csv=("billing_periods.csv", "Download billing periods", "dl_periods"))
if not sources.locations.empty:
    every = settings.focus_poll_minutes
    st.caption(f"Billing-file locations the sidecar looks at (FINOPS_FOCUS_PATHS), every {every} minutes; a "
               "location is imported again only when its files change.")  # fmt: skip
    ui.table(sources.locations, csv=("focus_locations.csv", "Download locations", "dl_locations"))

st.subheader("Refresh runs")
st.caption("One row per refresh; the history months it loaded are its parts.")
ui.table(sources.runs, csv=("refresh_runs.csv", "Download refresh runs", "dl_runs"))

st.subheader("Refresh requests")
ui.table(sources.requests, csv=("refresh_requests.csv", "Download refresh requests", "dl_requests"))

st.subheader("Other Cost Explorer calls")
if sources.features.empty:
    st.caption("None yet: AWS's forecast and anomalies (daily) and recommendations (weekly) are fetched after an "
               "AWS refresh.")  # fmt: skip
else:
    ui.table(sources.features, csv=("ce_features.csv", "Download call status", "dl_features"))

st.subheader("AWS prices")
fetched = f", the newest fetched {sources.prices_fetched_at:%Y-%m-%d}" if sources.prices_fetched_at else ""
st.caption(
    f"{sources.prices_stored:,} prices from the AWS Price List API{fetched}; prices older than a week are fetched "
    "again. A price the API has not given comes from the bundled table (offline fallback), else it is unknown."
)
if not sources.price_sources.empty:
    ui.table(sources.price_sources, titles={"source": "Price from", "resources": "AWS resources"})

ui.exchange_rates_section()  # issue 14: exchange rates (kept last, in finops/ui/fx.py)
