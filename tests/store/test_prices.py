"""Prices from the AWS Price List API through botocore's Stubber (moto has no Price List API): parsing GetProducts
answers, storing prices with their date, the bundled table as the offline fallback, and discovery priced by both."""

import json
from datetime import UTC, date, datetime, timedelta

import boto3
import pytest
from botocore.config import Config
from botocore.stub import Stubber
from sqlalchemy import select
from sqlmodel import Session

from finops.data import aws_prices, resources
from finops.data.drivers import aws_discovery as discovery
from finops.data.drivers.prices import bundled_as_of
from finops.data.sources import aws_pricing
from finops.data.tables import AwsPrice
from finops.settings import Settings
from tests.store.test_drivers import OTHER_REGION, REGION, make_ec2, make_rds

EFFECTIVE = "2026-11-01T00:00:00Z"


def product(sku: str, family: str, attributes: dict, usd: str, unit: str = "Hrs", reserved: bool = True) -> str:
    """One GetProducts PriceList item as the API sends it: JSON text of product, terms (on-demand and, as the real
    answers do, reserved), version and publication date."""
    rate = f"{sku}.JRTCKXETXF.6YS6EN2CT7"
    terms = {
        "OnDemand": {
            f"{sku}.JRTCKXETXF": {
                "priceDimensions": {
                    rate: {
                        "unit": unit, "endRange": "Inf", "description": f"${usd} per On Demand hour",
                        "appliesTo": [], "rateCode": rate, "beginRange": "0", "pricePerUnit": {"USD": usd},
                    }
                },
                "sku": sku, "effectiveDate": EFFECTIVE, "offerTermCode": "JRTCKXETXF", "termAttributes": {},
            }
        }
    }  # fmt: skip
    if reserved:  # a cheaper reserved hour the parser must not take for the on-demand one
        terms["Reserved"] = {
            f"{sku}.4NA7Y494T4": {
                "priceDimensions": {
                    f"{sku}.4NA7Y494T4.6YS6EN2CT7": {
                        "unit": "Hrs", "endRange": "Inf", "description": "Linux reserved hour", "appliesTo": [],
                        "rateCode": f"{sku}.4NA7Y494T4.6YS6EN2CT7", "beginRange": "0",
                        "pricePerUnit": {"USD": "0.0001000000"},
                    }
                },
                "sku": sku, "effectiveDate": EFFECTIVE, "offerTermCode": "4NA7Y494T4",
                "termAttributes": {"LeaseContractLength": "1yr", "OfferingClass": "standard",
                                   "PurchaseOption": "No Upfront"},
            }
        }  # fmt: skip
    return json.dumps(
        {
            "product": {"productFamily": family, "attributes": attributes, "sku": sku},
            "serviceCode": attributes["servicecode"],
            "terms": terms,
            "version": "20261115203524",
            "publicationDate": "2026-11-15T20:35:24Z",
        }
    )


def ec2_product(instance_type: str, region: str, usd: str, sku: str = "V4ZJ4NF6PN4MHA9H") -> str:
    attributes = {
        "servicecode": "AmazonEC2", "servicename": "Amazon Elastic Compute Cloud", "instanceType": instance_type,
        "regionCode": region, "location": "US East (N. Virginia)", "locationType": "AWS Region",
        "operatingSystem": "Linux", "tenancy": "Shared", "preInstalledSw": "NA", "capacitystatus": "Used",
        "licenseModel": "No License required", "operation": "RunInstances", "usagetype": f"BoxUsage:{instance_type}",
        "marketoption": "OnDemand", "vcpu": "2", "memory": "4 GiB", "instanceFamily": "Compute optimized",
    }  # fmt: skip
    return product(sku, "Compute Instance", attributes, usd)


def rds_product(db_class: str, region: str, engine: str, usd: str) -> str:
    attributes = {
        "servicecode": "AmazonRDS", "servicename": "Amazon Relational Database Service", "instanceType": db_class,
        "regionCode": region, "location": "US East (N. Virginia)", "databaseEngine": engine,
        "deploymentOption": "Single-AZ", "licenseModel": "No license required",
        "usagetype": f"InstanceUsage:{db_class}", "operation": "CreateDBInstance:0002", "vcpu": "2", "memory": "1 GiB",
    }  # fmt: skip
    return product("QJ2WQ9AEZRSYS6DZ", "Database Instance", attributes, usd)


