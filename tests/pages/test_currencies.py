"""A store holding USD (AWS) and EUR (Azure): the pages show one currency at a time, picked in the sidebar, and
Overview's and Service Breakdown's provider pickers filter (figures against independent SQL over cost_daily)."""

import io
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
import streamlit as st
from sqlalchemy import text
from sqlmodel import Session

from finops import costs
from finops.data import load, users
from finops.data.sources import CONTRACT_COLUMNS
from tests.pages.conftest import open_page, shown

TODAY = datetime.now(UTC).date()
THIS_MONTH = costs.month_start(TODAY)
LAST_MONTH = costs.add_months(THIS_MONTH, -1)


def rows() -> pd.DataFrame:
    """Each day of last month and this month to date: AWS 10 USD, Azure 100 EUR and GCP 1 EUR a day."""
    days = pd.date_range(LAST_MONTH, TODAY - timedelta(days=1), freq="D").date
    spend = [("aws", "111111111111", "Amazon EC2", "10", "USD"), ("azure", "sub-1", "Virtual Machines", "100", "EUR"),
             ("gcp", "proj-1", "Compute Engine", "1", "EUR")]  # fmt: skip
    records = [
        {"day": day, "provider": provider, "account_id": account, "account_name": account, "service": service,
         "region": "", "unblended_cost": cost, "amortized_cost": cost, "currency": currency, "estimated": False}
        for day in days for provider, account, service, cost, currency in spend
    ]  # fmt: skip
    return pd.DataFrame.from_records(records, columns=CONTRACT_COLUMNS)


@pytest.fixture
def mixed_store(store):
    with Session(store) as s:
        load.replace_window(s, "focus", LAST_MONTH, TODAY, rows())
        users.add_user(session=s, username="admin", role="admin", password="admin-pass-1")
    return store


def store_sum(engine, start, end, currency: str, providers: tuple[str, ...] = ()) -> float:
    where = " AND provider IN ({})".format(", ".join(f"'{p}'" for p in providers)) if providers else ""
    sql = f"SELECT SUM(unblended_micros) FROM cost_daily WHERE day >= :s AND day < :e AND currency = :c{where}"
    with engine.connect() as conn:
        return conn.execute(text(sql), {"s": start.isoformat(), "e": end.isoformat(), "c": currency}).scalar() / 1e6


def test_the_picker_shows_usd_first_and_eur_when_picked(mixed_store, downloads):
    at = open_page("pages/overview.py")
    picker = at.sidebar.selectbox(key="currency_picker")
    assert picker.options == ["EUR", "USD"] and picker.value == "USD"
    totals = at.dataframe[0].value
    month = totals.set_index("month")["unblended_cost"]
    assert month[LAST_MONTH] == pytest.approx(store_sum(mixed_store, LAST_MONTH, THIS_MONTH, "USD"))
    assert any("Amounts in USD" in c.value for c in at.caption)

    picker.set_value("EUR").run()
    assert not at.exception
    month = at.dataframe[0].value.set_index("month")["unblended_cost"]
    eur = store_sum(mixed_store, LAST_MONTH, THIS_MONTH, "EUR")
    assert month[LAST_MONTH] == pytest.approx(eur) and eur == 101 * (THIS_MONTH - LAST_MONTH).days
    assert any("Amounts in EUR" in c.value for c in at.caption)
    csv = pd.read_csv(io.BytesIO(downloads["monthly_totals.csv"]))
    assert list(csv.columns) == ["month", "unblended_cost", "mom_pct", "currency"] and set(csv["currency"]) == {"EUR"}

    # the choice follows the user to the other cost pages
    at.switch_page("pages/home.py").run()
    assert at.sidebar.selectbox(key="currency_picker").value == "EUR"
    mtd = store_sum(mixed_store, THIS_MONTH, TODAY, "EUR")
    assert at.metric[0].value == (f"€{mtd:,.0f}" if TODAY.day > 1 else "€0")


