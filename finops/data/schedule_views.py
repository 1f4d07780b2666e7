"""What the Schedules page and Home show of schedules: targets with their next start and stop, the week grid,
predicted and realised savings, the activity log. Reads only (the owners write: schedules, schedule_runs, ledger).

Savings: predicted = the hours a week a schedule keeps its targets stopped x their hourly cost (over the next 4
weeks, / 4, so holidays and month days count); realised = the ledger's stopped intervals a schedule caused x the
hourly cost then, clipped to the month. Monthly figures use AWS's 730 hours a month.
"""

from datetime import UTC, date, datetime, time, timedelta

import pandas as pd
from sqlalchemy import select
from sqlmodel import Session, col

from finops.costs import add_months, month_start
from finops.data import groups, ledger, schedule_runs, schedules
from finops.data.access import Actor, actor_from_store
from finops.data.tables import Resource, ResourceGroup, Schedule, ScheduleAction
from finops.scheduling.timetable import Timetable, desired_state, running_hours, transitions

HOURS_PER_MONTH = 730
HOURS_PER_WEEK = 168
TARGET_COLUMNS = ["resource_type", "resource_id", "name", "state", "desired", "next_start_local", "next_start_utc",
                  "next_stop_local", "next_stop_utc", "hourly_cost", "saved_this_month"]  # fmt: skip
ACTIVITY_COLUMNS = ["at", "schedule", "resource_type", "resource_id", "action", "before", "after", "error"]


def targets(session: Session, row: Schedule, now: datetime) -> pd.DataFrame:
    """Each resource the schedule targets now, its state, what the schedule wants, and its next start or stop."""
    owner = actor_from_store(session, row.owner) or Actor(row.owner)
    timetable = schedules.timetable(session, row)
    decision = desired_state(timetable, now)
    upcoming = transitions(timetable, now, now + timedelta(days=62))
    start = next((t for t in upcoming if t.action == "start"), None)
    stop = next((t for t in upcoming if t.action == "stop"), None)
    saved = realised(session, now.date(), row.id)
    by_resource = {(r.resource_type, r.resource_id): r.saved for r in saved.itertuples()}
    out = []
    for res in schedule_runs.members(session, row, owner):
        saved_here = round(by_resource.get((res.resource_type, res.resource_id), 0.0), 2)
        out.append([res.resource_type, res.resource_id, res.name, res.state, decision.state, *_when(start),
                    *_when(stop), res.hourly_cost, saved_here])  # fmt: skip
    return pd.DataFrame(out, columns=TARGET_COLUMNS)


def _when(transition) -> list[str]:
    if transition is None:
        return ["", ""]
    return [transition.local.isoformat(timespec="minutes"), transition.at.strftime("%Y-%m-%dT%H:%MZ")]


def realised_by_month(session: Session, schedule_id: int, months: int = 6, today: date | None = None) -> pd.DataFrame:
    """The schedule's realised savings for each of the last `months` calendar months: month, stopped_hours, saved."""
    today = today or datetime.now(UTC).date()
    rows = []
    for back in range(months - 1, -1, -1):
        month = add_months(month_start(today), -back)
        done = realised(session, month, schedule_id)
        rows.append([month, round(float(done["stopped_hours"].sum()), 1) if not done.empty else 0.0,
                     round(float(done["saved"].sum()), 2) if not done.empty else 0.0])  # fmt: skip
    return pd.DataFrame(rows, columns=["month", "stopped_hours", "saved"])


def week_grid(timetable: Timetable, week_of: date) -> pd.DataFrame:
    """The desired state for each weekday x hour of the week holding `week_of` (Monday first), in the schedule's
    zone, read at the middle of each hour: weekday, day, hour, state."""
    monday = week_of - timedelta(days=week_of.weekday())
    rows = []
    for i in range(7):
        day = monday + timedelta(days=i)
        for hour in range(24):
            moment = datetime.combine(day, time(hour, 30), tzinfo=timetable.timezone)
            rows.append([day.strftime("%a"), day, hour, desired_state(timetable, moment).state])
    return pd.DataFrame(rows, columns=["weekday", "day", "hour", "state"])


def stopped_hours_per_week(timetable: Timetable, now: datetime) -> float:
    """Hours a week the schedule keeps its targets stopped, averaged over the next 4 weeks."""
    return HOURS_PER_WEEK - running_hours(timetable, now, now + timedelta(weeks=4)) / 4