def fargate_product(usagetype: str, usd: str, sku: str) -> str:
    attributes = {
        "servicecode": "AmazonECS", "servicename": "Amazon Elastic Container Service", "regionCode": OTHER_REGION,
        "location": "EU (Ireland)", "locationType": "AWS Region", "usagetype": usagetype, "operation": "",
    }  # fmt: skip
    return product(sku, "Compute", attributes, usd, unit="hours", reserved=False)


def pricing_client():
    kw = {"region_name": "us-east-1", "aws_access_key_id": "x", "aws_secret_access_key": "x"}
    return boto3.client("pricing", config=Config(retries={"mode": "standard", "max_attempts": 1}), **kw)


def terms(**fields) -> list[dict]:
    return [{"Type": "TERM_MATCH", "Field": k, "Value": v} for k, v in fields.items()]


def ec2_request(instance_type: str, region: str) -> dict:
    filters = terms(instanceType=instance_type, regionCode=region, operatingSystem="Linux", tenancy="Shared",
                    preInstalledSw="NA", capacitystatus="Used", operation="RunInstances")  # fmt: skip
    return {"ServiceCode": "AmazonEC2", "Filters": filters, "FormatVersion": "aws_v1"}


def rds_request(db_class: str, region: str, engine: str) -> dict:
    filters = terms(instanceType=db_class, regionCode=region, databaseEngine=engine, deploymentOption="Single-AZ",
                    productFamily="Database Instance")  # fmt: skip
    return {"ServiceCode": "AmazonRDS", "Filters": filters, "FormatVersion": "aws_v1"}


def answer(*items: str, token: str | None = None) -> dict:
    return {"FormatVersion": "aws_v1", "PriceList": list(items), **({"NextToken": token} if token else {})}


# --- the source ----------------------------------------------------------------------------------


def test_ec2_price_is_the_on_demand_hour_not_the_reserved_one():
    client = pricing_client()
    with Stubber(client) as stub:
        stub.add_response("get_products", answer(ec2_product("c5.large", OTHER_REGION, "0.0960000000")),
                          ec2_request("c5.large", OTHER_REGION))  # fmt: skip
        rows = aws_pricing.fetch_ec2(client, "c5.large", OTHER_REGION)
        stub.assert_no_pending_responses()
    assert rows == [
        {"family": "ec2", "size": "c5.large", "region": OTHER_REGION, "engine": "", "usd_per_hour": 0.096,
         "effective_date": date(2026, 11, 1), "sku": "V4ZJ4NF6PN4MHA9H"}
    ]  # fmt: skip


def test_rds_price_per_engine_and_unsupported_engines_are_not_asked():
    client = pricing_client()
    with Stubber(client) as stub:
        stub.add_response("get_products", answer(rds_product("db.t3.micro", REGION, "PostgreSQL", "0.0180000000")),
                          rds_request("db.t3.micro", REGION, "PostgreSQL"))  # fmt: skip
        rows = aws_pricing.fetch_rds(client, "db.t3.micro", REGION, "postgres")
        assert aws_pricing.fetch_rds(client, "db.t3.micro", REGION, "oracle-se2") == []  # no request: unknown
        stub.assert_no_pending_responses()
    assert [(r["family"], r["engine"], r["usd_per_hour"]) for r in rows] == [("rds", "postgres", 0.018)]


