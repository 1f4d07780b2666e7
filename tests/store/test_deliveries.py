"""Data Sources' view of billing files against real stores: each provider's periods with their rows, how many
times each came, the last delivery, and the configured locations the sidecar polls."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlmodel import Session

from finops import reports
from finops.data import deliveries, focus_sources
from finops.data.sources.focus import FocusError
from finops.data.tables import FocusSource
from tests.store.test_focus_import import SAMPLE, read_rows, run_import, write_rows


def counts(engine, table: str) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(f"SELECT provider, COUNT(*) FROM {table} WHERE source = 'focus' GROUP BY 1")
        return {p: int(n) for p, n in rows}


def test_each_providers_period_shows_its_rows_and_how_often_it_came(engine, tmp_path):
    header, rows = read_rows()
    first = run_import(engine, SAMPLE)
    aws = [{**r, "BilledCost": str(Decimal(r["BilledCost"]) * 2)} for r in rows if r["ProviderName"] == "AWS"]
    again = run_import(engine, write_rows(tmp_path / "aws.csv", header, aws))  # AWS re-delivers its period
    with Session(engine) as s:
        periods = deliveries.periods(s)
        sources = deliveries.sources(s)
    daily, resources = counts(engine, "cost_daily"), counts(engine, "cost_resource_daily")
    assert sorted(periods["provider"]) == sorted(first.windows)  # one row per provider and period
    for p in periods.itertuples():
        window = first.windows[p.provider]
        assert (p.window_start, p.window_end) == window
        assert (p.rows, p.resource_rows) == (daily[p.provider], resources[p.provider])
        assert p.times_delivered == (2 if p.provider == "AWS" else 1)
        assert p.run_id == (again.run.id if p.provider == "AWS" else first.run.id)
        assert p.location.endswith("aws.csv" if p.provider == "AWS" else "focus_sample.csv") and p.files == 1
    assert periods.iloc[0]["provider"] == "AWS"  # the newest delivery first

    focus = sources[sources["source"] == "focus"].set_index("provider")
    assert set(focus.index) == set(first.windows)
    assert focus.loc["AWS", "rows"] == daily["AWS"] and focus.loc["AWS", "resource_rows"] == resources["AWS"]
    assert focus.loc["AWS", "months"] == 1 and focus.loc["AWS", "currency"] == "USD"
    aws_accounts = {r["SubAccountId"] for r in rows if r["ProviderName"] == "AWS"}
    assert focus.loc["AWS", "accounts"] == len(aws_accounts)
    newest_aws = periods[periods["provider"] == "AWS"]["delivered_at"].iloc[0]
    assert focus.loc["AWS", "last_delivery"] == newest_aws
    assert focus.loc["AWS", "last_delivery"] > focus.loc["Microsoft", "last_delivery"]


def test_a_failed_import_records_no_delivery(engine, tmp_path):
    header, rows = read_rows()
    bad = write_rows(tmp_path / "bad.csv", header, [{**rows[0], "BilledCost": "twelve"}])
    with pytest.raises(FocusError, match="BilledCost"):
        run_import(engine, bad)
    with Session(engine) as s:
        assert deliveries.periods(s).empty and deliveries.sources(s).empty


def test_configured_locations_show_before_and_after_their_first_look(engine, tmp_path):
    folder = tmp_path / "bills"
    folder.mkdir()
    with Session(engine) as s:
        s.add(FocusSource(location="/old/place", status="failed", error="gone"))
        s.commit()
        shown = focus_sources.locations(s, [str(folder)])
        assert list(shown["location"]) == [str(folder), "/old/place"]
        assert list(shown["status"]) == ["waiting", "failed"]
        (folder / "focus_sample.csv").write_bytes(SAMPLE.read_bytes())
        focus_sources.poll(s, [str(folder)], lambda: None)
        view = reports.data_sources(session=s, now=datetime.now(UTC), focus_paths=[str(folder)])
    row = view.locations.iloc[0]
    assert (row.location, row.status, row.files) == (str(folder), "ok", 1) and row.imported_at is not None
    assert set(view.periods["location"]) == {str(folder)}
    assert set(view.sources["source"]) == {"focus"}
