"""What the cost pages show, compared with the store itself (independent SQL over cost_daily)."""

import io
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest
from sqlalchemy import select, text
from sqlmodel import Session

from finops import costs
from finops.data.tables import ForecastPoint, ForecastRun, Recommendation, RefreshRun
from tests.pages.conftest import COST_PAGES, open_page, shown

TODAY = datetime.now(UTC).date()


def money(value: float) -> str:
    return f"${value:,.0f}"


def store_sum(engine, start: date, end: date, metric: str = "unblended", where: str = "") -> float:
    sql = f"SELECT COALESCE(SUM({metric}_micros), 0) FROM cost_daily WHERE day >= :s AND day < :e {where}"
    with engine.connect() as conn:
        return conn.execute(text(sql), {"s": start.isoformat(), "e": end.isoformat()}).scalar() / 1e6


def last_day(engine) -> date:
    with engine.connect() as conn:
        return date.fromisoformat(str(conn.execute(text("SELECT MAX(day) FROM cost_daily")).scalar()))


@pytest.mark.parametrize("page", COST_PAGES)
def test_cost_page_renders_for_admin_with_freshness(seeded_store, page):
    at = open_page(page)
    captions = " ".join(c.value for c in at.caption)
    assert f"Data as of **{last_day(seeded_store):%Y-%m-%d}**" in captions
    assert "Demo data" in captions


@pytest.mark.parametrize("page", COST_PAGES)
def test_member_gets_admins_only_and_no_figure(seeded_store, page):
    at = open_page(page, username="member", role="member")
    assert any("Admins only" in e.value for e in at.error)
    assert len(at.metric) == 0 and len(at.dataframe) == 0 and len(at.get("download_button")) == 0
    assert not any("$" in m.value for m in at.markdown)


def test_member_lands_on_welcome_without_cost_links(seeded_store):
    at = open_page(None, username="member", role="member")
    assert at.title[0].value.startswith("Welcome")
    assert len(at.metric) == 0


def test_home_current_month_card_equals_month_to_date_sum(seeded_store):
    at = open_page("pages/home.py")
    as_of = last_day(seeded_store)
    card = next(m for m in at.metric if m.label == "Current Month Spend")
    if as_of < TODAY.replace(day=1):  # first day of a month: no data for it yet
        assert card.value == "$0"
        return
    (start, end), (p_start, p_end) = costs.month_to_date(as_of)
    mtd, previous = store_sum(seeded_store, start, end), store_sum(seeded_store, p_start, p_end)
    assert card.value == money(mtd)
    assert card.delta == f"{(mtd - previous) / previous * 100:+.1f}%"


def test_home_average_and_empty_forecast_and_savings_cards(seeded_store):
    at = open_page("pages/home.py")
    cards = {m.label.split(" (")[0]: m for m in at.metric}
    this_month = TODAY.replace(day=1)
    months = [costs.add_months(this_month, -k) for k in range(12, 0, -1)]
    totals = [store_sum(seeded_store, m, costs.add_months(m, 1)) for m in months]
    totals = [t for t in totals if t > 0]
    assert cards["Average Monthly Cost"].value == money(sum(totals) / len(totals))
    assert cards["Projected Next Month"].value == "Not yet"
    assert cards["Potential Savings"].value == "Not yet"
    assert any("No forecast yet" in c.value for c in at.caption)


def test_home_reads_forecast_and_recommendations(seeded_store):
    next_month = costs.add_months(TODAY, 1)
    with Session(seeded_store) as s:
        run = ForecastRun()
        s.add(run)
        s.commit()
        day, n = next_month, 0
        while day < costs.add_months(next_month, 1):
            s.add(
                ForecastPoint(run_id=run.id, series="total", ds=day, yhat=1000.0 + n, yhat_lower=900, yhat_upper=1100)
            )
            s.add(ForecastPoint(run_id=run.id, series="service:X", ds=day, yhat=5.0, yhat_lower=1, yhat_upper=9))
            day, n = day + timedelta(days=1), n + 1
        s.add(Recommendation(source="aws_rightsizing", kind="rightsize", estimated_monthly_savings=1234.5))
        s.add(Recommendation(source="idle", kind="stop", estimated_monthly_savings=100.0))
        s.add(Recommendation(source="idle", kind="stop", estimated_monthly_savings=999.0, status="dismissed"))
        s.commit()
    at = open_page("pages/home.py")
    cards = {m.label.split(" (")[0]: m for m in at.metric}
    assert cards["Projected Next Month"].value == money(sum(1000.0 + k for k in range(n)))
    assert cards["Potential Savings"].value == "$1,334/mo"


def test_overview_monthly_totals_equal_store(seeded_store, downloads):
    at = open_page("pages/overview.py")
    totals = at.dataframe[0].value
    this_month = TODAY.replace(day=1)
    assert list(totals.columns) == ["month", "unblended_cost", "mom_pct"]
    assert len(totals) == 12 and totals["month"].iloc[-1] == this_month
    for row in totals.itertuples():
        expected = store_sum(seeded_store, row.month, costs.add_months(row.month, 1))
        assert row.unblended_cost == pytest.approx(expected, abs=0.005)
    prev = totals["unblended_cost"].shift(1)
    assert totals["mom_pct"].iloc[1:].tolist() == pytest.approx(
        ((totals["unblended_cost"] - prev) / prev * 100).iloc[1:].tolist()
    )
    by_service = at.dataframe[1].value
    assert "Other" in set(by_service["service"]) and by_service["service"].nunique() == 9
    assert by_service.groupby("month")["unblended_cost"].sum().tolist() == pytest.approx(
        totals["unblended_cost"].tolist()
    )
    csv = pd.read_csv(io.BytesIO(downloads["monthly_totals.csv"]))
    assert csv["unblended_cost"].sum() == pytest.approx(totals["unblended_cost"].sum(), abs=0.01)


