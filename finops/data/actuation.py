"""Stopping and starting inventory resources through their drivers: the one path every stop and start takes
(Stop all / Start all, schedules, later budget actions), with the rules of `finops.data.access` checked for the
actor on each resource, sizes saved before a scale to zero, and the new state and its ledger interval recorded.

`act` handles one resource; `act_many` handles many, with EC2 instances read, stopped and started in batches per
account and region (one call per BATCH instances, whose answer also says each one's state before) and the other
families one by one.
"""

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from sqlmodel import Session

from finops.data import resources
from finops.data.access import Actor, refusal
from finops.data.drivers import RUNNING, STOPPED, UNKNOWN, DriverError, ResourceRef, driver_for
from finops.data.resources import AWS_TYPES, get_resource
from finops.data.tables import Resource

TARGET = {"stop": STOPPED, "start": RUNNING}
RECORDED_NOTE = "desired state recorded (no platform URL)"
BATCH = 500  # EC2 instances per StopInstances / StartInstances call
READ_BATCH = 1000  # EC2 instance ids per DescribeInstances request (paginated)


def outcome(res: Any, resource_type: str, resource_id: str, name: str = "") -> dict:
    """A result row: resource_type, resource_id, name, before, after, outcome, error."""
    return {
        "resource_type": resource_type,
        "resource_id": resource_id,
        "name": (res.name if res is not None else "") or name,
        "before": (res.state if res is not None else "") or UNKNOWN,
        "after": "",
        "outcome": "",
        "error": "",
    }


def _record_state(session: Session, cause: str) -> Callable[[ResourceRef, str], None]:
    """The platform driver's `record`: the desired state becomes the inventory state."""

    def record(ref: ResourceRef, desired: str) -> None:
        res = get_resource(session=session, resource_type=ref.resource_type, resource_id=ref.resource_id)
        if res is not None:
            resources.set_state(session=session, resource=res, state=desired, cause=cause)

    return record


def refused(out: dict, why: str | None) -> dict:
    out["outcome"], out["after"], out["error"] = "refused", out["before"], f"not permitted: {why}"
    return out


def act(
    session: Session, *, actor: Actor, action: str, res: Resource | None, settings: Any, clients, cause: str,
    out: dict,
) -> dict:  # fmt: skip
    """Stop or start one resource for `actor`; fills and returns `out` (see `outcome`). The caller commits."""
    why = refusal(actor, res, action)
    if why is not None or res is None:
        return refused(out, why)
    ref = ResourceRef(res.resource_type, res.resource_id, region=res.region, account_id=res.account_id)
    is_aws = res.resource_type in AWS_TYPES
    try:
        driver = driver_for(res.resource_type, settings, clients=clients, record=_record_state(session, cause))
        if is_aws:
            out["before"] = driver.state(ref)  # the inventory may be stale: ask AWS
        if out["before"] == TARGET[action]:
            out["after"], out["outcome"] = out["before"], "unchanged"
            if action == "start":  # running already: sizes saved by a stop that never happened are stale
                resources.clear_capacity(session=session, resource=res)
            resources.set_state(session=session, resource=res, state=out["before"], cause=cause)
            return out
        if action == "stop":
            saved = driver.capacity(ref)
            if saved:  # durable before the resource is scaled to zero; {} keeps what an earlier stop saved
                resources.save_capacity(session=session, resource=res, saved=saved)
            driver.stop(ref)
        else:
            driver.start(ref, resources.saved_capacity(res))
            resources.clear_capacity(session=session, resource=res)
        out["after"] = driver.state(ref) if is_aws else TARGET[action]
    except DriverError as exc:
        out["outcome"], out["error"] = "failed", str(exc)
        return out
    recorded = getattr(driver, "records_only", False)
    out["outcome"] = "recorded" if recorded else "changed"
    if recorded:
        out["after"] = f"{out['after']} ({RECORDED_NOTE})"
    resources.set_state(session=session, resource=res, state=TARGET[action] if recorded else out["after"],
                        cause=cause)  # fmt: skip
    return out


Item = tuple[Resource, dict, str]  # a resource, its result row, the cause its ledger interval records


