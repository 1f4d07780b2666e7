"""Stop all / Start all on a resource group: a preview and a request (the page), carried out by the sidecar.

The page never calls AWS: `request` files a PowerAction row (owner or admin only, audited), and the sidecar's
`take_next` + `execute` run it through the drivers. Each member gets a result; one failure does not stop the
rest. A stop's saved capacity (an Auto Scaling group's min/max/desired, an ECS desiredCount) is kept on the
resource, and the next start restores it.
"""

import json
import logging
from collections.abc import Callable
from typing import Any

import pandas as pd
from sqlalchemy import select, update
from sqlmodel import Session

from finops.data import audit, groups
from finops.data.drivers import RUNNING, STOPPED, UNKNOWN, DriverError, ResourceRef, driver_for
from finops.data.groups import Actor, GroupError
from finops.data.resources import AWS_TYPES, get_resource
from finops.data.tables import PowerAction, Resource, ResourceGroupMember, utcnow

log = logging.getLogger(__name__)
ACTIONS = ("stop", "start")
TARGET = {"stop": STOPPED, "start": RUNNING}
PLAN_COLUMNS = ["resource_type", "resource_id", "name", "state", "change"]
ACTION_COLUMNS = ["id", "action", "status", "requested_by", "requested_at", "finished_at", "summary", "error"]
OPEN = ("pending", "running")


def _check_action(action: str) -> str:
    if action not in ACTIONS:
        raise GroupError(f"action must be one of: {', '.join(ACTIONS)}")
    return action


def _saved(text: str | None) -> dict:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _change(action: str, state: str, saved: dict) -> str:
    """What `action` will do to a resource in `state` (the confirmation lists it)."""
    target = TARGET[action]
    if state == target:
        return f"none: already {target}"
    shown = state or UNKNOWN
    restore = ""
    if saved and action == "start":
        restore = ", restoring " + ", ".join(f"{k}={v}" for k, v in sorted(saved.items()))
    return f"{action}: {shown} -> {target}{restore}"


def plan(*, session: Session, actor: Actor, group_id: int, action: str) -> pd.DataFrame:
    """What `action` would change, one row per member: resource_type, resource_id, name, state, change.

    States are the inventory's (the last discovery or driver call); the sidecar re-reads AWS states before acting.
    """
    _check_action(action)
    group = groups._load(session, actor, group_id)
    groups._may_change(actor, group)
    rows = []
    for member, res in groups.member_rows(session, group.id):
        state = (res.state if res is not None else "") or ""
        saved = _saved(res.saved_state) if res is not None else {}
        name = (res.name if res is not None else "") or member.resource_name or member.resource_id
        rows.append([member.resource_type, member.resource_id, name, state, _change(action, state, saved)])
    return pd.DataFrame(rows, columns=PLAN_COLUMNS)


def request(*, session: Session, actor: Actor, group_id: int, action: str) -> PowerAction:
    """File a stop/start of every member for the sidecar (owner or admin only); refuses an empty group and a
    second request while one for the group is still waiting or running."""
    _check_action(action)
    group = groups._load(session, actor, group_id)
    groups._may_change(actor, group)
    count = session.execute(select(ResourceGroupMember.id).where(ResourceGroupMember.group_id == group.id)).first()
    if count is None:
        raise GroupError(f"group {group.name!r} has no resources to {action}")
    waiting = select(PowerAction).where(PowerAction.group_id == group.id, PowerAction.status.in_(OPEN))
    if (busy := session.execute(waiting).scalars().first()) is not None:
        raise GroupError(f"a {busy.action} of group {group.name!r} is already {busy.status}; wait for it to finish")
    row = PowerAction(requested_by=actor.username, group_id=group.id, group_name=group.name, action=action)
    session.add(row)
    audit.record(session, actor.username, f"{action}_all", groups.OBJECT_TYPE, group.id, {"name": group.name})
    session.commit()
    session.refresh(row)
    return row


def _summary(row: PowerAction) -> str:
    results = json.loads(row.results or "[]")
    if not results:
        return ""
    failed = sum(1 for r in results if r.get("error"))
    unchanged = sum(1 for r in results if not r.get("error") and r.get("before") == TARGET.get(row.action))
    changed = len(results) - failed - unchanged
    return f"{changed} changed, {unchanged} already {TARGET.get(row.action)}, {failed} failed"


