"""Budgets in the store, the one module that writes them (with their thresholds), with the access rules inside:

- a platform budget is admins' alone;
- a user budget is that user's (and admins');
- a group budget is the group owner's (and admins');
- whoever may see a budget may change it and approve its actions; a member sees the figures of their own only.

The owner recorded on a budget must hold those rights when it is saved (a member owns only budgets on themselves
or their groups); the sidecar checks rights again when it acts. Every change is audited.
"""

import pandas as pd
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from finops.budgeting.specs import BudgetSpec, BudgetSpecError, ThresholdSpec, check_channel
from finops.data import audit, schedules
from finops.data.access import Actor, Forbidden, NotFound, actor_from_store
from finops.data.tables import Budget, BudgetPeriod, BudgetThreshold, ResourceGroup, User, utcnow
from finops.money import amount_to_micros, micros_to_amount

OBJECT_TYPE = "budget"
LIST_COLUMNS = ["id", "name", "owner", "scope", "period", "amount", "metric", "thresholds", "active"]


class BudgetError(ValueError):
    """A budget operation was refused for a reason the user can fix; the message names the field."""


def _group(session: Session, row: Budget) -> ResourceGroup | None:
    group = session.get(ResourceGroup, row.group_id) if row.group_id else None
    return group if group is not None and group.uid == row.group_uid else None


def may_see(session: Session, actor: Actor, row: Budget, group_owner: str | None = None) -> bool:
    """Whether the actor may see, change and approve for this budget (see the module docstring)."""
    if actor.is_admin:
        return True
    if row.scope == "user":
        return row.scope_user == actor.username
    if row.scope == "group":
        if group_owner is None:
            group = _group(session, row)
            group_owner = group.owner if group is not None else ""
        return group_owner == actor.username
    return False


def load(session: Session, actor: Actor, budget_id: int) -> Budget:
    """The budget, if the actor may see it; NotFound otherwise (a member cannot tell others' budgets exist)."""
    try:
        row = session.get(Budget, int(budget_id))
    except (TypeError, ValueError):
        row = None
    if row is None or not may_see(session, actor, row):
        raise NotFound(f"no budget {budget_id}")
    return row


def visible(session: Session, actor: Actor) -> list[Budget]:
    """The budgets the actor may see, by name."""
    rows = list(session.execute(select(Budget).order_by(col(Budget.name), col(Budget.id))).scalars())
    if actor.is_admin:
        return rows
    owners = {g.id: (g.uid, g.owner) for g in session.execute(select(ResourceGroup)).scalars()}

    def group_owner(row: Budget) -> str:
        uid, owner = owners.get(row.group_id, ("", ""))
        return owner if uid == row.group_uid else ""

    return [r for r in rows if may_see(session, actor, r, group_owner(r) if r.scope == "group" else None)]


def by_name(session: Session, actor: Actor, name: str, owner: str | None = None) -> Budget:
    """The budget named `name` the actor may see (theirs first); NotFound, or BudgetError when ambiguous."""
    rows = [r for r in visible(session, actor) if r.name == name and (not owner or r.owner == owner)]
    mine = [r for r in rows if r.owner == actor.username]
    if mine or len(rows) == 1:
        return (mine or rows)[0]
    if rows:
        raise BudgetError(f"{len(rows)} budgets are named {name!r}: say whose (owner {rows[0].owner}, ...)")
    raise NotFound(f"no budget named {name!r}")


def _owner_of(session: Session, actor: Actor, spec: BudgetSpec, row: Budget | None) -> Actor:
    wanted = spec.owner or (row.owner if row is not None else actor.username)
    if wanted == actor.username:
        return actor
    if not actor.is_admin:
        raise Forbidden(f"owner: only an admin may save a budget for {wanted!r}")
    owner = actor_from_store(session, wanted)
    if owner is None:
        raise BudgetError(f"owner: no user {wanted!r}")
    return owner


def _resolve_group(session: Session, owner: Actor, name: str) -> ResourceGroup:
    stmt = select(ResourceGroup).where(col(ResourceGroup.name) == name)
    found = [g for g in session.execute(stmt).scalars() if owner.is_admin or g.owner == owner.username]
    if not found and name.isdigit():
        group = session.get(ResourceGroup, int(name))
        found = [group] if group is not None and (owner.is_admin or group.owner == owner.username) else []
    if len(found) > 1:
        mine = [g for g in found if g.owner == owner.username]
        found = mine if len(mine) == 1 else found
    if len(found) != 1:
        many = "more than one" if found else "no"
        raise BudgetError(f"scope.group: {many} group {name!r} that {owner.username} owns (give its id)")
    return found[0]


def _check_scope(session: Session, owner: Actor, spec: BudgetSpec) -> tuple[int, str]:
    """(group id, group uid) of the scope, after checking the owner may hold a budget on it."""
    if spec.scope == "platform":
        if not owner.is_admin:
            raise Forbidden(f"scope: a platform budget is admins' alone ({owner.username} is not an admin)")
        return 0, ""
    if spec.scope == "user":
        if session.execute(select(col(User.id)).where(col(User.username) == spec.scope_user)).first() is None:
            raise BudgetError(f"scope.user: no user {spec.scope_user!r}")
        if not owner.is_admin and spec.scope_user != owner.username:
            raise Forbidden(f"scope.user: {owner.username} may budget only themselves, not {spec.scope_user!r}")
        return 0, ""
    group = _resolve_group(session, owner, spec.scope_group)
    assert group.id is not None
    return group.id, group.uid


