"""AWS Price List API source (boto3 "pricing", GetProducts): on-demand hourly prices of EC2 instance types, RDS
DB instance classes and Fargate, per region. Returns rows for `finops.data.aws_prices`, which stores them.

GetProducts answers with products as JSON text (`PriceList`), each with its attributes and its terms; the price
is the on-demand term's one hourly dimension in USD. A query that matches no product, or products whose prices
differ, gives no row: the price stays unknown rather than guessed. The Price List API is free of charge and
answers from us-east-1 (also for prices of other regions).
"""

import json
import logging
import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

log = logging.getLogger(__name__)

PRICING_REGION = "us-east-1"  # the Price List API's endpoint (also serves ap-south-1 and eu-central-1)
SOURCE = "price_list_api"
HOURLY_UNITS = {"hrs", "hours"}
# DescribeDBInstances' Engine -> the price list's databaseEngine (other engines: unknown, never guessed)
RDS_ENGINES = {"mysql": "MySQL", "mariadb": "MariaDB", "postgres": "PostgreSQL"}
# Fargate Linux/x86 usage types, with or without a region prefix ("USE1-", "EU-"): not ARM, Windows or Spot
FARGATE_USAGE = {
    "vcpu": re.compile(r"^(?:[A-Z0-9]+-)?Fargate-vCPU-Hours:perCPU$"),
    "gb": re.compile(r"^(?:[A-Z0-9]+-)?Fargate-GB-Hours$"),
}

Key = tuple[str, str, str, str]  # (family, size, region, engine): ec2/rds/fargate, as finops.data.aws_prices keys


def make_client(settings: Any):
    """A boto3 Price List client; endpoints and credentials come from boto3's own configuration."""
    import boto3
    from botocore.config import Config

    retries = {"mode": settings.aws_retry_mode, "total_max_attempts": settings.aws_max_attempts}
    return boto3.Session().client("pricing", region_name=PRICING_REGION, config=Config(retries=retries))


def _term(field: str, value: str) -> dict:
    return {"Type": "TERM_MATCH", "Field": field, "Value": value}


def products(client, service_code: str, filters: list[dict]) -> Iterator[dict]:
    """Every product GetProducts finds for `filters`, parsed from its JSON text (all pages)."""
    pages = client.get_paginator("get_products").paginate(
        ServiceCode=service_code, Filters=filters, FormatVersion="aws_v1"
    )
    for page in pages:
        for text in page.get("PriceList") or []:
            yield json.loads(text) if isinstance(text, str) else text


def on_demand_hourly(product: dict) -> tuple[Decimal, date | None] | None:
    """The product's on-demand price per hour in USD and the term's effective day; None when it has none (or
    it is 0, which no on-demand instance hour costs)."""
    found = []
    for term in ((product.get("terms") or {}).get("OnDemand") or {}).values():
        effective = _day(term.get("effectiveDate"))
        for dimension in (term.get("priceDimensions") or {}).values():
            if str(dimension.get("unit", "")).lower() not in HOURLY_UNITS:
                continue
            try:
                usd = Decimal(str((dimension.get("pricePerUnit") or {}).get("USD")))
            except InvalidOperation:
                continue
            if usd.is_finite() and usd > 0:
                found.append((usd, effective))
    return found[0] if len({usd for usd, _ in found}) == 1 else None


def _day(text) -> date | None:
    try:
        return date.fromisoformat(str(text)[:10]) if text else None
    except ValueError:
        return None


def _one_price(key: Key, items: list[dict]) -> list[dict]:
    """A row for `key` when the products agree on one on-demand hourly price; else none (logged)."""
    prices = {p for p in (on_demand_hourly(item) for item in items) if p is not None}
    if len({usd for usd, _ in prices}) != 1:
        log.info("no single on-demand price for %s (%d products, %d prices): unknown", key, len(items), len(prices))
        return []
    usd, effective = sorted(prices, key=lambda p: p[1] or date.min)[-1]
    sku = str((items[0].get("product") or {}).get("sku", ""))
    family, size, region, engine = key
    return [{"family": family, "size": size, "region": region, "engine": engine, "usd_per_hour": float(usd),
             "effective_date": effective, "sku": sku}]  # fmt: skip


def fetch_ec2(client, instance_type: str, region: str) -> list[dict]:
    """Linux, shared tenancy, no pre-installed software, on-demand capacity."""
    filters = [
        _term("instanceType", instance_type), _term("regionCode", region), _term("operatingSystem", "Linux"),
        _term("tenancy", "Shared"), _term("preInstalledSw", "NA"), _term("capacitystatus", "Used"),
        _term("operation", "RunInstances"),
    ]  # fmt: skip
    return _one_price(("ec2", instance_type, region, ""), list(products(client, "AmazonEC2", filters)))


def fetch_rds(client, db_class: str, region: str, engine: str) -> list[dict]:
    """Single-AZ DB instance hours of `engine` (mysql, mariadb, postgres); other engines give no row."""
    name = RDS_ENGINES.get(engine)
    if name is None:
        return []
    filters = [
        _term("instanceType", db_class), _term("regionCode", region), _term("databaseEngine", name),
        _term("deploymentOption", "Single-AZ"), _term("productFamily", "Database Instance"),
    ]  # fmt: skip
    return _one_price(("rds", db_class, region, engine), list(products(client, "AmazonRDS", filters)))


def fetch_fargate(client, region: str) -> list[dict]:
    """Per vCPU-hour ("vcpu") and per GB-hour ("gb") of Fargate Linux/x86 tasks in `region`."""
    items = list(products(client, "AmazonECS", [_term("regionCode", region)]))
    rows = []
    for size, usage in FARGATE_USAGE.items():
        chosen = [i for i in items if usage.match(str(((i.get("product") or {}).get("attributes") or {}).get(
            "usagetype", "")))]  # fmt: skip
        rows += _one_price(("fargate", size, region, ""), chosen)
    return rows


def fetch(client, key: Key) -> list[dict]:
    """The price rows of one key (a Fargate key fetches both of its region's rates)."""
    family, size, region, engine = key
    if family == "ec2":
        return fetch_ec2(client, size, region)
    if family == "rds":
        return fetch_rds(client, size, region, engine)
    if family == "fargate":
        return fetch_fargate(client, region)
    return []
