"""AWS discovery and drivers through real boto3 clients against a moto server; the platform driver against a
real HTTP receiver on 127.0.0.1.

What moto 5.2.5 does not model (so these tests do not claim it): EC2 and RDS reach `stopped` / `running` at
once, with no pending or stopping phase; an Auto Scaling group or ECS service scaled to 0 is only checked
through its desired sizes (moto's ECS runs no tasks for a service, so runningCount is not asserted).
"""

import json
import socket
import threading
from collections import Counter
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest

from finops.data.drivers import Driver, DriverError, ResourceRef, driver_for
from finops.data.drivers import aws_discovery as discovery
from finops.data.drivers.aws import make_clients
from finops.data.drivers.aws_discovery import DiscoveryError, discover
from finops.data.drivers.platform import PlatformDriver
from finops.data.drivers.prices import bundled_as_of, hourly_cost
from finops.settings import Settings

REGION = "us-east-1"
OTHER_REGION = "eu-west-1"


@pytest.fixture
def aws(moto_env):
    return Settings(aws_max_attempts=1, aws_regions=[REGION, OTHER_REGION])


def client(service: str, region: str = REGION):
    return boto3.client(service, region_name=region)


@cache  # moto's default AMIs are the same after every reset
def ami(region: str = REGION) -> str:
    return client("ec2", region).describe_images(Owners=["amazon"])["Images"][0]["ImageId"]


def owner_tags(owner: str | None, key: str = "Key", value: str = "Value") -> list[dict]:
    """The owner tag (default key `owner`, FINOPS_OWNER_TAG) when an owner is given."""
    return [{key: "owner", value: owner}] if owner else []


def make_ec2(
    region: str = REGION,
    instance_type: str = "t3.micro",
    name: str = "web-1",
    count: int = 1,
    image: str = "",
    owner: str | None = None,
) -> list[str]:
    resp = client("ec2", region).run_instances(
        ImageId=image or ami(region),
        InstanceType=instance_type,
        MinCount=count,
        MaxCount=count,
        TagSpecifications=[
            {
                "ResourceType": "instance",
                "Tags": [{"Key": "Name", "Value": name}, {"Key": "team", "Value": "data"}, *owner_tags(owner)],
            }
        ],
    )
    return [i["InstanceId"] for i in resp["Instances"]]


def make_rds(
    ident: str = "orders-db", engine: str = "postgres", klass: str = "db.t3.micro", owner: str | None = None
) -> None:
    client("rds").create_db_instance(
        DBInstanceIdentifier=ident,
        DBInstanceClass=klass,
        Engine=engine,
        MasterUsername="admin",
        MasterUserPassword="password-123",
        AllocatedStorage=20,
        Tags=[{"Key": "team", "Value": "shop"}, *owner_tags(owner)],
    )


def make_asg(name: str = "workers", instance_type: str = "m5.large", sizes=(1, 4, 2), owner: str | None = None) -> None:
    client("ec2").create_launch_template(
        LaunchTemplateName=f"{name}-lt", LaunchTemplateData={"ImageId": ami(), "InstanceType": instance_type}
    )
    client("autoscaling").create_auto_scaling_group(
        AutoScalingGroupName=name,
        LaunchTemplate={"LaunchTemplateName": f"{name}-lt", "Version": "$Latest"},
        MinSize=sizes[0],
        MaxSize=sizes[1],
        DesiredCapacity=sizes[2],
        AvailabilityZones=[f"{REGION}a"],
        Tags=[
            {"Key": "Name", "Value": "batch workers", "PropagateAtLaunch": True},
            *[{**t, "PropagateAtLaunch": False} for t in owner_tags(owner)],
        ],
    )


