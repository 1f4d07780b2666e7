"""Stop all / Start all on a resource group: a preview and a request (the page), carried out by the sidecar.

The page never calls AWS: `request` files a PowerAction row (owner or admin only, audited), and the sidecar's
`take_next` + `execute` run it through the drivers. When the sidecar picks a request up it checks again that the
group is the one the request was filed for (its uid) and that the requester may still change it, else refuses
the request and records why; each member is checked against the requester's rights as the store holds them
then (a member acts only on resources they own). Each member gets a result; one failure does not stop the rest.
A stop's capacity (an Auto Scaling group's min/max/desired, an ECS desiredCount) is saved and committed *before*
the resource is scaled to zero, and the next start restores it (`finops.data.actuation`, shared with schedules).
"""

import logging
from typing import Any

import pandas as pd
from sqlalchemy import select, update
from sqlmodel import Session

from finops.data import actuation, audit, groups, resources
from finops.data.access import Actor, actor_from_store, refusal
from finops.data.actuation import RECORDED_NOTE, TARGET
from finops.data.drivers import UNKNOWN
from finops.data.groups import GroupError
from finops.data.tables import PowerAction, ResourceGroup, utcnow

log = logging.getLogger(__name__)
ACTIONS = ("stop", "start")
PLAN_COLUMNS = ["resource_type", "resource_id", "name", "state", "change"]
ACTION_COLUMNS = ["id", "action", "status", "requested_by", "requested_at", "finished_at", "summary", "error"]
RESULT_COLUMNS = ["resource_type", "resource_id", "name", "before", "after", "outcome", "error"]
OPEN = ("pending", "running")
# what happened to one member: changed (the driver acted), unchanged (already there), recorded (the desired
# state was written, nothing was told: no platform URL), refused (not the requester's to act on), failed
OUTCOMES = ("changed", "unchanged", "recorded", "refused", "failed")


