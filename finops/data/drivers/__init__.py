"""Drivers: stop, start and read the state of one resource family (AWS through boto3, the platform's own).

Every driver speaks in normalised states (`running`, `stopped`, `pending`, `stopping`, `unknown`).
`capacity` reads what a stop will take away (an Auto Scaling group's min/max/desired, an ECS service's
desiredCount, nothing for EC2, RDS and the platform): the caller saves it durably *before* calling `stop`, so a
crash between the two never loses it, and `start` takes that saved dict back. A group or service already at 0
has nothing to save ({}): the caller keeps the values an earlier stop saved instead of overwriting them.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from finops.data.resources import AWS_TYPES, PLATFORM_TYPES  # the one list of resource types

RUNNING, STOPPED, PENDING, STOPPING, UNKNOWN = "running", "stopped", "pending", "stopping", "unknown"
STATES = (RUNNING, STOPPED, PENDING, STOPPING, UNKNOWN)


class DriverError(RuntimeError):
    """A driver could not read, stop or start a resource; the message says which one and why."""


@dataclass(frozen=True)
class ResourceRef:
    """Which resource: its type, its id (ECS: "cluster/service"), its region and account."""

    resource_type: str
    resource_id: str
    region: str = ""
    account_id: str = ""

    def __str__(self) -> str:
        where = f" in {self.region}" if self.region else ""
        return f"{self.resource_type} {self.resource_id}{where}"


@runtime_checkable
class Driver(Protocol):
    def state(self, ref: ResourceRef) -> str:
        """The resource's normalised state (one of STATES)."""
        ...

    def capacity(self, ref: ResourceRef) -> dict:
        """What a stop will take away and `start` must restore ({} when nothing); read before `stop`."""
        ...

    def stop(self, ref: ResourceRef) -> dict:
        """Stop the resource; returns what `start` needs to restore it ({} when nothing)."""
        ...

    def start(self, ref: ResourceRef, saved: dict) -> None:
        """Start the resource again, restoring `saved` (what `stop` returned)."""
        ...


def driver_for(
    resource_type: str,
    settings: Any,
    clients: Callable[[str, str], Any] | None = None,
    record: Callable[[ResourceRef, str], None] | None = None,
) -> Driver:
    """The driver of a resource type.

    `clients(service, region)` gives boto3 clients (default: `aws.make_client` with the settings' retry
    config); `record(ref, desired_state)` is how the platform driver keeps the desired state (the store).
    """
    if resource_type in AWS_TYPES:
        from finops.data.drivers import aws

        return aws.driver(resource_type, settings, clients)
    if resource_type in PLATFORM_TYPES:
        from finops.data.drivers.platform import PlatformDriver

        return PlatformDriver(settings, record=record)
    raise DriverError(f"no driver for resource type {resource_type!r}")
