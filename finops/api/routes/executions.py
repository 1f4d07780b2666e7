"""Executions (admins only): the platform reports runs in batches; their costs per month, workflow, user or run."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from finops.api import schemas, views
from finops.api.deps import Admin, Format, SessionDep
from finops.api.errors import ERRORS, ApiError
from finops.api.responses import FRESHNESS, Context, answer
from finops.api.routes.costs import LIST
from finops.data import executions
from finops.data.execution_fields import ExecutionError

router = APIRouter(tags=["executions"])


@router.post(
    "/executions",
    response_model=schemas.ExecutionsStored,
    responses={**ERRORS, 422: {"description": "A bad or oversized body, a run ending before it starts, or a compute "
                                              "type with no rate then: nothing was stored"}},
)  # fmt: skip
def post_executions(batch: schemas.ExecutionBatch, s: SessionDep, _: Admin) -> schemas.ExecutionsStored:
    """Store a batch of finished runs (at most 10,000), all or none. Each is priced once with the rate in force
    when it started. Idempotent on execution_id: a run already stored is left as it was and listed in `existing`,
    so a batch may be sent again after a timeout."""
    rows = []
    for index, item in enumerate(batch.executions):
        try:
            rows.append(executions.clean(item.model_dump()))
        except ExecutionError as exc:
            raise _at(exc, index) from None
    try:
        stored = executions.store(session=s, rows=rows, source="api")
    except ExecutionError as exc:
        raise _at(exc, exc.index) from None
    FRESHNESS.forget()  # this process's next answer already counts these runs
    return schemas.ExecutionsStored(received=stored.received, inserted=stored.inserted, existing=stored.existing)


def _at(exc: ExecutionError, index: int | None) -> ApiError:
    """422 naming the run's place in the batch and its field: executions[3].ended_at: ..."""
    if index is None:
        return ApiError(422, str(exc), exc.column)
    field = f"executions[{index}].{exc.column}" if exc.column else f"executions[{index}]"
    message = str(exc).split(": ", 1)[1] if exc.column and str(exc).startswith(f"{exc.column}: ") else str(exc)
    return ApiError(422, f"{field}: {message}", field)


@router.get("/execution-costs", response_model=schemas.ExecutionCosts, responses=LIST)
def execution_costs(
    request: Request, s: SessionDep, _: Admin,
    months: Annotated[int | None, Query(ge=1, le=120, description="How many months (default 12)")] = None,
    year: Annotated[int | None, Query(ge=2000, le=2100, description="A calendar year: its first `months`")] = None,
    by: Annotated[Literal["month", "workflow", "user", "run"], Query()] = "month", fmt: Format = "json",
) -> Response:  # fmt: skip
    """What runs cost over whole months: the last `months` (the current one to date), or with `year` the first
    `months` of that year; per month, per workflow or user (runs, cost, cost per run and its spread), or the 100
    most expensive runs (`by=run`)."""
    ctx = Context(request, s)
    count = months if months is not None else 12

    def build():
        table, view, start, end = views.execution_costs(s, ctx.today, count, year, by)
        return {"by": by, "start_date": start.isoformat(), "end_date": end.isoformat(), "runs": view.runs,
                "total_cost": view.total, "data": table}, table  # fmt: skip

    return answer(ctx, build, key=("executions", count, year, by), fmt=fmt)
