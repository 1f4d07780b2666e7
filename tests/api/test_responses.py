"""What every response carries: meta (data version, last day, currency, stale), an ETag that gives 304 until the data
changes, CSV on every list, formula-safe cells, and the refresh request's round trip."""

import csv
import io
import time
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from sqlalchemy import text
from sqlmodel import Session

from finops.api.app import PREFIX
from finops.data import load
from finops.data.sources import CONTRACT_COLUMNS
from tests.conftest import ADMIN, MEMBER

LISTS = ["/monthly-costs", "/daily-costs", "/service-breakdown", "/cost-forecast", "/savings-recommendations",
         "/cost-anomalies", "/execution-costs", "/combined-costs", "/resource-groups",
         "/resource-groups/by-resource?resourceType=app&resourceId=demo-app-01"]  # fmt: skip


def version(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT MAX(id) FROM refresh_run WHERE status = 'ok'")).scalar()


@pytest.mark.parametrize("path", LISTS)
def test_every_list_answers_csv_with_the_meta_in_headers(client, api_store, path):
    joiner = "&" if "?" in path else "?"
    response = client.get(f"{PREFIX}{path}{joiner}format=csv", headers=api_store.auth(ADMIN[0]))
    as_json = client.get(PREFIX + path, headers=api_store.auth(ADMIN[0])).json()
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == len(as_json["data"])
    assert response.headers["x-data-version"] == str(as_json["meta"]["data_version"]) == str(version(api_store.engine))
    assert response.headers["x-data-last-day"] == as_json["meta"]["last_day"]
    assert (response.headers["x-data-currency"], response.headers["x-data-stale"]) == ("USD", "false")


def test_csv_cells_cannot_run_as_formulas(client, api_store):
    response = client.get(PREFIX + "/resource-groups?format=csv&search=HYPERLINK", headers=api_store.auth(ADMIN[0]))
    assert list(csv.DictReader(io.StringIO(response.text)))[0]["name"] == "'=HYPERLINK(1)"
    assert client.get(PREFIX + "/resource-groups?search=HYPERLINK", headers=api_store.auth(ADMIN[0])).json()[
        "data"][0]["name"] == "=HYPERLINK(1)"  # JSON keeps the name as it is  # fmt: skip


def test_the_etag_gives_304_until_the_data_version_moves(client, api_store):
    auth = api_store.auth(ADMIN[0])
    first = client.get(PREFIX + "/monthly-costs?months=3", headers=auth)
    etag = first.headers["etag"]
    assert etag.startswith('W/"') and first.headers["cache-control"] == "private, no-cache"
    unchanged = client.get(PREFIX + "/monthly-costs?months=3", headers={**auth, "If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.content == b"" and unchanged.headers["etag"] == etag
    other = client.get(PREFIX + "/monthly-costs?months=4", headers={**auth, "If-None-Match": etag})
    assert other.status_code == 200 and other.headers["etag"] != etag  # another question, another tag
    with Session(api_store.engine) as s:  # a load, even of nothing, is a new data version
        day = datetime(2020, 1, 1).date()
        load.replace_window(s, "other", day, day + timedelta(days=1), pd.DataFrame(columns=CONTRACT_COLUMNS))
    moved = client.get(PREFIX + "/monthly-costs?months=3", headers={**auth, "If-None-Match": etag})
    assert moved.status_code == 200 and moved.headers["etag"] != etag
    assert moved.json()["meta"]["data_version"] == version(api_store.engine)


def test_a_new_execution_moves_the_execution_etags_only(client, api_store):
    auth = api_store.auth(ADMIN[0])
    costs_tag = client.get(PREFIX + "/daily-costs", headers=auth).headers["etag"]
    runs = client.get(PREFIX + "/execution-costs?months=1", headers=auth).json()
    run = {"execution_id": "etag-1", "workflow_id": "wf", "started_at": datetime.now(UTC).isoformat(),
           "ended_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat(), "compute_type": "cpu-small"}  # fmt: skip
    assert client.post(PREFIX + "/executions", headers=auth, json={"executions": [run]}).status_code == 200
    after = client.get(PREFIX + "/execution-costs?months=1", headers=auth).json()
    assert after["runs"] == runs["runs"] + 1 and after["total_cost"] == pytest.approx(runs["total_cost"] + 0.1)
    assert after["meta"]["executions_version"] > runs["meta"]["executions_version"]
    # the daily costs' figures did not change, but their meta did: the tag follows the meta
    assert client.get(PREFIX + "/daily-costs", headers={**auth, "If-None-Match": costs_tag}).status_code == 200


def test_content_etags_follow_changes_people_make(client, api_store):
    auth = api_store.auth(MEMBER[0])
    group = api_store.groups[MEMBER[0]]
    tag = client.get(f"{PREFIX}/resource-groups/{group}", headers=auth).headers["etag"]
    assert client.get(f"{PREFIX}/resource-groups/{group}", headers={**auth, "If-None-Match": tag}).status_code == 304
    client.patch(f"{PREFIX}/resource-groups/{group}", headers=auth, json={"description": "moved"})
    changed = client.get(f"{PREFIX}/resource-groups/{group}", headers={**auth, "If-None-Match": tag})
    assert changed.status_code == 200 and changed.json()["group"]["description"] == "moved"
    members = changed.json()["members"]
    assert members[0]["monthly_cost"] == pytest.approx(members[0]["hourly_cost"] * 730)


def test_stale_when_the_latest_refresh_failed(client, api_store):
    auth = api_store.auth(ADMIN[0])
    with Session(api_store.engine) as s:
        load.record_failed_run(s, "demo", None, None, "Cost Explorer said no")
    response = client.get(PREFIX + "/daily-costs", headers=auth)
    meta = response.json()["meta"]
    assert meta["stale"] is True and "Cost Explorer said no" in meta["stale_reason"]
    assert response.headers["x-data-stale"] == "true" and meta["data_version"] == version(api_store.engine)


def test_a_refresh_request_round_trip(client, api_store):
    auth = api_store.auth(ADMIN[0])
    asked = client.post(PREFIX + "/cache/trigger-refresh", headers=auth)
    body = asked.json()
    assert asked.status_code == 202 and body["status"] == "pending" and body["requested_by"] == "api:admin"
    assert asked.headers["location"] == f"{PREFIX}/cache/refresh-requests/{body['request_id']}"
    again = client.post(PREFIX + "/cache/trigger-refresh", headers=auth).json()
    assert (again["request_id"], again["created"]) == (body["request_id"], False)  # a waiting one is reused
    status = client.get(asked.headers["location"], headers=auth)
    assert status.json()["status"] == "pending" and status.json()["request_id"] == body["request_id"]
    assert client.get(f"{PREFIX}/cache/refresh-requests/999999", headers=auth).status_code == 404


def test_unknown_routes_and_methods_answer_json(client, api_store):
    auth = api_store.auth(ADMIN[0])
    missing = client.get(PREFIX + "/budgets", headers=auth)
    assert missing.status_code == 404 and missing.json()["message"] == "Not Found"
    wrong = client.put(PREFIX + "/monthly-costs", headers=auth)
    assert wrong.status_code == 405 and wrong.json()["status"] == 405


def test_a_refresh_by_another_process_shows_within_a_second(client, api_store, monkeypatch):
    from finops.api import responses

    monkeypatch.setattr(responses, "FRESHNESS_SECONDS", 1.0)
    auth = api_store.auth(ADMIN[0])
    before = client.get(PREFIX + "/daily-costs", headers=auth).json()["meta"]["data_version"]
    with Session(api_store.engine) as s:
        day = datetime(2020, 2, 1).date()
        load.replace_window(s, "elsewhere", day, day + timedelta(days=1), pd.DataFrame(columns=CONTRACT_COLUMNS))
    soon = client.get(PREFIX + "/daily-costs", headers=auth).json()["meta"]["data_version"]
    time.sleep(1.05)
    later = client.get(PREFIX + "/daily-costs", headers=auth).json()["meta"]["data_version"]
    assert soon in (before, later) and later == version(api_store.engine) > before
