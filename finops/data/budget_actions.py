"""Budget actions, the one module that writes them: what a crossed threshold proposes beyond its alert.

- `stop`: stop the scope's running resources for the rest of the period; `schedule`: attach a schedule to them
  (a group budget attaches the group, others their resources) for the rest of the period.
- Every action starts with a **preview** (which resources, what changes, dollars a day saved), then waits for
  **approval** by someone who may see the budget (its people and admins; the page or `finops budgets approve`)
  unless the threshold says automatic.
- The **sidecar** carries it out, re-checking first: the budget still exists, the approver may still see it, the
  period has not ended; it acts with the approver's rights (the owner's for an automatic one), through the shared
  stop/start path. A resource tagged `finops:protect=true` is never stopped.
- At the **next period** it is undone: resources it stopped and that are still stopped are started, schedule
  targets it added are removed. Schedules leave the resources it stopped alone until then.
Everything is audited.
"""

import logging
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlmodel import Session, col

from finops.budgeting import periods
from finops.data import actuation, audit, budget_costs, budgets, db, schedules
from finops.data.access import Actor, Forbidden, NotFound, actor_from_store
from finops.data.resources import get_resource
from finops.data.tables import Budget, BudgetAction, BudgetThreshold, Resource, utcnow
from finops.scheduling.specs import TargetSpec
from finops.scheduling.timetable import running_hours

log = logging.getLogger(__name__)
OBJECT_TYPE = "budget_action"
PROTECT_TAG = "finops:protect"
AWAITING, APPROVED, RUNNING, DONE, FAILED = "awaiting_approval", "approved", "running", "done", "failed"
REJECTED, EXPIRED, CANCELLED, UNDONE, REFUSED = "rejected", "expired", "cancelled", "undone", "refused"
OPEN = (AWAITING, APPROVED)
COLUMNS = ["id", "created_at", "budget", "threshold", "action", "period", "status", "resources", "saved_per_day",
           "approved_by", "done_at", "undone_at", "message"]  # fmt: skip
PREVIEW_COLUMNS = ["resource_type", "resource_id", "name", "state", "hourly_cost", "change", "saved_per_day"]


def protected(res: Resource) -> bool:
    """Whether the resource carries finops:protect=true (any case): budget actions never stop it."""
    tags = res.tags if isinstance(res.tags, dict) else {}
    return any(k.lower() == PROTECT_TAG and str(v).strip().lower() == "true" for k, v in tags.items())


def _running(res: Resource) -> bool:
    return res.state in budget_costs.RUNNING_STATES


def preview(session: Session, budget: Budget, threshold: BudgetThreshold, now: datetime) -> dict:
    """What the action would do now: {"resources": [PREVIEW_COLUMNS dicts], "saved_per_day", "schedule_id"}."""
    _start, end = budget_costs.period_of(budget, now)
    end_at = periods.midnight(end)
    days_left = max(periods.hours_between(now, end_at) / 24, 1 / 24)
    rows: list[dict] = []
    schedule_id, table = 0, None
    if threshold.action == "schedule":
        owner = budgets.owner_actor(session, budget) or Actor(budget.owner)
        try:
            found = schedules.by_name(session, owner, threshold.schedule_name)
            schedule_id, table = found.id or 0, schedules.timetable(session, found)
        except (NotFound, schedules.ScheduleError):
            problem = f"no schedule named {threshold.schedule_name!r} that {budget.owner} may use"
            return {"resources": [], "saved_per_day": 0.0, "schedule_id": 0, "problem": problem}
    for res in budget_costs.scope_resources(session, budget):
        change, saved = "none: not running", 0.0
        if threshold.action == "stop":
            if protected(res):
                change = f"kept: {PROTECT_TAG}=true"
            elif _running(res):
                change, saved = "stop", res.hourly_cost * 24
        elif table is not None:
            if _running(res):
                stopped = periods.hours_between(now, end_at) - running_hours(table, now, end_at)
                change, saved = f"schedule {threshold.schedule_name}", res.hourly_cost * stopped / days_left
            else:
                change = f"schedule {threshold.schedule_name} (stopped now)"
        rows.append({"resource_type": res.resource_type, "resource_id": res.resource_id, "name": res.name,
                     "state": res.state, "hourly_cost": res.hourly_cost, "change": change,
                     "saved_per_day": round(saved, 6)})  # fmt: skip
    saved_per_day = round(sum(r["saved_per_day"] for r in rows), 6)
    return {"resources": rows, "saved_per_day": saved_per_day, "schedule_id": schedule_id}


