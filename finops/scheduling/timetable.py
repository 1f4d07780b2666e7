"""When a schedule wants its targets running: the state at an instant and the transitions over a range.

Everything happens on the wall clock of the schedule's IANA time zone. A wall time that does not exist (the hour
skipped on a spring-forward day) means the next valid minute; a wall time that happens twice (a fall-back day)
means its first occurrence. Within a schedule, the first rule that applies decides:

1. an override in force ("keep running until Friday 18:00");
2. a dated exception for the local day (running or stopped all day);
3. a holiday (stopped all day);
4. the periods: `running` if any period says running, else `any` (leave the target as it is) if any says so,
   else `stopped`; as in AWS Instance Scheduler, two periods that nearly touch (running a minute before and a
   minute after) keep the targets running in between.

A period runs on the days its fields match, from `begin` to `end` (end excluded); `end` earlier than `begin`
means overnight (22:00-06:00 runs into the next day). Only `begin`: running from then on, `any` before it. Only
`end`: stopped from then on, `any` before it. Neither: running all day. Days the fields do not match: stopped.
"""

from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from finops.scheduling.expressions import DaySet, ExpressionError, monthdays, months, weekdays

RUNNING, STOPPED, ANY = "running", "stopped", "any"
STATES = (RUNNING, STOPPED)
MINUTE = timedelta(minutes=1)


@dataclass(frozen=True)
class Period:
    """One period: begin and end wall times (either may be None) on the days all three fields match."""

    begin: time | None = None
    end: time | None = None
    weekdays: DaySet = field(default_factory=lambda: weekdays(None))
    monthdays: DaySet = field(default_factory=lambda: monthdays(None))
    months: DaySet = field(default_factory=lambda: months(None))

    @property
    def overnight(self) -> bool:
        return self.begin is not None and self.end is not None and self.end < self.begin

    def matches(self, day: date) -> bool:
        return day in self.weekdays and day in self.monthdays and day in self.months


@dataclass(frozen=True)
class Override:
    """A state forced from `start` until `until` (UTC instants)."""

    state: str
    start: datetime
    until: datetime


@dataclass(frozen=True)
class Timetable:
    """What a schedule says, ready to evaluate: its zone, periods, holidays, exceptions and overrides."""

    timezone: ZoneInfo
    periods: tuple[Period, ...]
    holidays: Container[date] = frozenset()
    exceptions: Mapping[date, str] = field(default_factory=dict)
    overrides: tuple[Override, ...] = ()


@dataclass(frozen=True)
class Decision:
    """The desired state at an instant and the rule that decided it."""

    state: str
    reason: str


@dataclass(frozen=True)
class Transition:
    """A change of desired state: `action` is start or stop; `at` in UTC, `local` in the schedule's zone."""

    at: datetime
    local: datetime
    action: str


def parse_time(text: str | None, what: str) -> time | None:
    """`HH:MM` (00:00-23:59) as a time; None for an empty value. ExpressionError names `what` otherwise."""
    if text is None or str(text).strip() == "":
        return None
    text = str(text).strip()
    parts = text.split(":")
    if len(parts) != 2 or not all(p.isdigit() for p in parts) or len(parts[1]) != 2:
        raise ExpressionError(f"{what}: {text!r} is not a time such as 08:00")
    hour, minute = int(parts[0]), int(parts[1])
    if hour > 23 or minute > 59:
        raise ExpressionError(f"{what}: {text!r} is not a time of day (00:00-23:59)")
    return time(hour, minute)


def make_period(begin=None, end=None, weekdays_text=None, monthdays_text=None, months_text=None) -> Period:
    """A validated period; ExpressionError names the field (begin, end, weekdays, monthdays, months)."""
    begin_time, end_time = parse_time(begin, "begin"), parse_time(end, "end")
    if begin_time is not None and begin_time == end_time:
        raise ExpressionError(f"end: equals begin ({begin}): the period would be empty")
    fields = {}
    for name, text, parse in (
        ("weekdays", weekdays_text, weekdays),
        ("monthdays", monthdays_text, monthdays),
        ("months", months_text, months),
    ):
        try:
            fields[name] = parse(text)
        except ExpressionError as exc:
            raise ExpressionError(f"{name}: {exc}") from None
    return Period(begin_time, end_time, **fields)


