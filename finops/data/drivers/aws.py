"""AWS drivers through boto3: EC2 and RDS stop/start; Auto Scaling groups and ECS services scaled to 0 and back.

Endpoints and credentials come from boto3's own configuration (`AWS_ENDPOINT_URL` points at a moto server in
tests); retries follow the settings, as for Cost Explorer.
"""

from collections.abc import Callable
from functools import cache
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from finops.data.aws_errors import describe
from finops.data.drivers import (
    PENDING,
    RUNNING,
    STOPPED,
    STOPPING,
    UNKNOWN,
    DriverError,
    ResourceRef,
)

DEFAULT_REGION = "us-east-1"

EC2_STATES = {
    "running": RUNNING,
    "stopped": STOPPED,
    "pending": PENDING,
    "stopping": STOPPING,
    "shutting-down": STOPPING,
    "terminated": STOPPED,
}
RDS_STATES = {
    "available": RUNNING,
    "stopped": STOPPED,
    "starting": PENDING,
    "creating": PENDING,
    "rebooting": PENDING,
    "stopping": STOPPING,
    "deleting": STOPPING,
}
RDS_STOPPABLE = {"available"}
RDS_STARTABLE = {"stopped"}

ClientsFactory = Callable[[str, str], Any]


def retry_config(settings: Any):
    from botocore.config import Config

    # total_max_attempts counts the first attempt (botocore's "max_attempts" counts only the retries)
    mode = getattr(settings, "aws_retry_mode", "standard")
    attempts = getattr(settings, "aws_max_attempts", 5)
    return Config(retries={"mode": mode, "total_max_attempts": attempts})


def make_clients(settings: Any) -> ClientsFactory:
    """A `clients(service, region)` factory: one cached boto3 client per (service, region)."""
    import boto3

    session = boto3.Session()
    config = retry_config(settings)

    @cache
    def clients(service: str, region: str):
        return session.client(service, region_name=region or DEFAULT_REGION, config=config)

    return clients


def _fail(ref: ResourceRef, action: str, exc: Exception) -> DriverError:
    return DriverError(f"cannot {action} {ref}: {describe(exc)}")


class _AwsDriver:
    service = ""

    def __init__(self, settings: Any, clients: ClientsFactory | None = None):
        self.settings = settings
        self.clients = clients or make_clients(settings)

    def client(self, ref: ResourceRef):
        return self.clients(self.service, ref.region or DEFAULT_REGION)

    def call(self, ref: ResourceRef, action: str, operation: str, **params) -> dict:
        """One AWS call for `ref`; any AWS error becomes a DriverError saying what could not be done."""
        try:
            return getattr(self.client(ref), operation)(**params)
        except (ClientError, BotoCoreError) as exc:
            raise _fail(ref, action, exc) from exc

    def state(self, ref: ResourceRef) -> str:
        raise NotImplementedError

    def capacity(self, ref: ResourceRef) -> dict:  # noqa: ARG002 - EC2 and RDS keep their size when stopped
        return {}


