"""Schedules in the store and the reconciler, against a moto server through real boto3 clients (EC2, RDS, Auto
Scaling, ECS) on SQLite and PostgreSQL: transitions, catch-up after downtime, enforced, retain_running, the union
rule, ownership, retries with backoff, overrides and the ledger."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlmodel import Session

from finops.data import groups, ledger, resources, schedule_runs, schedules
from finops.data.access import Actor, Forbidden
from finops.data.drivers import aws_discovery
from finops.data.tables import AuditLog, ScheduleAction, ScheduleResourceState, User
from finops.scheduling.specs import SpecError, check_spec
from finops.settings import Settings
from tests.store.test_drivers import REGION, client, make_asg, make_ec2, make_ecs, make_rds

ADMIN, OWNER, OTHER = Actor("admin", is_admin=True), Actor("owner"), Actor("other")
MON_21 = datetime(2026, 11, 30, 21, 0, tzinfo=UTC)  # a Monday evening
TUE_08 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def aws(moto_env):
    return Settings(aws_max_attempts=1, aws_regions=[REGION], platform_url="")


@pytest.fixture
def s(engine):
    with Session(engine) as session:
        for actor in (ADMIN, OWNER, OTHER):
            session.add(User(username=actor.username, role="admin" if actor.is_admin else "member", password_hash="-"))
        session.commit()
        yield session


def office(name="office", targets=(), **extra) -> dict:
    return {"name": name, "timezone": "UTC", "periods": [{"begin": "08:00", "end": "20:00", "weekdays": "mon-fri"}],
            "targets": list(targets), **extra}  # fmt: skip


def save(s, actor=OWNER, **raw):
    return schedules.save(session=s, actor=actor, spec=check_spec(office(**raw)))


def tick(s, aws, now):
    return schedule_runs.reconcile(session=s, settings=aws, now=now)


def ec2_state(instance_id):
    return client("ec2").describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]["State"][
        "Name"
    ]


def asg_sizes():
    g = client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=["workers"])["AutoScalingGroups"][0]
    return g["MinSize"], g["MaxSize"], g["DesiredCapacity"]


def actions_logged(s):
    rows = s.execute(select(ScheduleAction).order_by(ScheduleAction.id)).scalars()
    return [(r.resource_id, r.action, r.after, r.error) for r in rows]


def test_every_family_stops_at_night_and_starts_in_the_morning(s, aws):
    (web,) = make_ec2(name="web-1", owner="owner")
    make_rds(owner="owner")
    make_asg(sizes=(1, 4, 2), owner="owner")
    make_ecs(desired=3, owner="owner")
    aws_discovery.run_discovery(session=s, settings=aws)
    members = [("ec2_instance", web), ("rds_instance", "orders-db"), ("asg", "workers"), ("ecs_service", "main/api")]
    groups.create_group(session=s, actor=OWNER, name="dev", resources=members)
    schedule = save(s, targets=[{"group": "dev"}])

    assert tick(s, aws, MON_21) == {"resources": 4, "acted": 4, "failed": 0, "refused": 0}
    assert ec2_state(web) == "stopped" and asg_sizes() == (0, 0, 0)
    rds = client("rds").describe_db_instances(DBInstanceIdentifier="orders-db")["DBInstances"][0]
    assert rds["DBInstanceStatus"] == "stopped"
    assert client("ecs").describe_services(cluster="main", services=["api"])["services"][0]["desiredCount"] == 0
    assert {a[1] for a in actions_logged(s)} == {"stop"}
    assert tick(s, aws, MON_21 + timedelta(minutes=1))["acted"] == 0  # idempotent: nothing left to do

    assert tick(s, aws, TUE_08)["acted"] == 4
    assert ec2_state(web) == "running" and asg_sizes() == (1, 4, 2)  # the saved sizes came back
    stopped = ledger.intervals(session=s, start=MON_21 - timedelta(days=1), end=datetime.now(UTC) + timedelta(days=1),
                               cause_prefix=f"schedule:{schedule.id}", state="stopped")  # fmt: skip
    assert set(stopped["resource_id"]) == {web, "orders-db", "workers", "main/api"}


def test_after_downtime_it_acts_on_the_current_state_and_replays_nothing(s, aws):
    (web,) = make_ec2(name="web-1", owner="owner")
    aws_discovery.run_discovery(session=s, settings=aws)
    save(s, targets=[{"resource_type": "ec2_instance", "resource_id": web}])
    tick(s, aws, MON_21)
    assert ec2_state(web) == "stopped"
    # the sidecar was down from Monday night to Wednesday night: it missed Tuesday's start and stop
    wed_night = MON_21 + timedelta(days=2, minutes=30)
    assert tick(s, aws, wed_night)["acted"] == 0
    assert [a[1] for a in actions_logged(s)] == ["stop"]
    assert tick(s, aws, wed_night + timedelta(hours=11, minutes=30))["acted"] == 1  # Thursday 09:00: one start
    assert ec2_state(web) == "running"


@pytest.mark.parametrize("enforced", [False, True])
def test_a_start_by_hand_is_left_alone_unless_enforced(s, aws, enforced):
    make_rds(owner="owner")
    aws_discovery.run_discovery(session=s, settings=aws)
    save(s, targets=[{"resource_type": "rds_instance", "resource_id": "orders-db"}], enforced=enforced)
    tick(s, aws, MON_21)
    client("rds").start_db_instance(DBInstanceIdentifier="orders-db")  # AWS restarts it after 7 days, or a person
    tick(s, aws, MON_21 + timedelta(hours=1))
    status = client("rds").describe_db_instances(DBInstanceIdentifier="orders-db")["DBInstances"][0]["DBInstanceStatus"]
    assert status == ("stopped" if enforced else "available")


def test_retain_running_keeps_what_a_person_started_before_the_period(s, aws):
    (web,) = make_ec2(name="web-1", owner="owner")
    aws_discovery.run_discovery(session=s, settings=aws)
    save(s, targets=[{"resource_type": "ec2_instance", "resource_id": web}], retain_running=True)
    tick(s, aws, MON_21)  # stopped for the night
    client("ec2").start_instances(InstanceIds=[web])  # a person starts it early on Tuesday
    tick(s, aws, TUE_08)  # the period begins: it was running already
    tick(s, aws, TUE_08.replace(hour=20))  # the period ends: retained, not stopped
    assert ec2_state(web) == "running"
    assert actions_logged(s)[-1][1:] == ("none", "running", "retain_running: started by hand, left running")
    client("ec2").stop_instances(InstanceIds=[web])  # the person stops it on Tuesday night
    tick(s, aws, TUE_08 + timedelta(days=1))  # Wednesday: the schedule starts it
    tick(s, aws, TUE_08.replace(hour=20) + timedelta(days=1))
    assert ec2_state(web) == "stopped"  # started by the schedule: stopped at the end as usual


def test_a_resource_under_two_schedules_runs_if_either_says_run(s, aws):
    (web,) = make_ec2(name="web-1", owner="owner")
    aws_discovery.run_discovery(session=s, settings=aws)
    target = [{"resource_type": "ec2_instance", "resource_id": web}]
    save(s, targets=target)
    batch = {"name": "batch", "timezone": "UTC", "periods": [{"begin": "20:00", "end": "23:00"}], "targets": target}
    schedules.save(session=s, actor=OWNER, spec=check_spec(batch))
    tick(s, aws, MON_21)  # office says stopped, batch says running: it runs
    assert ec2_state(web) == "running"
    tick(s, aws, MON_21 + timedelta(hours=2))  # both say stopped
    assert ec2_state(web) == "stopped"


def test_members_schedule_only_what_they_may_stop(s, aws):
    resources.add_resource(session=s, resource_type="app", resource_id="mine", name="Mine", owner="owner")
    resources.add_resource(session=s, resource_type="app", resource_id="theirs", name="Theirs", owner="other")
    with pytest.raises(Forbidden, match="belongs to other"):
        save(s, targets=[{"resource_type": "app", "resource_id": "theirs"}])
    groups.create_group(session=s, actor=OTHER, name="other's")
    with pytest.raises(schedules.ScheduleError, match='targets\\[0\\].group: no group "other\'s"'):
        save(s, targets=[{"group": "other's"}])
    group = groups.create_group(session=s, actor=OWNER, name="mine", resources=[("app", "mine")])
    save(s, targets=[{"group": "mine"}])
    # an admin puts someone else's resource into the member's group: the schedule leaves it alone, says so once
    groups.add_resource(session=s, actor=ADMIN, group_id=group.id, resource_type="app", resource_id="theirs")
    for minute in range(3):
        counts = tick(s, aws, MON_21 + timedelta(minutes=minute))
    assert resources.get_resource(session=s, resource_type="app", resource_id="theirs").state == ""
    refusals = [a for a in actions_logged(s) if a[3] and "not permitted" in a[3]]
    assert refusals == [("theirs", "stop", "", "not permitted: it belongs to other")] and counts["refused"] == 0


def test_a_failed_action_is_retried_with_backoff(s, aws):
    resources.add_resource(session=s, resource_type="ec2_instance", resource_id="i-0000000000000dead", name="gone",
                           owner="owner", region=REGION)  # fmt: skip
    save(s, targets=[{"resource_type": "ec2_instance", "resource_id": "i-0000000000000dead"}])
    assert tick(s, aws, MON_21)["failed"] == 1
    assert tick(s, aws, MON_21 + timedelta(seconds=30))["failed"] == 0  # waiting for its backoff
    assert tick(s, aws, MON_21 + timedelta(seconds=61))["failed"] == 1  # retried after a minute
    memory = s.execute(select(ScheduleResourceState)).scalars().one()
    assert memory.failures == 2 and memory.retry_at.replace(tzinfo=UTC) == MON_21 + timedelta(seconds=61, minutes=2)
    assert [a[1] for a in actions_logged(s)] == ["stop", "stop"] and "i-0000000000000dead" in actions_logged(s)[0][3]


def test_an_override_keeps_targets_running_and_is_audited(s, aws):
    (web,) = make_ec2(name="web-1", owner="owner")
    aws_discovery.run_discovery(session=s, settings=aws)
    schedule = save(s, targets=[{"resource_type": "ec2_instance", "resource_id": web}])
    with pytest.raises(SpecError, match="until: .* is in the past"):
        schedules.add_override(session=s, actor=OWNER, schedule_id=schedule.id, state="running",
                               until="2026-11-30T20:00", now=MON_21)  # fmt: skip
    earlier = MON_21 - timedelta(minutes=5)
    schedules.add_override(session=s, actor=OWNER, schedule_id=schedule.id, state="running",
                           until="2026-11-30T23:00", reason="release night", now=earlier)  # fmt: skip
    tick(s, aws, MON_21)
    assert ec2_state(web) == "running"
    tick(s, aws, MON_21 + timedelta(hours=2))  # the override expired
    assert ec2_state(web) == "stopped"
    audit = s.execute(select(AuditLog.action, AuditLog.detail).where(AuditLog.action == "override")).one()
    assert audit.detail["reason"] == "release night" and audit.detail["state"] == "running"


def test_other_members_cannot_see_or_change_a_schedule(s):
    schedule = save(s)
    assert schedules.list_schedules(session=s, actor=OTHER).empty
    assert list(schedules.list_schedules(session=s, actor=ADMIN)["name"]) == ["office"]
    with pytest.raises(schedules.NotFound):
        schedules.delete_schedule(session=s, actor=OTHER, schedule_id=schedule.id)
    with pytest.raises(schedules.ScheduleError, match="name: owner already has a schedule named 'office'"):
        save(s)
    schedules.delete_schedule(session=s, actor=ADMIN, schedule_id=schedule.id)
    assert schedules.list_schedules(session=s, actor=ADMIN).empty
