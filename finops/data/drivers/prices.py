"""Hourly on-demand cost of AWS resources: prices from the AWS Price List API (stored by `finops.data.aws_prices`),
else the small bundled table `aws_prices.csv` (an offline fallback), else unknown.

A `PriceBook` answers with the price and where it came from; a price neither holds is unknown (None), never a
guess. The bundled table's header says where its figures come from and when they were recorded.
"""

import csv
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path

PRICE_FILE = Path(__file__).with_name("aws_prices.csv")
API = "price_list_api"
BUNDLED = "bundled"
# the bundled table prices MariaDB as MySQL; the Price List API has each engine's own prices
ENGINE_FAMILY = {"mysql": "mysql", "mariadb": "mysql", "postgres": "postgres", "postgresql": "postgres"}
API_ENGINE = {"mysql": "mysql", "mariadb": "mariadb", "postgres": "postgres", "postgresql": "postgres"}

Key = tuple[str, str, str, str]  # (family, size, region, engine)


@dataclass(frozen=True)
class Price:
    """A price per hour in USD, where it came from (API or BUNDLED) and its date."""

    usd_per_hour: float
    source: str
    as_of: date | None


@cache
def price_table(path: Path = PRICE_FILE) -> dict[Key, float]:
    """{(family, size, region, engine): usd_per_hour} from the CSV (lines starting with # are comments)."""
    with path.open(newline="") as fh:
        rows = csv.DictReader(line for line in fh if line.strip() and not line.startswith("#"))
        return {(r["family"], r["size"], r["region"], r["engine"] or ""): float(r["usd_per_hour"]) for r in rows}


@cache
def bundled_as_of(path: Path = PRICE_FILE) -> date | None:
    """The day the bundled table was recorded (its "# Recorded: YYYY-MM-DD" line)."""
    found = re.search(r"^# Recorded: (\d{4}-\d{2}-\d{2})", path.read_text(), re.MULTILINE)
    return date.fromisoformat(found.group(1)) if found else None


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


@dataclass
class PriceBook:
    """Prices by key: the API's first (`api`: key -> (usd, day fetched)), then the bundled table's.

    `missing` collects the keys asked for that the API part lacked, so a caller can fetch them.
    """

    api: Mapping[Key, tuple[float, date | None]] = field(default_factory=dict)
    bundled: Mapping[Key, float] = field(default_factory=price_table)
    bundled_day: date | None = field(default_factory=bundled_as_of)
    missing: set[Key] = field(default_factory=set)

    def unit(self, family: str, size: str, region: str, engine: str = "") -> Price | None:
        """One unit price: an instance hour, or a Fargate vCPU-hour ("vcpu") or GB-hour ("gb")."""
        key = (family, size, region, API_ENGINE.get(engine, engine) if family == "rds" else engine)
        if key in self.api:
            usd, day = self.api[key]
            return Price(usd, API, day)
        self.missing.add(key)
        bundled_key = (family, size, region, ENGINE_FAMILY.get(engine, "") if family == "rds" else engine)
        fallback = self.bundled.get(bundled_key)
        return Price(fallback, BUNDLED, self.bundled_day) if fallback is not None else None

    def hourly(
        self, resource_type: str, size: str, region: str, *, count: int = 1, engine: str = "", multi_az: bool = False
    ) -> Price | None:
        """USD per hour of a resource, or None when no price is known.

        - `ec2_instance`: size = instance type.
        - `rds_instance`: size = DB instance class; `engine` (mysql, mariadb, postgres) must be given; x2 if
          Multi-AZ (the price list's Multi-AZ hour is twice the Single-AZ one for these engines).
        - `asg`: size = instance type, `count` = instances (desired capacity).
        - `ecs_service`: size = Fargate task size "cpu/memory" in task units ("256/512"), `count` = tasks
          (desiredCount); services on EC2 capacity are paid through their instances: None.
        A count of 0 costs 0 when the unit price is known.
        """
        if count < 0 or not size:
            return None
        if resource_type in ("ec2_instance", "asg"):
            unit = self.unit("ec2", size, region)
        elif resource_type == "rds_instance":
            engine = (engine or "").lower()
            unit = self.unit("rds", size, region, engine) if engine in ENGINE_FAMILY else None
            if unit is not None and multi_az:
                unit = Price(unit.usd_per_hour * 2, unit.source, unit.as_of)
        elif resource_type == "ecs_service":
            unit = self._fargate(size, region)
        else:
            return None
        if unit is None:
            return None
        return Price(round(unit.usd_per_hour * count, 6), unit.source, unit.as_of)

    def _fargate(self, size: str, region: str) -> Price | None:
        parsed = parse_fargate_size(size)
        vcpu, gb = self.unit("fargate", "vcpu", region), self.unit("fargate", "gb", region)
        if parsed is None or vcpu is None or gb is None:
            return None
        both_api = vcpu.source == gb.source == API
        days = [d for d in (vcpu.as_of, gb.as_of) if d is not None]
        return Price(
            parsed[0] * vcpu.usd_per_hour + parsed[1] * gb.usd_per_hour,
            API if both_api else BUNDLED,
            min(days) if days else None,
        )


def hourly_cost(
    resource_type: str,
    size: str,
    region: str,
    *,
    count: int = 1,
    engine: str = "",
    multi_az: bool = False,
) -> float | None:
    """USD per hour from the bundled table alone, or None when it cannot say (see `PriceBook.hourly`)."""
    price = PriceBook().hourly(resource_type, size, region, count=count, engine=engine, multi_az=multi_az)
    return price.usd_per_hour if price is not None else None
