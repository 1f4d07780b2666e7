"""Every cost endpoint against the store's own figures (SQL written here), and against `finops costs`."""

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text

from finops import costs
from finops.cli import main
from finops.data import db
from tests.conftest import ADMIN

P = "/api/v1/finops"
TODAY = datetime.now(UTC).date()


def sql(engine, query: str, **params):
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(query), params).all()]


def bill(engine, start: date, end: date, metric: str = "unblended") -> float:
    query = f"SELECT COALESCE(SUM({metric}_micros), 0) FROM cost_daily WHERE day >= :s AND day < :e"
    return int(sql(engine, query, s=start, e=end)[0][0]) / 1e6


def runs_cost(engine, start: date, end: date) -> tuple[int, float]:
    moment = lambda d: datetime(d.year, d.month, d.day, tzinfo=UTC)  # noqa: E731
    query = "SELECT COUNT(*), COALESCE(SUM(cost_micros), 0) FROM execution WHERE started_at >= :s AND started_at < :e"
    n, micros = sql(engine, query, s=moment(start), e=moment(end))[0]
    return int(n), int(micros) / 1e6


def get(client, store, path: str, who: str = ADMIN[0]):
    response = client.get(P + path, headers=store.auth(who))
    assert response.status_code == 200, response.text
    return response.json()


def last_day(engine) -> date:
    value = sql(engine, "SELECT MAX(day) FROM cost_daily")[0][0]
    return value if isinstance(value, date) else date.fromisoformat(str(value))


@pytest.mark.parametrize("metric", ["unblended", "amortized"])
def test_monthly_costs_are_the_store_sums_per_month(client, api_store, metric):
    body = get(client, api_store, f"/monthly-costs?months=6&metric={metric}")
    start, end = costs.month_window(TODAY, 6)
    months = [costs.add_months(start, k) for k in range(6)]
    assert [r["month"] for r in body["data"]] == [str(m) for m in months]
    for row, month in zip(body["data"], months, strict=True):
        assert row["cost"] == pytest.approx(bill(api_store.engine, month, costs.add_months(month, 1), metric), abs=1e-6)
    assert body["metric"] == f"{metric}_cost" and body["meta"]["currency"] == "USD"


def test_monthly_costs_by_service_sum_to_the_month(client, api_store):
    body = get(client, api_store, "/monthly-costs?months=2&by=service")
    month = costs.add_months(TODAY, -1)
    rows = [r for r in body["data"] if r["month"] == str(month)]
    assert len({r["service"] for r in rows}) == len(rows) > 20
    assert sum(r["cost"] for r in rows) == pytest.approx(bill(api_store.engine, month, costs.month_start(TODAY)))


def test_daily_costs_are_the_last_days_with_data(client, api_store):
    body = get(client, api_store, "/daily-costs?days=7")
    last = last_day(api_store.engine)
    assert [r["day"] for r in body["data"]] == [str(last - timedelta(days=k)) for k in range(6, -1, -1)]
    for row in body["data"]:
        day = date.fromisoformat(row["day"])
        assert row["cost"] == pytest.approx(bill(api_store.engine, day, day + timedelta(days=1)), abs=1e-6)
    assert body["meta"]["last_day"] == str(last) and body["meta"]["stale"] is False


def test_service_breakdown_includes_both_dates(client, api_store):
    start, end = date(2026, 1, 1), date(2026, 1, 31)
    body = get(client, api_store, f"/service-breakdown?startDate={start}&endDate={end}")
    assert (body["start_date"], body["end_date"]) == ("2026-01-01", "2026-01-31")
    assert (body["previous_start_date"], body["previous_end_date"]) == ("2025-12-01", "2025-12-31")
    total = sum(r["cost"] for r in body["data"])
    assert total == pytest.approx(bill(api_store.engine, start, end + timedelta(days=1)), abs=1e-5)
    previous = sum(r["previous_cost"] for r in body["data"])
    assert previous == pytest.approx(bill(api_store.engine, date(2025, 12, 1), start), abs=1e-5)
    assert sum(r["share_pct"] for r in body["data"]) == pytest.approx(100.0)


def test_the_same_numbers_as_finops_costs(client, api_store, capsys):
    response = client.get(P + "/monthly-costs?months=3&by=account&format=csv", headers=api_store.auth(ADMIN[0]))
    api_rows = list(csv.DictReader(io.StringIO(response.text)))
    start, end = costs.month_window(TODAY, 3)
    db.get_engine.cache_clear()
    assert main(["costs", "--from", str(start), "--to", str(end), "--by", "month,account", "--format", "csv"]) == 0
    cli_rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    as_pairs = lambda rows, key: sorted((r["month"], r["account_id"], round(float(r[key]), 6)) for r in rows)  # noqa: E731
    assert as_pairs(api_rows, "cost") == as_pairs(cli_rows, "unblended_cost") and len(api_rows) > 10


