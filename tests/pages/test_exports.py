"""Every page's CSV download: its header is the one docs/exports.md documents, its amounts are the store's to the
last digit (read as text, never as floats), its dates are ISO 8601."""

import csv
import io
import re
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

import pytest
from sqlalchemy import text
from sqlmodel import Session

from finops import costs
from finops.data import anomalies, forecasts, recommendations
from tests.conftest import ROOT
from tests.pages.conftest import open_page

TODAY = datetime.now(UTC).date()
SEEDED_PAGES = ["pages/overview.py", "pages/service_breakdown.py", "pages/resource_groups.py", "pages/audit_log.py",
                "pages/data_sources.py"]  # fmt: skip
MODELED_PAGES = ["pages/forecast.py", "pages/anomalies.py", "pages/recommendations.py"]
ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
ISO_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def rows(data: bytes) -> list[dict[str, str]]:
    """The file's rows as text, exactly as written."""
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


def documented() -> dict[re.Pattern, list[str]]:
    """File name pattern -> header, from the "Pages" table of docs/exports.md."""
    section = (ROOT / "docs/exports.md").read_text().split("## Pages", 1)[1].split("\n## ", 1)[0]
    out = {}
    for name, header in re.findall(r"^\| `([^`]+)` \([^)]*\) \| `([^`]+)` \|", section, re.MULTILINE):
        pattern = re.escape(name).replace(re.escape("<"), "<").replace(re.escape(">"), ">")
        out[re.compile("^" + re.sub(r"<[^>]+>", r"[^/]+", pattern) + "$")] = header.split(",")
    return out


def micros(engine, sql: str, **params) -> dict[tuple, str]:
    """Exact amounts (6-place decimal text) per key from SQL returning (key..., SUM(micros))."""
    with engine.connect() as conn:
        return {
            tuple(str(k) for k in row[:-1]): f"{Decimal(int(row[-1])).scaleb(-6):.6f}"
            for row in conn.execute(text(sql), params)
        }


def cents(value: float) -> str:
    return f"{Decimal(repr(float(value))).quantize(Decimal('0.01'), rounding=ROUND_HALF_EVEN)}"


def check_headers(downloads: dict[str, bytes], expect: int) -> None:
    docs = documented()
    assert len(downloads) == expect
    for name, data in downloads.items():
        headers = [h for pattern, h in docs.items() if pattern.match(name)]
        assert headers, f"{name} is not documented in docs/exports.md"
        assert (
            rows(data) and list(rows(data)[0]) == headers[0] or data.decode().splitlines()[0].split(",") == (headers[0])
        ), name


def test_every_page_csv_has_its_documented_header_and_iso_dates(seeded_store, downloads):
    for page in SEEDED_PAGES:
        open_page(page)
    check_headers(
        downloads, expect=12
    )  # overview 4 (combined costs too), breakdown 1, groups 2 (list, members), audit 1, data sources 4 (sources,
    # runs, requests, exchange rates)
    for row in rows(downloads["monthly_totals.csv"]) + rows(downloads["daily_by_service.csv"]):
        assert ISO_DAY.match(row.get("month") or row["day"])
    assert [r["source"] for r in rows(downloads["sources.csv"])] == ["demo"]  # codes stay codes in files
    for row in rows(downloads["sources.csv"]):
        assert ISO_DAY.match(row["first_day"]) and ISO_MOMENT.match(row["last_delivery"])
    for row in rows(downloads["refresh_runs.csv"]):
        assert ISO_MOMENT.match(row["started_at"]) and ISO_DAY.match(row["window_start"])
    assert rows(downloads["monthly_totals.csv"])[0]["mom_pct"] == ""  # the first month has no change: empty


