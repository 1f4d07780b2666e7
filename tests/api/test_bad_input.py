"""Bad parameters and bodies answer 422 with a message naming the field, and write nothing; executions posted
twice are stored once."""

import json

import pytest
from sqlalchemy import text

from finops.api.app import MAX_BODY, PREFIX
from tests.conftest import ADMIN

RUN = {"execution_id": "p-1", "workflow_id": "wf-api", "workflow_name": "API flow", "user": "ana",
       "started_at": "2026-03-02T08:00:00Z", "ended_at": "2026-03-02T09:30:00Z", "compute_type": "gpu-t4",
       "compute_count": 2}  # fmt: skip


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("/monthly-costs?months=0", "months", "greater than or equal to 1"),
        ("/monthly-costs?months=121", "months", "less than or equal to 120"),
        ("/monthly-costs?months=twelve", "months", "valid integer"),
        ("/monthly-costs?metric=blended", "metric", "'unblended' or 'amortized'"),
        ("/monthly-costs?format=xlsx", "format", "'json' or 'csv'"),
        ("/monthly-costs?by=region", "by", "'total', 'service' or 'account'"),
        ("/daily-costs?days=0", "days", "greater than or equal to 1"),
        ("/daily-costs?days=99999", "days", "less than or equal to 3660"),
        ("/service-breakdown?startDate=2026-02-30", "startDate", "valid date"),
        ("/service-breakdown?startDate=yesterday", "startDate", "valid date"),
        ("/service-breakdown?startDate=2026-05-01&endDate=2026-04-30", "endDate", "2026-04-30 is before startDate"),
        ("/service-breakdown?startDate=2000-01-01&endDate=2026-01-01", "endDate", "at most 3660 days"),
        ("/service-breakdown?startDate=0001-01-01&endDate=0001-01-02", "startDate", "out of range"),
        ("/service-breakdown?endDate=9999-12-31", "endDate", "9999-12-31 is out of range (2000-01-01 to 2100-12-31)"),
        ("/cost-anomalies?since=0001-01-01", "since", "out of range"),
        ("/cost-forecast?monthsAhead=0", "monthsAhead", "greater than or equal to 1"),
        ("/cost-forecast?monthsAhead=121", "monthsAhead", "less than or equal to 120"),
        ("/execution-costs?months=-1", "months", "greater than or equal to 1"),
        ("/execution-costs?year=1999", "year", "greater than or equal to 2000"),
        ("/execution-costs?year=2101", "year", "less than or equal to 2100"),
        ("/execution-costs?by=team", "by", "'month', 'workflow', 'user' or 'run'"),
        ("/combined-costs?months=500", "months", "less than or equal to 120"),
        ("/cost-anomalies?status=closed", "status", "'open', 'confirmed'"),
        ("/cost-anomalies?since=2026-13-01", "since", "valid date"),
        ("/savings-recommendations?status=all", "status", "'open', 'dismissed' or 'done'"),
        ("/all?months=0", "months", "greater than or equal to 1"),
        ("/resource-groups?pageSize=501", "pageSize", "less than or equal to 500"),
        ("/resource-groups?page=0", "page", "greater than or equal to 1"),
        ("/resource-groups?status=deleted", "status", "'active' or 'archived'"),
        ("/resource-groups/0", "group_id", "greater than or equal to 1"),
        ("/resource-groups/abc", "group_id", "valid integer"),
        ("/resource-groups/by-resource?resourceType=app", "resourceId", "Field required"),
        ("/cache/refresh-requests/99999999999", "request_id", "less than or equal to 2147483647"),
    ],
)
def test_a_bad_parameter_is_422_naming_it(client, api_store, query, field, message):
    response = client.get(PREFIX + query, headers=api_store.auth(ADMIN[0]))
    body = response.json()
    assert response.status_code == 422, body
    assert body["message"].startswith(f"{field}: ") and message in body["message"], body
    assert body["errors"][0]["field"] == field


