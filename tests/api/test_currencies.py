"""Cost endpoints on a store holding USD (the demo) and EUR (an Azure FOCUS load): one currency per answer,
the store's default (USD) unless `currency` names another, and the meta and X-Data-Currency name it."""

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from sqlalchemy import text
from sqlmodel import Session

from finops import costs
from finops.api.responses import CACHE
from finops.data import load
from finops.data.sources import CONTRACT_COLUMNS
from tests.conftest import ADMIN

P = "/api/v1/finops"
TODAY = datetime.now(UTC).date()
START = costs.add_months(costs.month_start(TODAY), -1)


@pytest.fixture(scope="module")
def eur(api_store):
    """Azure's 100 EUR a day (Virtual Machines) from the first of last month to yesterday, beside the demo's USD."""
    days = pd.date_range(START, TODAY - timedelta(days=1), freq="D").date
    rows = pd.DataFrame.from_records(
        [{"day": d, "provider": "azure", "account_id": "sub-1", "account_name": "sub-1", "service": "Virtual Machines",
          "region": "", "unblended_cost": "100", "amortized_cost": "90", "currency": "EUR", "estimated": False}
         for d in days], columns=CONTRACT_COLUMNS,
    )  # fmt: skip
    with Session(api_store.engine) as s:
        load.replace_window(s, "focus", START, TODAY, rows)
    CACHE.clear()
    return api_store


def total(engine, start, end, currency: str) -> float:
    query = "SELECT COALESCE(SUM(unblended_micros), 0) FROM cost_daily WHERE day >= :s AND day < :e AND currency = :c"
    with engine.connect() as conn:
        return int(conn.execute(text(query), {"s": start, "e": end, "c": currency}).scalar()) / 1e6


def get(client, store, path: str, status: int = 200):
    response = client.get(P + path, headers=store.auth(ADMIN[0]))
    assert response.status_code == status, response.text
    return response


def test_monthly_costs_default_to_usd_and_give_eur_when_asked(client, eur):
    month = START
    usd = get(client, eur, "/monthly-costs?months=2")
    body = usd.json()
    assert body["meta"]["currency"] == "USD" and body["meta"]["currencies"] == ["EUR", "USD"]
    assert usd.headers["x-data-currency"] == "USD" and {r["currency"] for r in body["data"]} == {"USD"}
    first = next(r for r in body["data"] if r["month"] == str(month))
    assert first["cost"] == pytest.approx(total(eur.engine, month, costs.add_months(month, 1), "USD"), abs=1e-6)

    answer = get(client, eur, "/monthly-costs?months=2&currency=EUR")
    body = answer.json()
    assert body["meta"]["currency"] == "EUR" and answer.headers["x-data-currency"] == "EUR"
    first = next(r for r in body["data"] if r["month"] == str(month))
    days = (costs.add_months(month, 1) - month).days
    assert (first["cost"], first["currency"]) == (100.0 * days, "EUR")
    assert usd.headers["etag"] != answer.headers["etag"]


def test_service_breakdown_and_daily_costs_in_eur(client, eur):
    last = TODAY - timedelta(days=1)
    start = last - timedelta(days=29)
    body = get(client, eur, f"/service-breakdown?startDate={start}&endDate={last}&currency=EUR").json()
    assert [(r["service"], r["cost"], r["currency"]) for r in body["data"]] == [("Virtual Machines", 3000.0, "EUR")]
    usd = get(client, eur, f"/service-breakdown?startDate={start}&endDate={last}").json()
    assert "Virtual Machines" not in {r["service"] for r in usd["data"]}
    assert sum(r["cost"] for r in usd["data"]) == pytest.approx(total(eur.engine, start, TODAY, "USD"), abs=1e-6)
    csv = get(client, eur, f"/service-breakdown?startDate={start}&endDate={last}&currency=EUR&format=csv").text
    assert csv.splitlines()[0] == "service,cost,previous_cost,change_pct,share_pct,currency"
    daily = get(client, eur, "/daily-costs?days=3&currency=EUR").json()["data"]
    assert [(r["cost"], r["currency"]) for r in daily] == [(100.0, "EUR")] * 3


def test_a_currency_the_store_lacks_is_refused(client, eur):
    body = get(client, eur, "/daily-costs?currency=GBP", status=422).json()
    assert "GBP" in body["message"] and "EUR, USD" in body["message"]
    get(client, eur, "/daily-costs?currency=usd", status=422)  # an ISO code is upper case
