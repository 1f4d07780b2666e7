"""Savings recommendations: AWS's (fetched by `sources.aws_ce_recommendations`) and our own, listed together;
people dismiss or mark them done, and those decisions survive the next computation.

Each source's recommendations are replaced together (`store_recommendations`): its `open` rows are deleted
and what it recommends now is inserted, except a recommendation whose (resource_id, kind) has a `dismissed`
or `done` row of that source: that person's decision stands and the recommendation is not resurrected.
Dismissed and done rows are never deleted.

Our own, from the resource inventory (no usage metrics needed):
- `schedule`: a running non-production resource (tag env/environment/stage in NONPROD) with an hourly cost
  would save the hours outside a nights-and-weekends schedule (weekdays 08:00-20:00: 60 of 168 hours run).
- `idle`: a resource the inventory marks idle saves its whole cost if stopped: an EC2 or RDS instance whose
  CloudWatch CPU peaked under 5 % every day for 14 days (`finops.data.drivers.aws_utilization` sets its `idle`), or one
  the platform reports in state `idle`.
"""

from datetime import datetime

import pandas as pd
from sqlalchemy import delete, select
from sqlmodel import Session

from finops.data.tables import Recommendation, Resource, utcnow

HOURS_PER_MONTH = 730
SCHEDULE_HOURS_PER_WEEK = 60  # weekdays 08:00-20:00
NONPROD = {"dev", "development", "test", "testing", "qa", "staging", "stage", "sandbox", "demo", "ci"}
ENV_TAGS = ("env", "environment", "stage", "Env", "Environment", "Stage")
STATUSES = ("open", "dismissed", "done")
KEPT_STATUSES = ("dismissed", "done")
COLUMNS = [
    "id",
    "source",
    "kind",
    "account_id",
    "resource_id",
    "description",
    "estimated_monthly_savings",
    "status",
    "created_at",
]


class RecommendationError(ValueError):
    """Refused change; the message says why."""


def _peak(resource: Resource) -> str:
    peak = resource.cpu_peak
    return f" (CPU peaked at {peak:.1f} % over 14 days)" if peak is not None else ""


def own_recommendations(resources: list[Resource]) -> tuple[list[dict], list[dict]]:
    """(schedule rows, idle rows) for the inventory, as Recommendation fields."""
    schedule, idle = [], []
    for r in resources:
        tags = r.tags if isinstance(r.tags, dict) else {}
        key = f"{r.resource_type}:{r.resource_id}"
        monthly = r.hourly_cost * HOURS_PER_MONTH
        if r.hourly_cost <= 0:
            continue
        is_idle = r.state == "idle" or r.idle
        if is_idle:
            idle.append(
                {
                    "kind": "stop_idle",
                    "account_id": r.account_id,
                    "resource_id": key,
                    "description": f"{r.name} ({key}) is idle{_peak(r)}: stopping it saves its whole cost",
                    "estimated_monthly_savings": round(monthly, 2),
                }
            )
            continue
        env = next((str(tags[t]).lower() for t in ENV_TAGS if t in tags), "")
        if r.state == "running" and env in NONPROD:
            saved = monthly * (168 - SCHEDULE_HOURS_PER_WEEK) / 168
            schedule.append(
                {
                    "kind": "nights_and_weekends",
                    "account_id": r.account_id,
                    "resource_id": key,
                    "description": f"{r.name} ({key}, env={env}) runs around the clock: a weekdays 08:00-20:00 "
                    f"schedule stops it {168 - SCHEDULE_HOURS_PER_WEEK} of 168 hours a week",
                    "estimated_monthly_savings": round(saved, 2),
                }
            )
    return schedule, idle


def store_recommendations(session: Session, source: str, rows: list[dict], now: datetime) -> None:
    """Replace `source`'s open rows with `rows`, skipping those a person dismissed or marked done."""
    session.execute(delete(Recommendation).where(Recommendation.source == source, Recommendation.status == "open"))
    decided = select(Recommendation.resource_id, Recommendation.kind).where(
        Recommendation.source == source, Recommendation.status.in_(KEPT_STATUSES)
    )
    kept = {tuple(r) for r in session.execute(decided).all()}
    for row in rows:
        if (row["resource_id"], row["kind"]) in kept:
            continue
        session.add(Recommendation(source=source, status="open", created_at=now, **row))
    session.commit()


def refresh_own(*, session: Session) -> dict:
    """Recompute our recommendations from the inventory (dismissed/done ones stay as decided)."""
    resources = session.execute(select(Resource)).scalars().all()
    schedule, idle = own_recommendations(list(resources))
    now = utcnow()
    store_recommendations(session, "schedule", schedule, now)
    store_recommendations(session, "idle", idle, now)
    return {"schedule": len(schedule), "idle": len(idle)}


def list_recommendations(*, session: Session, status: str | None = "open", source: str | None = None) -> pd.DataFrame:
    """Recommendations, largest savings first (COLUMNS)."""
    stmt = select(Recommendation).order_by(Recommendation.estimated_monthly_savings.desc(), Recommendation.id)
    if status:
        stmt = stmt.where(Recommendation.status == status)
    if source:
        stmt = stmt.where(Recommendation.source == source)
    rows = session.execute(stmt).scalars().all()
    return pd.DataFrame([{c: getattr(r, c) for c in COLUMNS} for r in rows], columns=COLUMNS)


def set_status(*, session: Session, recommendation_id: int, status: str) -> Recommendation:
    """Mark a recommendation open, dismissed or done."""
    if status not in STATUSES:
        raise RecommendationError(f"status must be one of: {', '.join(STATUSES)}")
    row = session.get(Recommendation, int(recommendation_id))
    if row is None:
        raise RecommendationError(f"no recommendation {recommendation_id}")
    row.status = status
    session.add(row)
    session.commit()
    session.refresh(row)
    return row
