"""The price table and `hourly_cost`: known prices, counts, engines, Fargate sizes, and None for the unknown."""

import pytest

from finops.data.drivers import prices
from finops.data.drivers.prices import PRICE_FILE, hourly_cost, parse_fargate_size, price_table

FARGATE_VCPU, FARGATE_GB = 0.04048, 0.004445


def source_note(path=PRICE_FILE) -> str:
    """The price table's header comment (its source and recording date), read by the test itself."""
    with path.open() as fh:
        return "".join(line[1:].lstrip() for line in fh if line.startswith("#"))


@pytest.mark.parametrize(
    ("resource_type", "size", "region", "kwargs", "expected"),
    [
        ("ec2_instance", "t3.micro", "us-east-1", {}, 0.0104),
        ("ec2_instance", "t3.medium", "us-east-1", {}, 0.0416),
        ("ec2_instance", "m5.large", "us-east-1", {}, 0.096),
        ("ec2_instance", "m5.xlarge", "us-east-1", {}, 0.192),
        ("ec2_instance", "c5.large", "us-east-1", {}, 0.085),
        ("ec2_instance", "r5.large", "us-east-1", {}, 0.126),
        ("asg", "m5.large", "us-east-1", {"count": 3}, 0.288),
        ("asg", "t3.micro", "us-east-1", {"count": 0}, 0.0),
        ("rds_instance", "db.t3.micro", "us-east-1", {"engine": "mysql"}, 0.017),
        ("rds_instance", "db.t3.micro", "us-east-1", {"engine": "mariadb"}, 0.017),
        ("rds_instance", "db.t3.micro", "us-east-1", {"engine": "postgres"}, 0.018),
        ("rds_instance", "db.m5.large", "us-east-1", {"engine": "MySQL"}, 0.171),
        ("rds_instance", "db.m5.large", "us-east-1", {"engine": "mysql", "multi_az": True}, 0.342),
        ("ecs_service", "1024/2048", "us-east-1", {}, FARGATE_VCPU + 2 * FARGATE_GB),
        ("ecs_service", "256/512", "us-east-1", {"count": 4}, 4 * (0.25 * FARGATE_VCPU + 0.5 * FARGATE_GB)),
        ("ecs_service", "512/1024", "us-east-1", {"count": 0}, 0.0),
    ],
)
def test_known_prices(resource_type, size, region, kwargs, expected):
    assert hourly_cost(resource_type, size, region, **kwargs) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(
    ("resource_type", "size", "region", "kwargs"),
    [
        ("ec2_instance", "t3.micro", "eu-west-1", {}),  # region not in the table
        ("ec2_instance", "p5.48xlarge", "us-east-1", {}),  # type not in the table
        ("ec2_instance", "", "us-east-1", {}),
        ("asg", "x9.huge", "us-east-1", {"count": 2}),
        ("asg", "t3.micro", "us-east-1", {"count": -1}),
        ("rds_instance", "db.t3.micro", "us-east-1", {}),  # engine unknown: prices differ by engine
        ("rds_instance", "db.t3.micro", "us-east-1", {"engine": "oracle-se2"}),
        ("rds_instance", "db.x2g.large", "us-east-1", {"engine": "mysql"}),
        ("ecs_service", "", "us-east-1", {}),  # EC2 launch type: paid through its instances
        ("ecs_service", "0.5 vCPU", "us-east-1", {}),
        ("ecs_service", "0/512", "us-east-1", {}),
        ("ecs_service", "256/512", "ap-south-1", {}),
        ("lambda_function", "128", "us-east-1", {}),
    ],
)
def test_unknown_is_none_never_a_guess(resource_type, size, region, kwargs):
    assert hourly_cost(resource_type, size, region, **kwargs) is None


@pytest.mark.parametrize(
    ("size", "expected"),
    [("256/512", (0.25, 0.5)), ("1024/2048", (1.0, 2.0)), ("4096/30720", (4.0, 30.0)), ("", None), ("1/x", None)],
)
def test_parse_fargate_size(size, expected):
    assert parse_fargate_size(size) == expected


def test_table_covers_the_common_types_and_states_its_source():
    table = price_table()
    for size in ("t3.micro", "t3.small", "t3.medium", "t3.large", "m5.large", "m5.xlarge", "c5.large", "r5.large"):
        assert ("ec2", size, "us-east-1", "") in table
    for size in ("db.t3.micro", "db.t3.small", "db.t3.medium", "db.m5.large"):
        assert ("rds", size, "us-east-1", "mysql") in table
        assert ("rds", size, "us-east-1", "postgres") in table
    assert all(0 < price < 10 for price in table.values())
    note = source_note()
    assert "Source:" in note and "Recorded: 2026-11-27" in note
    assert "from memory" in note.lower() and "must be checked" in note


def test_table_file_reads_comments_and_rows(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("# source: test\nfamily,size,region,engine,usd_per_hour\nec2,z1.tiny,xx-1,,0.5\n\n")
    assert prices.price_table(path) == {("ec2", "z1.tiny", "xx-1", ""): 0.5}
    assert source_note(path) == "source: test\n"
