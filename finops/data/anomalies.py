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
from sqlalchemy import delete, select, update
from sqlmodel import Session, col

from finops.data import forecasts, queries
from finops.data.tables import Anomaly, AnomalyRun, utcnow
from finops.models import anomaly_breakdown, anomaly_detector

FEEDBACK = ("confirmed", "false_positive", "planned")
FEEDBACK_LABELS = {"confirmed": "Confirmed", "false_positive": "False positive", "planned": "Planned activity"}
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
    "views",
]


class AnomalyError(ValueError):
    """Refused feedback or filter; the message says why."""


def _overlaps(row: Anomaly, start: date, end: date) -> bool:
    return row.start_day <= end and (row.end_day or row.start_day) >= start


def _step_writer(session: Session, run_id: int | None):
    """A callback recording a detection run's step and progress in a transaction of its own."""

    def write(step: str, done: int, total: int) -> None:
        with Session(session.get_bind()) as own:
            own.execute(
                update(AnomalyRun).where(col(AnomalyRun.id) == run_id).values(step=step, done=done, total=total)
            )
            own.commit()

    return write


def run_detection(*, session: Session, settings: Any, refresh_run_id: int | None = None) -> dict:
    """Detect anomalies per service and per account over the whole stored history and save them; returns counts.

    Detection is causal, so every run gives the same anomalies for days it has seen before; a first run after
    a back-fill reports from REPORT_AFTER_DAYS (8 weeks) after the first day of data on. The run's progress is
    kept in `anomaly_run` while it runs.
    """
    run = AnomalyRun(refresh_run_id=refresh_run_id, step="reading costs", total=len(STEPS))
    session.add(run)
    session.commit()
    write = _step_writer(session, run.id)
    try:
        counts = _detect(session, settings, write)
    except Exception as exc:
        session.rollback()
        _finish(session, run.id, "failed", f"{type(exc).__name__}: {exc}")
        raise
    _finish(
        session, run.id, "ok", "{detected} detected: {new} new, {updated} updated, {dropped} dropped".format(**counts)
    )
    return counts


STEPS = ("reading costs", "scoring services and accounts", "saving")


def _detect(session: Session, settings: Any, write) -> dict:
    first, last = queries.coverage(session=session)
    if first is None:
        return {"detected": 0, "new": 0, "updated": 0, "dropped": 0}
    since = first + timedelta(days=anomaly_detector.REPORT_AFTER_DAYS)
    # one currency, the one forecasts use (the store's default): amounts in different currencies are never added
    currency = forecasts.forecast_currency(session=session)
    daily = queries.daily_costs_by(
        session=session, start=first, end=last + timedelta(days=1), by=["service", "account"], currency=currency
    )
    session.commit()  # end the read: the progress is written from another session
    write(STEPS[1], 1, len(STEPS))
    found = anomaly_breakdown.detect_costs(
        daily[["day", "account_id", "service", "unblended_cost"]],
        since=since,
        min_impact=settings.anomaly_min_impact,
        min_pct=settings.anomaly_min_pct,
    )
    write(STEPS[2], 2, len(STEPS))
    return save_detected(session=session, found=found, since=since)


def _finish(session: Session, run_id: int | None, status: str, message: str) -> None:
    row = session.get(AnomalyRun, run_id)
    if row is not None:
        row.status, row.message, row.finished_at = status, message, utcnow()
        row.done = row.total if status == "ok" else row.done
        session.add(row)
        session.commit()


def running_run(*, session: Session) -> AnomalyRun | None:
    """The detection run in progress, if any (the newest one still `running`)."""
    stmt = select(AnomalyRun).where(col(AnomalyRun.status) == "running").order_by(col(AnomalyRun.id).desc()).limit(1)
    return session.execute(stmt).scalars().first()