class Ec2Driver(_AwsDriver):
    service = "ec2"

    def _instance(self, ref: ResourceRef) -> dict:
        resp = self.call(ref, "read", "describe_instances", InstanceIds=[ref.resource_id])
        for reservation in resp.get("Reservations", []):
            for inst in reservation.get("Instances", []):
                if inst.get("InstanceId") == ref.resource_id:
                    return inst
        raise DriverError(f"cannot read {ref}: instance not found")

    def _aws_status(self, ref: ResourceRef) -> str:
        return self._instance(ref).get("State", {}).get("Name", "")

    def state(self, ref: ResourceRef) -> str:
        return EC2_STATES.get(self._aws_status(ref), UNKNOWN)

    def states(self, refs: list[ResourceRef]) -> dict[str, str]:
        """Normalised states of many instances of one region in one call ({} entry missing: not found)."""
        if not refs:
            return {}
        ids = [r.resource_id for r in refs]
        found: dict[str, str] = {}
        paginator = self.client(refs[0]).get_paginator("describe_instances")
        try:
            for page in paginator.paginate(InstanceIds=ids):
                for reservation in page.get("Reservations", []):
                    for inst in reservation.get("Instances", []):
                        found[inst["InstanceId"]] = EC2_STATES.get(inst.get("State", {}).get("Name", ""), UNKNOWN)
        except (ClientError, BotoCoreError) as exc:
            raise _fail(refs[0], f"read {len(refs)} instances including", exc) from exc
        return found

    def stop_many(self, refs: list[ResourceRef]) -> dict[str, tuple[str, str]]:
        """Stop many instances of one region in one call; {id: (state before, state after)} as AWS answered (an
        instance stopped already comes back unchanged)."""
        resp = self.call(refs[0], f"stop {len(refs)} instances including", "stop_instances",
                         InstanceIds=[r.resource_id for r in refs])  # fmt: skip
        return self._current(resp.get("StoppingInstances") or [])

    def start_many(self, refs: list[ResourceRef]) -> dict[str, tuple[str, str]]:
        """Start many instances of one region in one call; {id: (state before, state after)} as AWS answered."""
        resp = self.call(refs[0], f"start {len(refs)} instances including", "start_instances",
                         InstanceIds=[r.resource_id for r in refs])  # fmt: skip
        return self._current(resp.get("StartingInstances") or [])

    @staticmethod
    def _current(changes: list[dict]) -> dict[str, tuple[str, str]]:
        def state(change: dict, key: str) -> str:
            return EC2_STATES.get((change.get(key) or {}).get("Name", ""), UNKNOWN)

        return {c["InstanceId"]: (state(c, "PreviousState"), state(c, "CurrentState")) for c in changes}

    def stop(self, ref: ResourceRef) -> dict:
        raw = self._aws_status(ref)
        if raw == "terminated":
            raise DriverError(f"cannot stop {ref}: the instance is terminated")
        self.call(ref, "stop", "stop_instances", InstanceIds=[ref.resource_id])
        return {}

    def start(self, ref: ResourceRef, saved: dict) -> None:  # noqa: ARG002 - nothing saved for EC2
        raw = self._aws_status(ref)
        if raw == "terminated":
            raise DriverError(f"cannot start {ref}: the instance is terminated")
        self.call(ref, "start", "start_instances", InstanceIds=[ref.resource_id])


class RdsDriver(_AwsDriver):
    service = "rds"

    def _aws_status(self, ref: ResourceRef) -> str:
        resp = self.call(ref, "read", "describe_db_instances", DBInstanceIdentifier=ref.resource_id)
        instances = resp.get("DBInstances") or []
        if not instances:
            raise DriverError(f"cannot read {ref}: DB instance not found")
        return instances[0].get("DBInstanceStatus", "")

    def state(self, ref: ResourceRef) -> str:
        return RDS_STATES.get(self._aws_status(ref), UNKNOWN)

    def stop(self, ref: ResourceRef) -> dict:
        raw = self._aws_status(ref)
        if raw == "stopped":
            return {}
        if raw not in RDS_STOPPABLE:
            raise DriverError(f"cannot stop {ref}: the DB instance is {raw!r}, not in a stoppable state")
        self.call(ref, "stop", "stop_db_instance", DBInstanceIdentifier=ref.resource_id)
        return {}

    def start(self, ref: ResourceRef, saved: dict) -> None:  # noqa: ARG002 - nothing saved for RDS
        raw = self._aws_status(ref)
        if raw == "available":
            return
        if raw not in RDS_STARTABLE:
            raise DriverError(f"cannot start {ref}: the DB instance is {raw!r}, not in a startable state")
        self.call(ref, "start", "start_db_instance", DBInstanceIdentifier=ref.resource_id)


