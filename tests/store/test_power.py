"""Stop all / Start all on resource groups through the real drivers (moto server, HTTP receiver), and discovery
stored in the inventory."""

import pytest
from sqlalchemy import select
from sqlmodel import Session

from finops.data import groups, power, resources
from finops.data.drivers import aws_discovery as discovery
from finops.data.groups import Actor, GroupError, NotFound
from finops.data.tables import AuditLog, Resource, User
from finops.settings import Settings
from tests.store.test_drivers import REGION, client, make_asg, make_ec2, make_ecs, make_rds

ADMIN = Actor("admin", is_admin=True)
OWNER = Actor("owner")
OTHER = Actor("other")


def add_people(session) -> None:
    """The actors below as users of the store: the sidecar re-checks a request against the users it holds."""
    for actor in (ADMIN, OWNER, OTHER):
        session.add(User(username=actor.username, role="admin" if actor.is_admin else "member", password_hash="-"))
    session.commit()


@pytest.fixture
def s(engine):
    with Session(engine) as session:
        add_people(session)
        yield session


@pytest.fixture
def aws(moto_env):
    # moto has no Price List API: these tests price from the bundled table (the API: tests/store/test_prices.py)
    return Settings(aws_max_attempts=1, aws_regions=[REGION], aws_price_list=False)


def _asg_sizes(name="workers"):
    g = client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"][0]
    return g["MinSize"], g["MaxSize"], g["DesiredCapacity"]


def _ec2_state(instance_id):
    resp = client("ec2").describe_instances(InstanceIds=[instance_id])
    return resp["Reservations"][0]["Instances"][0]["State"]["Name"]


def _run_next(s, settings):
    row = power.take_next(session=s)
    assert row is not None and row.status == "running"
    return power.execute(session=s, row=row, settings=settings)


def test_stop_all_then_start_all_restores_every_aws_family_and_platform(s, aws):
    (web,) = make_ec2(name="web-1", owner="owner")
    make_rds(owner="owner")
    make_asg(sizes=(1, 4, 2), owner="owner")
    make_ecs(desired=3, owner="owner")
    discovery.run_discovery(session=s, settings=aws)
    resources.add_resource(
        session=s, resource_type="app", resource_id="app-1", name="Shop", state="running", owner="owner"
    )
    members = [("ec2_instance", web), ("rds_instance", "orders-db"), ("asg", "workers"), ("ecs_service", "main/api")]
    group = groups.create_group(session=s, actor=OWNER, name="nightly", resources=[*members, ("app", "app-1")])

    preview = power.plan(session=s, actor=OWNER, group_id=group.id, action="stop")
    assert len(preview) == 5
    assert set(preview["change"]) == {"stop: running -> stopped"}

    power.request(session=s, actor=OWNER, group_id=group.id, action="stop")
    done = _run_next(s, aws)
    assert done.status == "done", done.results
    assert _ec2_state(web) == "stopped"
    assert _asg_sizes() == (0, 0, 0)
    svc = client("ecs").describe_services(cluster="main", services=["api"])["services"][0]
    assert svc["desiredCount"] == 0
    rds = client("rds").describe_db_instances(DBInstanceIdentifier="orders-db")["DBInstances"][0]
    assert rds["DBInstanceStatus"] == "stopped"
    states = {(r.resource_type, r.resource_id): r for r in s.execute(select(Resource)).scalars()}
    assert {states[m].state for m in [*members, ("app", "app-1")]} == {"stopped"}
    assert states[("asg", "workers")].saved_state == {"min": 1, "max": 4, "desired": 2}

    preview = power.plan(session=s, actor=ADMIN, group_id=group.id, action="start")
    asg_change = preview.set_index("resource_id").loc["workers", "change"]
    assert asg_change == "start: stopped -> running, restoring desired=2, max=4, min=1"

    power.request(session=s, actor=ADMIN, group_id=group.id, action="start")
    done = _run_next(s, aws)
    assert done.status == "done", done.results
    assert _ec2_state(web) == "running"
    assert _asg_sizes() == (1, 4, 2)
    assert client("ecs").describe_services(cluster="main", services=["api"])["services"][0]["desiredCount"] == 3
    s.expire_all()
    assert s.execute(select(Resource.saved_state).where(Resource.resource_id == "workers")).scalar() == {}
    shown = power.recent(session=s, actor=OWNER, group_id=group.id)
    assert list(shown["action"]) == ["start", "stop"] and list(shown["status"]) == ["done", "done"]
    # no platform URL: the app's start only recorded the desired state, and says so
    assert shown["summary"].iloc[0] == (
        "4 changed, 1 desired state recorded (no platform URL), 0 already running, 0 failed"
    )
    actions = s.execute(select(AuditLog.action).where(AuditLog.action.like("%_all"))).scalars().all()
    assert actions == ["stop_all", "start_all"]


