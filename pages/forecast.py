"""Forecast: history and our forecast with its band, per series, with the back-test error beside two baselines."""

import streamlit as st

from finops import auth, ui
from finops.data import forecasts
from finops.ui import charts

auth.require_role(auth.ADMIN)
st.title("Forecast")
status = ui.store_status()
ui.freshness_badge(status)
ui.require_data(status)
ui.run_progress("forecast")

c1, c2 = st.columns([3, 1])
level = c2.slider("Interval (%)", min_value=51, max_value=99, value=80, key="fc_level")
table = ui.forecast_series(status.version, status.forecast_run)
if table.empty:
    st.info("No forecast yet: the sidecar computes one after each refresh (about a minute for 25 series).")
    st.stop()
names = table.loc[table["skipped"].isna(), "series"].tolist()
series = c1.selectbox("Series", names, key="fc_series", format_func=lambda s: s.replace(":", ": ", 1))
view = ui.forecast_view(series, level, status.version, status.forecast_run)
row = view.series.set_index("series").loc[series]
cur = view.currency or "USD"

st.caption(f"Forecast run {view.run_id} of {view.run_created_at:%Y-%m-%d %H:%M} UTC, stored at "
           f"{view.stored_level} %, shown at {level} %. Model: {forecasts.model_label(row['model'])}, chosen by "
           "back-test; its band comes from its back-test errors. Amounts in "
           f"{cur}, the store's default currency (forecasts never add currencies).")  # fmt: skip
if row["low_confidence"]:
    st.warning(f"Low confidence: only {row['history_days']} days of history (8 weeks or more is reliable).")
m1, m2, m3, m4 = st.columns(4)
m1.metric("Back-test error (MAPE, 30 days ahead)", ui.ratio_pct(row["mape"]))
m2.metric("Seasonal-naive baseline", ui.ratio_pct(row["naive_mape"]), help="Same weekday, mean of the last 4 weeks")
m3.metric("Last week repeated", ui.ratio_pct(row["last_week_mape"]), help="Each day the same weekday of last week")
m4.metric("History", f"{row['history_days']} days")
st.altair_chart(charts.forecast(view.history, view.forecast, view.aws, level, cur), width="stretch")

st.subheader("Back-test")
st.caption(f"30 days ahead from 3 origins (30, 60 and 90 days before the last day). The stored {view.stored_level} % "
           f"band held {ui.ratio_pct(row['coverage'], 0)} of those days.")  # fmt: skip
ui.table(forecasts.backtest_table(row), titles={"method": "Forecast", "mape": "Daily error (MAPE)"})

st.subheader("Monthly totals")
ui.table(view.monthly, currency=cur, titles={"yhat": f"Forecast ({cur})", "yhat_lower": f"Lower ({level} %)",
                                             "yhat_upper": f"Upper ({level} %)",
                               "days": "Days forecast"},
         csv=(f"forecast_monthly_{series}.csv", "Download monthly totals", "dl_fc_monthly"))  # fmt: skip
ui.csv_download(view.forecast, f"forecast_daily_{series}.csv", "Download daily forecast", "dl_fc_daily")

st.subheader("Every series")
ui.table(view.series, csv=("forecast_series.csv", "Download series errors", "dl_fc_series"))