def make_ecs(cluster: str = "main", service: str = "api", desired: int = 3, owner: str | None = None) -> None:
    ecs = client("ecs")
    ecs.create_cluster(clusterName=cluster)
    td = ecs.register_task_definition(
        family=f"{service}-task",
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        cpu="512",
        memory="1024",
        containerDefinitions=[{"name": "app", "image": "nginx", "essential": True}],
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(
        cluster=cluster,
        serviceName=service,
        taskDefinition=td,
        desiredCount=desired,
        launchType="FARGATE",
        tags=[{"key": "team", "value": "platform"}, *owner_tags(owner, "key", "value")],
    )


# --- discovery -----------------------------------------------------------------------------------


def test_discovery_finds_every_family_with_state_cost_and_tags(aws):
    (web,) = make_ec2(name="web-1")
    (eu,) = make_ec2(region=OTHER_REGION, instance_type="c5.large", name="eu-box")
    (gone,) = make_ec2(name="gone")
    client("ec2").terminate_instances(InstanceIds=[gone])
    make_rds()
    make_asg()
    make_ecs()

    found = discover(aws)
    by_id = {r["resource_id"]: r for r in found}
    asg_instances = {r["resource_id"] for r in found if r["resource_type"] == "ec2_instance"} - {web, eu}
    assert gone not in by_id  # terminated instances are not resources any more
    assert len(asg_instances) == 2  # the group's own instances are EC2 instances too

    ec2 = by_id[web]
    assert ec2 | {"tags": None} == {
        "resource_type": "ec2_instance",
        "resource_id": web,
        "name": "web-1",
        "state": "running",
        "hourly_cost": hourly_cost("ec2_instance", "t3.micro", REGION),
        "tags": None,
        "account_id": "123456789012",
        "region": REGION,
        "size": "t3.micro",
        # the inputs of its price and where the price came from (discover() alone prices from the bundled table)
        "count": 1,
        "engine": "",
        "multi_az": False,
        "price_source": "bundled",
        "price_as_of": bundled_as_of(),
    }
    assert ec2["tags"] == {"Name": "web-1", "team": "data"}
    assert ec2["hourly_cost"] == 0.0104
    # eu-west-1 is outside the price table: the cost is unknown, not guessed
    assert by_id[eu]["region"] == OTHER_REGION and by_id[eu]["hourly_cost"] is None
    assert by_id[eu]["name"] == "eu-box"

    db = by_id["orders-db"]
    assert (db["resource_type"], db["state"], db["size"]) == ("rds_instance", "running", "db.t3.micro")
    assert db["hourly_cost"] == 0.018  # postgres db.t3.micro
    assert db["tags"] == {"team": "shop"} and db["account_id"] == "123456789012"

    group = by_id["workers"]
    assert (group["resource_type"], group["name"], group["state"], group["size"]) == (
        "asg",
        "batch workers",
        "running",
        "m5.large",
    )
    assert group["hourly_cost"] == pytest.approx(2 * 0.096)

    svc = by_id["main/api"]
    assert (svc["resource_type"], svc["name"], svc["state"], svc["size"]) == (
        "ecs_service",
        "api",
        "running",
        "512/1024",
    )
    assert svc["tags"] == {"team": "platform"}
    assert svc["hourly_cost"] == pytest.approx(3 * (0.5 * 0.04048 + 1 * 0.004445))


def test_discovery_pages_through_many_resources(aws, monkeypatch):
    """More resources than one page: EC2 and Auto Scaling with small page sizes; ECS services described 10 a call.

    moto 5.2.5's ECS list_services returns every service in one page (no maxResults / nextToken), so paging of
    that call is not exercised here; the paginator loop is the same one the other families use.
    """
    monkeypatch.setitem(discovery.PAGE_SIZES, "describe_instances", 5)
    monkeypatch.setitem(discovery.PAGE_SIZES, "describe_auto_scaling_groups", 2)
    image = ami()
    ids = [make_ec2(name=f"fleet-{i}", image=image)[0] for i in range(12)]  # moto pages by reservation
    for i in range(5):
        make_asg(name=f"group-{i}", sizes=(0, 1, 0))
    ecs = client("ecs")
    make_ecs(service="svc-0", desired=1)
    td = ecs.list_task_definitions()["taskDefinitionArns"][0]
    for i in range(1, 13):
        ecs.create_service(
            cluster="main", serviceName=f"svc-{i}", taskDefinition=td, desiredCount=0, launchType="FARGATE"
        )
    calls = Counter()
    real = make_clients(aws)

    def clients(service, region):
        c = real(service, region)
        c.meta.events.register("after-call", lambda model, **_: calls.update([model.name]), unique_id="count")
        return c

    found = discover(aws, regions=[REGION], clients_factory=clients)
    assert {r["resource_id"] for r in found if r["resource_type"] == "ec2_instance"} == set(ids)
    assert calls["DescribeInstances"] == 3  # 12 reservations, 5 a page
    assert {r["resource_id"] for r in found if r["resource_type"] == "asg"} == {f"group-{i}" for i in range(5)}
    assert calls["DescribeAutoScalingGroups"] == 3
    services = {r["resource_id"]: r for r in found if r["resource_type"] == "ecs_service"}
    assert len(services) == 13
    # moto's list_services ignores maxResults (one page of all 13); describe_services takes 10 at most
    assert calls["ListServices"] == 1 and calls["DescribeServices"] == 2
    assert services["main/svc-0"]["state"] == "running"
    assert services["main/svc-5"]["state"] == "stopped" and services["main/svc-5"]["hourly_cost"] == 0


def test_discovery_failures_are_named_or_collected(aws, monkeypatch):
    """A family that cannot be listed raises DiscoveryError, or lands in `errors` while the rest comes back."""
    make_ec2(name="still-here")
    real = make_clients(aws)

    def clients(service, region):
        if service == "rds":
            return boto3.client("rds", region_name=region, endpoint_url="http://127.0.0.1:9")  # nothing listens
        return real(service, region)

    with pytest.raises(DiscoveryError, match="rds in us-east-1"):
        discover(aws, regions=[REGION], clients_factory=clients)
    errors = []
    found = discover(aws, regions=[REGION], clients_factory=clients, errors=errors)
    assert [r["name"] for r in found] == ["still-here"]
    assert [(region, family) for region, family, _ in errors] == [(REGION, "rds")]


# --- AWS drivers ---------------------------------------------------------------------------------


def test_ec2_driver_stops_and_starts(aws):
    (iid,) = make_ec2()
    ref = ResourceRef("ec2_instance", iid, REGION)
    drv = driver_for("ec2_instance", aws)
    assert isinstance(drv, Driver)
    assert drv.state(ref) == "running"
    assert drv.stop(ref) == {}
    assert drv.state(ref) == "stopped"
    assert client("ec2").describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]["State"]["Name"] == (
        "stopped"
    )
    drv.start(ref, {})
    assert drv.state(ref) == "running"