class AsgDriver(_AwsDriver):
    service = "autoscaling"

    def group(self, ref: ResourceRef) -> dict:
        resp = self.call(ref, "read", "describe_auto_scaling_groups", AutoScalingGroupNames=[ref.resource_id])
        groups = resp.get("AutoScalingGroups") or []
        if not groups:
            raise DriverError(f"cannot read {ref}: Auto Scaling group not found")
        return groups[0]

    def state(self, ref: ResourceRef) -> str:
        return RUNNING if self.group(ref).get("DesiredCapacity", 0) > 0 else STOPPED

    def capacity(self, ref: ResourceRef) -> dict:
        g = self.group(ref)
        saved = {"min": g["MinSize"], "max": g["MaxSize"], "desired": g["DesiredCapacity"]}
        return saved if any(saved.values()) else {}

    def stop(self, ref: ResourceRef) -> dict:
        g = self.group(ref)
        saved = {"min": g["MinSize"], "max": g["MaxSize"], "desired": g["DesiredCapacity"]}
        if not any(saved.values()):
            return {}  # already at 0: nothing new to save (the caller keeps what an earlier stop returned)
        self.call(
            ref,
            "stop",
            "update_auto_scaling_group",
            AutoScalingGroupName=ref.resource_id,
            MinSize=0,
            MaxSize=0,
            DesiredCapacity=0,
        )
        return saved

    def start(self, ref: ResourceRef, saved: dict) -> None:
        try:
            size = {
                "MinSize": int(saved["min"]),
                "MaxSize": int(saved["max"]),
                "DesiredCapacity": int(saved["desired"]),
            }
        except (KeyError, TypeError, ValueError) as exc:
            raise DriverError(f"cannot start {ref}: saved sizes {saved!r} lack min/max/desired") from exc
        self.group(ref)  # a clear "not found" before the update
        self.call(ref, "start", "update_auto_scaling_group", AutoScalingGroupName=ref.resource_id, **size)


def split_ecs_id(ref: ResourceRef) -> tuple[str, str]:
    """("cluster", "service") from an ECS id "cluster/service"."""
    cluster, sep, service = ref.resource_id.rpartition("/")
    if not sep or not cluster or not service:
        raise DriverError(f"bad ECS service id {ref.resource_id!r}: expected 'cluster/service'")
    return cluster, service


class EcsDriver(_AwsDriver):
    service = "ecs"

    def service_of(self, ref: ResourceRef) -> dict:
        cluster, name = split_ecs_id(ref)
        resp = self.call(ref, "read", "describe_services", cluster=cluster, services=[name])
        for svc in resp.get("services") or []:
            if svc.get("status") != "INACTIVE":
                return svc
        raise DriverError(f"cannot read {ref}: ECS service not found")

    def state(self, ref: ResourceRef) -> str:
        svc = self.service_of(ref)
        if svc.get("status") == "DRAINING":
            return STOPPING
        return RUNNING if svc.get("desiredCount", 0) > 0 else STOPPED

    def _update(self, ref: ResourceRef, count: int, action: str) -> None:
        cluster, name = split_ecs_id(ref)
        self.call(ref, action, "update_service", cluster=cluster, service=name, desiredCount=count)

    def capacity(self, ref: ResourceRef) -> dict:
        count = self.service_of(ref).get("desiredCount", 0)
        return {"desiredCount": count} if count else {}

    def stop(self, ref: ResourceRef) -> dict:
        count = self.service_of(ref).get("desiredCount", 0)
        if count == 0:
            return {}  # already at 0: nothing new to save (the caller keeps what an earlier stop returned)
        self._update(ref, 0, "stop")
        return {"desiredCount": count}

    def start(self, ref: ResourceRef, saved: dict) -> None:
        try:
            count = int(saved["desiredCount"])
        except (KeyError, TypeError, ValueError) as exc:
            raise DriverError(f"cannot start {ref}: saved {saved!r} lacks desiredCount") from exc
        self.service_of(ref)
        self._update(ref, count, "start")


DRIVERS = {"ec2_instance": Ec2Driver, "rds_instance": RdsDriver, "asg": AsgDriver, "ecs_service": EcsDriver}


def driver(resource_type: str, settings: Any, clients: ClientsFactory | None = None) -> _AwsDriver:
    try:
        cls = DRIVERS[resource_type]
    except KeyError:
        raise DriverError(f"no AWS driver for resource type {resource_type!r}") from None
    return cls(settings, clients)
