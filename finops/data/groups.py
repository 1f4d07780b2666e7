"""Resource groups: the operations the Resource Groups page and the API share, with access control inside.

Every function takes the acting user. Admins see and change every group; a member sees and changes only the
groups they own, and gets NotFound (never the data) for anyone else's. Only resources in the inventory that the
actor may act on (`finops.data.access`) can be put into a group. Every change writes an audit row in the same
transaction as the change itself.
"""

from collections.abc import Iterable

import pandas as pd
from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from finops.data import audit
from finops.data.access import Actor, Forbidden, NotFound, refusal
from finops.data.resources import RESOURCE_TYPES, get_resource
from finops.data.search import contains
from finops.data.tables import Resource, ResourceGroup, ResourceGroupMember, utcnow

__all__ = ["Actor", "Forbidden", "GroupError", "NotFound"]  # Actor, NotFound, Forbidden live in access

STATUSES = ("active", "archived")
MAX_NAME = 100
MAX_DESCRIPTION = 1000
MAX_PER_PAGE = 500
OBJECT_TYPE = "resource_group"
GROUP_COLUMNS = ["id", "name", "description", "owner", "status", "created_at", "updated_at", "resources"]
MEMBER_COLUMNS = ["resource_type", "resource_id", "resource_name", "state", "hourly_cost", "price_known",
                  "price_source", "price_as_of", "added_at", "added_by"]  # fmt: skip


class GroupError(ValueError):
    """The request was refused for a reason the user can fix; the message says which."""


def _visible(stmt, actor: Actor):
    return stmt if actor.is_admin else stmt.where(ResourceGroup.owner == actor.username)


def _load(session: Session, actor: Actor, group_id: int) -> ResourceGroup:
    try:
        group = session.get(ResourceGroup, int(group_id))
    except (TypeError, ValueError):
        group = None
    if group is None or not (actor.is_admin or group.owner == actor.username):
        raise NotFound(f"no resource group {group_id}")
    return group


def _may_change(actor: Actor, group: ResourceGroup) -> None:
    if not (actor.is_admin or group.owner == actor.username):
        raise Forbidden(f"only the owner or an admin may change group {group.name!r}")


def _clean_name(name) -> str:
    name = (name or "").strip()
    if not name:
        raise GroupError("name is required")
    if len(name) > MAX_NAME:
        raise GroupError(f"name must be at most {MAX_NAME} characters (it has {len(name)})")
    return name


def _clean_description(description) -> str:
    description = (description or "").strip()
    if len(description) > MAX_DESCRIPTION:
        raise GroupError(f"description must be at most {MAX_DESCRIPTION} characters")
    return description


def _check_unique(session: Session, owner: str, name: str, exclude_id: int | None = None) -> None:
    stmt = select(ResourceGroup.id).where(ResourceGroup.owner == owner, ResourceGroup.name == name)
    if exclude_id is not None:
        stmt = stmt.where(ResourceGroup.id != exclude_id)
    if session.execute(stmt).first() is not None:
        raise GroupError(f"{owner} already has a group named {name!r}")


def _clean_resource(resource_type, resource_id) -> tuple[str, str]:
    resource_type, resource_id = (resource_type or "").strip(), str(resource_id or "").strip()
    if resource_type not in RESOURCE_TYPES:
        raise GroupError(f"unknown resource type {resource_type!r} (known: {', '.join(RESOURCE_TYPES)})")
    if not resource_id:
        raise GroupError("resource id is required")
    if len(resource_id) > 256:
        raise GroupError("resource id must be at most 256 characters")
    return resource_type, resource_id


def _addable(session: Session, actor: Actor, resource_type: str, resource_id: str) -> Resource:
    """The inventory row of a resource the actor may put into a group; GroupError or Forbidden otherwise."""
    res = get_resource(session=session, resource_type=resource_type, resource_id=resource_id)
    if res is None:
        raise GroupError(f"resource {resource_type}:{resource_id} is not in the inventory")
    why = refusal(actor, res, "group")
    if why is not None:
        raise Forbidden(f"you may not add {resource_type}:{resource_id}: {why}")
    return res


def _commit(session: Session, duplicate_message: str) -> None:
    """Commit; a unique-constraint violation becomes GroupError(duplicate_message)."""
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise GroupError(duplicate_message) from None