def test_ec2_driver_errors_are_clear(aws):
    drv = driver_for("ec2_instance", aws)
    with pytest.raises(DriverError, match=r"cannot read ec2_instance i-0000000000000000a in us-east-1: .*NotFound"):
        drv.state(ResourceRef("ec2_instance", "i-0000000000000000a", REGION))
    (iid,) = make_ec2()
    client("ec2").terminate_instances(InstanceIds=[iid])
    with pytest.raises(DriverError, match="terminated"):
        drv.start(ResourceRef("ec2_instance", iid, REGION), {})


def test_rds_driver_stops_and_starts(aws):
    make_rds()
    ref = ResourceRef("rds_instance", "orders-db", REGION)
    drv = driver_for("rds_instance", aws)
    assert drv.state(ref) == "running"
    assert drv.stop(ref) == {}
    assert drv.state(ref) == "stopped"
    assert client("rds").describe_db_instances(DBInstanceIdentifier="orders-db")["DBInstances"][0][
        "DBInstanceStatus"
    ] == ("stopped")
    assert drv.stop(ref) == {}  # already stopped: nothing to do
    drv.start(ref, {})
    assert drv.state(ref) == "running"
    drv.start(ref, {})  # already available: nothing to do


def test_rds_driver_errors_are_clear(aws):
    drv = driver_for("rds_instance", aws)
    with pytest.raises(DriverError, match="cannot read rds_instance nope in us-east-1: DBInstanceNotFound"):
        drv.stop(ResourceRef("rds_instance", "nope", REGION))


def test_asg_driver_saves_zeroes_and_restores_sizes(aws):
    make_asg(sizes=(1, 4, 2))
    ref = ResourceRef("asg", "workers", REGION)
    drv = driver_for("asg", aws)
    assert drv.state(ref) == "running"

    saved = drv.stop(ref)
    assert saved == {"min": 1, "max": 4, "desired": 2}
    group = client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=["workers"])["AutoScalingGroups"][
        0
    ]
    assert (group["MinSize"], group["MaxSize"], group["DesiredCapacity"]) == (0, 0, 0)
    assert drv.state(ref) == "stopped"
    assert drv.stop(ref) == {}  # a second stop saves nothing rather than 0/0/0

    drv.start(ref, json.loads(json.dumps(saved)))  # what the store will hand back: JSON
    group = client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=["workers"])["AutoScalingGroups"][
        0
    ]
    assert (group["MinSize"], group["MaxSize"], group["DesiredCapacity"]) == (1, 4, 2)
    assert drv.state(ref) == "running"