def test_overview_daily_spend_last_30_days(seeded_store):
    at = open_page("pages/overview.py")
    daily = at.dataframe[2].value
    as_of = last_day(seeded_store)
    assert len(daily) == 30 and daily["day"].iloc[-1] == as_of
    for row in daily.tail(3).itertuples():
        assert row.unblended_cost == pytest.approx(
            store_sum(seeded_store, row.day, row.day + timedelta(days=1)), abs=0.005
        )


def test_overview_account_filter_and_amortized_metric(seeded_store):
    at = open_page("pages/overview.py")
    at.multiselect[0].select("222222222222").run()
    at.radio(key="overview_metric").set_value("amortized").run()
    assert not at.exception
    totals = at.dataframe[0].value
    assert "amortized_cost" in totals.columns
    row = totals.iloc[-2]
    expected = store_sum(
        seeded_store, row["month"], costs.add_months(row["month"], 1), "amortized", "AND account_id = '222222222222'"
    )
    assert row["amortized_cost"] == pytest.approx(expected, abs=0.005)
    daily = at.dataframe[2].value
    day = daily["day"].iloc[-1]
    expected = store_sum(seeded_store, day, day + timedelta(days=1), "amortized", "AND account_id = '222222222222'")
    assert daily["amortized_cost"].iloc[-1] == pytest.approx(expected, abs=0.005)


def test_service_breakdown_table_equals_store(seeded_store, downloads):
    at = open_page("pages/service_breakdown.py")
    table = at.dataframe[0].value
    start, end = TODAY - timedelta(days=30), TODAY
    assert list(table.columns) == ["service", "unblended_cost", "previous_unblended_cost", "change_pct", "share_pct"]
    assert table["share_pct"].sum() == pytest.approx(100.0)
    assert table["unblended_cost"].is_monotonic_decreasing
    top = table.iloc[0]
    service = top["service"].replace("'", "''")
    assert top["unblended_cost"] == pytest.approx(
        store_sum(seeded_store, start, end, where=f"AND service = '{service}'"), abs=0.005
    )
    prev = store_sum(seeded_store, start - timedelta(days=30), start, where=f"AND service = '{service}'")
    assert top["previous_unblended_cost"] == pytest.approx(prev, abs=0.005)
    assert at.metric[0].value == money(store_sum(seeded_store, start, end))
    # the new service of the demo has no previous cost: change is undefined, not infinite
    new = table[table["service"] == "Amazon SageMaker"].iloc[0]
    assert new["previous_unblended_cost"] == 0 and pd.isna(new["change_pct"])
    csv = pd.read_csv(io.BytesIO(downloads[f"services_{start}_{end}.csv"]))
    assert csv["unblended_cost"].sum() == pytest.approx(table["unblended_cost"].sum(), abs=0.01)


def test_service_breakdown_last_month_preset(seeded_store):
    at = open_page("pages/service_breakdown.py")
    at.selectbox(key="breakdown_preset").set_value("Last month").run()
    start, end = costs.add_months(TODAY, -1), TODAY.replace(day=1)
    assert at.metric[0].value == money(store_sum(seeded_store, start, end))


def test_service_breakdown_range_without_data_is_an_empty_state(seeded_store):
    at = open_page("pages/service_breakdown.py")
    at.selectbox(key="breakdown_preset").set_value("Custom").run()
    at.date_input(key="breakdown_custom").set_value((date(2020, 1, 1), date(2020, 1, 31))).run()
    assert not at.exception
    assert any("No cost data in this period" in i.value for i in at.info)
    assert len(at.dataframe) == 0


@pytest.mark.parametrize("page", COST_PAGES)
def test_empty_store_says_how_to_load_data(store, page):
    from finops.data import users

    with Session(store) as s:
        users.add_user(session=s, username="admin", role="admin", password="admin-pass-1")
    at = open_page(page)
    assert any("python -m finops demo" in i.value for i in at.info)
    assert len(at.metric) == 0


def test_failed_refresh_keeps_last_good_data_and_says_why(seeded_store):
    with Session(seeded_store) as s:
        s.add(RefreshRun(source="demo", status="failed", error="ExpiredToken: the security token has expired"))
        s.commit()
    at = open_page("pages/home.py")
    assert any("latest refresh failed" in w.value and "ExpiredToken" in w.value for w in at.warning)
    assert next(m for m in at.metric if m.label == "Current Month Spend").value.startswith("$")


def test_a_failed_history_month_does_not_say_the_refresh_failed(seeded_store):
    from finops.data import load

    with Session(seeded_store) as s:
        run = s.exec(select(RefreshRun).where(RefreshRun.part_of.is_(None))).scalars().one()
        load.record_failed_run(
            s, "demo", date(2025, 1, 1), date(2025, 2, 1), "Cost Explorer error InternalServerError", part_of=run.id
        )
    at = open_page("pages/home.py")
    assert not any("latest refresh failed" in w.value for w in at.warning)
    assert any("2025-01: Cost Explorer error InternalServerError" in shown(i.value) for i in at.info)
    assert f"Data as of **{last_day(seeded_store):%Y-%m-%d}**" in " ".join(c.value for c in at.caption)