def propose(
    session: Session, *, budget: Budget, threshold: BudgetThreshold, alert_id: int, label: str, now: datetime,
) -> BudgetAction | None:  # fmt: skip
    """Record the action a threshold crossed proposes (once per alert); None for `notify`. The caller commits."""
    if threshold.action == "notify":
        return None
    start, end = budget_costs.period_of(budget, now)
    shown = preview(session, budget, threshold, now)
    live = periods.midnight(end) > datetime.now(UTC)
    status = (AWAITING if threshold.approval == "manual" else APPROVED) if live else EXPIRED
    message = shown.pop("problem", "") or ("" if live else "the period had ended when the threshold was found crossed")
    values = {
        "budget_id": budget.id, "budget_name": budget.name, "owner": budget.owner, "alert_id": alert_id,
        "threshold": label, "action": threshold.action, "schedule_id": shown["schedule_id"],
        "schedule_name": threshold.schedule_name, "period_start": start, "period_end": end,
        "status": FAILED if message and live else status, "preview": shown,
        "approved_by": "automatic" if status == APPROVED else "",
        "approved_at": utcnow() if status == APPROVED else None,
        "result": {}, "undo_result": {}, "message": message, "created_at": utcnow(),
    }  # fmt: skip
    new_id = db.insert_new(session, BudgetAction, values, ["alert_id"])
    if new_id is None:
        return None
    audit.record(session, "sidecar", "propose", OBJECT_TYPE, new_id,
                 {"budget": budget.name, "action": threshold.action, "status": values["status"],
                  "saved_per_day": shown["saved_per_day"]})  # fmt: skip
    return session.get(BudgetAction, new_id)


def load(session: Session, actor: Actor, action_id: int) -> tuple[BudgetAction, Budget]:
    """The action and its budget, if the actor may see the budget; NotFound otherwise."""
    try:
        row = session.get(BudgetAction, int(action_id))
    except (TypeError, ValueError):
        row = None
    budget = session.get(Budget, row.budget_id) if row is not None else None
    if row is None or budget is None or not budgets.may_see(session, actor, budget):
        raise NotFound(f"no budget action {action_id}")
    return row, budget


def approve(*, session: Session, actor: Actor, action_id: int) -> BudgetAction:
    """Approve an action awaiting approval (whoever may see its budget); the sidecar carries it out. Audited."""
    row, _budget = load(session, actor, action_id)
    if row.status != AWAITING:
        raise Forbidden(f"budget action {row.id} is {row.status}, not awaiting approval")
    row.status, row.approved_by, row.approved_at = APPROVED, actor.username, utcnow()
    session.add(row)
    audit.record(session, actor.username, "approve", OBJECT_TYPE, row.id, {"budget": row.budget_name})
    session.commit()
    return row


def reject(*, session: Session, actor: Actor, action_id: int) -> BudgetAction:
    """Turn down an action awaiting approval; audited."""
    row, _budget = load(session, actor, action_id)
    if row.status != AWAITING:
        raise Forbidden(f"budget action {row.id} is {row.status}, not awaiting approval")
    row.status, row.approved_by, row.approved_at = REJECTED, actor.username, utcnow()
    session.add(row)
    audit.record(session, actor.username, "reject", OBJECT_TYPE, row.id, {"budget": row.budget_name})
    session.commit()
    return row


def cancel_open(*, session: Session, actor: Actor, budget_id: int) -> list[int]:
    """Cancel the budget's actions not yet carried out (its deletion); their ids. The caller commits."""
    stmt = select(BudgetAction).where(col(BudgetAction.budget_id) == budget_id, col(BudgetAction.status).in_(OPEN))
    ids = []
    for row in session.execute(stmt).scalars():
        row.status, row.message = CANCELLED, f"the budget was deleted by {actor.username}"
        session.add(row)
        audit.record(session, actor.username, "cancel", OBJECT_TYPE, row.id, {"budget": row.budget_name})
        ids.append(row.id)
    return ids


