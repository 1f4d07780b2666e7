"""Resource groups (members and admins), through `finops.data.groups` with the Resource Groups page's rules:
admins see every group, members only their own (anyone else's answers 404), and only resources the caller may
act on go into a group."""

from collections.abc import Callable
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response

from finops.api import schemas
from finops.api.deps import Caller, Format, SessionDep
from finops.api.errors import ERRORS, refusal
from finops.api.responses import Context, answer
from finops.api.routes.costs import LIST
from finops.data import groups
from finops.data.access import Forbidden, NotFound

router = APIRouter(prefix="/resource-groups", tags=["resource groups"])
REFUSALS = (groups.GroupError, NotFound, Forbidden)
HOURS_PER_MONTH = 730
GROUP_FIELDS = ["id", "name", "description", "owner", "status", "created_at", "updated_at"]
GroupId = Annotated[int, Path(ge=1, le=2_147_483_647, description="The group's id")]
ResourceType = Annotated[str, Path(min_length=1, max_length=32)]
ResourceId = Annotated[str, Path(min_length=1, max_length=256)]


def _run(fn: Callable, **kwargs):
    try:
        return fn(**kwargs)
    except REFUSALS as exc:
        raise refusal(exc) from None


def _group(row) -> dict:
    return {field: getattr(row, field) for field in GROUP_FIELDS}


def _detail(request: Request, s, actor, group_id: int, status_code: int = 200) -> Response:
    ctx = Context(request, s)
    group = _run(groups.get_group, session=s, actor=actor, group_id=group_id)
    members = _run(groups.members, session=s, actor=actor, group_id=group_id)
    members["monthly_cost"] = members["hourly_cost"] * HOURS_PER_MONTH
    return answer(ctx, lambda: ({"group": _group(group), "members": members}, members), status_code=status_code)


@router.get("", response_model=schemas.GroupList, responses=LIST)
def list_groups(
    request: Request, s: SessionDep, actor: Caller,
    status: Annotated[Literal["active", "archived"] | None, Query()] = None,
    search: Annotated[str, Query(max_length=200)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(alias="pageSize", ge=1, le=groups.MAX_PER_PAGE)] = 20, fmt: Format = "json",
) -> Response:  # fmt: skip
    """The groups the caller may see, by name: `search` matches name or description (plain text, any case)."""
    ctx = Context(request, s)
    table, total = _run(groups.list_groups, session=s, actor=actor, status=status, search=search, page=page,
                        per_page=page_size)  # fmt: skip
    payload = {"total": total, "page": page, "page_size": page_size, "data": table}
    return answer(ctx, lambda: (payload, table), fmt=fmt)


@router.get("/by-resource", response_model=schemas.GroupsOfResource, responses=LIST)
def groups_of_resource(
    request: Request, s: SessionDep, actor: Caller,
    resource_type: Annotated[str, Query(alias="resourceType", min_length=1, max_length=32)],
    resource_id: Annotated[str, Query(alias="resourceId", min_length=1, max_length=256)], fmt: Format = "json",
) -> Response:  # fmt: skip
    """The groups the caller may see that hold this resource (type + id)."""
    ctx = Context(request, s)
    table = _run(groups.groups_of_resource, session=s, actor=actor, resource_type=resource_type,
                 resource_id=resource_id)  # fmt: skip
    payload = {"resource_type": resource_type, "resource_id": resource_id, "data": table}
    return answer(ctx, lambda: (payload, table), fmt=fmt)


@router.post("", status_code=201, response_model=schemas.GroupDetail, responses=ERRORS)
def create_group(request: Request, body: schemas.GroupCreate, s: SessionDep, actor: Caller) -> Response:
    """A new active group owned by the caller, with optional resources the caller may act on."""
    items = [(r.resource_type, r.resource_id, r.name) for r in body.resources]
    group = _run(groups.create_group, session=s, actor=actor, name=body.name, description=body.description,
                 resources=items)  # fmt: skip
    return _detail(request, s, actor, group.id, status_code=201)


@router.get("/{group_id}", response_model=schemas.GroupDetail, responses={304: LIST[304], **ERRORS})
def get_group(request: Request, group_id: GroupId, s: SessionDep, actor: Caller) -> Response:
    """One group with its members and their estimated monthly cost (hourly cost x 730)."""
    return _detail(request, s, actor, group_id)


@router.patch("/{group_id}", response_model=schemas.GroupDetail, responses=ERRORS)
def update_group(request: Request, group_id: GroupId, body: schemas.GroupUpdate, s: SessionDep, actor: Caller):
    """Change name, description and/or status; only the owner or an admin."""
    _run(groups.update_group, session=s, actor=actor, group_id=group_id, name=body.name,
         description=body.description, status=body.status)  # fmt: skip
    return _detail(request, s, actor, group_id)


@router.delete("/{group_id}", status_code=204, response_class=Response, responses=ERRORS)
def delete_group(group_id: GroupId, s: SessionDep, actor: Caller) -> Response:
    """Delete the group (its waiting stop/start requests are cancelled); only the owner or an admin."""
    _run(groups.delete_group, session=s, actor=actor, group_id=group_id)
    return Response(status_code=204)


@router.post("/{group_id}/resources", status_code=201, response_model=schemas.GroupDetail, responses=ERRORS)
def add_resource(request: Request, group_id: GroupId, body: schemas.ResourceRef, s: SessionDep, actor: Caller):
    """Put an inventory resource the caller may act on into the group."""
    _run(groups.add_resource, session=s, actor=actor, group_id=group_id, resource_type=body.resource_type,
         resource_id=body.resource_id, name=body.name)  # fmt: skip
    return _detail(request, s, actor, group_id, status_code=201)


@router.delete(
    "/{group_id}/resources/{resource_type}/{resource_id:path}",
    status_code=204,
    response_class=Response,
    responses=ERRORS,
)
def remove_resource(
    group_id: GroupId, resource_type: ResourceType, resource_id: ResourceId, s: SessionDep, actor: Caller
) -> Response:
    """Take a resource out of the group; 404 when it is not in it."""
    _run(groups.remove_resource, session=s, actor=actor, group_id=group_id, resource_type=resource_type,
         resource_id=resource_id)  # fmt: skip
    return Response(status_code=204)
