"""Discovery of AWS resources (EC2 instances, RDS instances, Auto Scaling groups, ECS services) in given regions.

Plain functions over boto3 clients: each resource comes back as a dict with resource_type, resource_id, name,
state (normalised, see `finops.data.drivers`), tags, account_id, region, the inputs of its price (size, count,
engine, multi_az) and its price: hourly_cost (USD per hour, None when unknown), price_source and price_as_of
(`finops.data.drivers.prices.PriceBook`: the AWS Price List API's prices, else the bundled table). EC2 and RDS
cost is the price while running, whatever the state; an Auto Scaling group's and an ECS service's cost follow
their current desired count (0 once stopped). The inventory's owner (`finops.data.resources.store_discovered`)
stores what was found; the sidecar's discovery job calls `run_discovery`, which also fetches the prices of sizes
seen for the first time (`finops.data.aws_prices`).
"""

import logging
from collections.abc import Callable, Iterable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from sqlmodel import Session

from finops.data import aws_prices
from finops.data.aws_errors import describe
from finops.data.drivers import RUNNING, STOPPED, STOPPING, UNKNOWN
from finops.data.drivers.aws import EC2_STATES, RDS_STATES, make_clients
from finops.data.drivers.prices import PriceBook
from finops.data.resources import store_discovered
from finops.data.sources import aws_pricing

log = logging.getLogger(__name__)

ClientsFactory = Callable[[str, str], Any]
PAGE_SIZES = {"describe_instances": 1000, "describe_db_instances": 100, "describe_auto_scaling_groups": 100}


def _account_of(arn: str) -> str:
    """The account id in an ARN (arn:aws:service:region:account:...), else ""."""
    parts = (arn or "").split(":")
    return parts[4] if len(parts) > 5 else ""


def _tags(items: Iterable[dict] | None, key: str = "Key", value: str = "Value") -> dict[str, str]:
    return {t[key]: t.get(value, "") for t in items or [] if key in t}


def _price_inputs(size: str, *, count: int = 1, engine: str = "", multi_az: bool = False) -> dict:
    return {"size": size, "count": count, "engine": (engine or "").lower(), "multi_az": multi_az}


def price(found: list[dict], book: PriceBook) -> list[dict]:
    """Set hourly_cost, price_source and price_as_of on every discovered resource from `book` (in place)."""
    for item in found:
        quote = book.hourly(
            item["resource_type"], item.get("size") or "", item["region"], count=item.get("count", 1),
            engine=item.get("engine", ""), multi_az=item.get("multi_az", False),
        )  # fmt: skip
        item["hourly_cost"] = quote.usd_per_hour if quote else None
        item["price_source"] = quote.source if quote else ""
        item["price_as_of"] = quote.as_of if quote else None
    return found


def _pages(client, operation: str, result_key: str, **kwargs) -> Iterable[Any]:
    if operation in PAGE_SIZES:
        kwargs["PaginationConfig"] = {"PageSize": PAGE_SIZES[operation]}
    for page in client.get_paginator(operation).paginate(**kwargs):
        yield from page.get(result_key) or []


def discover_ec2(ec2, region: str) -> list[dict]:
    out = []
    for reservation in _pages(ec2, "describe_instances", "Reservations"):
        owner = reservation.get("OwnerId", "")
        for inst in reservation.get("Instances") or []:
            raw = (inst.get("State") or {}).get("Name", "")
            if raw == "terminated":
                continue
            tags = _tags(inst.get("Tags"))
            size = inst.get("InstanceType", "")
            out.append(
                {
                    "resource_type": "ec2_instance",
                    "resource_id": inst["InstanceId"],
                    "name": tags.get("Name") or inst["InstanceId"],
                    "state": EC2_STATES.get(raw, UNKNOWN),
                    "tags": tags,
                    "account_id": owner,
                    "region": region,
                    **_price_inputs(size),
                }
            )
    return out


def discover_rds(rds, region: str) -> list[dict]:
    out = []
    for db in _pages(rds, "describe_db_instances", "DBInstances"):
        raw = db.get("DBInstanceStatus", "")
        if raw == "deleting":
            continue
        tags = _tags(db.get("TagList"))
        size = db.get("DBInstanceClass", "")
        ident = db["DBInstanceIdentifier"]
        out.append(
            {
                "resource_type": "rds_instance",
                "resource_id": ident,
                "name": tags.get("Name") or ident,
                "state": RDS_STATES.get(raw, UNKNOWN),
                "tags": tags,
                "account_id": _account_of(db.get("DBInstanceArn", "")),
                "region": region,
                **_price_inputs(size, engine=db.get("Engine", ""), multi_az=bool(db.get("MultiAZ"))),
            }
        )
    return out


