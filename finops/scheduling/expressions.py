"""The day fields of a period in AWS Instance Scheduler's language: weekdays, month days and months.

- weekdays: `mon`..`sun` (or full names, or 0-6 with Monday 0), ranges `mon-fri` (wrapping: `fri-mon`), steps
  `mon-fri/2`, the nth weekday of the month `mon#1` (1-5), the last one `friL`;
- month days: 1-31, ranges `1-15`, steps `1/7` (from 1, every 7th), `L` the last day, `15W` the weekday nearest
  the 15th (within the month);
- months: `jan`..`dec` (or full names, or 1-12), ranges and steps.
Items are comma-separated; a field that is absent matches every day, an empty one is refused.
"""

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = tuple(calendar.month_name[1:])

Matcher = Callable[[date], bool]


class ExpressionError(ValueError):
    """A day field does not parse; the message names the item and what is allowed."""


def _names(full: tuple[str, ...], first: int) -> dict[str, int]:
    out = {}
    for i, name in enumerate(full):
        out[name.lower()] = i + first
        out[name.lower()[:3]] = i + first
    return out


WEEKDAY_NAMES = _names(WEEKDAYS, 0)
MONTH_NAMES = _names(MONTHS, 1)


def _value(token: str, names: dict[str, int], lo: int, hi: int, what: str) -> int:
    token = token.strip().lower()
    if token.isdigit():
        value = int(token)
    elif token in names:
        value = names[token]
    else:
        raise ExpressionError(f"{token!r} is not a {what}")
    if not lo <= value <= hi:
        raise ExpressionError(f"{token!r} is out of range for a {what} ({lo}-{hi})")
    return value


def _span(token: str, names: dict[str, int], lo: int, hi: int, what: str, wrap: bool) -> list[int]:
    """The values of `a`, `a-b`, `a/n` or `a-b/n` (a range may wrap around when `wrap`)."""
    part, _, step_text = token.partition("/")
    step = 1
    if step_text:
        if not step_text.isdigit() or int(step_text) < 1:
            raise ExpressionError(f"{token!r}: the step after '/' must be a whole number >= 1")
        step = int(step_text)
    first_text, dash, last_text = part.partition("-")
    first = _value(first_text, names, lo, hi, what)
    if dash:
        last = _value(last_text, names, lo, hi, what)
    else:
        last = hi if step_text else first  # `a/n`: from a to the end, every n-th
    if last < first:
        if not wrap:
            raise ExpressionError(f"{token!r}: a range must go upwards")
        values = list(range(first, hi + 1)) + list(range(lo, last + 1))
    else:
        values = list(range(first, last + 1))
    return values[::step]


def _last_day(day: date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


def _weekday_item(token: str) -> Matcher:
    nth = re.fullmatch(r"([a-z]+|\d)#(\d+)", token)
    if nth:
        weekday = _value(nth[1], WEEKDAY_NAMES, 0, 6, "weekday")
        n = int(nth[2])
        if not 1 <= n <= 5:
            raise ExpressionError(f"{token!r}: the n of {nth[1]}#n must be 1-5")
        return lambda d: d.weekday() == weekday and (d.day - 1) // 7 + 1 == n
    last = re.fullmatch(r"([a-z]+|\d)l", token)
    if last:
        weekday = _value(last[1], WEEKDAY_NAMES, 0, 6, "weekday")
        return lambda d: d.weekday() == weekday and d.day + 7 > _last_day(d)
    values = frozenset(_span(token, WEEKDAY_NAMES, 0, 6, "weekday", wrap=True))
    return lambda d: d.weekday() in values


def _nearest_weekday(d: date, day: int) -> bool:
    """`dayW`: the weekday nearest `day` of d's month, staying inside the month."""
    target = date(d.year, d.month, min(day, _last_day(d)))
    if target.weekday() == 5:  # Saturday: Friday, or Monday when Friday is in the previous month
        target = target - timedelta(days=1) if target.day > 1 else target + timedelta(days=2)
    elif target.weekday() == 6:  # Sunday: Monday, or Friday when Monday is in the next month
        target = target + timedelta(days=1) if target.day < _last_day(d) else target - timedelta(days=2)
    return d == target


def _monthday_item(token: str) -> Matcher:
    if token == "l":
        return lambda d: d.day == _last_day(d)
    weekday = re.fullmatch(r"(\d+)w", token)
    if weekday:
        day = _value(weekday[1], {}, 1, 31, "month day")
        return lambda d: _nearest_weekday(d, day)
    values = frozenset(_span(token, {}, 1, 31, "month day", wrap=False))
    return lambda d: d.day in values


def _month_item(token: str) -> Matcher:
    values = frozenset(_span(token, MONTH_NAMES, 1, 12, "month", wrap=True))
    return lambda d: d.month in values


@dataclass(frozen=True)
class DaySet:
    """The days one field of a period matches (`text` as written; None matches every day)."""

    text: str | None
    matchers: tuple[Matcher, ...]

    def __contains__(self, day: date) -> bool:
        return not self.matchers or any(match(day) for match in self.matchers)


def _parse(text: str | None, item: Callable[[str], Matcher], what: str) -> DaySet:
    if text is None:
        return DaySet(None, ())
    tokens = [t.strip().lower() for t in str(text).split(",")]
    if not any(tokens):
        raise ExpressionError(f"an empty list of {what}s matches no day: leave the field out to mean every day")
    if not all(tokens):
        raise ExpressionError(f"{text!r} has an empty item between commas")
    return DaySet(str(text).strip(), tuple(item(t) for t in tokens))


def weekdays(text: str | None) -> DaySet:
    return _parse(text, _weekday_item, "weekday")


def monthdays(text: str | None) -> DaySet:
    return _parse(text, _monthday_item, "month day")


def months(text: str | None) -> DaySet:
    return _parse(text, _month_item, "month")