def _ec2_batches(items: list) -> dict[tuple[str, str], list]:
    """EC2 items by (account, region): one batch call reaches one account's region."""
    by_place: dict[tuple[str, str], list] = defaultdict(list)
    for item in items:
        by_place[(item[0].account_id, item[0].region or "us-east-1")].append(item)
    return by_place


def _act_ec2_place(session: Session, action: str, items: list[Item], settings: Any, clients, actor: Actor) -> None:
    """One account's region of EC2 instances: one StopInstances or StartInstances per BATCH, whose answer says
    each instance's state before and after (stopping a stopped instance changes nothing). A failing call (a
    terminated or unknown instance in it) falls back to one call per instance, so one bad instance does not fail
    the rest."""
    from finops.data.drivers.aws import Ec2Driver

    driver = Ec2Driver(settings, clients)
    for i in range(0, len(items), BATCH):
        chunk = items[i : i + BATCH]
        refs = [
            ResourceRef(r.resource_type, r.resource_id, region=r.region, account_id=r.account_id) for r, _, _ in chunk
        ]
        try:
            answer = (driver.stop_many if action == "stop" else driver.start_many)(refs)
        except DriverError:
            for res, out, cause in chunk:
                act(session, actor=actor, action=action, res=res, settings=settings, clients=clients, cause=cause,
                    out=out)  # fmt: skip
            continue
        for (res, out, cause), ref in zip(chunk, refs, strict=True):
            before, after = answer.get(ref.resource_id, (UNKNOWN, UNKNOWN))
            if before == TARGET[action]:
                after = before  # nothing changed, whatever transitional state the answer shows
            out["before"], out["after"] = before, after
            out["outcome"] = "unchanged" if before == TARGET[action] else "changed"
            resources.set_state(session=session, resource=res, state=after, cause=cause)


def actual_states(resources_: list[Resource], settings: Any, clients) -> dict[tuple[str, str], str]:
    """The state each resource is in now: AWS asked (EC2 in batches), platform resources as the store has them.
    A resource AWS could not answer for is left out."""
    from finops.data.drivers.aws import Ec2Driver

    found: dict[tuple[str, str], str] = {}
    ec2: list[Item] = [(r, {}, "") for r in resources_ if r.resource_type == "ec2_instance"]
    for batch_items in _ec2_batches(ec2).values():
        for i in range(0, len(batch_items), READ_BATCH):
            chunk = [item[0] for item in batch_items[i : i + READ_BATCH]]
            refs = [
                ResourceRef(r.resource_type, r.resource_id, region=r.region, account_id=r.account_id) for r in chunk
            ]
            try:
                states = Ec2Driver(settings, clients).states(refs)
            except DriverError:
                continue
            found.update(
                {(r.resource_type, r.resource_id): states[r.resource_id] for r in chunk if r.resource_id in states}
            )
    for res in resources_:
        if res.resource_type == "ec2_instance":
            continue
        if res.resource_type not in AWS_TYPES:
            found[(res.resource_type, res.resource_id)] = res.state or UNKNOWN
            continue
        ref = ResourceRef(res.resource_type, res.resource_id, region=res.region, account_id=res.account_id)
        try:
            found[(res.resource_type, res.resource_id)] = driver_for(
                res.resource_type, settings, clients=clients
            ).state(ref)
        except DriverError:
            continue
    return found


def act_many(session: Session, *, actor: Actor, action: str, items: list[Item], settings: Any, clients=None) -> None:
    """`act` for many (resource, out, cause) items at once (each `out` filled in place); EC2 instances in batches
    per account and region. One boto3 client per service and region serves them all. The caller commits."""
    from finops.data.drivers.aws import make_clients

    clients = clients or make_clients(settings)
    ec2: list[Item] = []
    for res, out, cause in items:
        why = refusal(actor, res, action)
        if why is not None:
            refused(out, why)
        elif res.resource_type == "ec2_instance":
            ec2.append((res, out, cause))
        else:
            act(session, actor=actor, action=action, res=res, settings=settings, clients=clients, cause=cause, out=out)
    for place_items in _ec2_batches(ec2).values():
        _act_ec2_place(session, action, place_items, settings, clients, actor)