def _check_action(action: str) -> str:
    if action not in ACTIONS:
        raise GroupError(f"action must be one of: {', '.join(ACTIONS)}")
    return action


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
    A member the actor may not act on shows `refused: <why>` and will be left alone.
    """
    _check_action(action)
    group = groups._load(session, actor, group_id)
    groups._may_change(actor, group)
    rows = []
    for member, res in groups.member_rows(session, group.id):
        state = (res.state if res is not None else "") or ""
        name = (res.name if res is not None else "") or member.resource_name or member.resource_id
        why = refusal(actor, res, action)
        change = f"refused: {why}" if why else _change(action, state, resources.saved_capacity(res))
        rows.append([member.resource_type, member.resource_id, name, state, change])
    return pd.DataFrame(rows, columns=PLAN_COLUMNS)


def request(*, session: Session, actor: Actor, group_id: int, action: str) -> PowerAction:
    """File a stop/start of the group's members for the sidecar (owner or admin only).

    Refused: an empty group, a group with no member the actor may act on, and a second request while one for
    the group is still waiting or running (a "running" one whose sidecar is no longer alive is closed instead).
    """
    _check_action(action)
    group = groups._load(session, actor, group_id)
    groups._may_change(actor, group)
    members = groups.member_rows(session, group.id)
    if not members:
        raise GroupError(f"group {group.name!r} has no resources to {action}")
    if all(refusal(actor, res, action) for _, res in members):
        why = refusal(actor, members[0][1], action)
        raise groups.Forbidden(f"you may {action} none of the resources in group {group.name!r} (e.g. {why})")
    waiting = select(PowerAction).where(PowerAction.group_id == group.id, PowerAction.status.in_(OPEN))
    for busy in session.execute(waiting).scalars().all():
        if busy.status == "running" and not _sidecar_alive(session):
            _close_interrupted(session, busy)
            continue
        raise GroupError(f"a {busy.action} of group {group.name!r} is already {busy.status}; wait for it to finish")
    row = PowerAction(
        requested_by=actor.username, group_id=group.id, group_uid=group.uid, group_name=group.name, action=action
    )
    session.add(row)
    audit.record(session, actor.username, f"{action}_all", groups.OBJECT_TYPE, group.id, {"name": group.name})
    session.commit()
    session.refresh(row)
    return row


def _sidecar_alive(session: Session) -> bool:
    from finops.data.store_lock import held_elsewhere

    return held_elsewhere(session.get_bind())


INTERRUPTED = "interrupted: the sidecar stopped while carrying this out; resource states show what changed"


def _close_interrupted(session: Session, row: PowerAction) -> None:
    row.status, row.finished_at, row.error = "failed", utcnow(), INTERRUPTED
    session.add(row)


def close_interrupted(*, session: Session) -> int:
    """Mark requests left `running` by a sidecar that died as failed; returns how many. The caller commits."""
    rows = session.execute(select(PowerAction).where(PowerAction.status == "running")).scalars().all()
    for row in rows:
        _close_interrupted(session, row)
    return len(rows)


def fail(*, session: Session, row: PowerAction, error: str) -> None:
    """Close a claimed request that could not be carried out at all (the sidecar's last guard)."""
    row.status, row.error, row.finished_at = "failed", error, utcnow()
    session.add(row)
    session.commit()


def cancel_waiting(*, session: Session, actor: Actor, group_id: int) -> list[int]:
    """Cancel the group's requests still waiting (its owner or an admin is deleting it), each audited; returns
    their ids. The caller commits, with the deletion."""
    waiting = (
        session.execute(select(PowerAction.id).where(PowerAction.group_id == group_id, PowerAction.status == "pending"))
        .scalars()
        .all()
    )
    if waiting:
        session.execute(
            update(PowerAction)
            .where(PowerAction.id.in_(waiting), PowerAction.status == "pending")
            .values(status="cancelled", finished_at=utcnow(), error=f"cancelled: {actor.username} deleted the group")
        )
        for action_id in waiting:
            audit.record(session, actor.username, "cancel", "power_action", action_id, {"reason": "group deleted"})
    return list(waiting)


def _results(row: PowerAction) -> list[dict]:
    return [r for r in row.results or [] if isinstance(r, dict)]


def _outcome(result: dict, action: str) -> str:
    """A result's outcome; requests carried out before outcomes were recorded are read from before/error."""
    if result.get("outcome") in OUTCOMES:
        return result["outcome"]
    if result.get("error"):
        return "failed"
    return "unchanged" if result.get("before") == TARGET.get(action) else "changed"


def _summary(row: PowerAction) -> str:
    results = _results(row)
    if not results:
        return ""
    counts = {o: 0 for o in OUTCOMES}
    for result in results:
        counts[_outcome(result, row.action)] += 1
    parts = [f"{counts['changed']} changed"]
    if counts["recorded"]:
        parts.append(f"{counts['recorded']} {RECORDED_NOTE}")
    parts.append(f"{counts['unchanged']} already {TARGET.get(row.action)}")
    if counts["refused"]:
        parts.append(f"{counts['refused']} refused")
    parts.append(f"{counts['failed']} failed")
    return ", ".join(parts)


def _of_group(session: Session, actor: Actor, group_id: int) -> ResourceGroup:
    return groups._load(session, actor, group_id)


def recent(*, session: Session, actor: Actor, group_id: int, limit: int = 5) -> pd.DataFrame:
    """The group's latest stop/start requests, newest first (ACTION_COLUMNS); only the group's own."""
    group = _of_group(session, actor, group_id)
    stmt = (
        select(PowerAction)
        .where(PowerAction.group_id == group.id, PowerAction.group_uid == group.uid)
        .order_by(PowerAction.id.desc())
        .limit(limit)
    )
    rows = session.execute(stmt).scalars().all()
    return pd.DataFrame(
        [[r.id, r.action, r.status, r.requested_by, r.requested_at, r.finished_at, _summary(r), r.error] for r in rows],
        columns=ACTION_COLUMNS,
    )


def results(*, session: Session, actor: Actor, action_id: int) -> pd.DataFrame:
    """One request's per-resource results (RESULT_COLUMNS), for those who may see its group (NotFound else)."""
    row = session.get(PowerAction, int(action_id))
    if row is None:
        raise groups.NotFound(f"no stop/start request {action_id}")
    group = groups._load(session, actor, row.group_id)  # the same visibility as the group (NotFound otherwise)
    if group.uid != row.group_uid:
        raise groups.NotFound(f"no stop/start request {action_id}")
    rows = [{**r, "outcome": _outcome(r, row.action)} for r in _results(row)]
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


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


def recheck(*, session: Session, row: PowerAction) -> tuple[Actor | None, str | None]:
    """The requester's rights now, or why the request must be refused: its group is gone or is another one,
    the requester no longer exists, or may no longer change the group."""
    group = session.get(ResourceGroup, row.group_id)
    if group is None or not row.group_uid or group.uid != row.group_uid:
        return None, f"the group {row.group_name!r} it was filed for no longer exists"
    actor = actor_from_store(session, row.requested_by)
    if actor is None:
        return None, f"the requester {row.requested_by!r} no longer exists"
    if not (actor.is_admin or group.owner == actor.username):
        return None, f"{row.requested_by} may no longer change group {group.name!r} (owner: {group.owner})"
    return actor, None


def execute(*, session: Session, row: PowerAction, settings: Any, clients=None) -> PowerAction:
    """Carry out a claimed request on every member of its group, after re-checking it (`recheck`).

    Status: done (every member changed, unchanged or recorded), partial, failed (none succeeded) or refused
    (the request itself; `error` says why, and the refusal is audited).
    """
    actor, why = recheck(session=session, row=row)
    if actor is None:
        row.status, row.error, row.finished_at = "refused", f"refused: {why}", utcnow()
        session.add(row)
        audit.record(session, "sidecar", "refuse", "power_action", row.id, {"reason": why, "group_id": row.group_id})
        session.commit()
        session.refresh(row)
        log.warning("%s of group %s refused: %s", row.action, row.group_id, why)
        return row
    members = groups.member_rows(session, row.group_id)
    outcomes = []
    for member, res in members:
        out = actuation.outcome(res, member.resource_type, member.resource_id, member.resource_name)
        cause = f"{row.action}_all:{row.id}"
        outcomes.append(actuation.act(session, actor=actor, action=row.action, res=res, settings=settings,
                                      clients=clients, cause=cause, out=out))  # fmt: skip
        session.commit()  # each resource's new state lands as soon as it is known
    bad = sum(1 for o in outcomes if o["outcome"] in ("failed", "refused"))
    if not members:
        row.status, row.error = "failed", "the group has no resources"
    else:
        row.status = "done" if bad == 0 else "failed" if bad == len(outcomes) else "partial"
        row.error = f"{bad} of {len(outcomes)} resources failed or were refused" if bad else None
    row.results, row.finished_at = outcomes, utcnow()
    session.add(row)
    session.commit()
    session.refresh(row)
    log.info("%s of group %s (%s): %s", row.action, row.group_id, row.group_name, row.status)
    return row
