"""Who may call what, over every endpoint of the OpenAPI schema: no token, a bad, revoked or expired token, a
member, an admin, a demoted or deleted user; a member and other people's groups."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlmodel import Session

from finops.api.app import PREFIX, create_app
from finops.data import tokens
from tests.api.conftest import OTHER
from tests.conftest import ADMIN, MEMBER

RUN = {"execution_id": "acc-1", "workflow_id": "wf", "started_at": "2026-03-02T08:00:00Z",
       "ended_at": "2026-03-02T09:00:00Z", "compute_type": "gpu-t4"}  # fmt: skip
# every operation, with a request that an allowed caller gets a success for; {group} is the target group's id
SPECS = {
    ("get", "/monthly-costs"): ("cost", None),
    ("get", "/daily-costs"): ("cost", None),
    ("get", "/service-breakdown"): ("cost", None),
    ("get", "/cost-forecast"): ("cost", None),
    ("get", "/savings-recommendations"): ("cost", None),
    ("get", "/cost-anomalies"): ("cost", None),
    ("get", "/combined-costs"): ("cost", None),
    ("get", "/all"): ("cost", None),
    ("get", "/execution-costs"): ("cost", None),
    ("post", "/executions"): ("cost", {"executions": [RUN]}),
    ("post", "/cache/trigger-refresh"): ("cost", None),
    ("get", "/cache/refresh-requests/{request_id}"): ("cost", None),
    ("get", "/resource-groups"): ("group", None),
    ("post", "/resource-groups"): ("group", {"name": "new"}),
    ("get", "/resource-groups/by-resource"): ("group", None),
    ("get", "/resource-groups/{group_id}"): ("group", None),
    ("patch", "/resource-groups/{group_id}"): ("group", {"description": "changed"}),
    ("delete", "/resource-groups/{group_id}"): ("group", None),
    ("post", "/resource-groups/{group_id}/resources"): ("group", {"resource_type": "app",
                                                                  "resource_id": "demo-app-02"}),
    ("delete", "/resource-groups/{group_id}/resources/{resource_type}/{resource_id}"): ("group", None),
}  # fmt: skip
QUERIES = {"/resource-groups/by-resource": "?resourceType=app&resourceId=demo-app-01"}


def url(path: str, group: int = 1, request_id: int = 1) -> str:
    filled = path.format(group_id=group, request_id=request_id, resource_type="app", resource_id="demo-app-01")
    return PREFIX + filled + QUERIES.get(path, "")


def call(client, method: str, path: str, headers: dict, body=None, **ids):
    return client.request(method.upper(), url(path, **ids), headers=headers, json=body)


def test_the_matrix_covers_every_operation():
    operations = {(m, p.removeprefix(PREFIX)) for p, item in create_app().openapi()["paths"].items() for m in item}
    assert operations == set(SPECS)


@pytest.mark.parametrize(("method", "path"), sorted(SPECS))
def test_without_a_valid_token_every_operation_is_401(client, api_store, method, path):
    body = SPECS[(method, path)][1]
    name = f"{method}-{sorted(SPECS).index((method, path))}"
    with Session(api_store.engine) as s:
        _, revoked = tokens.add_token(session=s, name=f"r-{name}", username=ADMIN[0])
        tokens.revoke(session=s, name=f"r-{name}")
        _, expiring = tokens.add_token(session=s, name=f"x-{name}", username=ADMIN[0], expires_days=1)
        s.execute(text("UPDATE api_token SET expires_at = :t WHERE name = :n"),
                  {"t": datetime.now(UTC) - timedelta(seconds=1), "n": f"x-{name}"})  # fmt: skip
        s.commit()
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": f"Basic {api_store.tokens[ADMIN[0]]}"},
                    {"Authorization": f"Bearer {revoked}"}, {"Authorization": f"Bearer {expiring}"}):  # fmt: skip
        response = call(client, method, path, headers, body)
        assert response.status_code == 401, (headers, response.text)
        assert response.headers["www-authenticate"] == "Bearer" and response.json()["message"]


@pytest.mark.parametrize(("method", "path"), sorted(k for k, v in SPECS.items() if v[0] == "cost"))
def test_a_member_gets_403_and_no_figure_from_every_cost_operation(client, api_store, method, path):
    response = call(client, method, path, api_store.auth(MEMBER[0]), SPECS[(method, path)][1])
    assert response.status_code == 403 and response.json() == {
        "status": 403, "message": "cost data is for admins only: this token's user is a member", "errors": []
    }  # fmt: skip


@pytest.mark.parametrize(("method", "path"), sorted(k for k, v in SPECS.items() if v[0] == "cost"))
def test_an_admin_may_call_every_cost_operation(client, api_store, method, path):
    request_id = 1
    if path.startswith("/cache/refresh-requests"):
        request_id = call(client, "post", "/cache/trigger-refresh", api_store.auth(ADMIN[0])).json()["request_id"]
    response = call(client, method, path, api_store.auth(ADMIN[0]), SPECS[(method, path)][1], request_id=request_id)
    assert response.status_code in (200, 202), response.text


def new_group(client, store, who: str, name: str) -> int:
    response = client.post(PREFIX + "/resource-groups", headers=store.auth(who), json={"name": name})
    assert response.status_code == 201, response.text
    return response.json()["group"]["id"]


@pytest.mark.parametrize(("method", "path"), sorted(k for k, v in SPECS.items() if v[0] == "group" and "{" in k[1]))
def test_someone_elses_group_answers_404_to_a_member_and_yields_to_an_admin(client, api_store, method, path):
    body = SPECS[(method, path)][1]
    theirs = new_group(client, api_store, OTHER[0], f"theirs {method}{path}"[:90])
    client.post(f"{PREFIX}/resource-groups/{theirs}/resources", headers=api_store.auth(ADMIN[0]),
                json={"resource_type": "app", "resource_id": "demo-app-01"})  # fmt: skip
    refused = call(client, method, path, api_store.auth(MEMBER[0]), body, group=theirs)
    assert refused.status_code == 404 and refused.json()["message"] == f"no resource group {theirs}"
    assert call(client, method, path, api_store.auth(MEMBER[0]), body, group=10**6).json() == refused.json() | {
        "message": f"no resource group {10**6}"}  # same answer as for a group that does not exist  # fmt: skip
    if path.endswith("/resources") and method == "post":
        body = {"resource_type": "app", "resource_id": "demo-app-03"}  # the admin's own app
    allowed = call(client, method, path, api_store.auth(ADMIN[0]), body, group=theirs)
    assert allowed.status_code in (200, 201, 204), allowed.text


def test_a_member_works_on_their_own_groups_with_their_own_resources(client, api_store):
    auth = api_store.auth(MEMBER[0])
    mine = new_group(client, api_store, MEMBER[0], "mine")
    added = client.post(f"{PREFIX}/resource-groups/{mine}/resources", headers=auth,
                        json={"resource_type": "app", "resource_id": "demo-app-01"})  # fmt: skip
    assert added.status_code == 201 and [m["resource_id"] for m in added.json()["members"]] == ["demo-app-01"]
    forbidden = client.post(f"{PREFIX}/resource-groups/{mine}/resources", headers=auth,
                            json={"resource_type": "app", "resource_id": "demo-app-03"})  # owned by admin  # fmt: skip
    assert forbidden.status_code == 403 and "it belongs to admin" in forbidden.json()["message"]
    created = client.post(
        f"{PREFIX}/resource-groups",
        headers=auth,
        json={"name": "sneaky", "resources": [{"resource_type": "app", "resource_id": "demo-app-03"}]},
    )
    assert created.status_code == 403  # fmt: skip
    listed = client.get(f"{PREFIX}/resource-groups?pageSize=500", headers=auth).json()
    assert {g["owner"] for g in listed["data"]} == {MEMBER[0]} and listed["total"] == len(listed["data"])
    everyone = client.get(f"{PREFIX}/resource-groups?pageSize=500", headers=api_store.auth(ADMIN[0])).json()
    assert {MEMBER[0], OTHER[0], ADMIN[0]} <= {g["owner"] for g in everyone["data"]}
    found = client.get(f"{PREFIX}/resource-groups/by-resource?resourceType=app&resourceId=demo-app-01",
                       headers=auth).json()["data"]  # fmt: skip
    assert found and {g["owner"] for g in found} == {MEMBER[0]}
    removed = client.delete(f"{PREFIX}/resource-groups/{mine}/resources/app/demo-app-01", headers=auth)
    assert removed.status_code == 204
    assert client.delete(f"{PREFIX}/resource-groups/{mine}", headers=auth).status_code == 204
    assert client.get(f"{PREFIX}/resource-groups/{mine}", headers=auth).status_code == 404


def test_a_token_acts_with_its_users_role_now(client, api_store):
    with Session(api_store.engine) as s:
        from finops.data import users

        users.add_user(session=s, username="eve", role="admin", password="eve-pass-123")
        _, token = tokens.add_token(session=s, name="eve", username="eve")
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get(PREFIX + "/daily-costs", headers=auth).status_code == 200
    with api_store.engine.begin() as conn:
        conn.execute(text("UPDATE app_user SET role = 'member' WHERE username = 'eve'"))
    assert client.get(PREFIX + "/daily-costs", headers=auth).status_code == 403  # demoted: at once
    with api_store.engine.begin() as conn:
        conn.execute(text("DELETE FROM app_user WHERE username = 'eve'"))
    assert client.get(PREFIX + "/resource-groups", headers=auth).status_code == 401  # gone: the token is void


def test_last_use_is_recorded(client, api_store):
    with Session(api_store.engine) as s:
        _, token = tokens.add_token(session=s, name="used", username=MEMBER[0])
    client.get(PREFIX + "/resource-groups", headers={"Authorization": f"Bearer {token}"})
    with api_store.engine.connect() as conn:
        used = conn.execute(text("SELECT last_used_at FROM api_token WHERE name = 'used'")).scalar()
    assert used is not None