def test_fargate_takes_the_linux_x86_rates_of_the_region_over_pages():
    client = pricing_client()
    request = {"ServiceCode": "AmazonECS", "Filters": terms(regionCode=OTHER_REGION), "FormatVersion": "aws_v1"}
    first = answer(
        fargate_product("EU-Fargate-ARM-vCPU-Hours:perCPU", "0.0372800000", "ARMVCPU"),
        fargate_product("EU-Fargate-vCPU-Hours:perCPU", "0.0446600000", "X86VCPU"),
        fargate_product("EU-Fargate-Windows-vCPU-Hours:perCPU", "0.0891200000", "WINVCPU"),
        token="page2",
    )
    second = answer(
        fargate_product("EU-Fargate-GB-Hours", "0.0049050000", "X86GB"),
        fargate_product("EU-Fargate-EphemeralStorage-GB-Hours", "0.0001210000", "STORAGE"),
    )
    with Stubber(client) as stub:
        stub.add_response("get_products", first, request)
        stub.add_response("get_products", second, {**request, "NextToken": "page2"})
        rows = aws_pricing.fetch_fargate(client, OTHER_REGION)
        stub.assert_no_pending_responses()
    assert {r["size"]: (r["usd_per_hour"], r["sku"]) for r in rows} == {
        "vcpu": (0.04466, "X86VCPU"),
        "gb": (0.004905, "X86GB"),
    }


@pytest.mark.parametrize(
    "items",
    [
        [],  # the API knows no such product
        [ec2_product("c5.large", OTHER_REGION, "0.0960000000"), ec2_product("c5.large", OTHER_REGION, "0.1", "B")],
        [ec2_product("c5.large", OTHER_REGION, "0.0000000000")],  # no on-demand hour costs 0
    ],
    ids=["no product", "products disagree", "zero"],
)
def test_no_single_price_is_unknown_never_a_guess(items):
    client = pricing_client()
    with Stubber(client) as stub:
        stub.add_response("get_products", answer(*items), ec2_request("c5.large", OTHER_REGION))
        assert aws_pricing.fetch_ec2(client, "c5.large", OTHER_REGION) == []


# --- the owner: stored with their date, refreshed weekly -----------------------------------------


def test_prices_are_stored_with_their_date_and_refreshed_after_a_week(engine):
    client = pricing_client()
    week_ago = datetime.now(UTC) - timedelta(days=8)
    with Session(engine) as s, Stubber(client) as stub:
        stub.add_response("get_products", answer(ec2_product("c5.large", OTHER_REGION, "0.0960000000")),
                          ec2_request("c5.large", OTHER_REGION))  # fmt: skip
        counts = aws_prices.fetch_missing(session=s, client=client, keys=[("ec2", "c5.large", OTHER_REGION, "")])
        assert counts == {"asked": 1, "stored": 1, "errors": []}
        # already stored: not asked again (nothing queued, so a request would fail)
        assert (
            aws_prices.fetch_missing(session=s, client=client, keys=[("ec2", "c5.large", OTHER_REGION, "")])["asked"]
            == 0
        )
        aws_prices.store(session=s, rows=[{"family": "ec2", "size": "t3.micro", "region": REGION, "engine": "",
                                           "usd_per_hour": 0.01}], fetched_at=week_ago)  # fmt: skip
        stub.add_response("get_products", answer(ec2_product("t3.micro", REGION, "0.0104000000")),
                          ec2_request("t3.micro", REGION))  # fmt: skip
        counts = aws_prices.refresh_stale(session=s, client=client)  # only the week-old one
        stub.assert_no_pending_responses()
        assert counts == {"asked": 1, "stored": 1, "errors": []}
        assert aws_prices.summary(session=s)[0] == 2
        book = aws_prices.book(session=s)
        rows = {p.size: p for p in s.execute(select(AwsPrice)).scalars()}
    assert rows["t3.micro"].usd_per_hour == 0.0104 and rows["t3.micro"].effective_date == date(2026, 11, 1)
    today = datetime.now(UTC).date()
    quote = book.hourly("ec2_instance", "t3.micro", REGION)
    assert (quote.usd_per_hour, quote.source, quote.as_of) == (0.0104, "price_list_api", today)
    quote = book.hourly("asg", "c5.large", OTHER_REGION, count=3)
    assert (quote.usd_per_hour, quote.source) == (pytest.approx(0.288), "price_list_api")
    # not in the API's prices: the bundled table (offline fallback), labelled so, else unknown
    quote = book.hourly("ec2_instance", "m5.large", REGION)
    assert (quote.usd_per_hour, quote.source, quote.as_of) == (0.096, "bundled", bundled_as_of())
    assert book.hourly("ec2_instance", "m5.large", OTHER_REGION) is None


