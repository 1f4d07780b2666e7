"""Schedules in the store, the one module that writes them (with their periods, exceptions, targets and
overrides), with the access rules inside: the owner or an admin sees and changes a schedule; a member targets
only groups they own and resources they may stop (`finops.data.access`); every change is audited.

`timetable` turns a stored schedule into the pure `finops.scheduling.timetable.Timetable` the reconciler and the
pages evaluate.
"""

from dataclasses import replace
from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from finops.data import audit
from finops.data.access import Actor, Forbidden, NotFound, actor_from_store, refusal
from finops.data.groups import GroupError
from finops.data.groups import _load as load_group
from finops.data.groups import _may_change as may_change_group
from finops.data.resources import RESOURCE_TYPES, get_resource
from finops.data.tables import (
    ResourceGroup,
    Schedule,
    ScheduleException,
    ScheduleOverride,
    SchedulePeriod,
    ScheduleTarget,
    utcnow,
)
from finops.scheduling import calendars
from finops.scheduling.expressions import ExpressionError
from finops.scheduling.specs import PeriodSpec, ScheduleSpec, SpecError, TargetSpec, check_override_until, check_spec
from finops.scheduling.timetable import STATES, Override, Timetable, make_period

OBJECT_TYPE = "schedule"
LIST_COLUMNS = ["id", "name", "owner", "timezone", "periods", "targets", "enforced", "retain_running", "active"]


class ScheduleError(ValueError):
    """A schedule operation was refused for a reason the user can fix; the message names the field."""


def _visible(actor: Actor):
    return [] if actor.is_admin else [col(Schedule.owner) == actor.username]


def load(session: Session, actor: Actor, schedule_id: int) -> Schedule:
    """The schedule, if the actor may see it (the owner or an admin); NotFound otherwise."""
    try:
        row = session.get(Schedule, int(schedule_id))
    except (TypeError, ValueError):
        row = None
    if row is None or not (actor.is_admin or row.owner == actor.username):
        raise NotFound(f"no schedule {schedule_id}")
    return row


def by_name(session: Session, actor: Actor, name: str, owner: str | None = None) -> Schedule:
    """The schedule named `name` (the actor's own first, then, for an admin, anyone's); NotFound otherwise."""
    stmt = select(Schedule).where(col(Schedule.name) == name, *_visible(actor)).order_by(col(Schedule.id))
    rows = session.execute(stmt).scalars().all()
    if owner:
        rows = [r for r in rows if r.owner == owner]
    mine = [r for r in rows if r.owner == actor.username]
    if mine or len(rows) == 1:
        return (mine or rows)[0]
    if rows:
        raise ScheduleError(f"{len(rows)} schedules are named {name!r}: say whose (owner {rows[0].owner}, ...)")
    raise NotFound(f"no schedule named {name!r}")


def _resolve_target(session: Session, owner: Actor, target: TargetSpec, where: str) -> ScheduleTarget:
    """A target the owner may schedule: a group they may change (by name or id), or a resource they may stop."""
    if target.group:
        stmt = select(ResourceGroup).where(col(ResourceGroup.name) == target.group)
        found = [g for g in session.execute(stmt).scalars() if owner.is_admin or g.owner == owner.username]
        if not found and target.group.isdigit():
            found = [load_group(session, owner, int(target.group))]
        if len(found) != 1:
            raise ScheduleError(f"{where}.group: {'no' if not found else 'more than one'} group {target.group!r} "
                                f"that {owner.username} may change")  # fmt: skip
        may_change_group(owner, found[0])
        return ScheduleTarget(schedule_id=0, group_id=found[0].id or 0, group_uid=found[0].uid)  # schedule_id: on save
    if target.resource_type not in RESOURCE_TYPES:
        raise ScheduleError(f"{where}.resource_type: unknown resource type {target.resource_type!r}")
    res = get_resource(session=session, resource_type=target.resource_type, resource_id=target.resource_id)
    if res is None:
        raise ScheduleError(f"{where}.resource_id: {target.resource_type}:{target.resource_id} is not in the inventory")
    why = refusal(owner, res, "schedule")
    if why is not None:
        raise Forbidden(f"{where}: {owner.username} may not schedule {res.resource_type}:{res.resource_id}: {why}")
    return ScheduleTarget(schedule_id=0, resource_type=res.resource_type, resource_id=res.resource_id)