def _asg_instance_type(group: dict, ec2, autoscaling) -> str:
    """The instance type an Auto Scaling group launches (launch template or configuration), else ""."""
    template = group.get("LaunchTemplate") or (
        (group.get("MixedInstancesPolicy") or {}).get("LaunchTemplate", {}).get("LaunchTemplateSpecification")
    )
    try:
        if template:
            ident = (
                {"LaunchTemplateId": template["LaunchTemplateId"]}
                if template.get("LaunchTemplateId")
                else {"LaunchTemplateName": template.get("LaunchTemplateName", "")}
            )
            version = str(template.get("Version") or "$Default")
            resp = ec2.describe_launch_template_versions(**ident, Versions=[version])
            versions = resp.get("LaunchTemplateVersions") or []
            if versions:
                return (versions[0].get("LaunchTemplateData") or {}).get("InstanceType", "")
        elif group.get("LaunchConfigurationName"):
            resp = autoscaling.describe_launch_configurations(
                LaunchConfigurationNames=[group["LaunchConfigurationName"]]
            )
            configs = resp.get("LaunchConfigurations") or []
            if configs:
                return configs[0].get("InstanceType", "")
    except (ClientError, BotoCoreError) as exc:
        log.warning("instance type of Auto Scaling group %s unknown: %s", group.get("AutoScalingGroupName"), exc)
    types = {i.get("InstanceType") for i in group.get("Instances") or [] if i.get("InstanceType")}
    return types.pop() if len(types) == 1 else ""


def discover_asg(autoscaling, ec2, region: str) -> list[dict]:
    out = []
    for group in _pages(autoscaling, "describe_auto_scaling_groups", "AutoScalingGroups"):
        name = group["AutoScalingGroupName"]
        desired = int(group.get("DesiredCapacity") or 0)
        tags = _tags(group.get("Tags"))
        size = _asg_instance_type(group, ec2, autoscaling)
        out.append(
            {
                "resource_type": "asg",
                "resource_id": name,
                "name": tags.get("Name") or name,
                "state": RUNNING if desired > 0 else STOPPED,
                "tags": tags,
                "account_id": _account_of(group.get("AutoScalingGroupARN", "")),
                "region": region,
                **_price_inputs(size, count=desired),
            }
        )
    return out


def _is_fargate(service: dict) -> bool:
    if service.get("launchType") == "FARGATE":
        return True
    strategy = service.get("capacityProviderStrategy") or []
    return bool(strategy) and all(s.get("capacityProvider", "").startswith("FARGATE") for s in strategy)


def _task_size(ecs, task_definition: str, cache: dict[str, str]) -> str:
    """A task definition's task-level "cpu/memory" (task units), else ""."""
    if task_definition not in cache:
        size = ""
        try:
            td = ecs.describe_task_definition(taskDefinition=task_definition).get("taskDefinition") or {}
            if td.get("cpu") and td.get("memory"):
                size = f"{td['cpu']}/{td['memory']}"
        except (ClientError, BotoCoreError) as exc:
            log.warning("task definition %s unreadable: %s", task_definition, exc)
        cache[task_definition] = size
    return cache[task_definition]


def discover_ecs(ecs, region: str) -> list[dict]:
    out: list[dict] = []
    sizes: dict[str, str] = {}
    for cluster_arn in _pages(ecs, "list_clusters", "clusterArns"):
        cluster = cluster_arn.rsplit("/", 1)[-1]
        arns = list(_pages(ecs, "list_services", "serviceArns", cluster=cluster_arn))
        for i in range(0, len(arns), 10):  # describe_services takes at most 10
            resp = ecs.describe_services(cluster=cluster_arn, services=arns[i : i + 10], include=["TAGS"])
            for svc in resp.get("services") or []:
                if svc.get("status") == "INACTIVE":
                    continue
                desired = int(svc.get("desiredCount") or 0)
                tags = _tags(svc.get("tags"), key="key", value="value")
                fargate = _is_fargate(svc)
                size = _task_size(ecs, svc.get("taskDefinition", ""), sizes) if fargate else ""
                state = STOPPING if svc.get("status") == "DRAINING" else RUNNING if desired > 0 else STOPPED
                name = svc["serviceName"]
                out.append(
                    {
                        "resource_type": "ecs_service",
                        "resource_id": f"{cluster}/{name}",
                        "name": tags.get("Name") or name,
                        "state": state,
                        "tags": tags,
                        "account_id": _account_of(svc.get("serviceArn", "")),
                        "region": region,
                        **_price_inputs(size, count=desired),
                    }
                )
    return out


