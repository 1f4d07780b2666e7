"""Anomalies in the store: our detector's results saved without losing feedback, AWS's beside them, and
the feedback people give (confirmed / false positive / planned activity).

AWS's (GetAnomalies, fetched by `sources.aws_ce_anomalies`) are upserted by their AnomalyId. A row's
`feedback` is ours: a re-fetch never overwrites it (AWS's own Feedback fills it only on a new row), and
anomalies that age out of AWS's 90 days are kept.

Detection is causal (a day's expectation uses only earlier days), so re-running it gives the same anomalies
for past days; a re-detected anomaly that overlaps a stored one of the same service or account updates that
row (keeping its feedback) even if its first day moved. Stored anomalies that are no longer detected and have
no feedback are dropped (the data was restated); those with feedback stay.
"""

import json
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import delete, select
from sqlmodel import Session

from finops.data import forecasts, queries
from finops.data.tables import Anomaly, utcnow
from finops.models import anomaly_breakdown

FEEDBACK = ("confirmed", "false_positive", "planned")
FEEDBACK_LABELS = {"confirmed": "Confirmed", "false_positive": "False positive", "planned": "Planned activity"}
SCAN_DAYS = 400  # days of history read per run: enough for the model's 8-week pattern and 91-day scale
WARMUP_DAYS = 200  # anomalies are reported only from this many days into the window: the model has fully warmed up
COLUMNS = [
    "id",
    "start_day",
    "end_day",
    "duration_days",
    "dimension",
    "service",
    "account_id",
    "expected",
    "actual",
    "impact",
    "impact_pct",
    "score",
    "source",
    "status",
    "low_confidence",
    "contributors",
]


class AnomalyError(ValueError):
    """Refused feedback or filter; the message says why."""


def _overlaps(row: Anomaly, start: date, end: date) -> bool:
    return row.start_day <= end and (row.end_day or row.start_day) >= start


def run_detection(*, session: Session, settings: Any) -> dict:
    """Detect anomalies per service and per account on the stored daily costs and save them; returns counts."""
    first, last = queries.coverage(session=session)
    if first is None:
        return {"detected": 0, "new": 0, "updated": 0, "dropped": 0}
    end = last + timedelta(days=1)
    start = max(first, end - timedelta(days=SCAN_DAYS))
    since = start + timedelta(days=WARMUP_DAYS) if start > first else first
    daily = queries.daily_costs_by(session=session, start=start, end=end, by=["service", "account"])
    found = anomaly_breakdown.detect_costs(
        daily[["day", "account_id", "service", "unblended_cost"]],
        since=since,
        min_impact=settings.anomaly_min_impact,
        min_pct=settings.anomaly_min_pct,
    )
    return save_detected(session=session, found=found, since=since)


def save_detected(*, session: Session, found: pd.DataFrame, since: date) -> dict:
    """Upsert our detector's anomalies ending on or after `since` (see the module docstring)."""
    now = utcnow()
    stored = session.execute(select(Anomaly).where(Anomaly.source == "finops")).scalars().all()
    by_key: dict[tuple, list[Anomaly]] = {}
    for row in stored:
        by_key.setdefault((row.dimension, row.service, row.account_id), []).append(row)
    kept, new, updated = set(), 0, 0
    for item in found.to_dict("records"):
        key = (item["dimension"], item["service"], item["account_id"])
        start, end = item["start_day"], item["end_day"]
        match = next((r for r in by_key.get(key, []) if r.external_id == item["external_id"]), None) or next(
            (r for r in by_key.get(key, []) if _overlaps(r, start, end) and r.id not in kept), None
        )
        fields = {
            "start_day": start,
            "end_day": end,
            "expected": float(item["expected"]),
            "actual": float(item["actual"]),
            "impact": float(item["impact"]),
            "score": float(item["score"]) if pd.notna(item["score"]) else None,
            "contributors": plain_json(item["contributors"], default=float),  # numpy numbers -> floats
            "low_confidence": bool(item["low_confidence"]),
        }
        if match is None:
            match = Anomaly(source="finops", external_id=item["external_id"], detected_at=now, **dict(
                zip(("dimension", "service", "account_id"), key, strict=True)), **fields)  # fmt: skip
            session.add(match)
            session.flush()
            by_key.setdefault(key, []).append(match)
            new += 1
        else:
            for name, value in fields.items():
                setattr(match, name, value)
            session.add(match)
            updated += 1
        kept.add(match.id)
    gone = [r.id for r in stored if r.id not in kept and r.feedback is None and (r.end_day or r.start_day) >= since]
    if gone:
        session.execute(delete(Anomaly).where(Anomaly.id.in_(gone)))
    session.commit()
    return {"detected": len(found), "new": new, "updated": updated, "dropped": len(gone)}


