"""The API served by a real uvicorn on 127.0.0.1: end to end over HTTP, as `python -m finops api` (a real process),
and schemathesis over the OpenAPI schema (no 500s, every response as the schema says, bad input refused)."""

import os
import signal
import subprocess
import sys
import time

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from finops.api.app import PREFIX, create_app
from tests.api.conftest import free_port
from tests.conftest import ADMIN, MEMBER, ROOT

SCHEMA = schemathesis.openapi.from_dict(create_app().openapi())


def test_end_to_end_over_http(live, live_url, api_store):
    auth = api_store.auth(ADMIN[0])
    first = live.get("/monthly-costs", params={"months": 3}, headers=auth)
    assert first.status_code == 200 and len(first.json()["data"]) == 3
    assert live.get("/monthly-costs", params={"months": 3}, headers={**auth, "If-None-Match": first.headers["etag"]}
                    ).status_code == 304  # fmt: skip
    run = {"execution_id": "live-1", "workflow_id": "wf", "started_at": "2026-03-02T08:00:00Z",
           "ended_at": "2026-03-02T08:06:00Z", "compute_type": "cpu-small"}  # fmt: skip
    assert live.post("/executions", json={"executions": [run]}, headers=auth).json()["inserted"] == 1
    assert live.get("/resource-groups", headers=api_store.auth(MEMBER[0])).json()["total"] >= 1
    assert live.get("/all", headers=api_store.auth(MEMBER[0])).status_code == 403
    assert live.get("/all").status_code == 401
    docs = httpx.get(f"{live_url}/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    assert httpx.get(f"{live_url}/openapi.json").json()["info"]["title"] == "FinOps API"


def test_python_m_finops_api_serves_on_its_settings(api_store, tmp_path):
    port = free_port()
    env = {**os.environ, "FINOPS_API_PORT": str(port), "FINOPS_API_HOST": "127.0.0.1"}
    log = open(tmp_path / "api.log", "w")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "finops", "api"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT)  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}{PREFIX}/daily-costs", headers=api_store.auth(ADMIN[0]))
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "api.log").read_text()
                time.sleep(0.2)
        assert response.status_code == 200 and response.json()["meta"]["currency"] == "USD"
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(15)
        log.close()
    # uvicorn shuts down cleanly on SIGTERM, then ends by that signal (so a supervisor sees why it stopped)
    assert code in (0, -signal.SIGTERM) and "Application shutdown complete" in (tmp_path / "api.log").read_text()


def test_a_bad_api_setting_exits_2_in_one_line(api_store):
    env = {**os.environ, "FINOPS_API_PORT": "80000"}
    done = subprocess.run([sys.executable, "-m", "finops", "api"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "FINOPS_API_PORT: " in done.stderr


@pytest.fixture
def as_admin(api_store):
    SCHEMA.config.update(headers=api_store.auth(ADMIN[0]))


@pytest.fixture
def as_member(api_store):
    SCHEMA.config.update(headers=api_store.auth(MEMBER[0]))


# Valid-looking input that our rules refuse (a compute type without a rate, a group name taken, a resource not in
# the inventory) is a 422 by design, so "positive data is accepted" cannot hold; every other check runs.
EXCLUDED = [positive_data_acceptance]


@pytest.mark.slow  # about a minute per store: make test runs it, make test-fast leaves it out
@SCHEMA.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_schema_as_an_admin(case, live_url, as_admin):
    case.call_and_validate(base_url=live_url, excluded_checks=EXCLUDED)


@pytest.mark.slow
@SCHEMA.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
def test_schema_as_a_member(case, live_url, as_member):
    case.call_and_validate(base_url=live_url, excluded_checks=EXCLUDED)