class DiscoveryError(RuntimeError):
    """Some families could not be listed in some regions (the message names them)."""


def discover(
    settings: Any,
    regions: Iterable[str] | None = None,
    clients_factory: ClientsFactory | None = None,
    errors: list[tuple[str, str, str]] | None = None,
    book: PriceBook | None = None,
) -> list[dict]:
    """Every EC2 instance (not terminated), RDS instance, Auto Scaling group and ECS service in `regions`
    (default: `settings.aws_regions`, else us-east-1), priced from `book` (default: the bundled table alone).

    A family that fails in a region (a missing permission, say) raises DiscoveryError once all the others
    have been tried; with an `errors` list, the failures go there as (region, family, message) instead and the
    rest is returned, so a caller can keep what it knew of the failed families rather than drop it.
    """
    clients = clients_factory or make_clients(settings)
    if regions is None:
        regions = getattr(settings, "aws_regions", None) or ["us-east-1"]
    failures: list[tuple[str, str, str]] = []
    found: list[dict] = []
    for region in regions:
        families = [
            ("ec2", lambda r=region: discover_ec2(clients("ec2", r), r)),
            ("rds", lambda r=region: discover_rds(clients("rds", r), r)),
            ("autoscaling", lambda r=region: discover_asg(clients("autoscaling", r), clients("ec2", r), r)),
            ("ecs", lambda r=region: discover_ecs(clients("ecs", r), r)),
        ]
        for family, run in families:
            try:
                found.extend(run())
            except (ClientError, BotoCoreError) as exc:
                log.warning("discovery of %s in %s failed: %s", family, region, exc)
                failures.append((region, family, describe(exc)))
    if failures:
        if errors is None:
            listed = "; ".join(f"{family} in {region}: {msg}" for region, family, msg in failures)
            raise DiscoveryError(f"discovery failed for {listed}")
        errors.extend(failures)
    return price(found, book or PriceBook())


FAMILY_TYPES = {"ec2": "ec2_instance", "rds": "rds_instance", "autoscaling": "asg", "ecs": "ecs_service"}


def owner_from_tags(tags: dict, owner_tag: str = "owner") -> str:
    """The value of the owner tag (its key matched case-insensitively), else ""."""
    wanted = owner_tag.lower()
    for key, value in tags.items():
        if str(key).lower() == wanted and str(value).strip():
            return str(value).strip()[:64]
    return ""


def listed_pairs(regions: Iterable[str], errors: list[tuple[str, str, str]]) -> set[tuple[str, str]]:
    """The (region, resource type) pairs listed without error: their resources not found are gone."""
    failed = {(region, FAMILY_TYPES.get(family, family)) for region, family, _ in errors}
    return {(r, t) for r in regions for t in FAMILY_TYPES.values()} - failed


def run_discovery(
    *, session: Session, settings: Any, clients_factory: ClientsFactory | None = None, pricing_client=None
) -> dict:
    """Discover in the configured regions and store the results; counts plus the failures as "errors".

    Prices come from the stored Price List API prices; the prices of sizes not stored yet are fetched first
    (`pricing_client`, default: a boto3 client from settings) unless `settings.aws_price_list` is off, and
    anything still missing falls back to the bundled table, or is unknown.
    """
    regions = list(getattr(settings, "aws_regions", None) or ["us-east-1"])
    errors: list[tuple[str, str, str]] = []
    book = aws_prices.book(session=session)
    found = discover(settings, regions, clients_factory, errors=errors, book=book)
    if book.missing and getattr(settings, "aws_price_list", True):
        client = pricing_client or aws_pricing.make_client(settings)
        fetched = aws_prices.fetch_missing(session=session, client=client, keys=book.missing)
        errors += [("", "pricing", message) for message in fetched["errors"]]
        if fetched["stored"]:
            price(found, aws_prices.book(session=session))
    owner_tag = getattr(settings, "owner_tag", "owner")
    for item in found:
        item["owner"] = owner_from_tags(item.get("tags") or {}, owner_tag)
    counts = store_discovered(session=session, found=found, listed=listed_pairs(regions, errors))
    described = [f"{family} in {region}: {msg}" if region else f"{family}: {msg}" for region, family, msg in errors]
    return {**counts, "errors": described}