def _check_channels(spec: BudgetSpec, known: set[str] | None) -> None:
    for i, t in enumerate(spec.thresholds):
        for j, name in enumerate(t.channels):
            check_channel(name, f"thresholds[{i}].channels[{j}]", known)


def _check_schedules(session: Session, owner: Actor, spec: BudgetSpec) -> None:
    for i, t in enumerate(spec.thresholds):
        if t.action == "schedule":
            try:
                schedules.by_name(session, owner, t.schedule)
            except (NotFound, schedules.ScheduleError):
                raise BudgetError(f"thresholds[{i}].schedule: no schedule named {t.schedule!r} that "
                                  f"{owner.username} may use") from None  # fmt: skip


def check(
    *, session: Session, actor: Actor, spec: BudgetSpec, row: Budget | None = None,
    known_channels: set[str] | None = None,
) -> tuple[Actor, tuple[int, str]]:  # fmt: skip
    """Everything `save` checks, without saving: (the owner, (group id, group uid)); the same errors."""
    owner = _owner_of(session, actor, spec, row)
    scope = _check_scope(session, owner, spec)
    _check_channels(spec, known_channels)
    _check_schedules(session, owner, spec)
    return owner, scope


def save(
    *, session: Session, actor: Actor, spec: BudgetSpec, budget_id: int | None = None,
    known_channels: set[str] | None = None,
    recorded_by: str = "",
) -> Budget:  # fmt: skip
    """Create (budget_id None) or replace a budget from a checked spec. BudgetError, BudgetSpecError or Forbidden
    name the field; nothing is saved then. `known_channels`: the channels settings define (None: not checked);
    the audit log names `recorded_by` (default: the actor)."""
    row = None if budget_id is None else load(session, actor, budget_id)
    owner, (group_id, group_uid) = check(
        session=session, actor=actor, spec=spec, row=row, known_channels=known_channels
    )
    before = None if row is None else {"name": row.name, "amount": _amount(row), "scope": row.scope}
    row = row or Budget(name=spec.name, owner=owner.username, scope=spec.scope)
    row.name, row.description, row.owner, row.scope = spec.name, spec.description, owner.username, spec.scope
    row.scope_user, row.group_id, row.group_uid = spec.scope_user, group_id, group_uid
    row.accounts, row.services = list(spec.accounts), list(spec.services)
    row.period, row.metric, row.active = spec.period, spec.metric, spec.active
    row.amount_micros = None if spec.amount is None else amount_to_micros(spec.amount)
    row.auto_basis, row.auto_periods = spec.auto_basis, spec.auto_periods
    row.updated_at = utcnow()
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise BudgetError(f"name: {owner.username} already has a budget named {spec.name!r}") from None
    assert row.id is not None
    _write_thresholds(session, row.id, spec.thresholds)
    detail = {"name": spec.name, "scope": spec.scope, "period": spec.period, "amount": spec.amount,
              "auto": spec.auto_basis, "thresholds": len(spec.thresholds)}  # fmt: skip
    audit.record(session, recorded_by or actor.username, "create" if before is None else "update", OBJECT_TYPE,
                 row.id, detail if before is None else {**detail, "before": before})  # fmt: skip
    session.commit()
    session.refresh(row)
    return row


def add_missing(*, session: Session, items: list[dict], recorded_by: str = "demo") -> int:
    """Create the budgets of `items` (the file format, each with its owner) their owner does not have yet, as the
    owner with their rights now (one the owner may not hold, say a platform budget of a user who is not an admin
    yet, is left out); the audit log names `recorded_by`. Existing budgets keep their edits."""
    from finops.budgeting.specs import check_spec

    created = 0
    for item in items:
        spec = check_spec(item)
        exists = select(col(Budget.id)).where(col(Budget.owner) == spec.owner, col(Budget.name) == spec.name)
        if session.execute(exists).first() is None:
            owner = actor_from_store(session, spec.owner) or Actor(spec.owner)
            try:
                save(session=session, actor=owner, spec=spec, recorded_by=recorded_by)
            except (BudgetError, Forbidden):
                session.rollback()
                continue
            created += 1
    return created


def _write_thresholds(session: Session, budget_id: int, thresholds: tuple[ThresholdSpec, ...]) -> None:
    """Keep the ids of thresholds that stay the same (their alerts this period still count), replace the rest."""
    old = {(t.at, t.kind, t.on): t for t in thresholds_of(session, budget_id)}
    keep = set()
    for i, t in enumerate(thresholds):
        row = old.get((t.at, t.kind, t.on)) or BudgetThreshold(budget_id=budget_id, at=t.at, kind=t.kind, on=t.on)
        row.position, row.channels, row.action = i, list(t.channels), t.action
        row.approval, row.schedule_name = t.approval, t.schedule
        session.add(row)
        session.flush()
        keep.add(row.id)
    gone = [t.id for t in old.values() if t.id not in keep]
    if gone:
        session.execute(delete(BudgetThreshold).where(col(BudgetThreshold.id).in_(gone)))


