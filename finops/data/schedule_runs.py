"""The schedule reconciler (a sidecar job every FINOPS_SCHEDULE_TICK_SECONDS): desired against actual state for
every scheduled resource, acted on through `finops.data.actuation`; it owns the activity log (schedule_action)
and what it remembers per resource (schedule_resource_state).

Rules, written down in docs/decisions.md:
- a resource under several schedules runs if any of them says run; else it stops if any says stop; a schedule
  saying `any` leaves it alone;
- without `enforced` a schedule acts at its transitions only (a person may start a stopped resource between
  them); after downtime it acts once on the current desired state, never replaying what it missed;
- with `enforced` the desired state is re-applied every tick when the actual state differs;
- with `retain_running`, a resource already running when a period began (started by hand) is not stopped at its
  end;
- the owner's rights are checked again on every tick (a member acts only on what they own); a refusal is logged
  once per transition;
- a failed action is retried with backoff (1, 2, 4 ... up to 60 minutes) and shown until it succeeds;
- a resource a budget's stop action holds stays stopped until the budget's period ends (`budget_holds`).
"""

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple, cast

from sqlalchemy import select
from sqlmodel import Session, col

from finops.data import actuation, schedules
from finops.data.access import Actor, refusal
from finops.data.drivers.aws import make_clients
from finops.data.tables import (
    BudgetAction,
    Resource,
    ResourceGroup,
    ResourceGroupMember,
    Schedule,
    ScheduleAction,
    ScheduleResourceState,
    User,
)
from finops.scheduling.timetable import ANY, RUNNING, STOPPED, Timetable, desired_state

log = logging.getLogger(__name__)
BACKOFF_MINUTES = (1, 2, 4, 8, 16, 32, 60)
ACTION = {RUNNING: "start", STOPPED: "stop"}


@dataclass
class Want:
    """What the schedules want of one resource now, and which schedule decided it."""

    resource: "Ref | Resource"
    state: str
    schedule: Schedule
    owner: Actor
    enforced: bool = False
    retain: bool = False