def list_groups(
    *,
    session: Session,
    actor: Actor,
    status: str | None = None,
    search: str = "",
    page: int = 1,
    per_page: int = 20,
) -> tuple[pd.DataFrame, int]:
    """One page of the groups the actor may see, by name; returns (rows, total matching).

    `search` matches name or description, case-insensitively, as plain text (% and _ are not wildcards).
    Rows: id, name, description, owner, status, created_at, updated_at, resources (member count).
    """
    if status is not None and status not in STATUSES:
        raise GroupError(f"status must be one of: {', '.join(STATUSES)}")
    page, per_page = max(1, int(page)), min(max(1, int(per_page)), MAX_PER_PAGE)
    where = []
    if not actor.is_admin:
        where.append(ResourceGroup.owner == actor.username)
    if status is not None:
        where.append(ResourceGroup.status == status)
    if search.strip():
        text = search.strip()
        where.append(
            or_(contains(session, ResourceGroup.name, text), contains(session, ResourceGroup.description, text))
        )
    total = session.execute(select(func.count()).select_from(ResourceGroup).where(*where)).scalar_one()
    stmt = (
        select(ResourceGroup)
        .where(*where)
        .order_by(func.lower(ResourceGroup.name), ResourceGroup.id)
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    groups = session.execute(stmt).scalars().all()
    counts = {}
    if groups:
        count_stmt = (
            select(ResourceGroupMember.group_id, func.count())
            .where(ResourceGroupMember.group_id.in_([g.id for g in groups]))
            .group_by(ResourceGroupMember.group_id)
        )
        counts = dict(session.execute(count_stmt).all())
    rows = [{**{c: getattr(g, c) for c in GROUP_COLUMNS[:-1]}, "resources": counts.get(g.id, 0)} for g in groups]
    return pd.DataFrame(rows, columns=GROUP_COLUMNS), total


def get_group(*, session: Session, actor: Actor, group_id: int) -> ResourceGroup:
    """The group, if the actor may see it; NotFound otherwise."""
    return _load(session, actor, group_id)


def create_group(
    *, session: Session, actor: Actor, name: str, description: str = "", resources: Iterable = ()
) -> ResourceGroup:
    """A new active group owned by the actor, with optional initial resources ((type, id) or (type, id, name)):
    each must be in the inventory and one the actor may act on."""
    return _create(session, actor, name, description, resources, recorded_by=actor.username)


def add_missing(*, session: Session, items: Iterable[dict], recorded_by: str = "demo") -> int:
    """Create the groups of `items` (name, owner, description, resources) their owner does not have yet, as if
    the owner had (members: only what they own); the audit log names `recorded_by` (the demo loader) as actor.
    Returns how many were created; existing groups keep their edits."""
    created = 0
    for item in items:
        owner = item["owner"]
        exists = select(col(ResourceGroup.id)).where(col(ResourceGroup.owner) == owner,
                                                      col(ResourceGroup.name) == item["name"])  # fmt: skip
        if session.execute(exists).first():
            continue
        # as the owner, without admin rights: a group holds only what its owner owns
        _create(
            session, Actor(owner), item["name"], item.get("description", ""), item.get("resources", ()), recorded_by
        )
        created += 1
    return created


def _create(
    session: Session, actor: Actor, name: str, description: str, resources: Iterable, recorded_by: str
) -> ResourceGroup:
    name, description = _clean_name(name), _clean_description(description)
    initial, seen = [], set()
    for item in resources:
        resource_type, resource_id = _clean_resource(*tuple(item)[:2])
        if (resource_type, resource_id) in seen:
            raise GroupError(f"resource {resource_type}:{resource_id} is listed twice")
        seen.add((resource_type, resource_id))
        resource_name = str(tuple(item)[2]).strip() if len(tuple(item)) > 2 else ""
        res = _addable(session, actor, resource_type, resource_id)
        initial.append((resource_type, resource_id, resource_name or res.name))
    _check_unique(session, actor.username, name)
    group = ResourceGroup(name=name, description=description, owner=actor.username)
    session.add(group)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise GroupError(f"{actor.username} already has a group named {name!r}") from None
    for resource_type, resource_id, resource_name in initial:
        session.add(
            ResourceGroupMember(
                group_id=group.id,
                resource_type=resource_type,
                resource_id=resource_id,
                resource_name=resource_name,
                added_by=actor.username,
            )
        )
    audit.record(
        session,
        recorded_by,
        "create",
        OBJECT_TYPE,
        group.id,
        {"name": name, "description": description, "resources": [f"{t}:{i}" for t, i, _ in initial]},
    )
    _commit(session, f"{actor.username} already has a group named {name!r}")
    session.refresh(group)
    return group


def update_group(
    *,
    session: Session,
    actor: Actor,
    group_id: int,
    name: str | None = None,
    description: str | None = None,
    status: str | None = None,
) -> ResourceGroup:
    """Change name, description and/or status (active | archived); only the owner or an admin."""
    group = _load(session, actor, group_id)
    _may_change(actor, group)
    changes = {}
    if name is not None:
        name = _clean_name(name)
        if name != group.name:
            _check_unique(session, group.owner, name, exclude_id=group.id)
            changes["name"] = [group.name, name]
    if description is not None:
        description = _clean_description(description)
        if description != group.description:
            changes["description"] = [group.description, description]
    if status is not None:
        if status not in STATUSES:
            raise GroupError(f"status must be one of: {', '.join(STATUSES)}")
        if status != group.status:
            changes["status"] = [group.status, status]
    if not changes:
        return group
    for field, (_old, new) in changes.items():
        setattr(group, field, new)
    group.updated_at = utcnow()
    session.add(group)
    audit.record(session, actor.username, "update", OBJECT_TYPE, group.id, changes)
    _commit(session, f"{group.owner} already has a group named {group.name!r}")
    session.refresh(group)
    return group


def delete_group(*, session: Session, actor: Actor, group_id: int) -> None:
    """Delete the group and its memberships, and cancel its waiting stop/start requests (each audited); only the
    owner or an admin."""
    group = _load(session, actor, group_id)
    _may_change(actor, group)
    count = session.execute(
        select(func.count()).select_from(ResourceGroupMember).where(ResourceGroupMember.group_id == group.id)
    ).scalar_one()
    from finops.data import power  # power builds on groups; deleting is the one place groups needs it

    waiting = power.cancel_waiting(session=session, actor=actor, group_id=group.id)
    detail = {"name": group.name, "owner": group.owner, "resources": count, "cancelled_requests": waiting}
    session.execute(delete(ResourceGroupMember).where(ResourceGroupMember.group_id == group.id))
    session.delete(group)
    audit.record(session, actor.username, "delete", OBJECT_TYPE, group_id, detail)
    session.commit()


def add_resource(
    *, session: Session, actor: Actor, group_id: int, resource_type: str, resource_id: str, name: str = ""
) -> ResourceGroupMember:
    """Put an inventory resource (type + id) the actor may act on into the group; refused when it is already there."""
    group = _load(session, actor, group_id)
    _may_change(actor, group)
    resource_type, resource_id = _clean_resource(resource_type, resource_id)
    res = _addable(session, actor, resource_type, resource_id)
    name = (name or "").strip()[:256] or res.name
    duplicate = f"resource {resource_type}:{resource_id} is already in group {group.name!r}"
    member = ResourceGroupMember(
        group_id=group.id,
        resource_type=resource_type,
        resource_id=resource_id,
        resource_name=name,
        added_by=actor.username,
    )
    session.add(member)
    group.updated_at = utcnow()
    session.add(group)
    audit.record(session, actor.username, "add", OBJECT_TYPE, group.id, {"resource": f"{resource_type}:{resource_id}"})
    _commit(session, duplicate)  # the unique constraint decides, so two racing adds cannot both succeed
    session.refresh(member)
    return member


def remove_resource(*, session: Session, actor: Actor, group_id: int, resource_type: str, resource_id: str) -> None:
    """Take a resource out of the group; NotFound when it is not in it."""
    group = _load(session, actor, group_id)
    _may_change(actor, group)
    stmt = select(ResourceGroupMember).where(
        ResourceGroupMember.group_id == group.id,
        ResourceGroupMember.resource_type == resource_type,
        ResourceGroupMember.resource_id == str(resource_id),
    )
    member = session.execute(stmt).scalars().first()
    if member is None:
        raise NotFound(f"resource {resource_type}:{resource_id} is not in group {group.name!r}")
    session.delete(member)
    group.updated_at = utcnow()
    session.add(group)
    audit.record(
        session, actor.username, "remove", OBJECT_TYPE, group.id, {"resource": f"{resource_type}:{resource_id}"}
    )
    session.commit()


def member_rows(session: Session, group_id: int) -> list[tuple[ResourceGroupMember, Resource | None]]:
    """Each member of a group with its inventory row (None when the inventory lacks it), by type and id.

    No access check: callers load the group through `_load` first.
    """
    stmt = (
        select(ResourceGroupMember, Resource)
        .outerjoin(
            Resource,
            (Resource.resource_type == ResourceGroupMember.resource_type)
            & (Resource.resource_id == ResourceGroupMember.resource_id),
        )
        .where(ResourceGroupMember.group_id == group_id)
        .order_by(ResourceGroupMember.resource_type, ResourceGroupMember.resource_id)
    )
    return [(m, r) for m, r in session.execute(stmt).all()]


def members(*, session: Session, actor: Actor, group_id: int) -> pd.DataFrame:
    """The group's resources with their inventory state, hourly cost and where its price came from (MEMBER_COLUMNS;
    None where the inventory lacks the resource)."""
    group = _load(session, actor, group_id)
    rows = [
        (m.resource_type, m.resource_id, m.resource_name, r.state if r else None, r.hourly_cost if r else None,
         r.price_known if r else None, r.price_source if r else None, r.price_as_of if r else None, m.added_at,
         m.added_by)
        for m, r in member_rows(session, group.id)
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=MEMBER_COLUMNS)


def groups_of_resource(*, session: Session, actor: Actor, resource_type: str, resource_id: str) -> pd.DataFrame:
    """The groups the actor may see that hold this resource: id, name, owner, status."""
    stmt = (
        select(ResourceGroup.id, ResourceGroup.name, ResourceGroup.owner, ResourceGroup.status)
        .join(ResourceGroupMember, ResourceGroupMember.group_id == ResourceGroup.id)
        .where(ResourceGroupMember.resource_type == resource_type, ResourceGroupMember.resource_id == str(resource_id))
        .order_by(ResourceGroup.name, ResourceGroup.id)
    )
    stmt = _visible(stmt, actor)
    return pd.DataFrame(session.execute(stmt).all(), columns=["id", "name", "owner", "status"])
