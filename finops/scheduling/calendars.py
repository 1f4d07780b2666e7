"""Holidays a schedule keeps its targets stopped on: a country's public holidays (the `holidays` package) or the
days of an iCalendar of blackout days (`icalendar`, recurring events expanded)."""

from collections.abc import Container
from datetime import date, datetime, timedelta
from functools import lru_cache

from finops.scheduling.expressions import ExpressionError

ICS_YEARS_BACK, ICS_YEARS_AHEAD = 1, 3  # recurring blackout days are expanded over this window
MAX_ICS_BYTES = 1_000_000


@lru_cache(maxsize=64)
def country_holidays(country: str, subdivision: str = "") -> Container[date]:
    """The public holidays of `country` (ISO code, e.g. DE) and optionally a subdivision (e.g. BY); the years
    fill in on demand. ExpressionError names the field when the package does not know them."""
    import holidays

    supported = holidays.list_supported_countries()
    code = country.strip().upper()
    if code not in supported:
        raise ExpressionError(f"holidays.country: {country!r} is not a country the holidays package knows")
    subdivision = subdivision.strip()
    if subdivision and subdivision.upper() not in {s.upper() for s in supported[code]}:
        raise ExpressionError(
            f"holidays.subdivision: {subdivision!r} is not a subdivision of {code} "
            f"(known: {', '.join(supported[code][:12])}{' ...' if len(supported[code]) > 12 else ''})"
        )
    return holidays.country_holidays(code, subdiv=subdivision.upper() or None)


def _day(value) -> date:
    return value.date() if isinstance(value, datetime) else value


def ics_days(text: str, today: date | None = None) -> frozenset[date]:
    """Every day an iCalendar's events cover (an all-day event on its days; a timed one on the days it touches),
    recurring events expanded from ICS_YEARS_BACK years ago to ICS_YEARS_AHEAD ahead."""
    import icalendar
    import recurring_ical_events

    if len(text.encode("utf-8")) > MAX_ICS_BYTES:
        raise ExpressionError(f"holidays.ics: the calendar is over {MAX_ICS_BYTES // 1000} kB")
    try:
        calendar = icalendar.Calendar.from_ical(text)
    except (ValueError, IndexError, KeyError) as exc:
        raise ExpressionError(f"holidays.ics: not an iCalendar file ({exc})") from None
    if calendar.name != "VCALENDAR":
        raise ExpressionError("holidays.ics: not an iCalendar file (no VCALENDAR)")
    today = today or date.today()
    start = date(today.year - ICS_YEARS_BACK, 1, 1)
    end = date(today.year + ICS_YEARS_AHEAD + 1, 1, 1)
    try:
        events = recurring_ical_events.of(calendar).between(start, end)
    except Exception as exc:  # noqa: BLE001 - the library raises many kinds for a malformed rule
        raise ExpressionError(f"holidays.ics: cannot read its events ({type(exc).__name__}: {exc})") from None
    days: set[date] = set()
    for event in events:
        first = _day(event.decoded("DTSTART"))
        last_excl = _day(event.decoded("DTEND")) if event.get("DTEND") else first + timedelta(days=1)
        if isinstance(event.decoded("DTSTART"), datetime) and last_excl == first:
            last_excl = first + timedelta(days=1)  # a timed event inside one day blacks out that day
        day = first
        while day < max(last_excl, first + timedelta(days=1)):
            days.add(day)
            day += timedelta(days=1)
    return frozenset(days)


FETCH_TIMEOUT = 10


def fetch_ics(url: str) -> str:
    """The text of an iCalendar at an http(s) URL (at most MAX_ICS_BYTES); ExpressionError says why not."""
    import urllib.error
    import urllib.request

    if not url.lower().startswith(("http://", "https://")):
        raise ExpressionError(f"holidays.ics_url: {url!r} is not an http(s) URL")
    try:
        with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT) as resp:  # noqa: S310 - checked scheme
            data = resp.read(MAX_ICS_BYTES + 1)
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise ExpressionError(f"holidays.ics_url: cannot fetch {url} ({getattr(exc, 'reason', exc)})") from None
    if len(data) > MAX_ICS_BYTES:
        raise ExpressionError(f"holidays.ics_url: the calendar at {url} is over {MAX_ICS_BYTES // 1000} kB")
    text = data.decode("utf-8", errors="replace")
    ics_days(text)  # refuse what is not a calendar now, not at the next tick
    return text


class Holidays:
    """A schedule's holidays: a country's, an iCalendar's, or both (a day in either)."""

    def __init__(self, parts: tuple[Container[date], ...] = ()):
        self.parts = parts

    def __contains__(self, day: object) -> bool:
        return any(day in part for part in self.parts)