def _owner_of(session: Session, actor: Actor, spec: ScheduleSpec) -> Actor:
    if not spec.owner or spec.owner == actor.username:
        return actor
    if not actor.is_admin:
        raise Forbidden(f"owner: only an admin may save a schedule for {spec.owner!r}")
    owner = actor_from_store(session, spec.owner)
    if owner is None:
        raise ScheduleError(f"owner: no user {spec.owner!r}")
    return owner


def _with_fetched_calendar(spec: ScheduleSpec) -> ScheduleSpec:
    """A spec naming an iCalendar URL gets the calendar's text, fetched now (saving again fetches it again)."""
    if spec.holiday_ics_url and not spec.holiday_ics:
        try:
            return replace(spec, holiday_ics=calendars.fetch_ics(spec.holiday_ics_url))
        except ExpressionError as exc:
            raise SpecError(str(exc)) from None
    return spec


def _check_holidays(spec: ScheduleSpec) -> None:
    try:
        if spec.holiday_country:
            calendars.country_holidays(spec.holiday_country, spec.holiday_subdivision)
        elif spec.holiday_subdivision:
            raise SpecError("holidays.subdivision: give the country too")
        if spec.holiday_ics:
            calendars.ics_days(spec.holiday_ics)
    except ExpressionError as exc:
        raise SpecError(str(exc)) from None


def _write_children(session: Session, row: Schedule, spec: ScheduleSpec, targets: list[ScheduleTarget]) -> None:
    assert row.id is not None
    for model in (SchedulePeriod, ScheduleException, ScheduleTarget):
        session.execute(delete(model).where(col(model.schedule_id) == row.id))
    for i, p in enumerate(spec.periods):
        session.add(SchedulePeriod(schedule_id=row.id, position=i, begin=p.begin, end=p.end, weekdays=p.weekdays,
                                   monthdays=p.monthdays, months=p.months))  # fmt: skip
    for day, state, note in spec.exceptions:
        session.add(ScheduleException(schedule_id=row.id, day=day, state=state, note=note))
    seen = set()
    for target in targets:
        key = (target.group_id, target.resource_type, target.resource_id)
        if key not in seen:
            seen.add(key)
            target.schedule_id = row.id
            session.add(target)


def _apply(row: Schedule, spec: ScheduleSpec) -> None:
    row.name, row.description, row.timezone = spec.name, spec.description, spec.timezone
    row.enforced, row.retain_running, row.active = spec.enforced, spec.retain_running, spec.active
    row.holiday_country, row.holiday_subdivision = spec.holiday_country, spec.holiday_subdivision
    row.holiday_ics, row.holiday_ics_url = spec.holiday_ics, spec.holiday_ics_url
    row.updated_at = utcnow()


def save(
    *, session: Session, actor: Actor, spec: ScheduleSpec, schedule_id: int | None = None, recorded_by: str = ""
) -> Schedule:
    """Create (schedule_id None) or replace a schedule from a checked spec; ScheduleError, SpecError or Forbidden
    name the field, and nothing is saved then. The audit log names `recorded_by` (default: the actor)."""
    spec = _with_fetched_calendar(spec)
    _check_holidays(spec)
    if schedule_id is None:
        owner = _owner_of(session, actor, spec)
        row = Schedule(name=spec.name, owner=owner.username)
    else:
        row = load(session, actor, schedule_id)
        owner = actor_from_store(session, row.owner) or Actor(row.owner)
    targets = [_resolve_target(session, owner, t, f"targets[{i}]") for i, t in enumerate(spec.targets)]
    before = None if schedule_id is None else {"name": row.name, "periods": len(periods_of(session, row.id))}
    _apply(row, spec)
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise ScheduleError(f"name: {owner.username} already has a schedule named {spec.name!r}") from None
    _write_children(session, row, spec, targets)
    detail = {"name": spec.name, "timezone": spec.timezone, "periods": len(spec.periods), "targets": len(targets)}
    audit.record(session, recorded_by or actor.username, "create" if before is None else "update", OBJECT_TYPE, row.id,
                 detail if before is None else {**detail, "before": before})  # fmt: skip
    session.commit()
    session.refresh(row)
    return row