def predicted(timetable: Timetable, hourly_cost: float, now: datetime) -> tuple[float, float]:
    """(stopped hours a week, USD a month saved) for targets costing `hourly_cost` in all while running."""
    stopped = stopped_hours_per_week(timetable, now)
    return stopped, stopped / HOURS_PER_WEEK * HOURS_PER_MONTH * hourly_cost


def realised(session: Session, month: date, schedule_id: int | None = None) -> pd.DataFrame:
    """Stopped hours and USD saved in the calendar month of `month`, per schedule and resource (from the ledger):
    schedule_id, resource_type, resource_id, stopped_hours, saved."""
    start = datetime.combine(month_start(month), time(0), tzinfo=UTC)
    end = min(datetime.combine(add_months(month_start(month), 1), time(0), tzinfo=UTC), datetime.now(UTC))
    prefix = f"schedule:{schedule_id}" if schedule_id is not None else "schedule:"
    rows = ledger.intervals(session=session, start=start, end=end, cause_prefix=prefix, state="stopped")
    if rows.empty:
        return pd.DataFrame(columns=["schedule_id", "resource_type", "resource_id", "stopped_hours", "saved"])
    rows["schedule_id"] = rows["cause"].str.split(":").str[1].astype(int)
    rows["stopped_hours"] = (rows["ended_at"] - rows["started_at"]).dt.total_seconds() / 3600
    rows["saved"] = rows["stopped_hours"] * rows["hourly_cost"]
    keys = ["schedule_id", "resource_type", "resource_id"]
    return rows.groupby(keys, as_index=False)[["stopped_hours", "saved"]].sum()


def activity(session: Session, actor: Actor, schedule_id: int | None = None, limit: int = 500) -> pd.DataFrame:
    """The newest schedule actions the actor may see (their schedules'; an admin's: all), ACTIVITY_COLUMNS."""
    stmt = select(ScheduleAction).order_by(col(ScheduleAction.id).desc()).limit(limit)
    if schedule_id is not None:
        stmt = stmt.where(col(ScheduleAction.schedule_id) == schedule_id)
    if not actor.is_admin:
        mine = select(col(Schedule.id)).where(col(Schedule.owner) == actor.username)
        stmt = stmt.where(col(ScheduleAction.schedule_id).in_(mine))
    rows = session.execute(stmt).scalars()
    return pd.DataFrame(
        [[r.at, r.schedule_name, r.resource_type, r.resource_id, r.action, r.before, r.after, r.error] for r in rows],
        columns=ACTIVITY_COLUMNS,
    )


def count_schedules(session: Session) -> int:
    return len(session.execute(select(col(Schedule.id)).where(col(Schedule.active))).all())


def savings_summary(session: Session, actor: Actor, now: datetime) -> tuple[float, float]:
    """(USD a month predicted, USD realised this month) over the schedules the actor may see, for Home."""
    rows = session.execute(select(Schedule).where(col(Schedule.active))).scalars().all()
    rows = [r for r in rows if actor.is_admin or r.owner == actor.username]
    predicted_usd = 0.0
    for row in rows:
        cost = float(targets(session, row, now)["hourly_cost"].sum())
        predicted_usd += predicted(schedules.timetable(session, row), cost, now)[1] if cost else 0.0
    done = realised(session, now.date())
    mine = {r.id for r in rows}
    realised_usd = float(done[done["schedule_id"].isin(mine)]["saved"].sum()) if not done.empty else 0.0
    return predicted_usd, realised_usd


def target_cost(session: Session, actor: Actor, targets) -> float:
    """USD an hour the targets (TargetSpec) cost while running: resources, and the members of groups."""
    total = 0.0
    seen: set[tuple[str, str]] = set()
    for target in targets:
        if target.group:
            by_name = select(ResourceGroup).where(col(ResourceGroup.name) == target.group)
            found = [g for g in session.execute(by_name).scalars() if actor.is_admin or g.owner == actor.username]
            members = [r for g in found for _, r in groups.member_rows(session, g.id) if r is not None]
        else:
            one = select(Resource).where(
                col(Resource.resource_type) == target.resource_type, col(Resource.resource_id) == target.resource_id
            )
            members = list(session.execute(one).scalars())
        for res in members:
            if (res.resource_type, res.resource_id) not in seen:
                seen.add((res.resource_type, res.resource_id))
                total += res.hourly_cost
    return total


def resources_of_owner(session: Session, actor: Actor) -> list[Resource]:
    """Inventory resources the actor may schedule (their own; an admin: all), for the target picker."""
    stmt = select(Resource).order_by(Resource.resource_type, Resource.name)
    if not actor.is_admin:
        stmt = stmt.where(col(Resource.owner) == actor.username)
    return list(session.execute(stmt).scalars())
