"""Forecast, Anomalies and Recommendations pages: what they show comes from the store."""

import json

import pandas as pd
import pytest
from sqlalchemy import select
from sqlmodel import Session

from finops.data import anomalies, forecasts, queries, recommendations
from finops.data.sources import demo
from finops.data.tables import Anomaly, AnomalyRun, ForecastRun, Recommendation
from finops.models.forecaster import rescale_interval
from tests.pages.conftest import open_page

pytestmark = pytest.mark.slow  # the modeled store fits real Prophet forecasts once per session


def chart_spec(at) -> dict:
    """The first Altair chart's Vega-Lite spec (AppTest has no typed element for charts)."""
    (chart, *_) = at.get("vega_lite_chart")
    return json.loads(chart.proto.spec)


def test_forecast_page_shows_the_stored_run_and_its_errors(modeled_store, downloads):
    at = open_page("pages/forecast.py")
    with Session(modeled_store) as s:
        run = forecasts.latest_run(session=s)
        table = forecasts.series_table(session=s, run_id=run.id)
        stored = forecasts.points(session=s, run_id=run.id, series="total")
    total = table.set_index("series").loc["total"]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Back-test error (MAPE, 30 days ahead)"] == f"{100 * total['mape']:.1f} %"
    assert metrics["Seasonal-naive baseline"] == f"{100 * total['naive_mape']:.1f} %"
    assert metrics["Last week repeated"] == f"{100 * total['last_week_mape']:.1f} %"
    assert metrics["History"] == f"{total['history_days']} days"
    assert any(forecasts.model_label(total["model"]) in c.value for c in at.caption)
    backtest = at.dataframe[0].value  # the chosen model's back-test errors beside both baselines'
    assert list(backtest["mape"].round(6)) == [round(total[c], 6) for c in ("mape", "naive_mape", "last_week_mape")]
    assert list(backtest["total_error"].round(6)) == [
        round(total[c], 6) for c in ("total_error", "naive_total_error", "last_week_total_error")
    ]
    monthly = at.dataframe[1].value
    expected = forecasts.monthly(stored)
    assert list(monthly["yhat"].round(2)) == list(expected["yhat"].round(2))
    assert monthly["days"].sum() == len(stored) == run.horizon_days
    assert (monthly["yhat_lower"] <= monthly["yhat"]).all() and (monthly["yhat"] <= monthly["yhat_upper"]).all()
    every = at.dataframe[2].value
    assert set(every["series"]) == set(table["series"]) and len(every) == 1 + 3 + 5  # total, top 3, 5 accounts
    assert b"yhat_lower" in downloads["forecast_daily_total.csv"]
    layers = chart_spec(at)["layer"]
    assert [layer["mark"]["type"] for layer in layers] == ["area", "line"]  # the band, then the lines


def test_forecast_page_interval_and_series_selectors(modeled_store):
    at = open_page("pages/forecast.py")
    at.slider(key="fc_level").set_value(95).run()
    with Session(modeled_store) as s:
        run = forecasts.latest_run(session=s)
        stored = forecasts.points(session=s, run_id=run.id, series="total")
    wider = forecasts.monthly(rescale_interval(stored, from_level=80, to_level=95))
    shown = at.dataframe[1].value
    assert list(shown["yhat_upper"].round(2)) == list(wider["yhat_upper"].round(2))
    assert (shown["yhat_upper"] > forecasts.monthly(stored)["yhat_upper"]).all()
    account = next(o for o in at.selectbox(key="fc_series").options if o.startswith("account"))
    at.selectbox(key="fc_series").set_value(account.replace(": ", ":", 1)).run()
    assert not at.exception
    with Session(modeled_store) as s:
        points = forecasts.points(session=s, run_id=run.id, series=account.replace(": ", ":", 1))
    assert at.dataframe[1].value["days"].sum() == len(points)