def test_one_failure_does_not_stop_the_rest(s, aws):
    (web,) = make_ec2(name="web-1", owner="owner")
    discovery.run_discovery(session=s, settings=aws)
    resources.add_resource(  # in the inventory, but AWS does not know it
        session=s, resource_type="ec2_instance", resource_id="i-0000000000000dead", name="gone", owner="owner"
    )
    group = groups.create_group(
        session=s, actor=OWNER, name="mixed", resources=[("ec2_instance", web), ("ec2_instance", "i-0000000000000dead")]
    )
    power.request(session=s, actor=OWNER, group_id=group.id, action="stop")
    done = _run_next(s, aws)
    assert done.status == "partial"
    assert done.error == "1 of 2 resources failed or were refused"
    table = power.results(session=s, actor=OWNER, action_id=done.id).set_index("resource_id")
    assert table.loc[web, "after"] == "stopped" and table.loc[web, "error"] == ""
    assert "i-0000000000000dead" in table.loc["i-0000000000000dead", "error"]
    assert _ec2_state(web) == "stopped"


def test_already_stopped_is_left_alone(s, aws):
    (web,) = make_ec2(name="web-1", owner="owner")
    client("ec2").stop_instances(InstanceIds=[web])
    discovery.run_discovery(session=s, settings=aws)
    group = groups.create_group(session=s, actor=OWNER, name="idle", resources=[("ec2_instance", web)])
    power.request(session=s, actor=OWNER, group_id=group.id, action="stop")
    done = _run_next(s, aws)
    assert done.status == "done"
    assert done.results[0] | {"name": ""} == {
        "resource_type": "ec2_instance",
        "resource_id": web,
        "name": "",
        "before": "stopped",
        "after": "stopped",
        "outcome": "unchanged",
        "error": "",
    }


@pytest.mark.parametrize(
    ("actor", "allowed"),
    [(ADMIN, True), (OWNER, True), (OTHER, False)],
    ids=["admin", "owner", "other member"],
)
def test_only_owner_or_admin_may_plan_or_request(s, actor, allowed):
    resources.add_resource(session=s, resource_type="app", resource_id="a1", name="A", owner="owner")
    group = groups.create_group(session=s, actor=OWNER, name="g", resources=[("app", "a1")])
    if allowed:
        assert len(power.plan(session=s, actor=actor, group_id=group.id, action="stop")) == 1
        assert power.request(session=s, actor=actor, group_id=group.id, action="stop").status == "pending"
    else:
        with pytest.raises(NotFound):
            power.plan(session=s, actor=actor, group_id=group.id, action="stop")
        with pytest.raises(NotFound):
            power.request(session=s, actor=actor, group_id=group.id, action="stop")
        with pytest.raises(NotFound):
            power.recent(session=s, actor=actor, group_id=group.id)


@pytest.mark.parametrize(
    ("setup", "action", "message"),
    [
        ("empty", "stop", "has no resources to stop"),
        ("busy", "start", "a stop of group 'g' is already pending"),
        ("member", "reboot", "action must be one of: stop, start"),
    ],
)
def test_requests_refused_with_a_reason(s, setup, action, message):
    resources.add_resource(session=s, resource_type="app", resource_id="a1", name="A", owner="owner")
    group = groups.create_group(session=s, actor=OWNER, name="g")
    if setup != "empty":
        groups.add_resource(session=s, actor=OWNER, group_id=group.id, resource_type="app", resource_id="a1")
    if setup == "busy":
        power.request(session=s, actor=OWNER, group_id=group.id, action="stop")
    with pytest.raises(GroupError, match=message):
        power.request(session=s, actor=OWNER, group_id=group.id, action=action)