def delete_budget(*, session: Session, actor: Actor, budget_id: int) -> None:
    """Delete a budget and its thresholds and period figures (its alerts stay in the history); open actions are
    cancelled; whoever may see it."""
    from finops.data import budget_actions  # the actions module reads budgets: import here, not at the top

    row = load(session, actor, budget_id)
    cancelled = budget_actions.cancel_open(session=session, actor=actor, budget_id=row.id or 0)
    for model in (BudgetThreshold, BudgetPeriod):
        session.execute(delete(model).where(col(model.budget_id) == row.id))
    audit.record(session, actor.username, "delete", OBJECT_TYPE, row.id,
                 {"name": row.name, "owner": row.owner, "cancelled_actions": cancelled})  # fmt: skip
    session.delete(row)
    session.commit()


def thresholds_of(session: Session, budget_id: int | None) -> list[BudgetThreshold]:
    stmt = select(BudgetThreshold).where(col(BudgetThreshold.budget_id) == budget_id)
    return list(session.execute(stmt.order_by(col(BudgetThreshold.position))).scalars())


def thresholds_by_budget(session: Session, ids: list[int]) -> dict[int, list[BudgetThreshold]]:
    out: dict[int, list[BudgetThreshold]] = {i: [] for i in ids}
    stmt = select(BudgetThreshold).where(col(BudgetThreshold.budget_id).in_(ids))
    for t in session.execute(stmt.order_by(col(BudgetThreshold.position))).scalars():
        out[t.budget_id].append(t)
    return out


def threshold_spec(row: BudgetThreshold) -> ThresholdSpec:
    return ThresholdSpec(at=row.at, kind=row.kind, on=row.on, channels=tuple(row.channels), action=row.action,
                         approval=row.approval, schedule=row.schedule_name)  # fmt: skip


def _amount(row: Budget) -> float | None:
    return None if row.amount_micros is None else micros_to_amount(row.amount_micros)


def group_name(session: Session, row: Budget) -> str:
    group = _group(session, row)
    return group.name if group is not None else f"(group {row.group_id} is gone)"


def scope_label(session: Session, row: Budget) -> str:
    """How the list shows a scope: platform (narrowed), user bob, group web."""
    if row.scope == "user":
        return f"user {row.scope_user}"
    if row.scope == "group":
        return f"group {group_name(session, row)}"
    parts = [
        f"{len(row.accounts)} accounts" if row.accounts else "",
        f"{len(row.services)} services" if row.services else "",
    ]
    narrowed = ", ".join(p for p in parts if p)
    return f"platform ({narrowed})" if narrowed else "platform"


def amount_label(row: Budget) -> str:
    if row.amount_micros is not None:
        return f"{micros_to_amount(row.amount_micros):,.2f}"
    return f"auto: average of {row.auto_periods}" if row.auto_basis == "average" else "auto: forecast"


def spec_of(session: Session, row: Budget) -> BudgetSpec:
    """The stored budget as a spec (what export writes and the edit form starts from)."""
    return BudgetSpec(
        name=row.name, description=row.description, owner=row.owner, scope=row.scope, scope_user=row.scope_user,
        scope_group=group_name(session, row) if row.scope == "group" else "",
        accounts=tuple(row.accounts), services=tuple(row.services), period=row.period, amount=_amount(row),
        auto_basis=row.auto_basis, auto_periods=row.auto_periods, metric=row.metric, active=row.active,
        thresholds=tuple(threshold_spec(t) for t in thresholds_of(session, row.id)),
    )  # fmt: skip


def list_budgets(*, session: Session, actor: Actor) -> pd.DataFrame:
    """The budgets the actor may see (LIST_COLUMNS; the amount is fixed, or how it is set)."""
    out = []
    rows = visible(session, actor)
    counts = thresholds_by_budget(session, [r.id for r in rows if r.id is not None])
    for r in rows:
        out.append([r.id, r.name, r.owner, scope_label(session, r), r.period, amount_label(r), r.metric,
                    len(counts.get(r.id or 0, [])), r.active])  # fmt: skip
    return pd.DataFrame(out, columns=LIST_COLUMNS)


def load_active(session: Session) -> list[tuple[Budget, list[BudgetThreshold]]]:
    """Every active budget with its thresholds, in two queries (the evaluation's input)."""
    rows = list(session.execute(select(Budget).where(col(Budget.active)).order_by(col(Budget.id))).scalars())
    by_budget = thresholds_by_budget(session, [r.id for r in rows if r.id is not None])
    return [(r, by_budget.get(r.id or 0, [])) for r in rows]


def owner_actor(session: Session, row: Budget) -> Actor | None:
    """The budget's owner with their rights now (None when the user is gone)."""
    return actor_from_store(session, row.owner)


__all__ = ["BudgetError", "BudgetSpecError"]