@pytest.mark.parametrize("metric", ["unblended", "amortized"])
def test_overview_csv_amounts_are_the_stores_exactly(seeded_store, downloads, metric):
    at = open_page("pages/overview.py")
    if metric == "amortized":
        at.radio(key="overview_metric").set_value("amortized").run()
    column = f"{metric}_cost"
    this_month = TODAY.replace(day=1)
    start, end = costs.add_months(this_month, -11), costs.add_months(this_month, 1)
    months = "substr(day, 1, 7) || '-01'"  # the month's first day, as the CSV writes it
    store = micros(seeded_store, f"SELECT {months}, SUM({metric}_micros) FROM cost_daily WHERE day >= :s AND day < :e "
                   "GROUP BY 1", s=start.isoformat(), e=end.isoformat())  # fmt: skip
    totals = rows(downloads["monthly_totals.csv"])
    assert {(r["month"],): r[column] for r in totals} == store and len(totals) == 12

    sql = f"SELECT {months}, service, SUM({metric}_micros) FROM cost_daily WHERE day >= :s AND day < :e GROUP BY 1, 2"
    by_service = micros(seeded_store, sql, s=start.isoformat(), e=end.isoformat())
    other = defaultdict(Decimal)
    for r in rows(downloads["monthly_by_service.csv"]):
        if r["service"] == "Other":
            other[r["month"]] += Decimal(r[column])
        else:
            assert r[column] == by_service[(r["month"], r["service"])]
    for month, amount in other.items():  # "Other" is the rest of the month, to the micro-unit
        listed = sum(Decimal(r[column]) for r in rows(downloads["monthly_by_service.csv"]) if r["month"] == month)
        assert listed == Decimal(store[(month,)]) and amount > 0

    last = max(date.fromisoformat(r["day"]) for r in rows(downloads["daily_by_service.csv"]))
    sql = f"SELECT day, service, SUM({metric}_micros) FROM cost_daily WHERE day > :s AND day <= :e GROUP BY 1, 2"
    daily = micros(seeded_store, sql, s=(last - timedelta(days=30)).isoformat(), e=last.isoformat())
    for r in rows(downloads["daily_by_service.csv"]):
        if r["service"] != "Other":
            assert r[column] == daily[(r["day"], r["service"])]


def test_service_breakdown_csv_amounts_are_the_stores_exactly(seeded_store, downloads):
    open_page("pages/service_breakdown.py")
    start, end = TODAY - timedelta(days=30), TODAY
    sql = "SELECT service, SUM(unblended_micros) FROM cost_daily WHERE day >= :s AND day < :e GROUP BY 1"
    current = micros(seeded_store, sql, s=start.isoformat(), e=end.isoformat())
    previous = micros(seeded_store, sql, s=(start - timedelta(days=30)).isoformat(), e=start.isoformat())
    written = rows(downloads[f"services_{start}_{end}.csv"])
    assert {(r["service"],): r["unblended_cost"] for r in written} == {
        k: current.get(k, "0.000000") for k in current | previous
    }
    assert {(r["service"],): r["previous_unblended_cost"] for r in written} == {
        k: previous.get(k, "0.000000") for k in current | previous
    }
    assert sum(Decimal(r["share_pct"]) for r in written) == pytest.approx(Decimal(100), abs=Decimal("0.0001"))


def test_group_members_csv_amounts_are_price_times_hours_to_the_cent(seeded_store, downloads):
    at = open_page("pages/resource_groups.py")  # the admin: every demo group, the first one selected
    gid = at.selectbox(key="rg_selected").value
    with seeded_store.connect() as conn:
        stored = conn.execute(
            text("SELECT r.resource_id, r.hourly_cost FROM resource_group_member m JOIN resource r ON "
                 "r.resource_type = m.resource_type AND r.resource_id = m.resource_id WHERE m.group_id = :g"),
            {"g": gid},
        ).all()  # fmt: skip
    written = {r["resource_id"]: r["monthly_cost"] for r in rows(downloads[f"group_{gid}_members.csv"])}
    assert written == {rid: cents(Decimal(repr(hourly)) * 730) for rid, hourly in stored} and written


def test_insight_page_csvs_are_the_stores_estimates_to_the_cent(modeled_store, downloads):
    for page in MODELED_PAGES:
        open_page(page)
    check_headers(downloads, expect=5)  # forecast 3, anomalies 1, recommendations 1
    with Session(modeled_store) as s:
        run = forecasts.latest_run(session=s)
        points = forecasts.points(session=s, run_id=run.id, series="total")
        since = date.fromisoformat(rows(downloads["anomalies.csv"])[-1]["start_day"])
        found = anomalies.list_anomalies(session=s, since=since)
        recs = recommendations.list_recommendations(session=s)
    daily = rows(downloads["forecast_daily_total.csv"])
    assert [r["ds"] for r in daily] == [f"{d:%Y-%m-%d}" for d in points["ds"]]
    assert [r["yhat"] for r in daily] == [cents(v) for v in points["yhat"]]
    monthly = rows(downloads["forecast_monthly_total.csv"])
    assert [r["yhat_upper"] for r in monthly] == [cents(v) for v in forecasts.monthly(points)["yhat_upper"]]
    assert {r["id"]: r["impact"] for r in rows(downloads["anomalies.csv"])} == {
        str(i): cents(v) for i, v in zip(found["id"], found["impact"], strict=True)
    }
    assert {r["id"]: r["estimated_monthly_savings"] for r in rows(downloads["recommendations.csv"])} == {
        str(i): cents(v) for i, v in zip(recs["id"], recs["estimated_monthly_savings"], strict=True)
    }