def _acting(session: Session, row: BudgetAction, budget: Budget | None) -> tuple[Actor | None, str]:
    """Who the sidecar acts for (the approver, or the owner of an automatic action), or why it may not."""
    if budget is None:
        return None, "the budget was deleted"
    name = budget.owner if row.approved_by == "automatic" else row.approved_by
    actor = actor_from_store(session, name)
    if actor is None:
        return None, f"{name} is no longer a user"
    if not budgets.may_see(session, actor, budget):
        return None, f"{name} may no longer act for budget {budget.name!r}"
    return actor, ""


def _finish(session: Session, row: BudgetAction, status: str, message: str, **fields) -> None:
    row.status, row.message = status, message
    for key, value in fields.items():
        setattr(row, key, value)
    session.add(row)
    audit.record(session, "sidecar", status, OBJECT_TYPE, row.id, {"budget": row.budget_name, "message": message})
    session.commit()


def carry_out_due(*, session: Session, settings: Any, now: datetime | None = None, clients=None) -> dict:
    """Carry out approved actions (re-checked, see the module docstring); counts by outcome status."""
    now = now or datetime.now(UTC)
    counts: dict[str, int] = {}
    rows = list(session.execute(select(BudgetAction).where(col(BudgetAction.status) == APPROVED)
                                .order_by(col(BudgetAction.id))).scalars())  # fmt: skip
    for row in rows:
        budget = session.get(Budget, row.budget_id)
        if row.period_end <= now.date():
            _finish(session, row, EXPIRED, "the period ended before it was carried out")
        elif (acting := _acting(session, row, budget))[0] is None:
            _finish(session, row, REFUSED, f"not carried out: {acting[1]}")
        else:
            assert budget is not None and acting[0] is not None
            row.status = RUNNING
            session.add(row)
            session.commit()
            try:
                _carry_out(session, row, budget, acting[0], settings, clients)
            except Exception as exc:  # an action's failure must not stop the others
                session.rollback()
                log.exception("budget action %s failed", row.id)
                again = session.get(BudgetAction, row.id)
                assert again is not None
                _finish(session, again, FAILED, f"{type(exc).__name__}: {exc}")
        counts[row.status] = counts.get(row.status, 0) + 1
    return counts


def _carry_out(session: Session, row: BudgetAction, budget: Budget, actor: Actor, settings: Any, clients) -> None:
    if row.action == "schedule":
        if budget.scope == "group":
            targets = [TargetSpec(group=str(budget.group_id))]
        else:
            mine = [
                r for r in budget_costs.scope_resources(session, budget) if actor.is_admin or r.owner == actor.username
            ]
            targets = [TargetSpec(resource_type=r.resource_type, resource_id=r.resource_id) for r in mine]
        added = schedules.attach(session=session, actor=actor, schedule_id=row.schedule_id, targets=targets,
                                 why=f"budget action {row.id}")  # fmt: skip
        _finish(session, row, DONE, f"schedule {row.schedule_name} attached ({len(added)} targets added)",
                result={"targets": added}, done_at=utcnow())  # fmt: skip
        return
    approved = {
        (r["resource_type"], r["resource_id"]) for r in row.preview.get("resources", []) if r["change"] == "stop"
    }
    items, kept = [], []
    for res in budget_costs.scope_resources(session, budget):
        if (res.resource_type, res.resource_id) not in approved:
            continue
        out = actuation.outcome(res, res.resource_type, res.resource_id)
        if protected(res):  # tagged since the preview
            kept.append({**out, "after": out["before"], "outcome": "unchanged", "error": f"kept: {PROTECT_TAG}=true"})
        else:
            items.append((res, out, f"budget:{row.id}"))
    actuation.act_many(session, actor=actor, action="stop", items=items, settings=settings, clients=clients)
    results = [out for _res, out, _cause in items] + kept
    failed = sum(1 for r in results if r["outcome"] in ("failed", "refused"))
    stopped = sum(1 for r in results if r["outcome"] in ("changed", "recorded"))
    status = FAILED if failed and not stopped else DONE
    _finish(session, row, status, f"{stopped} stopped, {failed} failed or refused, {len(kept)} kept",
            result={"resources": results}, done_at=utcnow())  # fmt: skip


