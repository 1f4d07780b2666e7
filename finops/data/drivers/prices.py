"""Hourly on-demand cost of AWS resources from the small price table kept in `aws_prices.csv`.

The table's header says where its figures come from and when they were recorded. A price the table does not
hold is unknown: `hourly_cost` answers None, never a guess.
"""

import csv
from functools import cache
from pathlib import Path

PRICE_FILE = Path(__file__).with_name("aws_prices.csv")
ENGINE_FAMILY = {
    "mysql": "mysql",
    "mariadb": "mysql",
    "postgres": "postgres",
    "postgresql": "postgres",
}


@cache
def price_table(path: Path = PRICE_FILE) -> dict[tuple[str, str, str, str], float]:
    """{(family, size, region, engine): usd_per_hour} from the CSV (lines starting with # are comments)."""
    with path.open(newline="") as fh:
        rows = csv.DictReader(line for line in fh if line.strip() and not line.startswith("#"))
        return {(r["family"], r["size"], r["region"], r["engine"] or ""): float(r["usd_per_hour"]) for r in rows}


def parse_fargate_size(size: str) -> tuple[float, float] | None:
    """(vCPU, GB) from a Fargate task size "cpu/memory" in task units, e.g. "256/512" -> (0.25, 0.5)."""
    cpu, sep, memory = (size or "").partition("/")
    if not sep:
        return None
    try:
        vcpu, gb = int(cpu) / 1024, int(memory) / 1024
    except ValueError:
        return None
    if vcpu <= 0 or gb <= 0:
        return None
    return vcpu, gb


def hourly_cost(
    resource_type: str,
    size: str,
    region: str,
    *,
    count: int = 1,
    engine: str = "",
    multi_az: bool = False,
) -> float | None:
    """USD per hour, or None when the table cannot say.

    - `ec2_instance`: size = instance type.
    - `rds_instance`: size = DB instance class; `engine` (mysql, mariadb, postgres) must be given; x2 if Multi-AZ.
    - `asg`: size = instance type, `count` = instances (desired capacity).
    - `ecs_service`: size = Fargate task size "cpu/memory" in task units ("256/512"), `count` = tasks
      (desiredCount); services on EC2 capacity are paid through their instances: None.
    A count of 0 costs 0 when the unit price is known.
    """
    table = price_table()
    if count < 0:
        return None
    if resource_type in ("ec2_instance", "asg"):
        unit = table.get(("ec2", size, region, ""))
    elif resource_type == "rds_instance":
        family = ENGINE_FAMILY.get((engine or "").lower())
        unit = table.get(("rds", size, region, family)) if family else None
        if unit is not None and multi_az:
            unit *= 2
    elif resource_type == "ecs_service":
        parsed = parse_fargate_size(size)
        vcpu_rate = table.get(("fargate", "vcpu", region, ""))
        gb_rate = table.get(("fargate", "gb", region, ""))
        if parsed is None or vcpu_rate is None or gb_rate is None:
            return None
        unit = parsed[0] * vcpu_rate + parsed[1] * gb_rate
    else:
        return None
    if unit is None:
        return None
    return round(unit * count, 6)