def test_overview_provider_picker_filters(mixed_store):
    at = open_page("pages/overview.py")
    at.sidebar.selectbox(key="currency_picker").set_value("EUR").run()
    providers = at.multiselect(key="overview_providers")
    assert providers.options == ["aws", "azure", "gcp"]
    providers.select("gcp").run()
    assert not at.exception
    month = at.dataframe[0].value.set_index("month")["unblended_cost"]
    assert month[LAST_MONTH] == pytest.approx(store_sum(mixed_store, LAST_MONTH, THIS_MONTH, "EUR", ("gcp",)))
    assert month[LAST_MONTH] == (THIS_MONTH - LAST_MONTH).days  # 1 EUR a day: Azure's 100 left out


def test_service_breakdown_currency_and_provider(mixed_store, downloads):
    at = open_page("pages/service_breakdown.py")
    at.sidebar.selectbox(key="currency_picker").set_value("EUR").run()
    table = at.dataframe[0].value
    assert set(table["service"]) == {"Virtual Machines", "Compute Engine"}  # never EC2's USD
    at.multiselect(key="breakdown_providers").select("azure").run()
    assert not at.exception
    table = at.dataframe[0].value
    start, end = TODAY - timedelta(days=30), TODAY
    assert table["service"].tolist() == ["Virtual Machines"]
    assert table["unblended_cost"].sum() == pytest.approx(store_sum(mixed_store, start, end, "EUR", ("azure",)))
    csv = next(v for k, v in downloads.items() if k.startswith("services_"))
    assert pd.read_csv(io.BytesIO(csv))["currency"].unique().tolist() == ["EUR"]


def test_a_store_with_one_currency_shows_no_picker(seeded_store):
    at = open_page("pages/overview.py")
    assert not [s for s in at.sidebar.selectbox if s.key == "currency_picker"]
    assert any("Amounts in USD" in c.value for c in at.caption)


def test_all_converted_to_usd_once_rates_are_imported(mixed_store, downloads):
    from finops import fx
    from finops.data import exchange_rates

    at = open_page("pages/overview.py")
    assert fx.ALL not in at.sidebar.selectbox(key="currency_picker").options  # no rates yet: no converted view
    with Session(mixed_store) as s:
        exchange_rates.import_rates(s, "rates.csv", text=f"currency,day,rate\nEUR,{LAST_MONTH},1.1\n")
    st.cache_data.clear()  # the rates' loaders keep an answer for 5 seconds
    at = open_page("pages/overview.py")
    picker = at.sidebar.selectbox(key="currency_picker")
    assert picker.options == ["EUR", "USD", fx.ALL_LABEL]
    picker.set_value(fx.ALL).run()
    assert not at.exception
    month = at.dataframe[0].value.set_index("month")["unblended_cost"]
    usd, eur = (store_sum(mixed_store, LAST_MONTH, THIS_MONTH, c) for c in ("USD", "EUR"))
    assert month[LAST_MONTH] == pytest.approx(usd + eur * 1.1)
    assert any("converted at imported exchange rates" in c.value for c in at.caption)
    csv = pd.read_csv(io.BytesIO(downloads["monthly_totals.csv"]))
    assert list(csv.columns)[-2:] == ["currency", "converted"] and set(csv["currency"]) == {"USD"}

    at.switch_page("pages/data_sources.py").run()
    rates = at.dataframe[-1].value
    assert rates[["currency", "rate"]].values.tolist() == [["EUR", 1.1]]


def test_a_day_without_a_rate_is_refused_not_guessed(mixed_store):
    from finops import fx
    from finops.data import exchange_rates

    with Session(mixed_store) as s:
        exchange_rates.import_rates(s, "late.csv", text=f"currency,day,rate\nEUR,{THIS_MONTH},1.1\n")
    at = open_page("pages/service_breakdown.py")
    at.sidebar.selectbox(key="currency_picker").set_value(fx.ALL).run()
    assert not at.exception and len(at.dataframe) == 0 and len(at.metric) == 0
    assert [shown(e.value) for e in at.error] == [
        f"Cannot convert to USD: no EUR rate in force on {TODAY - timedelta(days=30)}: its first rate is of "
        f"{THIS_MONTH} (import rates from {TODAY - timedelta(days=30)} on). Import the missing rates on Data Sources "
        "(Exchange rates)."
    ]
