"""Idle AWS resources from CloudWatch: an EC2 or RDS instance whose daily peak CPU stayed under IDLE_CPU_PCT
for the last WINDOW_DAYS days (with at least MIN_DAYS days of data) is marked idle in the inventory.

The inventory keeps the finding (`idle`, `cpu_peak` = the highest daily peak, `cpu_checked_on`; stored by
`finops.data.resources.record_cpu_check`), which the recommendations read. Each resource is checked at most once
a UTC day: GetMetricData bills per metric, so a check every discovery run (15 minutes) would cost 96 times as
much for no news.
"""

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from sqlalchemy import select
from sqlmodel import Session, col

from finops.data import resources
from finops.data.aws_errors import describe
from finops.data.drivers.aws import make_clients
from finops.data.tables import Resource

log = logging.getLogger(__name__)
IDLE_CPU_PCT = 5.0
WINDOW_DAYS = 14
MIN_DAYS = 7  # a resource younger than a week is not called idle
BATCH = 500  # GetMetricData takes at most 500 queries per call
METRICS = {"ec2_instance": ("AWS/EC2", "InstanceId"), "rds_instance": ("AWS/RDS", "DBInstanceIdentifier")}


def daily_peaks(cloudwatch, resource_type: str, ids: list[str], now: datetime) -> dict[str, list[float]]:
    """Each resource's daily maximum CPU (%) over the last WINDOW_DAYS days; [] when CloudWatch has none."""
    namespace, dimension = METRICS[resource_type]
    out: dict[str, list[float]] = {}
    for i in range(0, len(ids), BATCH):
        chunk = ids[i : i + BATCH]
        queries = [
            {
                "Id": f"m{n}",
                "MetricStat": {
                    "Metric": {
                        "Namespace": namespace,
                        "MetricName": "CPUUtilization",
                        "Dimensions": [{"Name": dimension, "Value": ident}],
                    },
                    "Period": 86400,
                    "Stat": "Maximum",
                },
            }
            for n, ident in enumerate(chunk)
        ]
        kwargs = {"MetricDataQueries": queries, "StartTime": now - timedelta(days=WINDOW_DAYS), "EndTime": now}
        while True:
            resp = cloudwatch.get_metric_data(**kwargs)
            for result in resp.get("MetricDataResults") or []:
                ident = chunk[int(result["Id"][1:])]
                out.setdefault(ident, []).extend(float(v) for v in result.get("Values") or [])
            if not resp.get("NextToken"):
                break
            kwargs["NextToken"] = resp["NextToken"]
    return out


def mark_idle(
    *, session: Session, settings: Any, clients_factory: Callable[[str, str], Any] | None = None, now=None
) -> dict:
    """Check the running EC2 and RDS instances not checked today; returns {"checked", "idle", "errors"}."""
    clients = clients_factory or make_clients(settings)
    now = now or datetime.now(UTC)
    today = now.date()
    rows = (
        session.execute(
            select(Resource).where(
                col(Resource.source) == "aws",
                col(Resource.resource_type).in_(list(METRICS)),
                col(Resource.state) == "running",
            )
        )
        .scalars()
        .all()
    )
    due: dict[tuple[str, str], list[Resource]] = {}
    for row in rows:
        if row.cpu_checked_on != today:
            due.setdefault((row.region or "us-east-1", row.resource_type), []).append(row)
    checked, idle, errors = 0, 0, []
    for (region, resource_type), items in due.items():
        try:
            peaks = daily_peaks(clients("cloudwatch", region), resource_type, [r.resource_id for r in items], now)
        except (ClientError, BotoCoreError) as exc:
            log.warning("CloudWatch in %s unreadable: %s", region, exc)
            errors.append(f"cloudwatch in {region}: {describe(exc)}")
            continue
        for row in items:
            values = peaks.get(row.resource_id, [])
            is_idle = len(values) >= MIN_DAYS and max(values) < IDLE_CPU_PCT
            peak = round(max(values), 1) if values else None
            resources.record_cpu_check(session=session, resource=row, day=today, peak=peak, idle=is_idle)
            idle += is_idle
            checked += 1
    session.commit()
    return {"checked": checked, "idle": idle, "errors": errors}