def add_missing(*, session: Session, items: list[dict], recorded_by: str = "demo") -> int:
    """Create the schedules of `items` (the file format, each with its owner) their owner does not have yet, as
    the owner (their rights decide the targets); the audit log names `recorded_by`. Existing ones keep their
    edits."""
    created = 0
    for item in items:
        spec = check_spec(item)
        exists = select(col(Schedule.id)).where(col(Schedule.owner) == spec.owner, col(Schedule.name) == spec.name)
        if session.execute(exists).first() is None:
            owner = actor_from_store(session, spec.owner) or Actor(spec.owner)
            save(session=session, actor=owner, spec=spec, recorded_by=recorded_by)
            created += 1
    return created


def delete_schedule(*, session: Session, actor: Actor, schedule_id: int) -> None:
    """Delete a schedule and what belongs to it (its log and ledger stay); the owner or an admin."""
    row = load(session, actor, schedule_id)
    for model in (SchedulePeriod, ScheduleException, ScheduleTarget, ScheduleOverride):
        session.execute(delete(model).where(col(model.schedule_id) == row.id))
    audit.record(session, actor.username, "delete", OBJECT_TYPE, row.id, {"name": row.name, "owner": row.owner})
    session.delete(row)
    session.commit()


def list_schedules(*, session: Session, actor: Actor) -> pd.DataFrame:
    """The schedules the actor may see, by name (LIST_COLUMNS; periods and targets are counts)."""
    rows = session.execute(
        select(Schedule).where(*_visible(actor)).order_by(col(Schedule.name), col(Schedule.id))
    ).scalars()
    out = []
    for r in rows:
        out.append([r.id, r.name, r.owner, r.timezone, len(periods_of(session, r.id)), len(targets_of(session, r.id)),
                    r.enforced, r.retain_running, r.active])  # fmt: skip
    return pd.DataFrame(out, columns=LIST_COLUMNS)


def periods_of(session: Session, schedule_id: int | None) -> list[SchedulePeriod]:
    stmt = (
        select(SchedulePeriod)
        .where(col(SchedulePeriod.schedule_id) == schedule_id)
        .order_by(col(SchedulePeriod.position))
    )
    return list(session.execute(stmt).scalars())


def targets_of(session: Session, schedule_id: int | None) -> list[ScheduleTarget]:
    stmt = select(ScheduleTarget).where(col(ScheduleTarget.schedule_id) == schedule_id).order_by(col(ScheduleTarget.id))
    return list(session.execute(stmt).scalars())


def exceptions_of(session: Session, schedule_id: int | None) -> list[ScheduleException]:
    stmt = select(ScheduleException).where(col(ScheduleException.schedule_id) == schedule_id)
    return list(session.execute(stmt.order_by(col(ScheduleException.day))).scalars())


def overrides_of(session: Session, schedule_id: int | None, now: datetime | None = None) -> list[ScheduleOverride]:
    """Overrides not cancelled; with `now`, only those still in force."""
    stmt = select(ScheduleOverride).where(
        col(ScheduleOverride.schedule_id) == schedule_id, col(ScheduleOverride.cancelled_at).is_(None)
    )
    rows = list(session.execute(stmt.order_by(col(ScheduleOverride.id))).scalars())
    if now is not None:
        rows = [r for r in rows if _aware(r.until) > now]
    return rows