def close_interrupted(*, session: Session) -> int:
    """Mark detection runs left `running` by a sidecar that died as failed; returns how many. The caller commits."""
    rows = session.execute(select(AnomalyRun).where(col(AnomalyRun.status) == "running")).scalars().all()
    for row in rows:
        row.status, row.finished_at, row.message = "failed", utcnow(), "interrupted: the sidecar stopped"
        session.add(row)
    return len(rows)


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
            "event_id": item.get("event_id") or item["external_id"],
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
    events: bool = False,
) -> pd.DataFrame:
    """Anomalies newest first (COLUMNS). `status` is "open" (no feedback) or a FEEDBACK value; `search` matches
    service or account id as plain text. With `events`, the service and the account view of one rise are one
    row (the service view's id and figures, both keys, `views` naming both)."""
    stmt = select(Anomaly).order_by(col(Anomaly.start_day).desc(), col(Anomaly.impact).desc(), col(Anomaly.id))
    if since is not None:
        stmt = stmt.where(Anomaly.start_day >= since)
    if source:
        stmt = stmt.where(Anomaly.source == source)
    if dimension:
        stmt = stmt.where(Anomaly.dimension == dimension)
    if status == "open":
        stmt = stmt.where(col(Anomaly.feedback).is_(None))
    elif status:
        if status not in FEEDBACK:
            raise AnomalyError(f"status must be open or one of: {', '.join(FEEDBACK)}")
        stmt = stmt.where(Anomaly.feedback == status)
    rows = session.execute(stmt).scalars().all()
    needle = search.strip().lower()
    rows = [r for r in rows if not needle or needle in r.service.lower() or needle in r.account_id.lower()]
    groups: dict[object, list[Anomaly]] = {}
    for r in rows:
        groups.setdefault(r.event_id if events and r.event_id else ("row", r.id), []).append(r)
    return pd.DataFrame([_event_row(group) for group in groups.values()], columns=COLUMNS)


def _view(r: Anomaly) -> str:
    key = r.service if r.dimension == "service" else r.account_id or r.service
    return f"{r.dimension or 'aws'}: {key} ({r.impact:+,.2f})"


def _event_row(group: list[Anomaly]) -> dict:
    """One row of the table: a lone anomaly, or the views of one rise (the service view leads)."""
    group = sorted(group, key=lambda r: r.dimension != "service")
    r = group[0]
    start = min(g.start_day for g in group)
    end = max(g.end_day or g.start_day for g in group)
    expected = r.expected
    return {
        "id": r.id,
        "start_day": start,
        "end_day": end,
        "duration_days": (end - start).days + 1,
        "dimension": " + ".join(g.dimension for g in group),
        "service": next((g.service for g in group if g.service), ""),
        "account_id": next((g.account_id for g in group if g.account_id), ""),
        "expected": expected,
        "actual": r.actual,
        "impact": r.impact,
        "impact_pct": (100 * r.impact / expected) if expected else None,
        "score": r.score,
        "source": r.source,
        "status": r.feedback or "open",
        "low_confidence": any(g.low_confidence for g in group),
        "contributors": _contributors_text(r.contributors),
        "views": "; ".join(_view(g) for g in group),
    }


def event_rows(*, session: Session, anomaly_id: int) -> list[Anomaly]:
    """The anomaly and the other views of its rise (service view first); AnomalyError when it is gone."""
    row = session.get(Anomaly, int(anomaly_id))
    if row is None:
        raise AnomalyError(f"no anomaly {anomaly_id}")
    if not row.event_id:
        return [row]
    rows = session.execute(select(Anomaly).where(col(Anomaly.event_id) == row.event_id)).scalars().all()
    return sorted(rows, key=lambda r: (r.dimension != "service", r.id))


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
    """Record feedback on an anomaly and the other views of its rise (None clears it); it survives later runs."""
    if feedback is not None and feedback not in FEEDBACK:
        raise AnomalyError(f"feedback must be one of: {', '.join(FEEDBACK)}")
    rows = event_rows(session=session, anomaly_id=anomaly_id)  # every view of the rise gets the same answer
    for row in rows:
        row.feedback, row.feedback_by, row.feedback_at = feedback, actor if feedback else None, utcnow()
        session.add(row)
    session.commit()
    mine = next(r for r in rows if r.id == int(anomaly_id))
    session.refresh(mine)
    return mine


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
