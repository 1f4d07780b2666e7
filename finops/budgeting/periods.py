"""Budget periods: calendar months, quarters and years in UTC, the days Cost Explorer bills by.

A period is the half-open day range [start, end); `end` is the first day of the next period.
"""

from datetime import UTC, date, datetime, timedelta

MONTHS = {"monthly": 1, "quarterly": 3, "annual": 12}
PERIODS = tuple(MONTHS)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def bounds(day: date, period: str) -> tuple[date, date]:
    """The period holding `day`: (first day, first day of the next period)."""
    size = MONTHS[period]
    start = date(day.year, (day.month - 1) // size * size + 1, 1)
    return start, _add_months(start, size)


def shift(start: date, period: str, n: int) -> tuple[date, date]:
    """The period `n` periods after the one starting at `start` (n < 0: before)."""
    first = _add_months(start, n * MONTHS[period])
    return first, _add_months(first, MONTHS[period])


def previous(start: date, period: str, n: int) -> list[tuple[date, date]]:
    """The `n` whole periods before the one starting at `start`, oldest first."""
    return [shift(start, period, -k) for k in range(n, 0, -1)]


def label(start: date, period: str) -> str:
    """How people name a period: 2026-11, 2026-Q4, 2026."""
    if period == "monthly":
        return f"{start:%Y-%m}"
    if period == "quarterly":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return str(start.year)


def midnight(day: date) -> datetime:
    """00:00 UTC of `day`, the instant a day (and a period) begins."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def as_of_day(day: date) -> datetime:
    """The instant an evaluation "as of a day" stands at: the end of that UTC day (the day's costs count)."""
    return midnight(day + timedelta(days=1))


def hours_between(start: datetime, end: datetime) -> float:
    return max(0.0, (end - start).total_seconds() / 3600)