def wall_instant(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of `wall` on `day` in `zone`: the first occurrence of a repeated time, the next valid
    minute for a time that does not exist."""
    naive = datetime.combine(day, wall)
    for _ in range(24 * 60):  # a gap is at most a few hours
        local = naive.replace(tzinfo=zone, fold=0)
        if local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == naive:
            return local.astimezone(UTC)
        naive += MINUTE
    raise ValueError(f"no valid wall time after {day} {wall} in {zone}")


def _local_day(instant: datetime, zone: ZoneInfo) -> date:
    return instant.astimezone(zone).date()


def period_state(period: Period, instant: datetime, zone: ZoneInfo) -> str:
    """What one period says at `instant` (running, stopped or any)."""
    day = _local_day(instant, zone)
    if period.overnight:
        yesterday = day - timedelta(days=1)
        assert period.end is not None and period.begin is not None
        if period.matches(yesterday) and instant < wall_instant(day, period.end, zone):
            return RUNNING
        if period.matches(day) and instant >= wall_instant(day, period.begin, zone):
            return RUNNING
        return STOPPED
    if not period.matches(day):
        return STOPPED
    begin = wall_instant(day, period.begin, zone) if period.begin is not None else None
    end = wall_instant(day, period.end, zone) if period.end is not None else None
    if begin is not None and end is not None:
        return RUNNING if begin <= instant < end else STOPPED
    if begin is not None:
        return RUNNING if instant >= begin else ANY
    if end is not None:
        return STOPPED if instant >= end else ANY
    return RUNNING


def _periods_state(periods: Iterable[Period], instant: datetime, zone: ZoneInfo) -> str:
    states = {period_state(p, instant, zone) for p in periods}
    if RUNNING in states:
        return RUNNING
    return ANY if ANY in states else STOPPED


def desired_state(timetable: Timetable, instant: datetime) -> Decision:
    """The schedule's desired state at `instant` (an aware datetime) and why (see the module docstring)."""
    instant = instant.astimezone(UTC)
    for override in timetable.overrides:
        if override.start <= instant < override.until:
            return Decision(override.state, f"override until {override.until.astimezone(UTC):%Y-%m-%d %H:%M} UTC")
    day = _local_day(instant, timetable.timezone)
    if day in timetable.exceptions:
        return Decision(timetable.exceptions[day], f"exception on {day}")
    if day in timetable.holidays:
        return Decision(STOPPED, f"holiday on {day}")
    zone, periods = timetable.timezone, timetable.periods
    state = _periods_state(periods, instant, zone)
    if state == STOPPED and len(periods) > 1:  # periods that nearly touch keep the targets running
        before = _periods_state(periods, instant - MINUTE, zone)
        after = _periods_state(periods, instant + MINUTE, zone)
        if before == RUNNING and after == RUNNING:
            return Decision(RUNNING, "between adjacent periods")
    return Decision(state, "periods" if periods else "no period: stopped")


def _boundaries(timetable: Timetable, start: datetime, end: datetime) -> list[datetime]:
    """Every instant in (start, end] where the desired state may change."""
    zone = timetable.timezone
    first, last = _local_day(start, zone) - timedelta(days=1), _local_day(end, zone) + timedelta(days=1)
    found: set[datetime] = set()
    day = first
    while day <= last:
        found.add(wall_instant(day, time(0, 0), zone))
        for period in timetable.periods:
            for wall in (period.begin, period.end):
                if wall is not None:
                    moment = wall_instant(day, wall, zone)
                    found.update({moment, moment + MINUTE})  # + a minute: the adjacent-periods rule ends there
        day += timedelta(days=1)
    for override in timetable.overrides:
        found.update({override.start, override.until})
    return sorted(t for t in found if start < t <= end)


def transitions(timetable: Timetable, start: datetime, end: datetime) -> list[Transition]:
    """Every start and stop in (start, end]: the instants the desired state becomes running or stopped (a
    change to `any` starts or stops nothing)."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    current = desired_state(timetable, start).state
    out = []
    for moment in _boundaries(timetable, start, end):
        state = desired_state(timetable, moment).state
        if state == ANY or state == current:
            continue
        action = "start" if state == RUNNING else "stop"
        out.append(Transition(moment, moment.astimezone(timetable.timezone), action))
        current = state
    return out


def running_hours(timetable: Timetable, start: datetime, end: datetime) -> float:
    """Hours in [start, end) the schedule wants its targets running (`any` counts as running: nothing stops)."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    points = [start, *_boundaries(timetable, start, end - timedelta(microseconds=1)), end]
    total = timedelta()
    for lo, hi in zip(points, points[1:], strict=False):
        if hi > lo and desired_state(timetable, lo).state != STOPPED:
            total += hi - lo
    return total.total_seconds() / 3600


def _step(tables: list[Timetable], start: datetime, end: datetime, running: bool) -> tuple[float, bool]:
    """Hours running in [start, end) by the union rule, stepping through every boundary; and the state at `end`."""
    cuts = {t for table in tables for t in _boundaries(table, start, end - timedelta(microseconds=1))}
    points = [start, *sorted(cuts), end]
    total = timedelta()
    for lo, hi in zip(points, points[1:], strict=False):
        states = {desired_state(table, lo).state for table in tables}
        running = True if RUNNING in states else False if STOPPED in states else running
        if running and hi > lo:
            total += hi - lo
    return total.total_seconds() / 3600, running


def _day_signature(table: Timetable, start: datetime, end: datetime) -> tuple:
    """What decides a timetable's states over the UTC day [start, end): the zone's offsets, and for each local day
    it touches (and the ones either side: overnight periods, the adjacent-periods rule) which periods match,
    whether it is a holiday or an exception, and any override near it. Days with equal signatures run equally."""
    zone = table.timezone
    first, last = start.astimezone(zone), (end - timedelta(microseconds=1)).astimezone(zone)
    days, day = [], first.date() - timedelta(days=1)
    while day <= last.date() + timedelta(days=1):
        days.append((tuple(p.matches(day) for p in table.periods), day in table.holidays, table.exceptions.get(day)))
        day += timedelta(days=1)
    near = tuple((o.state, o.start, o.until) for o in table.overrides
                 if o.start < end + MINUTE and o.until > start - MINUTE)  # fmt: skip
    return first.utcoffset(), last.utcoffset(), tuple(days), near


def union_running_hours(timetables: Iterable[Timetable], start: datetime, end: datetime, running_now: bool) -> float:
    """Hours in [start, end) a resource under all of `timetables` runs, by the reconciler's union rule: running
    if any says running, else stopped if any says stopped; where all say `any` it keeps its state, which is
    `running_now` at `start`, then whatever the last decision left.

    Whole UTC days are worked out once per distinct day (`_day_signature`): a year of office hours is a handful
    of kinds of day, not 365 walks through every boundary."""
    tables = list(timetables)
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if end <= start:
        return 0.0
    if not tables:
        return (end - start).total_seconds() / 3600 if running_now else 0.0
    first = datetime.combine(start.date(), time(0), tzinfo=UTC)
    first += timedelta(days=1) if first < start else timedelta()
    last = datetime.combine(end.date(), time(0), tzinfo=UTC)
    if first >= last:
        return _step(tables, start, end, running_now)[0]
    total, running = _step(tables, start, first, running_now) if start < first else (0.0, running_now)
    seen: dict[tuple, tuple[float, bool]] = {}
    day = first
    while day < last:
        following = day + timedelta(days=1)
        key = (running, tuple(_day_signature(table, day, following) for table in tables))
        if key not in seen:
            seen[key] = _step(tables, day, following, running)
        hours, running = seen[key]
        total += hours
        day = following
    if last < end:
        total += _step(tables, last, end, running)[0]
    return total
