"""The audit log: who changed what, and when. Writers call `record` inside their own transaction."""

import json
from datetime import UTC, date, datetime, time

import pandas as pd
from sqlalchemy import select
from sqlmodel import Session

from finops.data.tables import AuditLog

COLUMNS = ["at", "actor", "action", "object_type", "object_id", "detail"]
OBJECT_TYPES = ("resource_group", "schedule", "budget", "budget_action", "execution_rate", "api_token", "exchange_rate")
MAX_ENTRIES = 10_000


def record(session: Session, actor: str, action: str, object_type: str, object_id, detail: dict | None = None) -> None:
    """Add an audit row to `session` (not committed: it lands with the change it describes)."""
    session.add(
        AuditLog(
            actor=actor,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            detail=json.loads(json.dumps(detail or {}, sort_keys=True, default=str)),  # plain JSON types
        )
    )


def list_entries(
    *,
    session: Session,
    since: datetime | date | None = None,
    object_type: str | None = None,
    actor: str | None = None,
    limit: int = MAX_ENTRIES,
) -> pd.DataFrame:
    """Newest first: `at, actor, action, object_type, object_id, detail` (detail is JSON text).

    `since` is a moment, or a day (from its start, UTC); `actor` is an exact username.
    """
    stmt = select(AuditLog).order_by(AuditLog.id.desc()).limit(limit)
    if since is not None:
        if not isinstance(since, datetime):
            since = datetime.combine(since, time(), tzinfo=UTC)
        stmt = stmt.where(AuditLog.at >= since)
    if actor:
        stmt = stmt.where(AuditLog.actor == actor)
    if object_type is not None:
        stmt = stmt.where(AuditLog.object_type == object_type)
    rows = session.execute(stmt).scalars().all()
    records = [{**{c: getattr(r, c) for c in COLUMNS}, "detail": json.dumps(r.detail, sort_keys=True)} for r in rows]
    return pd.DataFrame(records, columns=COLUMNS)