def spec_of(session: Session, row: Schedule) -> ScheduleSpec:
    """The stored schedule as a spec (what export writes and the edit form starts from)."""
    groups = {g.id: g.name for g in session.execute(select(ResourceGroup)).scalars()}
    targets = tuple(
        TargetSpec(group=groups.get(t.group_id, str(t.group_id))) if t.group_id
        else TargetSpec(resource_type=t.resource_type, resource_id=t.resource_id)
        for t in targets_of(session, row.id)
    )  # fmt: skip
    periods = tuple(PeriodSpec(p.begin, p.end, p.weekdays, p.monthdays, p.months) for p in periods_of(session, row.id))
    return ScheduleSpec(
        name=row.name, timezone=row.timezone, description=row.description, owner=row.owner, periods=periods,
        holiday_country=row.holiday_country, holiday_subdivision=row.holiday_subdivision,
        holiday_ics=row.holiday_ics, holiday_ics_url=row.holiday_ics_url,
        exceptions=tuple((e.day, e.state, e.note) for e in exceptions_of(session, row.id)),
        enforced=row.enforced, retain_running=row.retain_running, active=row.active, targets=targets,
    )  # fmt: skip


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def add_override(
    *,
    session: Session,
    actor: Actor,
    schedule_id: int,
    state: str,
    until,
    reason: str = "",
    now: datetime | None = None,
) -> ScheduleOverride:
    """Force `state` on the schedule from now until `until` (ISO 8601; a naive time is in the schedule's zone),
    with who and why; audited. SpecError names the field (an expiry in the past, say)."""
    row = load(session, actor, schedule_id)
    assert row.id is not None
    if state not in STATES:
        raise SpecError(f"state: must be one of {', '.join(STATES)}")
    now = now or datetime.now(UTC)
    moment = check_override_until(until, now, row.timezone)
    reason = (reason or "").strip()
    if len(reason) > 500:
        raise SpecError("reason: must be at most 500 characters")
    override = ScheduleOverride(schedule_id=row.id, state=state, starts_at=now, until=moment, reason=reason,
                                created_by=actor.username)  # fmt: skip
    session.add(override)
    session.flush()
    audit.record(session, actor.username, "override", OBJECT_TYPE, row.id,
                 {"override": override.id, "state": state, "until": moment.isoformat(), "reason": reason})  # fmt: skip
    session.commit()
    session.refresh(override)
    return override


def cancel_override(*, session: Session, actor: Actor, override_id: int) -> None:
    """End an override now; audited."""
    override = session.get(ScheduleOverride, int(override_id))
    if override is None:
        raise NotFound(f"no override {override_id}")
    load(session, actor, override.schedule_id)
    if override.cancelled_at is None:
        override.cancelled_at, override.cancelled_by = utcnow(), actor.username
        session.add(override)
        audit.record(session, actor.username, "cancel_override", OBJECT_TYPE, override.schedule_id,
                     {"override": override.id})  # fmt: skip
        session.commit()


def attach(*, session: Session, actor: Actor, schedule_id: int, targets: list[TargetSpec], why: str) -> list[int]:
    """Add targets to a schedule for someone entitled to it (a budget's action); the ids of the targets added
    (those already there are left out, so `detach` removes only what this added). Audited; the caller commits."""
    row = load(session, actor, schedule_id)
    assert row.id is not None
    have = {(t.group_id, t.resource_type, t.resource_id) for t in targets_of(session, row.id)}
    added = []
    for i, spec in enumerate(targets):
        target = _resolve_target(session, actor, spec, f"targets[{i}]")
        if (target.group_id, target.resource_type, target.resource_id) not in have:
            target.schedule_id = row.id
            session.add(target)
            session.flush()
            assert target.id is not None
            added.append(target.id)
    audit.record(session, actor.username, "attach", OBJECT_TYPE, row.id, {"targets": added, "why": why})
    return added


