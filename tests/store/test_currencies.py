"""Amounts in different currencies are never added: a store holding USD (AWS) and EUR (Azure), on SQLite and
PostgreSQL, read through every cost query, report and the forecasts' history."""

from datetime import date

import pandas as pd
import pytest
from sqlmodel import Session

from finops import reports
from finops.data import forecasts, load, queries
from finops.data.sources import CONTRACT_COLUMNS

EC2, VM, BLOB = "Amazon EC2", "Virtual Machines", "Storage"
ROWS = [
    # day, provider, account, service, unblended, amortized, currency
    ("2025-01-10", "aws", "A", EC2, "10", "9", "USD"),
    ("2025-01-11", "aws", "A", EC2, "5.5", "5", "USD"),
    ("2025-02-01", "aws", "B", EC2, "2", "2", "USD"),
    ("2025-01-10", "azure", "Z", VM, "100", "90", "EUR"),
    ("2025-01-11", "azure", "Z", BLOB, "7.25", "7", "EUR"),
    ("2025-02-01", "azure", "Y", VM, "30", "30", "EUR"),
]
JAN, FEB, MAR = date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1)


def frame(rows) -> pd.DataFrame:
    records = [
        {"day": date.fromisoformat(day), "provider": provider, "account_id": account, "account_name": account,
         "service": service, "region": "", "unblended_cost": u, "amortized_cost": a, "currency": currency,
         "estimated": False}
        for day, provider, account, service, u, a, currency in rows
    ]  # fmt: skip
    return pd.DataFrame.from_records(records, columns=CONTRACT_COLUMNS)


@pytest.fixture
def mixed(engine):
    with Session(engine) as s:
        load.replace_window(s, "focus", JAN, MAR, frame(ROWS))
    return engine


def test_the_store_names_its_currencies_and_picks_usd(mixed):
    with Session(mixed) as s:
        assert queries.currencies(session=s) == ["EUR", "USD"]
        totals = queries.currency_totals(session=s)
        assert totals[["currency", "unblended_cost"]].values.tolist() == [["EUR", 137.25], ["USD", 17.5]]
        assert reports.default_currency(session=s) == "USD"
        assert queries.providers(session=s) == ["aws", "azure"]


def test_queries_keep_each_currency_apart(mixed):
    with Session(mixed) as s:
        assert queries.total_cost(session=s, start=JAN, end=MAR, currency="USD") == {
            "unblended_cost": 17.5, "amortized_cost": 16.0}  # fmt: skip
        assert queries.total_cost(session=s, start=JAN, end=MAR, currency="EUR")["unblended_cost"] == 137.25
        with pytest.raises(queries.MixedCurrencies, match="EUR, USD"):
            queries.total_cost(session=s, start=JAN, end=MAR)  # no currency: refused, never a sum of both
        with pytest.raises(queries.MixedCurrencies):
            queries.daily_costs(session=s, start=JAN, end=MAR)
        eur = queries.service_costs(session=s, start=JAN, end=MAR, currency="EUR").sort_values("service")
        assert eur[["service", "unblended_cost"]].values.tolist() == [[BLOB, 7.25], [VM, 130.0]]
        daily = queries.daily_costs(session=s, start=JAN, end=FEB, currency="USD")
        assert daily[["day", "service", "unblended_cost"]].values.tolist() == [
            [date(2025, 1, 10), EC2, 10.0], [date(2025, 1, 11), EC2, 5.5]]  # fmt: skip
        monthly = queries.monthly_summary(session=s, start=JAN, end=MAR)  # no currency: one row per currency
        assert monthly[["month", "currency", "unblended_cost"]].values.tolist() == [
            [JAN, "EUR", 107.25], [JAN, "USD", 15.5], [FEB, "EUR", 30.0], [FEB, "USD", 2.0]]  # fmt: skip
        eur_months = queries.monthly_summary(session=s, start=JAN, end=MAR, currency="EUR")
        assert eur_months["unblended_cost"].tolist() == [107.25, 30.0]


def test_provider_filter_reads_the_per_account_tables(mixed):
    with Session(mixed) as s:
        # a provider in the other currency leaves nothing: filters add up, they never mix currencies
        assert queries.service_costs(session=s, start=JAN, end=MAR, currency="USD", providers=["azure"]).empty
        aws = queries.monthly_summary(session=s, start=JAN, end=MAR, currency="USD", providers=["aws"])
        assert aws["unblended_cost"].tolist() == [15.5, 2.0]
        azure = queries.daily_costs(session=s, start=JAN, end=MAR, currency="EUR", providers=["azure"], accounts=["Y"])
        assert azure[["day", "unblended_cost"]].values.tolist() == [[date(2025, 2, 1), 30.0]]