def undo_due(*, session: Session, settings: Any, now: datetime | None = None, clients=None) -> int:
    """Undo done actions whose period has ended (see the module docstring); how many were undone."""
    now = now or datetime.now(UTC)
    stmt = select(BudgetAction).where(col(BudgetAction.status) == DONE, col(BudgetAction.period_end) <= now.date())
    undone = 0
    for row in list(session.execute(stmt.order_by(col(BudgetAction.id))).scalars()):
        try:
            _undo(session, row, settings, clients)
            undone += 1
        except Exception as exc:  # keep it `done`: the next round tries again
            session.rollback()
            log.exception("undoing budget action %s failed: %s", row.id, exc)
    return undone


def _undo(session: Session, row: BudgetAction, settings: Any, clients) -> None:
    if row.action == "schedule":
        added = list(row.result.get("targets", []))
        removed = schedules.detach(session=session, actor="sidecar", schedule_id=row.schedule_id, target_ids=added,
                                   why=f"undo budget action {row.id}")  # fmt: skip
        _finish(session, row, UNDONE, f"period over: schedule {row.schedule_name} detached ({removed} targets)",
                undo_result={"removed": removed}, undone_at=utcnow())  # fmt: skip
        return
    actor = Actor(f"budget:{row.id}", is_admin=True)  # restores exactly what it stopped, nothing else
    items = []
    for item in row.result.get("resources", []):
        if item.get("outcome") not in ("changed", "recorded"):
            continue
        res = get_resource(session=session, resource_type=item["resource_type"], resource_id=item["resource_id"])
        if res is not None and not _running(res):
            items.append((res, actuation.outcome(res, res.resource_type, res.resource_id), f"budget_undo:{row.id}"))
    actuation.act_many(session, actor=actor, action="start", items=items, settings=settings, clients=clients)
    results = [out for _res, out, _cause in items]
    started = sum(1 for r in results if r["outcome"] in ("changed", "recorded", "unchanged"))
    _finish(session, row, UNDONE, f"period over: {started} of {len(results)} started again",
            undo_result={"resources": results}, undone_at=utcnow())  # fmt: skip


def close_interrupted(*, session: Session) -> int:
    """Actions a stopped sidecar was carrying out: failed, with what to check (the resources' states tell)."""
    rows = list(session.execute(select(BudgetAction).where(col(BudgetAction.status) == RUNNING)).scalars())
    for row in rows:
        row.status = FAILED
        row.message = "the sidecar stopped while carrying it out: check the resources' states before approving again"
        session.add(row)
    session.commit()
    return len(rows)


def recent(*, session: Session, actor: Actor, budget_id: int | None = None, limit: int = 200) -> pd.DataFrame:
    """Actions of the budgets the actor may see, newest first (COLUMNS)."""
    ids = {b.id for b in budgets.visible(session, actor)}
    stmt = select(BudgetAction).order_by(col(BudgetAction.id).desc()).limit(limit)
    if budget_id is not None:
        stmt = stmt.where(col(BudgetAction.budget_id) == budget_id)
    out = []
    for r in session.execute(stmt).scalars():
        if actor.is_admin or r.budget_id in ids:
            what = r.action + (f" {r.schedule_name}" if r.schedule_name else "")
            out.append([r.id, r.created_at, r.budget_name, r.threshold, what, f"{r.period_start} - {r.period_end}",
                        r.status, len(r.preview.get("resources", [])), r.preview.get("saved_per_day", 0.0),
                        r.approved_by, r.done_at, r.undone_at, r.message])  # fmt: skip
    return pd.DataFrame(out, columns=COLUMNS)


def preview_frame(*, session: Session, actor: Actor, action_id: int) -> pd.DataFrame:
    """The resources an action's preview lists (PREVIEW_COLUMNS)."""
    row, _budget = load(session, actor, action_id)
    return pd.DataFrame(row.preview.get("resources", []), columns=PREVIEW_COLUMNS)
