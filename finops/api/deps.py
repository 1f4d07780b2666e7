"""What every route depends on: a store session, the caller behind the bearer token, and the cost-viewer rule.

A token carries no role: each request reads its user's role from the store now (`tokens.authenticate`), and who
may see costs is `access.may_view_costs`, the rule the pages apply too.
"""

from collections.abc import AsyncIterator
from typing import Annotated, Literal

from fastapi import BackgroundTasks, Depends, Query
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from finops.api.errors import ApiError
from finops.data import access, db, tokens
from finops.data.access import Actor

bearer = HTTPBearer(
    auto_error=False,
    description="A token from `python -m finops tokens add NAME --user USER`, sent as `Authorization: Bearer ...`",
)
CHALLENGE = {"WWW-Authenticate": "Bearer"}


async def session() -> AsyncIterator[Session]:
    """The request's session. Async: making one opens nothing (the first query does, in the route's thread), so
    this costs no trip through the thread pool."""
    with db.session() as s:
        yield s


SessionDep = Annotated[Session, Depends(session)]


def _touch(token_id: int) -> None:
    with db.session() as s:  # after the answer is sent: recording a use never delays one
        tokens.touch(session=s, token_id=token_id)


def caller(
    s: SessionDep,
    background: BackgroundTasks,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Actor:
    """The actor the request's bearer token acts as; 401 without a valid one."""
    if credentials is None:
        raise ApiError(401, "missing bearer token: send 'Authorization: Bearer <token>'", headers=CHALLENGE)
    use = tokens.authenticate(session=s, token=credentials.credentials)
    if use is None:
        raise ApiError(401, "invalid bearer token: unknown, expired or revoked, or its user is gone", headers=CHALLENGE)
    if use.touch_due:
        background.add_task(_touch, use.token_id)
    return use.actor


Caller = Annotated[Actor, Depends(caller)]


async def admin(actor: Caller) -> Actor:
    """The caller, when they may see cost data; 403 otherwise."""
    if not access.may_view_costs(actor):
        raise ApiError(403, "cost data is for admins only: this token's user is a member")
    return actor


Admin = Annotated[Actor, Depends(admin)]
Months = Annotated[int, Query(ge=1, le=120, description="How many months (1-120)")]
Metric = Annotated[Literal["unblended", "amortized"], Query(description="Cost metric of the cloud bill")]
Currency = Annotated[
    str | None,
    Query(
        pattern="^[A-Z]{3}$",
        description="ISO code of the figures' currency (default: the store's, USD when it holds USD, else the one "
        "with the most cost); amounts in different currencies are never added",
    ),
]
Format = Annotated[Literal["json", "csv"], Query(alias="format", description="json, or csv (formula-safe)")]
METRICS = {"unblended": "unblended_cost", "amortized": "amortized_cost"}