def test_a_refused_price_list_keeps_the_stored_prices(engine):
    client = pricing_client()
    with Session(engine) as s, Stubber(client) as stub:
        aws_prices.store(
            session=s,
            rows=[{"family": "ec2", "size": "t3.micro", "region": REGION, "engine": "", "usd_per_hour": 0.0104}],
            fetched_at=datetime.now(UTC) - timedelta(days=9),
        )
        for _ in range(3):
            stub.add_client_error("get_products", service_error_code="AccessDeniedException", http_status_code=400)
        keys = [("ec2", f"t3.{size}", REGION, "") for size in ("nano", "small", "medium", "large")]
        counts = aws_prices.fetch(session=s, client=client, keys=keys)
        stub.assert_no_pending_responses()  # three refusals, then it stops asking
        assert (counts["stored"], len(counts["errors"])) == (0, 3) and "AccessDeniedException" in counts["errors"][0]
        assert aws_prices.stored(session=s)[("ec2", "t3.micro", REGION, "")][0] == 0.0104


# --- discovery priced by the API, the bundled table, or unknown -----------------------------------


def test_discovery_prices_new_sizes_from_the_price_list(engine, moto_env):
    (eu,) = make_ec2(region=OTHER_REGION, instance_type="c5.large", name="eu-box")
    (us,) = make_ec2(instance_type="t3.micro", name="us-box")
    (odd,) = make_ec2(region=OTHER_REGION, instance_type="m5.large", name="odd-box")
    make_rds()  # postgres db.t3.micro in us-east-1
    client = pricing_client()
    settings = Settings(aws_max_attempts=1, aws_regions=[REGION, OTHER_REGION])
    with Session(engine) as s, Stubber(client) as stub:
        stub.add_response("get_products", answer(ec2_product("c5.large", OTHER_REGION, "0.0960000000")),
                          ec2_request("c5.large", OTHER_REGION))  # fmt: skip
        stub.add_response("get_products", answer(), ec2_request("m5.large", OTHER_REGION))  # the API has none
        stub.add_response("get_products", answer(), ec2_request("t3.micro", REGION))
        stub.add_response("get_products", answer(rds_product("db.t3.micro", REGION, "PostgreSQL", "0.0190000000")),
                          rds_request("db.t3.micro", REGION, "PostgreSQL"))  # fmt: skip
        counts = discovery.run_discovery(session=s, settings=settings, pricing_client=client)
        stub.assert_no_pending_responses()
        found = {r.resource_id: r for r in resources.list_resources(session=s).itertuples()}
        rows = {
            rid: resources.get_resource(session=s, resource_type=t, resource_id=rid)
            for rid, t in [(eu, "ec2_instance"), (us, "ec2_instance"), (odd, "ec2_instance"),
                           ("orders-db", "rds_instance")]
        }  # fmt: skip
    assert counts["errors"] == [] and set(found) >= {eu, us, odd, "orders-db"}
    today = datetime.now(UTC).date()
    price = lambda r: (r.hourly_cost, r.price_known, r.price_source, r.price_as_of)  # noqa: E731
    assert price(rows[eu]) == (0.096, True, "price_list_api", today)  # eu-west-1: priced, no longer $0
    assert price(rows["orders-db"]) == (0.019, True, "price_list_api", today)
    assert price(rows[us]) == (0.0104, True, "bundled", bundled_as_of())  # the offline fallback, labelled
    assert price(rows[odd]) == (0.0, False, "", None)  # unknown, stored as 0 with price_known False
    with Session(engine) as s:  # the API's "none" is stored too: not asked again before a week has passed
        asked = aws_prices.stored(session=s)
        assert asked[("ec2", "m5.large", OTHER_REGION, "")][0] is None
        assert aws_prices.fetch_missing(session=s, client=client, keys=[("ec2", "m5.large", OTHER_REGION, "")]) == {
            "asked": 0, "stored": 0, "errors": []
        }  # fmt: skip