def _aware(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


class Ref(NamedTuple):
    """What the tick needs to know of a targeted resource (full rows are read only for those it acts on)."""

    resource_type: str
    resource_id: str
    name: str
    owner: str
    state: str
    hourly_cost: float


REF_COLUMNS = [col(Resource.resource_type), col(Resource.resource_id), col(Resource.name), col(Resource.owner),
               col(Resource.state), col(Resource.hourly_cost)]  # fmt: skip


def members(session: Session, schedule: Schedule, owner: Actor) -> list[Ref]:
    """The inventory resources one schedule targets now (the page's view; the tick resolves all at once)."""
    found = _resolve(session, [(schedule, schedules.targets_of(session, schedule.id), owner)])
    return found.get(schedule.id or 0, [])


def _groups_members(session: Session, group_ids: set[int]) -> tuple[dict, dict[int, list[Ref]]]:
    found_groups: dict[int | None, ResourceGroup] = {}
    by_group: dict[int, list[Ref]] = defaultdict(list)
    if not group_ids:
        return found_groups, by_group
    stmt_groups = select(ResourceGroup).where(col(ResourceGroup.id).in_(group_ids))
    found_groups = {g.id: g for g in session.execute(stmt_groups).scalars()}
    stmt = (
        select(col(ResourceGroupMember.group_id), *REF_COLUMNS)
        .join(Resource, (col(Resource.resource_type) == col(ResourceGroupMember.resource_type))
              & (col(Resource.resource_id) == col(ResourceGroupMember.resource_id)))
        .where(col(ResourceGroupMember.group_id).in_(group_ids))
    )  # fmt: skip
    for group_id, *fields in session.execute(stmt).all():
        by_group[group_id].append(Ref(*fields))
    return found_groups, by_group


def _singles(session: Session, pairs: set[tuple[str, str]]) -> dict[tuple[str, str], Ref]:
    if not pairs:
        return {}
    types, ids = {t for t, _ in pairs}, [i for _, i in pairs]
    stmt = select(*REF_COLUMNS).where(col(Resource.resource_type).in_(types), col(Resource.resource_id).in_(ids))
    refs = (Ref(*row) for row in session.execute(stmt).all())
    return {(r.resource_type, r.resource_id): r for r in refs if (r.resource_type, r.resource_id) in pairs}


def _resolve(session: Session, items: list[tuple[Schedule, list, Actor]]) -> dict[int, list[Ref]]:
    """Per schedule id the inventory resources its targets hold now, in three queries for all schedules. A group
    gone, not the one the target was saved with (its uid), or one the owner may no longer change is skipped."""
    found_groups, by_group = _groups_members(
        session, {t.group_id for _, targets, _ in items for t in targets if t.group_id}
    )
    singles = _singles(session, {(t.resource_type, t.resource_id) for _, ts, _ in items for t in ts if not t.group_id})
    out: dict[int, list[Ref]] = {}
    for schedule, targets, owner in items:
        found: dict[tuple[str, str], Ref] = {}
        for target in targets:
            if target.group_id:
                group = found_groups.get(target.group_id)
                if (
                    group is None
                    or group.uid != target.group_uid
                    or not (owner.is_admin or group.owner == owner.username)
                ):
                    continue
                found |= {(r.resource_type, r.resource_id): r for r in by_group[target.group_id]}
            elif (ref := singles.get((target.resource_type, target.resource_id))) is not None:
                found[(ref.resource_type, ref.resource_id)] = ref
        out[schedule.id or 0] = list(found.values())
    return out


def full_rows(session: Session, keys: set[tuple[str, str]]) -> dict[tuple[str, str], Resource]:
    """The inventory rows of `keys` (what the actions need: region, account, saved sizes ...), in one query."""
    if not keys:
        return {}
    types, ids = {t for t, _ in keys}, [i for _, i in keys]
    stmt = select(Resource).where(col(Resource.resource_type).in_(types), col(Resource.resource_id).in_(ids))
    return {
        (r.resource_type, r.resource_id): r
        for r in session.execute(stmt).scalars()
        if (r.resource_type, r.resource_id) in keys
    }


def wants(session: Session, now: datetime) -> tuple[dict[tuple[str, str], Want], list[tuple[Want, str]]]:
    """Per resource what its schedules want now (the union rule), and the (want, reason) refused to its owner."""
    out: dict[tuple[str, str], Want] = {}
    refused: list[tuple[Want, str]] = []
    owners = {u.username: Actor(u.username, u.role == "admin") for u in session.execute(select(User)).scalars()}
    deciding = []
    for schedule, timetable, targets in schedules.load_active(session):
        owner = owners.get(schedule.owner)
        if owner is None:
            continue  # the owner is gone: the schedule acts for nobody
        state = desired_state(timetable, now).state
        if state != ANY:
            deciding.append((schedule, targets, owner, state))
    found = _resolve(session, [(s, t, o) for s, t, o, _ in deciding])
    for schedule, _targets, owner, state in deciding:
        for res in found[schedule.id or 0]:
            want = Want(res, state, schedule, owner, schedule.enforced, schedule.retain_running)
            why = refusal(owner, res, ACTION[state])
            if why is not None:
                refused.append((want, why))
                continue
            key = (res.resource_type, res.resource_id)
            current = out.get(key)
            if current is None or (state == RUNNING and current.state == STOPPED):
                out[key] = want
            elif state == current.state:
                current.enforced |= want.enforced
                current.retain |= want.retain
    return out, refused


def timetables_by_resource(session: Session) -> dict[tuple[str, str], list[tuple[int, Timetable]]]:
    """Per scheduled resource the (schedule id, timetable) of every active schedule whose owner may act on it: what
    the budgets' forecast runs the rest of a period by."""
    owners = {u.username: Actor(u.username, u.role == "admin") for u in session.execute(select(User)).scalars()}
    items, tables = [], {}
    for schedule, timetable, targets in schedules.load_active(session):
        owner = owners.get(schedule.owner)
        if owner is not None:
            items.append((schedule, targets, owner))
            tables[schedule.id or 0] = timetable
    found = _resolve(session, items)
    out: dict[tuple[str, str], list[tuple[int, Timetable]]] = defaultdict(list)
    for schedule, _targets, owner in items:
        for res in found[schedule.id or 0]:
            if refusal(owner, res, "stop") is None:
                out[(res.resource_type, res.resource_id)].append((schedule.id or 0, tables[schedule.id or 0]))
    return out


def budget_holds(session: Session, now: datetime) -> set[tuple[str, str]]:
    """Resources a budget's stop action holds stopped until its period ends: schedules leave them alone."""
    stmt = select(BudgetAction).where(
        col(BudgetAction.action) == "stop", col(BudgetAction.status) == "done",
        col(BudgetAction.period_end) > now.date(),
    )  # fmt: skip
    held = set()
    for row in session.execute(stmt).scalars():
        for item in (row.result or {}).get("resources", []):
            if item.get("outcome") in ("changed", "recorded"):
                held.add((item["resource_type"], item["resource_id"]))
    return held


def _memory(session: Session) -> dict[tuple[str, str], ScheduleResourceState]:
    return {(m.resource_type, m.resource_id): m for m in session.execute(select(ScheduleResourceState)).scalars()}


def _log(session: Session, want: Want, action: str, out: dict, attempt: int = 1) -> None:
    assert want.schedule.id is not None
    session.add(ScheduleAction(
        schedule_id=want.schedule.id, schedule_name=want.schedule.name, resource_type=want.resource.resource_type,
        resource_id=want.resource.resource_id, action=action, before=str(out.get("before") or "")[:32],
        after=str(out.get("after") or "")[:32], error=out.get("error") or None, attempt=attempt,
    ))  # fmt: skip


def _remember(mem: ScheduleResourceState, want: Want, out: dict, now: datetime) -> None:
    if out["outcome"] == "failed":
        mem.failures += 1
        delay = BACKOFF_MINUTES[min(mem.failures, len(BACKOFF_MINUTES)) - 1]
        mem.retry_at, mem.last_error = now + timedelta(minutes=delay), out["error"]
    else:
        mem.last_desired, mem.failures, mem.retry_at, mem.last_error = want.state, 0, None, None
    mem.updated_at = now


def _attach_rows(session: Session, keys: set[tuple[str, str]], wanted: list[Want]) -> list[Want]:
    """The wants whose resource is still in the inventory, each now holding its full row (the actions need it)."""
    found = full_rows(session, keys)
    kept = []
    for want in wanted:
        if _key(want) in found:
            want.resource = found[_key(want)]
            kept.append(want)
    return kept


def _key(want: Want) -> tuple[str, str]:
    return (want.resource.resource_type, want.resource.resource_id)


def reconcile(*, session: Session, settings: Any, now: datetime | None = None, clients=None) -> dict:
    """One tick: act where the schedules' desired state differs (see the module docstring); returns counts
    {"resources", "acted", "failed", "refused"}. Idempotent: a second tick at the same instant does nothing."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    wanted, refused = wants(session, now)
    held = budget_holds(session, now)
    wanted = {key: want for key, want in wanted.items() if key not in held}
    refused = [(want, why) for want, why in refused if _key(want) not in held]
    memory = _memory(session)
    todo: dict[tuple[str, str], list[tuple[Want, ScheduleResourceState, dict]]] = defaultdict(list)
    enforce: list[Want] = []
    counts = {"resources": len(wanted), "acted": 0, "failed": 0, "refused": 0}
    for key, want in wanted.items():
        mem = memory.get(key)
        if mem is None:
            mem = memory[key] = ScheduleResourceState(resource_type=key[0], resource_id=key[1])
            session.add(mem)
        retry_at = _aware(mem.retry_at)
        if mem.failures and retry_at is not None and now < retry_at:
            continue  # a failed action waits for its backoff
        if mem.last_desired != want.state or mem.failures:
            if want.state == STOPPED and mem.retained:  # started by hand before the period began: kept running
                out = actuation.outcome(want.resource, *key)
                out.update(after=out["before"], outcome="unchanged", error="")
                _log(session, want, "none", {**out, "error": "retain_running: started by hand, left running"})
                mem.retained, mem.last_desired, mem.updated_at = False, STOPPED, now
                continue
            out = actuation.outcome(want.resource, *key)
            todo[(want.owner.username, ACTION[want.state])].append((want, mem, out))
        elif want.enforced:
            enforce.append(want)
    keys = {_key(w) for w in enforce} | {_key(w) for items in todo.values() for w, _, _ in items}
    kept = {id(w) for w in _attach_rows(session, keys, [*enforce, *(w for ws in todo.values() for w, _, _ in ws)])}
    enforce = [w for w in enforce if id(w) in kept]
    for key_ in list(todo):
        todo[key_] = [(w, m, o) for w, m, o in todo[key_] if id(w) in kept]
    if enforce:
        clients = clients or make_clients(settings)
        actual = actuation.actual_states([cast(Resource, w.resource) for w in enforce], settings, clients)
        for want in enforce:
            key = (want.resource.resource_type, want.resource.resource_id)
            if actual.get(key, want.state) not in (want.state, "pending", "stopping"):
                out = actuation.outcome(want.resource, *key)
                todo[(want.owner.username, ACTION[want.state])].append((want, memory[key], out))
    clients = clients or (make_clients(settings) if todo or enforce else None)
    for (_owner, action), items in todo.items():
        batch = [(cast(Resource, w.resource), out, f"schedule:{w.schedule.id}") for w, _, out in items]
        actuation.act_many(session, actor=items[0][0].owner, action=action, items=batch, settings=settings,
                           clients=clients)  # fmt: skip
        for want, mem, out in items:
            if action == "start" and out["outcome"] == "unchanged" and mem.last_desired == STOPPED and want.retain:
                mem.retained = True  # running before the period began: a person started it, retain_running keeps it
            _log(session, want, action, out, attempt=mem.failures + 1)
            _remember(mem, want, out, now)
            counts["acted"] += out["outcome"] in ("changed", "recorded")
            counts["failed"] += out["outcome"] == "failed"
    for want, why in refused:
        key = (want.resource.resource_type, want.resource.resource_id)
        mem = memory.get(key)
        if mem is None or mem.last_error != f"not permitted: {why}":
            if mem is None:
                mem = memory[key] = ScheduleResourceState(resource_type=key[0], resource_id=key[1])
            _log(session, want, ACTION[want.state], {"before": want.resource.state, "error": f"not permitted: {why}"})
            mem.last_error, mem.updated_at = f"not permitted: {why}", now
            session.add(mem)
            counts["refused"] += 1
    session.commit()
    return counts
