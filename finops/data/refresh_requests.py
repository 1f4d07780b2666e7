"""Refresh requests: people ask (UI button, CLI), the sidecar takes them one at a time."""

from sqlalchemy import select
from sqlmodel import Session

from finops.data.tables import RefreshRequest, RefreshRun, utcnow

OPEN = ("pending", "running")


def open_request(*, session: Session) -> RefreshRequest | None:
    """The oldest request not finished yet, if any."""
    stmt = select(RefreshRequest).where(RefreshRequest.status.in_(OPEN)).order_by(RefreshRequest.id).limit(1)
    return session.execute(stmt).scalars().first()


def request_refresh(*, session: Session, requested_by: str, backfill: bool = False) -> tuple[RefreshRequest, bool]:
    """File a refresh request; returns (request, created). A waiting one is reused rather than duplicated; one
    already running is not (it may have started before the data asked for, or belong to a sidecar that died,
    whose successor marks it interrupted), so a new request always runs after it."""
    stmt = select(RefreshRequest).where(RefreshRequest.status == "pending").order_by(RefreshRequest.id).limit(1)
    existing = session.execute(stmt).scalars().first()
    if existing is not None and (existing.backfill or not backfill):
        return existing, False
    request = RefreshRequest(requested_by=requested_by, backfill=backfill)
    session.add(request)
    session.commit()
    session.refresh(request)
    return request, True


def take_next(*, session: Session) -> RefreshRequest | None:
    """Mark the oldest pending request running and return it (the sidecar holds the store's lock)."""
    stmt = select(RefreshRequest).where(RefreshRequest.status == "pending").order_by(RefreshRequest.id).limit(1)
    request = session.execute(stmt).scalars().first()
    if request is None:
        return None
    request.status, request.started_at = "running", utcnow()
    session.add(request)
    session.commit()
    session.refresh(request)
    return request


def finish(*, session: Session, request: RefreshRequest, run: RefreshRun | None, error: str | None = None) -> None:
    """Close a request with the run it produced, or the error that stopped it."""
    request.status = "failed" if error else "done"
    request.finished_at = utcnow()
    request.run_id = run.id if run is not None else None
    request.error = error
    session.add(request)
    session.commit()


def close_interrupted(*, session: Session) -> int:
    """Mark requests left `running` by a sidecar that died as failed; returns how many. The caller commits."""
    rows = session.execute(select(RefreshRequest).where(RefreshRequest.status == "running")).scalars().all()
    for row in rows:
        row.status, row.finished_at = "failed", utcnow()
        row.error = "interrupted: the sidecar stopped during this refresh; the previous data was kept"
        session.add(row)
    return len(rows)


def get_request(*, session: Session, request_id: int) -> RefreshRequest | None:
    """One refresh request by id (None when there is none)."""
    return session.get(RefreshRequest, int(request_id))