def test_reports_show_one_currency_at_a_time(mixed):
    with Session(mixed) as s:
        view = reports.overview(session=s, start_month=JAN, end_month=MAR, daily_start=JAN, daily_end=MAR,
                                metric="unblended_cost", currency="EUR")  # fmt: skip
        assert view.currency == "EUR"
        assert view.monthly_totals[["unblended_cost", "currency"]].values.tolist() == [[107.25, "EUR"], [30.0, "EUR"]]
        assert view.daily_totals["unblended_cost"].sum() == 137.25
        default = reports.overview(session=s, start_month=JAN, end_month=MAR, daily_start=JAN, daily_end=MAR,
                                   metric="unblended_cost")  # fmt: skip
        assert default.currency == "USD" and default.monthly_totals["unblended_cost"].tolist() == [15.5, 2.0]
        table = reports.service_breakdown(session=s, start=FEB, end=MAR, metric="unblended_cost", currency="EUR")
        assert table[["service", "unblended_cost", "previous_unblended_cost", "currency"]].values.tolist() == [
            [VM, 30.0, 100.0, "EUR"], [BLOB, 0.0, 7.25, "EUR"]]  # fmt: skip
        one = reports.service_breakdown(session=s, start=JAN, end=MAR, metric="unblended_cost", currency="EUR",
                                        accounts=("Z",))  # fmt: skip
        assert one["unblended_cost"].sum() == 107.25
        kpis = reports.home_kpis(session=s, today=date(2025, 2, 2), range_start=JAN, metric="unblended_cost",
                                 currency="EUR")  # fmt: skip
        assert (kpis.currency, kpis.mtd, kpis.mtd_previous, kpis.average_monthly) == ("EUR", 30.0, 0.0, 107.25)
        report = reports.cost_report(session=s, start=JAN, end=MAR, grain="month", dims=(), metric="unblended_cost",
                                     currency="EUR")  # fmt: skip
        assert report[["month", "unblended_cost", "currency"]].values.tolist() == [[JAN, 107.25, "EUR"],
                                                                                    [FEB, 30.0, "EUR"]]  # fmt: skip


def test_forecast_history_is_of_the_default_currency(mixed):
    with Session(mixed) as s:
        assert forecasts.forecast_currency(session=s) == "USD"
        frames = forecasts.history_frames(session=s, top_n=3)
        assert frames[forecasts.TOTAL]["y"].sum() == 17.5
        assert set(frames) == {forecasts.TOTAL, f"service:{EC2}", "account:A", "account:B"}
        history = forecasts.history(session=s, series=forecasts.TOTAL, start=JAN, end=MAR)
        assert history["y"].sum() == 17.5


def test_all_converted_to_usd_at_the_rate_in_force(mixed, tmp_path):
    from finops import fx
    from finops.data import exchange_rates

    with Session(mixed) as s:
        with pytest.raises(fx.NoRate, match="no EUR rate in force on 2025-01-10: it has no rate"):
            reports.service_breakdown(session=s, start=JAN, end=FEB, metric="unblended_cost", currency=fx.ALL)
        exchange_rates.import_rates(s, "rates.csv", text="currency,day,rate\nEUR,2025-01-01,1.1\nEUR,2025-01-11,1.2\n")
        # days at their day's rate: 10 + 5.5 USD, 100 EUR x 1.1 (Virtual Machines), 7.25 EUR x 1.2 (Storage)
        table = reports.service_breakdown(session=s, start=JAN, end=FEB, metric="unblended_cost", currency=fx.ALL)
        assert table[["service", "unblended_cost", "currency", "converted"]].values.tolist() == [
            [VM, 110.0, "USD", True], [EC2, 15.5, "USD", True], [BLOB, 8.7, "USD", True]]  # fmt: skip
        view = reports.overview(session=s, start_month=JAN, end_month=MAR, daily_start=JAN, daily_end=MAR,
                                metric="unblended_cost", currency=fx.ALL)  # fmt: skip
        assert (view.currency, view.converted) == ("USD", True)
        # months at their first day's rate: January's 107.25 EUR x 1.1, February's 30 EUR x 1.2
        assert view.monthly_totals["unblended_cost"].tolist() == [pytest.approx(15.5 + 117.975), 38.0]
        assert view.daily_totals["unblended_cost"].tolist() == [120.0, pytest.approx(14.2), 38.0]
        kpis = reports.home_kpis(session=s, today=date(2025, 2, 2), range_start=JAN, metric="unblended_cost",
                                 currency=fx.ALL)  # fmt: skip
        assert (kpis.currency, kpis.converted, kpis.mtd, kpis.average_monthly) == ("USD", True, 38.0, 133.475)
        assert kpis.projected_next_month is None  # the forecast is of USD alone: never shown as "all converted"


def test_cli_costs_by_currency(mixed, tmp_path, monkeypatch, capsys):
    from finops.cli import main
    from tests.conftest import use_store

    use_store(monkeypatch, tmp_path, mixed.url.render_as_string(hide_password=False))
    assert main(["costs", "--from", "2025-01-01", "--to", "2025-03-01", "--by", "month", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["month,unblended_cost,currency", "2025-01-01,107.250000,EUR", "2025-01-01,15.500000,USD",
                     "2025-02-01,30.000000,EUR", "2025-02-01,2.000000,USD"]  # fmt: skip
    assert main(["costs", "--from", "2025-01-01", "--to", "2025-03-01", "--by", "month", "--format", "csv",
                 "--currency", "eur"]) == 0  # fmt: skip
    assert capsys.readouterr().out.splitlines()[1:] == ["2025-01-01,107.250000,EUR", "2025-02-01,30.000000,EUR"]