def store_aws_anomalies(session: Session, rows: list[dict], now: datetime) -> None:
    """Upsert AWS's anomalies by AnomalyId (see the module docstring for feedback)."""
    ids = [r["external_id"] for r in rows]
    stored = select(Anomaly).where(Anomaly.source == "aws", Anomaly.external_id.in_(ids))
    existing = {a.external_id: a for a in session.execute(stored).scalars().all()} if ids else {}
    for row in rows:
        fields = dict(row)
        fields["contributors"] = plain_json(fields.get("contributors") or [])
        aws_feedback = fields.pop("aws_feedback", None)
        anomaly = existing.get(fields["external_id"])
        if anomaly is None:
            anomaly = Anomaly(source="aws", detected_at=now, feedback=aws_feedback, **fields)
            existing[fields["external_id"]] = anomaly
            session.add(anomaly)
        else:  # feedback is ours: never touched on a re-fetch
            for name, value in fields.items():
                setattr(anomaly, name, value)
    session.commit()


def list_anomalies(
    *,
    session: Session,
    since: date | None = None,
    source: str | None = None,
    status: str | None = None,
    dimension: str | None = None,
    search: str = "",
) -> pd.DataFrame:
    """Anomalies newest first (COLUMNS). `status` is "open" (no feedback) or a FEEDBACK value; `search` matches
    service or account id as plain text."""
    stmt = select(Anomaly).order_by(Anomaly.start_day.desc(), Anomaly.impact.desc(), Anomaly.id)
    if since is not None:
        stmt = stmt.where(Anomaly.start_day >= since)
    if source:
        stmt = stmt.where(Anomaly.source == source)
    if dimension:
        stmt = stmt.where(Anomaly.dimension == dimension)
    if status == "open":
        stmt = stmt.where(Anomaly.feedback.is_(None))
    elif status:
        if status not in FEEDBACK:
            raise AnomalyError(f"status must be open or one of: {', '.join(FEEDBACK)}")
        stmt = stmt.where(Anomaly.feedback == status)
    rows = session.execute(stmt).scalars().all()
    needle = search.strip().lower()
    out = []
    for r in rows:
        if needle and needle not in r.service.lower() and needle not in r.account_id.lower():
            continue
        end = r.end_day or r.start_day
        expected = r.expected
        out.append(
            {
                "id": r.id,
                "start_day": r.start_day,
                "end_day": end,
                "duration_days": (end - r.start_day).days + 1,
                "dimension": r.dimension,
                "service": r.service,
                "account_id": r.account_id,
                "expected": expected,
                "actual": r.actual,
                "impact": r.impact,
                "impact_pct": (100 * r.impact / expected) if expected else None,
                "score": r.score,
                "source": r.source,
                "status": r.feedback or "open",
                "low_confidence": r.low_confidence,
                "contributors": _contributors_text(r.contributors),
            }
        )
    return pd.DataFrame(out, columns=COLUMNS)


def plain_json(value, default=str):
    """`value` as plain JSON types (lists, dicts, str, float ...), what a JSON column keeps."""
    return json.loads(json.dumps(value, sort_keys=True, default=default))


def _contributors_text(items) -> str:
    """'name (+$impact), ...' for our contributors; AWS root causes as they came."""
    parts = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and "impact" in item:
            parts.append(f"{item.get('name', '')} ({item['impact']:+,.2f})")
        elif isinstance(item, dict):
            parts.append(", ".join(f"{k}={v}" for k, v in item.items() if v))
        else:
            parts.append(str(item))
    return "; ".join(parts)


def set_feedback(*, session: Session, anomaly_id: int, feedback: str | None, actor: str) -> Anomaly:
    """Record feedback on an anomaly (None clears it); it survives later detection runs."""
    if feedback is not None and feedback not in FEEDBACK:
        raise AnomalyError(f"feedback must be one of: {', '.join(FEEDBACK)}")
    row = session.get(Anomaly, int(anomaly_id))
    if row is None:
        raise AnomalyError(f"no anomaly {anomaly_id}")
    row.feedback, row.feedback_by, row.feedback_at = feedback, actor if feedback else None, utcnow()
    session.add(row)
    session.commit()
    session.refresh(row)
    return row


def series_around(*, session: Session, anomaly_id: int, pad_days: int = 45) -> tuple[pd.DataFrame, Anomaly]:
    """The anomaly's own daily series (`ds, y`) from `pad_days` before its start to `pad_days` after its end."""
    row = session.get(Anomaly, int(anomaly_id))
    if row is None:
        raise AnomalyError(f"no anomaly {anomaly_id}")
    end = row.end_day or row.start_day
    if row.dimension == "account" and row.account_id:
        series = forecasts.series_name("account", row.account_id)
    elif row.service:
        series = forecasts.series_name("service", row.service)
    else:
        series = forecasts.TOTAL
    frame = forecasts.history(
        session=session,
        series=series,
        start=row.start_day - timedelta(days=pad_days),
        end=end + timedelta(days=pad_days + 1),
    )
    _, last = queries.coverage(session=session)
    if last is not None:
        frame = frame[frame["ds"] <= pd.Timestamp(last)]
    return frame.reset_index(drop=True), row
