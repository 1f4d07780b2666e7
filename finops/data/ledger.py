"""The ledger: running and stopped intervals per resource, the one record of when a resource cost money.

Every state a stop, a start or a discovery establishes lands here (`record`), whoever caused it (a schedule, a
Stop all, an observation); realised schedule savings and user and group costs are read from it.
"""

from datetime import UTC, datetime

import pandas as pd
from sqlalchemy import case, func, literal, select, update
from sqlmodel import Session, col
from sqlmodel.sql.sqltypes import UTCDateTime

from finops.data.tables import ResourceInterval

RUNNING, STOPPED = "running", "stopped"
# a state on its way counts as where it goes: AWS answers "stopping" to a stop, "pending" to a start
ON_THE_WAY = {"stopping": STOPPED, "pending": RUNNING}
COLUMNS = ["resource_type", "resource_id", "state", "started_at", "ended_at", "hourly_cost", "cause"]


def _aware(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def record(
    session: Session, *, resource_type: str, resource_id: str, state: str, at: datetime, hourly_cost: float,
    cause: str,
) -> None:  # fmt: skip
    """Close the resource's open interval at `at` and open one in `state`; nothing when it is already in that
    state (stopping counts as stopped, pending as running). Any other state (missing, unknown ...) only closes the
    open interval. The caller
    commits."""
    state = ON_THE_WAY.get(state, state)
    key = (col(ResourceInterval.resource_type) == resource_type, col(ResourceInterval.resource_id) == resource_id)
    open_row = session.execute(
        select(ResourceInterval).where(*key, col(ResourceInterval.ended_at).is_(None))
    ).scalars().first()  # fmt: skip
    if open_row is not None and open_row.state == state:
        return
    if open_row is not None:
        session.execute(update(ResourceInterval).where(col(ResourceInterval.id) == open_row.id).values(ended_at=at))
    if state in (RUNNING, STOPPED):
        session.add(
            ResourceInterval(
                resource_type=resource_type,
                resource_id=resource_id,
                state=state,
                started_at=at,
                hourly_cost=hourly_cost,
                cause=cause[:64],
            )  # fmt: skip
        )


def record_staged(conn, stage: str, at) -> None:
    """`record` for every resource of a staging table (resource_type, resource_id, state, hourly_cost: a CSV
    import), in two statements. `at` is the driver-ready timestamp."""
    mapped = "CASE WHEN s.state IN ('running', 'pending') THEN 'running' " \
             "WHEN s.state IN ('stopped', 'stopping') THEN 'stopped' ELSE '' END"  # fmt: skip
    mark = "%s" if conn.dialect.name != "sqlite" else "?"
    conn.exec_driver_sql(
        f"UPDATE resource_interval SET ended_at = {mark} WHERE ended_at IS NULL AND EXISTS (SELECT 1 FROM {stage} s "
        f"WHERE s.resource_type = resource_interval.resource_type AND s.resource_id = resource_interval.resource_id "
        f"AND s.state <> '' AND {mapped} <> resource_interval.state)",
        (at,),
    )
    conn.exec_driver_sql(
        f"INSERT INTO resource_interval (resource_type, resource_id, state, started_at, ended_at, hourly_cost, cause) "
        f"SELECT s.resource_type, s.resource_id, {mapped}, {mark}, NULL, COALESCE(s.hourly_cost, 0), 'import' "
        f"FROM {stage} s WHERE {mapped} <> '' AND NOT EXISTS (SELECT 1 FROM resource_interval i "
        f"WHERE i.resource_type = s.resource_type AND i.resource_id = s.resource_id AND i.ended_at IS NULL)",
        (at,),
    )


def running_costs(session: Session, start: datetime, end: datetime) -> dict[tuple[str, str], float]:
    """Per resource what its running intervals cost in [start, end): the hours inside the window times the hourly
    cost then, summed in SQL (a year of office-hours ledger for thousands of resources is millions of rows)."""
    return running_costs_in(session, [(start, end)])[(start, end)]


Window = tuple[datetime, datetime]


def running_costs_in(session: Session, windows: list[Window]) -> dict[Window, dict[tuple[str, str], float]]:
    """`running_costs` of every window in one pass over the ledger (an evaluation asks for the current periods
    of monthly, quarterly and annual budgets and the past periods automatic amounts average)."""
    t = ResourceInterval
    windows = list(dict.fromkeys(windows))
    if not windows:
        return {}
    postgres = session.get_bind().dialect.name == "postgresql"
    sums = []
    for start, end in windows:
        lo_at, hi_at = literal(start, UTCDateTime()), literal(end, UTCDateTime())
        ended = func.coalesce(col(t.ended_at), hi_at)
        if postgres:
            hours = func.extract("epoch", func.least(ended, hi_at) - func.greatest(col(t.started_at), lo_at)) / 3600.0
        else:  # SQLite: timestamps are UTC text; min() and max() of two values are scalar functions there
            hours = (func.julianday(func.min(ended, hi_at)) - func.julianday(func.max(col(t.started_at), lo_at))) * 24.0
        inside = (col(t.started_at) < end) & (col(t.ended_at).is_(None) | (col(t.ended_at) > start))
        sums.append(func.sum(case((inside, hours * col(t.hourly_cost)), else_=0.0)))
    first, last = min(w[0] for w in windows), max(w[1] for w in windows)
    stmt = (
        select(col(t.resource_type), col(t.resource_id), *sums)
        .where(col(t.state) == RUNNING, col(t.started_at) < last)
        .where(col(t.ended_at).is_(None) | (col(t.ended_at) > first))
        .group_by(col(t.resource_type), col(t.resource_id))
    )
    found: dict[Window, dict[tuple[str, str], float]] = {w: {} for w in windows}
    for kind, ident, *costs in session.execute(stmt).all():
        for window, cost in zip(windows, costs, strict=True):
            if cost:  # a resource that did not run in this window is left out, as a query of it alone leaves it
                found[window][(kind, ident)] = float(cost)
    return found


def intervals(
    *, session: Session, start: datetime, end: datetime, cause_prefix: str = "", state: str | None = None
) -> pd.DataFrame:
    """Intervals overlapping [start, end), clipped to it (COLUMNS; an open one ends at `end`)."""
    stmt = select(ResourceInterval).where(
        col(ResourceInterval.started_at) < end,
        (col(ResourceInterval.ended_at).is_(None)) | (col(ResourceInterval.ended_at) > start),
    )
    if cause_prefix:
        stmt = stmt.where(col(ResourceInterval.cause).startswith(cause_prefix))
    if state:
        stmt = stmt.where(col(ResourceInterval.state) == state)
    rows = []
    for r in session.execute(stmt).scalars():
        began = r.started_at if r.started_at.tzinfo else r.started_at.replace(tzinfo=UTC)
        lo, hi = max(began, start), min(_aware(r.ended_at) or end, end)
        rows.append([r.resource_type, r.resource_id, r.state, lo, hi, r.hourly_cost, r.cause])
    return pd.DataFrame(rows, columns=COLUMNS)
