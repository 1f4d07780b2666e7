"""Schedules as pure functions: day expressions, desired state at an instant, transitions over a range, across DST
in Europe/Berlin and America/New_York (wall clock: a skipped time means the next valid minute, a repeated time its
first occurrence)."""

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from finops.scheduling import expressions
from finops.scheduling.calendars import Holidays, country_holidays, ics_days
from finops.scheduling.expressions import ExpressionError
from finops.scheduling.specs import SpecError, check_override_until
from finops.scheduling.timetable import (
    ANY,
    RUNNING,
    STOPPED,
    Override,
    Timetable,
    _step,
    desired_state,
    make_period,
    running_hours,
    transitions,
    union_running_hours,
    wall_instant,
)

BER, NYC = ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")


def at(zone: ZoneInfo, text: str) -> datetime:
    """A wall time in `zone` (first occurrence) as an aware datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=zone)


@pytest.mark.parametrize(
    ("field", "text", "yes", "no"),
    [
        ("weekdays", "mon-fri", ["2026-11-30", "2026-12-04"], ["2026-12-05", "2026-12-06"]),
        ("weekdays", "fri-mon", ["2026-12-04", "2026-12-07"], ["2026-12-08"]),  # a range may wrap
        ("weekdays", "0,6", ["2026-11-30", "2026-12-06"], ["2026-12-01"]),  # Monday is 0, as in ISch
        ("weekdays", "mon#1", ["2026-12-07", "2027-02-01"], ["2026-12-14", "2026-11-30"]),
        ("weekdays", "friL", ["2026-12-25", "2027-02-26"], ["2026-12-18"]),
        ("weekdays", "mon-fri/2", ["2026-11-30", "2026-12-02", "2026-12-04"], ["2026-12-01", "2026-12-03"]),
        ("monthdays", "L", ["2026-02-28", "2028-02-29", "2026-12-31"], ["2028-02-28", "2026-12-30"]),
        ("monthdays", "1-3,L", ["2026-12-02", "2026-12-31"], ["2026-12-04"]),
        ("monthdays", "1/10", ["2026-12-01", "2026-12-11", "2026-12-21", "2026-12-31"], ["2026-12-02"]),
        ("monthdays", "15W", ["2026-11-16", "2026-08-14"], ["2026-11-15", "2026-08-15"]),  # Sun -> Mon, Sat -> Fri
        ("monthdays", "1W", ["2026-08-03"], ["2026-07-31"]),  # Saturday the 1st: Monday, never the month before
        ("months", "nov-feb", ["2026-12-01", "2027-01-15"], ["2026-06-01"]),
        ("months", "march,9", ["2027-03-01", "2026-09-30"], ["2026-10-01"]),
    ],
)
def test_day_expressions(field, text, yes, no):
    days = getattr(expressions, field)(text)
    assert all(date.fromisoformat(d) in days for d in yes)
    assert not any(date.fromisoformat(d) in days for d in no)


@pytest.mark.parametrize(
    ("field", "text", "message"),
    [
        ("weekdays", "mon#6", "the n of mon#n must be 1-5"),
        ("weekdays", "", "an empty list of weekdays matches no day"),
        ("weekdays", "mon,,fri", "empty item between commas"),
        ("weekdays", "funday", "'funday' is not a weekday"),
        ("monthdays", "32", "out of range for a month day"),
        ("monthdays", "20-10", "a range must go upwards"),
        ("months", "smarch", "is not a month"),
        ("monthdays", "1/0", "the step after '/' must be a whole number >= 1"),
    ],
)
def test_bad_day_expressions(field, text, message):
    with pytest.raises(ExpressionError, match=message):
        getattr(expressions, field)(text)


@pytest.mark.parametrize(
    ("begin", "end", "message"),
    [("25:00", "06:00", "begin: '25:00' is not a time of day"), ("08:00", "8", "end: '8' is not a time"),
     ("09:00", "09:00", "end: equals begin")],
)  # fmt: skip
def test_bad_times(begin, end, message):
    with pytest.raises(ExpressionError, match=message):
        make_period(begin, end)


OFFICE = Timetable(BER, (make_period("08:00", "20:00", "mon-fri"),))
NIGHTS = Timetable(NYC, (make_period("22:00", "06:00", "fri"),))  # overnight into Saturday
BEGIN_ONLY = Timetable(BER, (make_period("09:00", None, "mon-fri"),))
END_ONLY = Timetable(BER, (make_period(None, "18:00", "mon-fri"),))
ADJACENT = Timetable(BER, (make_period("08:00", "12:00"), make_period("12:01", "17:00")))


@pytest.mark.parametrize(
    ("timetable", "wall", "zone", "state"),
    [
        (OFFICE, "2026-11-30T07:59", BER, STOPPED),
        (OFFICE, "2026-11-30T08:00", BER, RUNNING),  # begin included
        (OFFICE, "2026-11-30T19:59", BER, RUNNING),
        (OFFICE, "2026-11-30T20:00", BER, STOPPED),  # end excluded
        (OFFICE, "2026-12-05T12:00", BER, STOPPED),  # Saturday
        (NIGHTS, "2026-11-27T21:59", NYC, STOPPED),
        (NIGHTS, "2026-11-27T22:00", NYC, RUNNING),
        (NIGHTS, "2026-11-28T05:59", NYC, RUNNING),  # Saturday morning: still Friday's night
        (NIGHTS, "2026-11-28T06:00", NYC, STOPPED),
        (NIGHTS, "2026-11-28T22:30", NYC, STOPPED),  # Saturday night: not a Friday
        (BEGIN_ONLY, "2026-12-01T08:00", BER, ANY),  # before the begin: left alone (running since Monday)
        (BEGIN_ONLY, "2026-12-01T09:00", BER, RUNNING),
        (BEGIN_ONLY, "2026-12-05T10:00", BER, STOPPED),  # Saturday: stopped
        (END_ONLY, "2026-12-01T17:00", BER, ANY),
        (END_ONLY, "2026-12-01T18:00", BER, STOPPED),
        (ADJACENT, "2026-12-01T12:00", BER, RUNNING),  # between two periods a minute apart: kept running
        (ADJACENT, "2026-12-01T17:00", BER, STOPPED),
    ],
)
def test_desired_state(timetable, wall, zone, state):
    assert desired_state(timetable, at(zone, wall)).state == state


@pytest.mark.parametrize(
    ("zone", "day", "wall", "expected_utc"),
    [
        (BER, "2027-03-28", "02:30", "2027-03-28T01:00"),  # skipped: 03:00 CEST, the next valid minute
        (BER, "2027-10-31", "02:30", "2027-10-31T00:30"),  # repeated: the first (CEST) occurrence
        (NYC, "2027-03-14", "02:15", "2027-03-14T07:00"),  # skipped: 03:00 EDT
        (NYC, "2027-11-07", "01:30", "2027-11-07T05:30"),  # repeated: the first (EDT) occurrence
        (BER, "2027-06-01", "08:00", "2027-06-01T06:00"),
    ],
)
def test_wall_clock_rules(zone, day, wall, expected_utc):
    hour, minute = map(int, wall.split(":"))
    from datetime import time

    got = wall_instant(date.fromisoformat(day), time(hour, minute), zone)
    assert got == datetime.fromisoformat(expected_utc).replace(tzinfo=UTC)


def actions(timetable, start: str, end: str, zone=UTC) -> list[tuple[str, str]]:
    lo, hi = at(zone, start), at(zone, end)
    return [(t.local.isoformat(timespec="minutes"), t.action) for t in transitions(timetable, lo, hi)]


def test_transitions_across_spring_forward_in_berlin():
    timetable = Timetable(BER, (make_period("02:30", "18:00"),))
    assert actions(timetable, "2027-03-27T00:00", "2027-03-29T00:00") == [
        ("2027-03-27T02:30+01:00", "start"),
        ("2027-03-27T18:00+01:00", "stop"),
        ("2027-03-28T03:00+02:00", "start"),  # 02:30 does not exist that night
        ("2027-03-28T18:00+02:00", "stop"),
    ]


def test_transitions_across_fall_back_in_new_york_happen_once():
    timetable = Timetable(NYC, (make_period("01:30", "01:45"),))
    got = actions(timetable, "2027-11-07T00:00", "2027-11-08T00:00", NYC)
    assert got == [("2027-11-07T01:30-04:00", "start"), ("2027-11-07T01:45-04:00", "stop")]  # not again at EST


def test_transitions_of_overnight_begin_only_and_nth_weekday_periods():
    assert actions(NIGHTS, "2026-11-25T00:00", "2026-12-02T00:00", NYC) == [
        ("2026-11-27T22:00-05:00", "start"),
        ("2026-11-28T06:00-05:00", "stop"),
    ]
    assert actions(BEGIN_ONLY, "2026-11-29T12:00", "2026-12-08T00:00", BER) == [
        ("2026-11-30T09:00+01:00", "start"),
        ("2026-12-05T00:00+01:00", "stop"),  # running until the end of Friday, as ISch does
        ("2026-12-07T09:00+01:00", "start"),
    ]
    first_monday = Timetable(BER, (make_period("06:00", "07:00", "mon#1"),))
    assert [a for _, a in actions(first_monday, "2026-12-01T00:00", "2027-03-01T00:00", BER)] == ["start", "stop"] * 3


def test_holidays_exceptions_and_overrides_in_order():
    christmas = date(2026, 12, 25)
    timetable = Timetable(
        BER,
        (make_period("08:00", "20:00", "mon-fri"),),
        holidays=Holidays((country_holidays("DE"),)),
        exceptions={date(2026, 12, 26): RUNNING, date(2026, 12, 28): STOPPED},
        overrides=(Override(RUNNING, at(BER, "2026-12-28T12:00").astimezone(UTC), at(BER, "2026-12-28T14:00")),),
    )
    assert desired_state(timetable, at(BER, "2026-12-25T10:00")).state == STOPPED  # Christmas Day (a Friday)
    assert desired_state(timetable, at(BER, "2026-12-25T10:00")).reason == f"holiday on {christmas}"
    assert desired_state(timetable, at(BER, "2026-12-26T03:00")).state == RUNNING  # an exception beats a holiday
    assert desired_state(timetable, at(BER, "2026-12-28T10:00")).state == STOPPED  # exception on a Monday
    decision = desired_state(timetable, at(BER, "2026-12-28T13:00"))
    assert (decision.state, decision.reason) == (RUNNING, "override until 2026-12-28 13:00 UTC")
    assert actions(timetable, "2026-12-28T00:00", "2026-12-29T00:00", BER) == [
        ("2026-12-28T12:00+01:00", "start"),
        ("2026-12-28T14:00+01:00", "stop"),
    ]


def test_an_icalendar_of_blackout_days():
    ics = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//finops//test//EN\r\nBEGIN:VEVENT\r\nUID:freeze@test\r\n"
        "DTSTART;VALUE=DATE:20261221\r\nDTEND;VALUE=DATE:20261224\r\nSUMMARY:Change freeze\r\n"
        "RRULE:FREQ=YEARLY\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    days = ics_days(ics, today=date(2026, 11, 30))
    assert {date(2026, 12, 21), date(2026, 12, 23), date(2027, 12, 22)} <= days and date(2026, 12, 24) not in days
    timetable = Timetable(BER, (make_period("08:00", "20:00"),), holidays=Holidays((days,)))
    assert desired_state(timetable, at(BER, "2026-12-22T12:00")).state == STOPPED
    with pytest.raises(ExpressionError, match="holidays.ics: not an iCalendar file"):
        ics_days("BEGIN:VEVENT\r\nnonsense")


def test_running_hours_of_an_office_week():
    hours = running_hours(OFFICE, at(BER, "2026-11-30T00:00"), at(BER, "2026-12-07T00:00"))
    assert hours == 60.0  # 5 x 12: 108 of 168 hours stopped


def test_an_override_must_end_in_the_future():
    with time_machine.travel(datetime(2026, 12, 4, 17, 0, tzinfo=UTC), tick=False):
        assert check_override_until("2026-12-04T19:00", zone="Europe/Berlin") == datetime(
            2026, 12, 4, 18, 0, tzinfo=UTC
        )
        with pytest.raises(SpecError, match="until: 2026-12-04 16:00 UTC is in the past"):
            check_override_until("2026-12-04T17:00", zone="Europe/Berlin")
        with pytest.raises(SpecError, match="is not an ISO 8601 time"):
            check_override_until("friday 18:00")


def _random_table(rng) -> Timetable:
    zone = ZoneInfo(rng.choice(["UTC", "Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata"]))
    periods = []
    for _ in range(rng.randint(1, 3)):
        begin, end = f"{rng.randint(0, 23):02d}:{rng.choice(['00', '30'])}", f"{rng.randint(0, 23):02d}:00"
        kind = rng.random()
        days = {"weekdays_text": rng.choice(["mon-fri", "sat,sun", "mon#1", "friL", None])}
        if kind < 0.2:
            days = {"monthdays_text": rng.choice(["1-15", "L", "10,20"])}
        try:
            periods.append(make_period(begin if rng.random() > 0.1 else None, end, **days))
        except ExpressionError:  # begin == end, say
            continue
    start = date(2026, 1, 1)
    holidays = frozenset(start + timedelta(days=rng.randint(0, 400)) for _ in range(rng.randint(0, 6)))
    exceptions = {start + timedelta(days=rng.randint(0, 400)): rng.choice(["running", "stopped"]) for _ in range(3)}
    at = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=rng.randint(0, 8000))
    overrides = (Override(rng.choice(["running", "stopped"]), at, at + timedelta(hours=rng.randint(1, 60))),)
    return Timetable(timezone=zone, periods=tuple(periods), holidays=holidays, exceptions=exceptions,
                     overrides=overrides if rng.random() < 0.5 else ())  # fmt: skip


@pytest.mark.parametrize("seed", range(40))
def test_union_running_hours_by_kinds_of_day_equals_stepping_through_every_boundary(seed):
    """The per-day shortcut against the plain walk, on random timetables across DST changes, holidays,
    exceptions, overrides and overnight periods, for windows from minutes to a year."""
    rng = random.Random(seed)
    tables = [_random_table(rng) for _ in range(rng.randint(1, 3))]
    start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randint(0, 300 * 24 * 60))
    end = start + timedelta(minutes=rng.choice([7, 300, 2000, 40_000, 200_000, 525_600]))
    running = rng.random() < 0.5
    assert union_running_hours(tables, start, end, running) == pytest.approx(
        _step(tables, start, end, running)[0], abs=1e-6
    )