def test_asg_driver_errors_are_clear(aws):
    drv = driver_for("asg", aws)
    with pytest.raises(DriverError, match="cannot read asg ghost in us-east-1: Auto Scaling group not found"):
        drv.stop(ResourceRef("asg", "ghost", REGION))
    make_asg()
    with pytest.raises(DriverError, match="lack min/max/desired"):
        drv.start(ResourceRef("asg", "workers", REGION), {})


def test_ecs_driver_saves_zeroes_and_restores_desired_count(aws):
    make_ecs(desired=3)
    ref = ResourceRef("ecs_service", "main/api", REGION)
    drv = driver_for("ecs_service", aws)
    assert drv.state(ref) == "running"

    assert drv.stop(ref) == {"desiredCount": 3}
    svc = client("ecs").describe_services(cluster="main", services=["api"])["services"][0]
    assert svc["desiredCount"] == 0
    assert drv.state(ref) == "stopped"
    assert drv.stop(ref) == {}  # a second stop saves nothing rather than 0

    drv.start(ref, {"desiredCount": 3})
    svc = client("ecs").describe_services(cluster="main", services=["api"])["services"][0]
    assert svc["desiredCount"] == 3
    assert drv.state(ref) == "running"


def test_ecs_driver_errors_are_clear(aws):
    drv = driver_for("ecs_service", aws)
    with pytest.raises(DriverError, match="expected 'cluster/service'"):
        drv.state(ResourceRef("ecs_service", "no-slash", REGION))
    make_ecs()
    with pytest.raises(DriverError, match="ECS service not found|ServiceNotFound|ClusterNotFound"):
        drv.stop(ResourceRef("ecs_service", "main/ghost", REGION))
    with pytest.raises(DriverError, match="lacks desiredCount"):
        drv.start(ResourceRef("ecs_service", "main/api", REGION), {"desired": 1})


def test_unknown_type_has_no_driver(aws):
    with pytest.raises(DriverError, match="no driver for resource type 'lambda'"):
        driver_for("lambda", aws)


# --- platform driver -----------------------------------------------------------------------------


@pytest.fixture
def receiver():
    """A real HTTP server on 127.0.0.1 that keeps what it receives and answers `status` (200 unless set)."""
    got: list[dict] = []
    status = {"code": 200}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length", 0))
            got.append(
                {
                    "path": self.path,
                    "content_type": self.headers.get("Content-Type"),
                    "body": json.loads(self.rfile.read(length)),
                }
            )
            self.send_response(status["code"])
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", got, status
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_platform_driver_records_desired_state_without_url():
    recorded = []
    drv = driver_for("app", Settings(platform_url=""), record=lambda ref, desired: recorded.append((ref, desired)))
    assert isinstance(drv, PlatformDriver)
    ref = ResourceRef("app", "app-42")
    assert drv.state(ref) == "unknown"
    assert drv.stop(ref) == {}
    assert drv.state(ref) == "stopped"
    drv.start(ref, {})
    assert drv.state(ref) == "running"
    assert recorded == [(ref, "stopped"), (ref, "running")]


def test_platform_driver_posts_to_the_platform(receiver):
    url, got, _ = receiver
    recorded = []
    drv = PlatformDriver(Settings(platform_url=url + "/"), record=lambda _ref, desired: recorded.append(desired))
    ref = ResourceRef("self_hosted_model", "llama 3/8b")
    drv.stop(ref)
    drv.start(ref, {})
    assert recorded == ["stopped", "running"]
    assert [g["path"] for g in got] == [
        "/resources/self_hosted_model/llama%203%2F8b/stop",
        "/resources/self_hosted_model/llama%203%2F8b/start",
    ]
    assert got[0]["content_type"] == "application/json"
    assert got[0]["body"] == {"resource_type": "self_hosted_model", "resource_id": "llama 3/8b", "action": "stop"}
    assert got[1]["body"]["action"] == "start"


def test_platform_driver_raises_with_http_status(receiver):
    url, got, status = receiver
    status["code"] = 503
    drv = PlatformDriver(Settings(platform_url=url))
    with pytest.raises(DriverError, match="cannot stop workspace ws-1: the platform answered HTTP 503"):
        drv.stop(ResourceRef("workspace", "ws-1"))
    assert len(got) == 1


def test_platform_driver_unreachable_is_a_driver_error():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    drv = PlatformDriver(Settings(platform_url=f"http://127.0.0.1:{port}"))
    with pytest.raises(DriverError, match="unreachable"):
        drv.start(ResourceRef("project", "p1"), {})