def test_execution_costs_per_month_workflow_user_and_run(client, api_store):
    start, end = costs.month_window(TODAY, 3)
    n, total = runs_cost(api_store.engine, start, end)
    body = get(client, api_store, "/execution-costs?months=3")
    assert (body["runs"], body["start_date"], body["end_date"]) == (n, str(start), str(end))
    assert body["total_cost"] == pytest.approx(total, abs=1e-6) and n > 1000
    for row in body["data"]:
        month = date.fromisoformat(row["month"])
        assert (row["runs"], pytest.approx(row["cost"], abs=1e-6)) == runs_cost(
            api_store.engine, month, costs.add_months(month, 1)
        )
    by_workflow = get(client, api_store, "/execution-costs?months=3&by=workflow")["data"]
    assert sum(r["cost"] for r in by_workflow) == pytest.approx(total, abs=1e-5)
    assert by_workflow[0]["cost"] == max(r["cost"] for r in by_workflow)
    assert all(r["min_per_run"] <= r["median_per_run"] <= r["p90_per_run"] <= r["max_per_run"] for r in by_workflow)
    by_user = get(client, api_store, "/execution-costs?months=3&by=user")["data"]
    assert sum(r["runs"] for r in by_user) == n
    top = get(client, api_store, "/execution-costs?months=3&by=run")["data"]
    moment = datetime(start.year, start.month, 1, tzinfo=UTC)
    expected = sql(api_store.engine, "SELECT execution_id, cost_micros FROM execution WHERE started_at >= :s "
                   "ORDER BY cost_micros DESC, execution_id LIMIT 100", s=moment)  # fmt: skip
    assert [(r["execution_id"], round(r["cost"] * 1e6)) for r in top] == [(e, int(c)) for e, c in expected]


def test_execution_costs_of_a_year(client, api_store):
    year = TODAY.year - 1 if TODAY.month < 6 else TODAY.year
    body = get(client, api_store, f"/execution-costs?year={year}&months=2")
    assert (body["start_date"], body["end_date"]) == (f"{year}-01-01", f"{year}-03-01")
    assert body["runs"] == runs_cost(api_store.engine, date(year, 1, 1), date(year, 3, 1))[0]


@pytest.mark.parametrize("in_bill", [False, True])
def test_combined_costs_never_count_executions_twice(client, api_store, monkeypatch, in_bill):
    monkeypatch.setenv("FINOPS_EXECUTIONS_IN_BILL", str(in_bill).lower())
    from finops.settings import get_settings

    get_settings.cache_clear()
    body = get(client, api_store, "/combined-costs?months=4")
    assert body["executions_in_bill"] is in_bill and len(body["data"]) == 4
    for row in body["data"]:
        month = date.fromisoformat(row["month"])
        infra = bill(api_store.engine, month, costs.add_months(month, 1))
        _, runs = runs_cost(api_store.engine, month, costs.add_months(month, 1))
        assert row["infrastructure_cost"] == pytest.approx(infra, abs=1e-6)
        assert row["execution_cost"] == pytest.approx(runs, abs=1e-6)
        assert row["total_cost"] == pytest.approx(infra if in_bill else infra + runs, abs=1e-6)
        assert row["execution_share_pct"] == pytest.approx(100 * runs / row["total_cost"])


def test_recommendations_and_anomalies_are_the_tables(client, api_store):
    body = get(client, api_store, "/savings-recommendations")
    (n, total), = sql(api_store.engine, "SELECT COUNT(*), COALESCE(SUM(estimated_monthly_savings), 0) "
                                        "FROM recommendation WHERE status = 'open'")  # fmt: skip
    assert len(body["data"]) == n > 0 and body["total_monthly_savings"] == pytest.approx(float(total))
    since = last_day(api_store.engine) - timedelta(days=180)
    body = get(client, api_store, f"/cost-anomalies?since={since}")
    ((n,),) = sql(api_store.engine, "SELECT COUNT(*) FROM anomaly WHERE start_day >= :s", s=since)
    assert len(body["data"]) == n > 10 and body["data"][0]["start_day"] >= body["data"][-1]["start_day"]


def test_all_is_every_part_with_its_defaults(client, api_store):
    everything = get(client, api_store, "/all?months=3")
    parts = {
        "monthly_costs": "/monthly-costs?months=3", "daily_costs": "/daily-costs",
        "service_breakdown": "/service-breakdown", "cost_forecast": "/cost-forecast",
        "savings_recommendations": "/savings-recommendations", "cost_anomalies": "/cost-anomalies",
        "execution_costs": "/execution-costs?months=3", "combined_costs": "/combined-costs?months=3",
    }  # fmt: skip
    for key, path in parts.items():
        assert everything[key] == get(client, api_store, path)["data"], key
    assert everything["meta"] == get(client, api_store, "/monthly-costs")["meta"]


def test_cost_forecast_sums_the_newest_run_per_month(client, api_store):
    from sqlmodel import Session

    from finops.data.tables import ForecastPoint, ForecastRun

    first = costs.add_months(TODAY, 1)
    days = [TODAY + timedelta(days=k) for k in range(1, 100)]
    with Session(api_store.engine) as s:
        run = ForecastRun(status="ok", interval_level=0.8, horizon_days=99)
        s.add(run)
        s.flush()
        for k, day in enumerate(days):
            s.add(ForecastPoint(run_id=run.id, series="total", ds=day, yhat=100.0 + k, yhat_lower=90.0 + k,
                                yhat_upper=115.0 + k))  # fmt: skip
        s.commit()
        run_id = run.id
    body = get(client, api_store, "/cost-forecast?monthsAhead=2")
    assert body["forecast_run"] == run_id and body["interval_level"] == 80
    months = [first, costs.add_months(first, 1)]
    assert [r["month"] for r in body["data"]] == [str(m) for m in months]
    for row, month in zip(body["data"], months, strict=True):
        inside = [k for k, d in enumerate(days) if month <= d < costs.add_months(month, 1)]
        assert (row["days"], row["yhat"]) == (len(inside), pytest.approx(sum(100.0 + k for k in inside)))
        assert row["yhat_lower"] == pytest.approx(sum(90.0 + k for k in inside))