def detach(*, session: Session, actor: str, schedule_id: int, target_ids: list[int], why: str) -> int:
    """Remove targets `attach` added (a budget's undo); how many were still there. Audited; the caller commits."""
    if not target_ids:
        return 0
    mine = (col(ScheduleTarget.id).in_(target_ids), col(ScheduleTarget.schedule_id) == schedule_id)
    there = len(session.execute(select(col(ScheduleTarget.id)).where(*mine)).all())
    session.execute(delete(ScheduleTarget).where(*mine))
    audit.record(session, actor, "detach", OBJECT_TYPE, schedule_id, {"targets": target_ids, "why": why})
    return there


@lru_cache(maxsize=256)
def _ics(text: str):
    return calendars.ics_days(text)


def _holidays(country: str, subdivision: str, ics: str) -> calendars.Holidays:
    parts = []
    if country:
        parts.append(calendars.country_holidays(country, subdivision))
    if ics:
        parts.append(_ics(ics))
    return calendars.Holidays(tuple(parts))


def draft_timetable(spec: ScheduleSpec) -> Timetable:
    """A checked spec, not saved, ready to evaluate (the editor's preview); ExpressionError for bad holidays."""
    periods = tuple(make_period(p.begin, p.end, p.weekdays, p.monthdays, p.months) for p in spec.periods)
    return Timetable(
        timezone=ZoneInfo(spec.timezone), periods=periods,
        holidays=_holidays(spec.holiday_country, spec.holiday_subdivision, spec.holiday_ics),
        exceptions={day: state for day, state, _ in spec.exceptions},
    )  # fmt: skip


def timetable(session: Session, row: Schedule) -> Timetable:
    """The stored schedule, ready to evaluate (its holidays, exceptions and overrides in force or to come)."""
    return _timetable_of(
        row, periods_of(session, row.id), exceptions_of(session, row.id), overrides_of(session, row.id)
    )


def _timetable_of(row: Schedule, periods, exceptions, overrides) -> Timetable:
    return Timetable(
        timezone=ZoneInfo(row.timezone),
        periods=tuple(make_period(p.begin, p.end, p.weekdays, p.monthdays, p.months) for p in periods),
        holidays=_holidays(row.holiday_country, row.holiday_subdivision, row.holiday_ics),
        exceptions={e.day: e.state for e in exceptions},
        overrides=tuple(Override(o.state, _aware(o.starts_at), _aware(o.until)) for o in overrides),
    )  # fmt: skip


def _by_schedule(session: Session, model, ids: list[int], *where) -> dict[int, list]:
    out: dict[int, list] = {i: [] for i in ids}
    stmt = select(model).where(col(model.schedule_id).in_(ids), *where).order_by(col(model.id))
    for row in session.execute(stmt).scalars():
        out[row.schedule_id].append(row)
    return out


def load_active(session: Session) -> list[tuple[Schedule, Timetable, list[ScheduleTarget]]]:
    """Every active schedule with its timetable and targets, in a handful of queries (the reconciler's tick)."""
    rows = list(session.execute(select(Schedule).where(col(Schedule.active)).order_by(col(Schedule.id))).scalars())
    ids = [r.id for r in rows if r.id is not None]
    if not ids:
        return []
    periods = _by_schedule(session, SchedulePeriod, ids)
    exceptions = _by_schedule(session, ScheduleException, ids)
    overrides = _by_schedule(session, ScheduleOverride, ids, col(ScheduleOverride.cancelled_at).is_(None))
    targets = _by_schedule(session, ScheduleTarget, ids)
    out = []
    for row in rows:
        assert row.id is not None
        ordered = sorted(periods[row.id], key=lambda p: p.position)
        out.append((row, _timetable_of(row, ordered, exceptions[row.id], overrides[row.id]), targets[row.id]))
    return out


__all__ = ["GroupError", "ScheduleError", "SpecError"]