def test_platform_members_record_desired_state_and_sidecar_claims_once(s):
    resources.add_resource(
        session=s, resource_type="workspace", resource_id="w1", name="W", state="running", owner="owner"
    )
    group = groups.create_group(session=s, actor=OWNER, name="g", resources=[("workspace", "w1")])
    power.request(session=s, actor=OWNER, group_id=group.id, action="stop")
    row = power.take_next(session=s)
    assert power.take_next(session=s) is None  # claimed: a second poll finds nothing
    power.execute(session=s, row=row, settings=Settings(platform_url=""))
    assert resources.get_resource(session=s, resource_type="workspace", resource_id="w1").state == "stopped"


def test_discovery_stores_updates_and_marks_missing(s, aws):
    (web,) = make_ec2(name="web-1")
    (old,) = make_ec2(name="old")
    counts = discovery.run_discovery(session=s, settings=aws)
    assert (counts["found"], counts["new"], counts["missing"], counts["errors"]) == (2, 2, 0, [])
    row = resources.get_resource(session=s, resource_type="ec2_instance", resource_id=web)
    assert (row.name, row.state, row.source, row.region, row.hourly_cost) == ("web-1", "running", "aws", REGION, 0.0104)
    assert row.tags["team"] == "data" and row.seen_at is not None

    client("ec2").terminate_instances(InstanceIds=[old])
    client("ec2").stop_instances(InstanceIds=[web])
    counts = discovery.run_discovery(session=s, settings=aws)
    assert (counts["found"], counts["new"], counts["missing"]) == (1, 0, 1)
    s.expire_all()
    assert resources.get_resource(session=s, resource_type="ec2_instance", resource_id=web).state == "stopped"
    assert resources.get_resource(session=s, resource_type="ec2_instance", resource_id=old).state == "missing"


def test_sidecar_jobs_carry_out_requests_and_discover_only_for_aws(store, moto_env, monkeypatch):
    from finops.jobs import tasks
    from finops.settings import get_settings

    with Session(store) as s:
        add_people(s)
        resources.add_resource(
            session=s, resource_type="app", resource_id="a1", name="A", state="running", owner="owner"
        )
        gid = groups.create_group(session=s, actor=OWNER, name="g", resources=[("app", "a1")]).id
        power.request(session=s, actor=OWNER, group_id=gid, action="stop")
    tasks.take_power_actions()
    with Session(store) as s:
        assert power.recent(session=s, actor=OWNER, group_id=gid)["status"].tolist() == ["done"]
        assert resources.get_resource(session=s, resource_type="app", resource_id="a1").state == "stopped"

    (web,) = make_ec2(name="web-1")
    tasks.discover_resources()  # the demo source: no AWS calls, nothing discovered
    with Session(store) as s:
        assert resources.get_resource(session=s, resource_type="ec2_instance", resource_id=web) is None
    monkeypatch.setenv("FINOPS_SOURCE", "aws")
    get_settings.cache_clear()
    tasks.discover_resources()
    with Session(store) as s:
        assert resources.get_resource(session=s, resource_type="ec2_instance", resource_id=web).state == "running"