def test_forecast_page_before_any_run_says_so(seeded_store):
    at = open_page("pages/forecast.py")
    assert any("No forecast yet" in i.value for i in at.info) and not at.metric


def test_anomalies_page_lists_stored_anomalies_and_keeps_feedback(modeled_store, downloads):
    at = open_page("pages/anomalies.py")
    with Session(modeled_store) as s:
        since = pd.Timestamp(at.date_input(key="an_since").value).date()
        stored = anomalies.list_anomalies(session=s, since=since, events=True)  # one row per rise
    table = at.dataframe[0].value
    assert len(table) == len(stored) >= 2
    assert list(table["impact"].round(2)) == list(stored["impact"].round(2))
    with Session(modeled_store) as s:
        _, last = queries.coverage(session=s)
    injected = {(a.service, a.start) for a in demo.anomalies(last)}
    lambda_spike = next(k for k in injected if k[0] == "AWS Lambda")
    assert lambda_spike in set(zip(table["service"], table["start_day"], strict=True))
    assert b"impact" in downloads["anomalies.csv"]
    spec = chart_spec(at)
    assert [layer["mark"]["type"] for layer in spec["layer"]] == ["rect", "line"]  # the shaded window, the series

    first = int(stored["id"].iloc[0])
    at.radio(key=f"an_choice_{first}").set_value("false_positive")
    at.button(key="an_save").click().run()
    with Session(modeled_store) as s:
        assert s.get(Anomaly, first).feedback == "false_positive"
        assert s.get(Anomaly, first).feedback_by == "admin"
    at.selectbox(key="an_status").set_value("open").run()
    assert first not in set(anomalies.list_anomalies(session=Session(modeled_store), status="open")["id"])
    assert len(at.dataframe[0].value) == len(stored) - 1


def test_recommendations_page_totals_and_dismiss(modeled_store, downloads):
    at = open_page("pages/recommendations.py")
    with Session(modeled_store) as s:
        open_rows = recommendations.list_recommendations(session=s)
    assert len(open_rows) > 0
    total = next(m for m in at.metric if m.label.startswith("Estimated monthly savings")).value
    assert total == f"${open_rows['estimated_monthly_savings'].sum():,.2f}"
    assert len(at.dataframe[0].value) == len(open_rows)
    first = int(at.selectbox(key="rec_selected").value)
    at.button(key="rec_dismissed").click().run()
    with Session(modeled_store) as s:
        assert s.get(Recommendation, first).status == "dismissed"
        recommendations.refresh_own(session=s)  # the next computation keeps the decision
        assert s.execute(select(Recommendation.status).where(Recommendation.id == first)).scalar() == "dismissed"
    assert len(at.dataframe[0].value) == len(open_rows) - 1
    assert b"estimated_monthly_savings" in downloads["recommendations.csv"]


@pytest.mark.parametrize("page", ["pages/forecast.py", "pages/anomalies.py", "pages/recommendations.py"])
def test_insight_pages_are_admin_only(seeded_store, page):
    at = open_page(page, username="member", role="member")
    assert any("Admins only" in e.value for e in at.error)
    assert not at.dataframe and not at.metric


@pytest.mark.parametrize(
    ("page", "row", "text"),
    [
        ("pages/forecast.py", ForecastRun(status="running", done=3, total=9), "3 of 9 series"),
        ("pages/anomalies.py", AnomalyRun(step="scoring services and accounts", done=1, total=3),
         "scoring services and accounts, step 2 of 3"),
    ],
)  # fmt: skip
def test_a_run_in_progress_shows_on_its_page(seeded_store, page, row, text):
    with Session(seeded_store) as s:
        s.add(row)
        s.commit()
        run_id = row.id
    at = open_page(page)
    (bar,) = at.get("progress")
    assert text in bar.proto.text and f" {run_id} in progress" in bar.proto.text
    assert bar.proto.value == round(100 * row.done / row.total)
