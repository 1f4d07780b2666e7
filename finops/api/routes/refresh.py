"""Refreshes (admins only): ask the sidecar for new data (fire and forget), then follow the request."""

from typing import Annotated

from fastapi import APIRouter, Path, Response

from finops.api import schemas
from finops.api.deps import Admin, SessionDep
from finops.api.errors import ERRORS, ApiError
from finops.data import refresh_requests
from finops.data.tables import RefreshRequest

router = APIRouter(prefix="/cache", tags=["refresh"])
STATUS_PATH = "/api/v1/finops/cache/refresh-requests/{}"


def _out(request: RefreshRequest, created: bool = False) -> schemas.RefreshRequest:
    return schemas.RefreshRequest(
        request_id=request.id, status=request.status, created=created, requested_at=request.requested_at,
        requested_by=request.requested_by, started_at=request.started_at, finished_at=request.finished_at,
        run_id=request.run_id, error=request.error,
    )  # fmt: skip


@router.post("/trigger-refresh", status_code=202, response_model=schemas.RefreshRequest, responses=ERRORS)
def trigger_refresh(s: SessionDep, actor: Admin, response: Response) -> schemas.RefreshRequest:
    """File a refresh request for the sidecar and answer at once (202) with its id; a waiting one is reused.
    Follow it at `cache/refresh-requests/{id}`."""
    request, created = refresh_requests.request_refresh(session=s, requested_by=f"api:{actor.username}")
    response.headers["Location"] = STATUS_PATH.format(request.id)
    return _out(request, created)


@router.get("/refresh-requests/{request_id}", response_model=schemas.RefreshRequest, responses=ERRORS)
def refresh_status(
    request_id: Annotated[int, Path(ge=1, le=2_147_483_647)], s: SessionDep, _: Admin
) -> schemas.RefreshRequest:
    """Where a refresh request stands: pending, running, done (with the run it loaded) or failed (with why)."""
    request = refresh_requests.get_request(session=s, request_id=request_id)
    if request is None:
        raise ApiError(404, f"no refresh request {request_id}")
    return _out(request)