def test_idle_instances_from_cloudwatch_become_recommendations(s, aws):
    from datetime import UTC, datetime, timedelta

    from finops.data import recommendations
    from finops.data.drivers import aws_utilization as utilization

    (quiet,) = make_ec2(name="quiet")
    (busy,) = make_ec2(name="busy")
    (young,) = make_ec2(name="young")
    now = datetime.now(UTC)

    def cpu(instance, values):
        client("cloudwatch").put_metric_data(
            Namespace="AWS/EC2",
            MetricData=[
                {"MetricName": "CPUUtilization", "Dimensions": [{"Name": "InstanceId", "Value": instance}],
                 "Timestamp": now - timedelta(days=d, hours=1), "Value": v}
                for d, v in enumerate(values)
            ],
        )  # fmt: skip

    cpu(quiet, [1.0, 2.5, 4.9] * 4)  # 12 days, peak 4.9 %
    cpu(busy, [1.0] * 11 + [35.0])  # one busy day is not idle
    cpu(young, [0.5] * 3)  # three days of data: too young to call idle
    discovery.run_discovery(session=s, settings=aws)
    counts = utilization.mark_idle(session=s, settings=aws, now=now)
    assert (counts["checked"], counts["idle"], counts["errors"]) == (3, 1, [])
    quiet_row = resources.get_resource(session=s, resource_type="ec2_instance", resource_id=quiet)
    assert (quiet_row.idle, quiet_row.cpu_peak) == (True, 4.9)
    assert utilization.mark_idle(session=s, settings=aws, now=now)["checked"] == 0  # once a day
    discovery.run_discovery(session=s, settings=aws)  # rediscovery keeps the mark
    recommendations.refresh_own(session=s)
    table = recommendations.list_recommendations(session=s, source="idle")
    assert list(table["resource_id"]) == [f"ec2_instance:{quiet}"]
    assert table["estimated_monthly_savings"].iloc[0] == round(0.0104 * 730, 2)
    assert "CPU peaked at 4.9 % over 14 days" in table["description"].iloc[0]


CRASH = """
import os, signal, sys
from finops.data import db, power
from finops.data.drivers import aws
from finops.settings import get_settings

when, original = sys.argv[1], aws.AsgDriver.stop


def stop(self, ref):  # SIGKILL this process just before, or just after, the AWS call that scales to zero
    if when == "before":
        os.kill(os.getpid(), signal.SIGKILL)
    original(self, ref)
    os.kill(os.getpid(), signal.SIGKILL)


aws.AsgDriver.stop = stop
with db.session() as s:
    power.execute(session=s, row=power.take_next(session=s), settings=get_settings())
"""


@pytest.mark.parametrize("when", ["before", "after"])
def test_sigkill_around_the_scale_to_zero_keeps_the_saved_sizes(engine, aws, moto_env, tmp_path, monkeypatch, when):
    import os
    import subprocess
    import sys

    from finops.jobs import tasks
    from tests.conftest import ROOT, use_store

    url = engine.url.render_as_string(hide_password=False)
    with Session(engine) as s:
        add_people(s)
        make_asg(sizes=(1, 4, 2), owner="owner")
        discovery.run_discovery(session=s, settings=aws)
        gid = groups.create_group(session=s, actor=OWNER, name="batch", resources=[("asg", "workers")]).id
        power.request(session=s, actor=OWNER, group_id=gid, action="stop")
    env = {**os.environ, "FINOPS_DATA_DIR": str(tmp_path), "FINOPS_DATABASE_URL": url, "FINOPS_AWS_MAX_ATTEMPTS": "1"}
    proc = subprocess.run([sys.executable, "-c", CRASH, when], cwd=ROOT, env=env, capture_output=True, timeout=60)
    assert proc.returncode == -9, proc.stderr.decode()
    assert _asg_sizes() == ((1, 4, 2) if when == "before" else (0, 0, 0))
    with Session(engine) as s:  # committed before the AWS call, whatever happened after
        saved = s.execute(select(Resource.saved_state).where(Resource.resource_id == "workers")).scalar()
    assert saved == {"min": 1, "max": 4, "desired": 2}

    use_store(monkeypatch, tmp_path, url=url)
    assert tasks.close_interrupted() == 1  # what the next sidecar does at start
    with Session(engine) as s:
        power.request(session=s, actor=OWNER, group_id=gid, action="start")
        done = _run_next(s, aws)
        assert done.status == "done", done.results
        assert s.execute(select(Resource.saved_state).where(Resource.resource_id == "workers")).scalar() == {}
    assert _asg_sizes() == (1, 4, 2)
