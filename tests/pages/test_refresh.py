"""The Refresh button files a request, the real sidecar runs it, the data version moves, the page shows it."""

import os
import subprocess
import sys
import time
from datetime import UTC, datetime

from sqlalchemy import text
from sqlmodel import Session

from finops import costs
from finops.data import queries
from finops.data.tables import CeApiCall, CeFeature, RefreshRequest
from finops.ui import store_status
from tests.conftest import ROOT
from tests.pages.conftest import open_page, shown


def month_to_date(engine) -> float:
    with engine.connect() as conn:
        as_of = conn.execute(text("SELECT MAX(day) FROM cost_daily")).scalar()
        (start, end), _ = costs.month_to_date(datetime.fromisoformat(str(as_of)).date())
        sql = "SELECT SUM(unblended_micros) FROM cost_daily WHERE day >= :s AND day < :e"
        return conn.execute(text(sql), {"s": start.isoformat(), "e": end.isoformat()}).scalar() / 1e6


def test_refresh_click_becomes_a_request_the_sidecar_runs_and_the_page_shows(seeded_store, tmp_path):
    at = open_page("pages/home.py")
    card = next(m for m in at.metric if m.label == "Current Month Spend")
    assert card.value == f"${month_to_date(seeded_store):,.0f}"
    at.button(key="refresh_data").click().run()
    assert any("Refresh requested" in t.value for t in at.toast)
    with Session(seeded_store) as s:
        request = s.get(RefreshRequest, 1)
        assert (request.status, request.requested_by) == ("pending", "admin")
        before = queries.data_version(session=s)
    at.run()
    assert any("sidecar is not running" in w.value for w in at.warning)  # not started yet

    env = {**os.environ, "FINOPS_DEMO_SEED": "7", "FINOPS_REQUEST_POLL_SECONDS": "1", "FINOPS_HEARTBEAT_SECONDS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "finops.jobs"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=(tmp_path / "sidecar.log").open("w"))  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with Session(seeded_store) as s:
                if s.get(RefreshRequest, 1).status in ("done", "failed"):
                    break
            time.sleep(0.2)
    finally:
        proc.terminate()
        proc.wait(15)
    with Session(seeded_store) as s:
        request = s.get(RefreshRequest, 1)
        assert request.status == "done", (tmp_path / "sidecar.log").read_text()
        assert request.run_id == queries.data_version(session=s) > before

    store_status.clear()  # what its 10 s TTL does; every other cache entry is left to the new data version
    at = open_page("pages/home.py")
    card = next(m for m in at.metric if m.label == "Current Month Spend")
    assert card.value == f"${month_to_date(seeded_store):,.0f}"
    assert f"data version {request.run_id}" in " ".join(c.value for c in at.caption)


def test_data_sources_page_shows_runs_requests_spend_and_permission_problems(seeded_store):
    now = datetime.now(UTC)
    with Session(seeded_store) as s:
        s.add(RefreshRequest(requested_by="ada", status="done", run_id=1))
        for page in (1, 2, 3):
            s.add(CeApiCall(operation="GetCostAndUsage", page=page, run_id=1, called_at=now))
        s.add(CeFeature(operation="GetAnomalies", status="not_permitted", last_attempt_at=now,
                        message="not permitted: the role needs ce:GetAnomalies"))  # fmt: skip
        s.commit()
    at = open_page("pages/data_sources.py")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Cost Explorer requests this month"] == "3"
    assert metrics["Cost Explorer spend this month"] == "$0.03"
    assert metrics["Requests today"] == "3 / 500"
    assert any("not permitted: the role needs ce:GetAnomalies" in shown(w.value) for w in at.warning)
    sources = at.dataframe[0].value  # the demo organisation: one source, one provider
    with seeded_store.connect() as conn:
        rows, first, last = conn.execute(text("SELECT COUNT(*), MIN(day), MAX(day) FROM cost_daily")).one()
    assert list(sources["source"]) == ["Demo data"] and sources.iloc[0]["rows"] == rows
    assert (str(sources.iloc[0]["first_day"]), str(sources.iloc[0]["last_day"])) == (str(first), str(last))
    runs = at.dataframe[1].value
    assert runs.iloc[-1]["id"] == 1 and runs.iloc[-1]["requests"] == 3 and runs.iloc[-1]["status"] == "ok"
    assert at.dataframe[2].value.iloc[0]["requested_by"] == "ada"
    home = open_page("pages/home.py")
    assert any("Cost Explorer API this month: 3 requests, $0.03" in c.value for c in home.caption)


def test_members_get_no_refresh_button_and_no_data_sources(seeded_store):
    assert [b.key for b in open_page(None, username="member", role="member").button] == ["finops_logout"]
    assert "refresh_data" in [b.key for b in open_page(None).button]
    at = open_page("pages/data_sources.py", username="member", role="member")
    assert any("Admins only" in e.value for e in at.error) and len(at.metric) == 0


FILES = "Billing files (FOCUS, CUR 2.0)"  # the source "focus", as the page names it


def test_data_sources_page_shows_billing_file_periods_and_locations(seeded_store, tmp_path, monkeypatch):
    from finops.data import focus_imports
    from finops.settings import get_settings
    from tests.store.test_focus_import import SAMPLE

    monkeypatch.setenv("FINOPS_FOCUS_PATHS", str(tmp_path / "bills"))
    get_settings.cache_clear()
    with Session(seeded_store) as s:
        done = focus_imports.import_focus(s, SAMPLE)
    at = open_page("pages/data_sources.py")
    sources = at.dataframe[0].value.set_index(["source", "provider"])
    with seeded_store.connect() as conn:
        aws = conn.execute(text("SELECT COUNT(*) FROM cost_daily WHERE source = 'focus' AND provider = 'AWS'")).scalar()
    assert aws > 0 and sources.loc[(FILES, "AWS"), "rows"] == aws
    assert sources.xs("Demo data")["rows"].sum() > 0  # the demo organisation is still there, beside the files
    periods = at.dataframe[1].value
    assert sorted(periods["provider"]) == sorted(done.windows) and set(periods["run_id"]) == {done.run.id}
    assert periods["rows"].sum() == done.daily_rows and periods["resource_rows"].sum() == done.resource_rows
    locations = at.dataframe[2].value
    assert list(locations["location"]) == [str(tmp_path / "bills")] and list(locations["status"]) == ["waiting"]