def recent(*, session: Session, actor: Actor, group_id: int, limit: int = 5) -> pd.DataFrame:
    """The group's latest stop/start requests, newest first (ACTION_COLUMNS)."""
    group = groups._load(session, actor, group_id)
    stmt = select(PowerAction).where(PowerAction.group_id == group.id).order_by(PowerAction.id.desc()).limit(limit)
    rows = session.execute(stmt).scalars().all()
    return pd.DataFrame(
        [[r.id, r.action, r.status, r.requested_by, r.requested_at, r.finished_at, _summary(r), r.error] for r in rows],
        columns=ACTION_COLUMNS,
    )


def results(*, session: Session, actor: Actor, action_id: int) -> pd.DataFrame:
    """One request's per-resource results: resource_type, resource_id, name, before, after, error."""
    row = session.get(PowerAction, int(action_id))
    if row is None:
        raise groups.NotFound(f"no stop/start request {action_id}")
    groups._load(session, actor, row.group_id)  # the same visibility as the group (NotFound otherwise)
    cols = ["resource_type", "resource_id", "name", "before", "after", "error"]
    return pd.DataFrame(json.loads(row.results or "[]"), columns=cols)


def take_next(*, session: Session) -> PowerAction | None:
    """Claim the oldest pending request (pending -> running), or None."""
    while True:
        row = (
            session.execute(
                select(PowerAction).where(PowerAction.status == "pending").order_by(PowerAction.id).limit(1)
            )
            .scalars()
            .first()
        )
        if row is None:
            return None
        claimed = session.execute(
            update(PowerAction)
            .where(PowerAction.id == row.id, PowerAction.status == "pending")
            .values(status="running", started_at=utcnow())
        ).rowcount
        session.commit()
        if claimed:
            session.refresh(row)
            return row


def _record_state(session: Session) -> Callable[[ResourceRef, str], None]:
    """The platform driver's `record`: the desired state becomes the inventory state."""

    def record(ref: ResourceRef, desired: str) -> None:
        res = get_resource(session=session, resource_type=ref.resource_type, resource_id=ref.resource_id)
        if res is not None:
            res.state, res.updated_at = desired, utcnow()
            session.add(res)

    return record


def _apply_one(
    session: Session, action: str, member: ResourceGroupMember, res: Resource | None, settings: Any, clients
) -> dict:
    ref = ResourceRef(
        member.resource_type,
        member.resource_id,
        region=res.region if res is not None else "",
        account_id=res.account_id if res is not None else "",
    )
    out = {
        "resource_type": member.resource_type,
        "resource_id": member.resource_id,
        "name": (res.name if res is not None else "") or member.resource_name,
        "before": (res.state if res is not None else "") or UNKNOWN,
        "after": "",
        "error": "",
    }
    try:
        driver = driver_for(member.resource_type, settings, clients=clients, record=_record_state(session))
        if member.resource_type in AWS_TYPES:
            out["before"] = driver.state(ref)  # the inventory may be stale: ask AWS
        if out["before"] == TARGET[action]:
            out["after"] = out["before"]
            return out
        if action == "stop":
            saved = driver.stop(ref)
            if saved and res is not None:  # {} means nothing new: keep what an earlier stop saved
                res.saved_state = json.dumps(saved, sort_keys=True)
        else:
            driver.start(ref, _saved(res.saved_state) if res is not None else {})
            if res is not None:
                res.saved_state = "{}"
        out["after"] = driver.state(ref) if member.resource_type in AWS_TYPES else TARGET[action]
    except (DriverError, GroupError) as exc:
        out["error"] = str(exc)
        return out
    if res is not None:
        res.state, res.updated_at = out["after"], utcnow()
        session.add(res)
    return out


def execute(*, session: Session, row: PowerAction, settings: Any, clients=None) -> PowerAction:
    """Carry out a claimed request on every member of its group; status done, partial or failed."""
    members = groups.member_rows(session, row.group_id)
    outcomes = []
    for member, res in members:
        outcomes.append(_apply_one(session, row.action, member, res, settings, clients))
        session.commit()  # each resource's new state lands as soon as it is known
    failed = sum(1 for o in outcomes if o["error"])
    if not members:
        row.status, row.error = "failed", "the group has no resources (or was deleted)"
    else:
        row.status = "done" if failed == 0 else "failed" if failed == len(outcomes) else "partial"
        row.error = f"{failed} of {len(outcomes)} resources failed" if failed else None
    row.results, row.finished_at = json.dumps(outcomes), utcnow()
    session.add(row)
    session.commit()
    session.refresh(row)
    log.info("%s of group %s (%s): %s", row.action, row.group_id, row.group_name, row.status)
    return row