def executions(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT COUNT(*) FROM execution")).scalar()


def post(client, store, payload, raw: bytes | None = None):
    headers = {**store.auth(ADMIN[0]), "Content-Type": "application/json"}
    content = raw if raw is not None else json.dumps(payload).encode()
    return client.post(PREFIX + "/executions", headers=headers, content=content)


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"executions": [RUN, RUN | {"execution_id": "p-2", "ended_at": "2026-03-02T07:00:00Z"}]},
         "executions[1].ended_at", "is before started_at"),
        ({"executions": [RUN | {"compute_type": "tpu-v5"}]}, "executions[0].compute_type", "'tpu-v5' has no rate"),
        ({"executions": [RUN, RUN]}, "executions[1].execution_id", "'p-1' already appears at position 1"),
        ({"executions": [RUN | {"started_at": "1999-01-01T00:00:00Z"}]}, "executions[0].started_at",
         "out of range"),
        ({"executions": [RUN | {"compute_count": 0}]}, "executions[0].compute_count", "greater than or equal to 1"),
        ({"executions": [RUN | {"status": "running"}]}, "executions[0].status", "'succeeded', 'failed'"),
        ({"executions": [RUN | {"cost": 1}]}, "executions[0].cost", "Extra inputs are not permitted"),
        ({"executions": [{k: v for k, v in RUN.items() if k != "ended_at"}]}, "executions[0].ended_at",
         "Field required"),
        ({"executions": [RUN | {"started_at": "soon"}]}, "executions[0].started_at", "valid datetime"),
        ({"executions": []}, "executions", "at least 1 item"),
        ({"executions": [RUN | {"execution_id": f"m-{i}"} for i in range(10_001)]}, "executions",
         "at most 10000 items"),
        ([RUN], "body", "valid dictionary"),
    ],
)  # fmt: skip
def test_a_bad_batch_is_422_naming_the_run_and_field_and_stores_nothing(client, api_store, payload, field, message):
    before = executions(api_store.engine)
    response = post(client, api_store, payload)
    body = response.json()
    assert response.status_code == 422 and body["message"].startswith(f"{field}: ") and message in body["message"]
    assert executions(api_store.engine) == before


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"executions": [', "body: not valid JSON"),
        (b"\xff\xfe", "body: not valid JSON"),
        (b"\x8f\x8f\x01\x08", "body: not valid JSON"),  # not UTF-8 (schemathesis found this one)
        (b"x" * (MAX_BODY + 1), "body: larger than 8 MiB"),
    ],
)
def test_a_malformed_or_oversized_body_is_422(client, api_store, raw, message):
    before = executions(api_store.engine)
    response = post(client, api_store, None, raw)
    assert response.status_code == 422 and response.json()["message"].startswith(message)
    assert executions(api_store.engine) == before


def test_a_streamed_body_over_the_limit_is_422(client, api_store):
    def chunks():
        for _ in range(MAX_BODY // 2**16 + 2):
            yield b" " * 2**16

    headers = {**api_store.auth(ADMIN[0]), "Content-Type": "application/json"}
    response = client.post(PREFIX + "/executions", headers=headers, content=chunks())
    assert response.status_code == 422 and response.json()["message"] == "body: larger than 8 MiB"


def test_a_batch_sent_twice_is_stored_once_and_priced_exactly(client, api_store):
    batch = {"executions": [RUN | {"execution_id": f"twice-{i}"} for i in range(3)]}
    first = post(client, api_store, batch)
    assert first.status_code == 200 and first.json() == {"received": 3, "inserted": 3, "existing": []}
    again = post(client, api_store, batch | {"executions": batch["executions"] + [RUN | {"execution_id": "twice-9"}]})
    assert again.json() == {"received": 4, "inserted": 1, "existing": ["twice-0", "twice-1", "twice-2"]}
    with api_store.engine.connect() as conn:
        rows = conn.execute(text("SELECT cost_micros, rate_micros, source, username FROM execution "
                                 "WHERE execution_id LIKE 'twice-%'")).all()  # fmt: skip
    # 2 T4 units for 1.5 h at USD 0.53 = 1.59
    assert {tuple(r) for r in rows} == {(1_590_000, 530_000, "api", "ana")} and len(rows) == 4


def test_a_group_name_that_is_only_spaces_is_422(client, api_store):
    response = client.post(PREFIX + "/resource-groups", headers=api_store.auth(ADMIN[0]), json={"name": "   "})
    assert response.status_code == 422 and response.json()["message"] == "name is required"
