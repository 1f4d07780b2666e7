"""A schedule as people write it (a form, a JSON or YAML file): checked field by field into a ScheduleSpec.

Every refusal is a SpecError whose message starts with the field it is about (`periods[1].begin: ...`), and
unknown fields are refused, so a typo never passes silently.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from finops import fields
from finops.scheduling.expressions import ExpressionError
from finops.scheduling.timetable import STATES, make_period

MAX_NAME, MAX_DESCRIPTION, MAX_PERIODS, MAX_EXCEPTIONS, MAX_TARGETS = 100, 1000, 20, 500, 1000
FIELDS = {
    "name", "description", "timezone", "owner", "periods", "holidays", "exceptions", "enforced",
    "retain_running", "targets", "active",
}  # fmt: skip
PERIOD_FIELDS = {"begin", "end", "weekdays", "monthdays", "months"}
HOLIDAY_FIELDS = {"country", "subdivision", "ics", "ics_url"}
EXCEPTION_FIELDS = {"date", "state", "note"}


class SpecError(ValueError):
    """A schedule was refused; the message names the field and what is allowed."""


@dataclass(frozen=True)
class PeriodSpec:
    begin: str = ""
    end: str = ""
    weekdays: str | None = None
    monthdays: str | None = None
    months: str | None = None


@dataclass(frozen=True)
class TargetSpec:
    """A group (by name, or id as text) or one resource."""

    group: str = ""
    resource_type: str = ""
    resource_id: str = ""


@dataclass(frozen=True)
class ScheduleSpec:
    name: str
    timezone: str = "UTC"
    description: str = ""
    owner: str = ""  # "" = the person saving it
    periods: tuple[PeriodSpec, ...] = ()
    holiday_country: str = ""
    holiday_subdivision: str = ""
    holiday_ics: str = ""
    holiday_ics_url: str = ""
    exceptions: tuple[tuple[date, str, str], ...] = ()  # (day, state, note)
    enforced: bool = False
    retain_running: bool = False
    active: bool = True
    targets: tuple[TargetSpec, ...] = field(default_factory=tuple)


def _unknown(given: dict, allowed: set[str], where: str) -> None:
    fields.unknown(given, allowed, where, SpecError)


def _text(value, where: str, limit: int, required: bool = False) -> str:
    return fields.text(value, where, limit, SpecError, required)


def _flag(value, where: str) -> bool:
    return fields.flag(value, where, SpecError)


def check_timezone(name: str, where: str = "timezone") -> str:
    name = (name or "").strip()
    if not name:
        raise SpecError(f"{where}: is required (an IANA name such as Europe/Berlin)")
    if name not in _zones():
        raise SpecError(f"{where}: {name!r} is not an IANA time zone such as Europe/Berlin or America/New_York")
    try:
        ZoneInfo(name)
    except ZoneInfoNotFoundError:
        raise SpecError(f"{where}: {name!r} is not an IANA time zone") from None
    return name


_ZONES: set[str] = set()


def _zones() -> set[str]:
    if not _ZONES:
        _ZONES.update(available_timezones() | {"UTC"})
    return _ZONES


def _day_field(value, where: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, list | tuple):
        value = ",".join(str(v) for v in value)
    return _text(value, where, 200)


def check_period(raw, where: str) -> PeriodSpec:
    if not isinstance(raw, dict):
        raise SpecError(f"{where}: must be an object with begin, end, weekdays, monthdays, months")
    _unknown(raw, PERIOD_FIELDS, f"{where}.")
    spec = PeriodSpec(
        begin=_text(raw.get("begin"), f"{where}.begin", 5),
        end=_text(raw.get("end"), f"{where}.end", 5),
        weekdays=_day_field(raw.get("weekdays"), f"{where}.weekdays"),
        monthdays=_day_field(raw.get("monthdays"), f"{where}.monthdays"),
        months=_day_field(raw.get("months"), f"{where}.months"),
    )
    try:
        make_period(spec.begin, spec.end, spec.weekdays, spec.monthdays, spec.months)
    except ExpressionError as exc:
        raise SpecError(f"{where}.{exc}") from None
    return spec


def _exception(raw, where: str) -> tuple[date, str, str]:
    if not isinstance(raw, dict):
        raise SpecError(f"{where}: must be an object with date and state")
    _unknown(raw, EXCEPTION_FIELDS, f"{where}.")
    day_value = raw.get("date")
    try:
        day = day_value if isinstance(day_value, date) else date.fromisoformat(str(day_value).strip())
    except ValueError:
        raise SpecError(f"{where}.date: {day_value!r} is not a date such as 2026-12-24") from None
    state = str(raw.get("state") or "").strip().lower()
    if state not in STATES:
        raise SpecError(f"{where}.state: must be one of {', '.join(STATES)}")
    return day, state, _text(raw.get("note"), f"{where}.note", 200)


def _target(raw, where: str) -> TargetSpec:
    if not isinstance(raw, dict):
        raise SpecError(f"{where}: must be {{group: NAME}} or {{resource_type, resource_id}}")
    _unknown(raw, {"group", "resource_type", "resource_id"}, f"{where}.")
    group = _text(raw.get("group"), f"{where}.group", 100)
    kind = _text(raw.get("resource_type"), f"{where}.resource_type", 32)
    ident = _text(raw.get("resource_id"), f"{where}.resource_id", 256)
    if bool(group) == bool(kind or ident):
        raise SpecError(f"{where}: give either group, or resource_type and resource_id")
    if not group and not (kind and ident):
        raise SpecError(f"{where}: resource_type and resource_id are both required")
    return TargetSpec(group, kind, ident)


def check_spec(raw: dict, where: str = "") -> ScheduleSpec:
    """The checked schedule; SpecError (the field first) for the first problem found."""
    if not isinstance(raw, dict):
        raise SpecError(f"{where or 'schedule'}: must be an object")
    _unknown(raw, FIELDS, where)
    periods = raw.get("periods") or []
    if not isinstance(periods, list) or not periods:
        raise SpecError(f"{where}periods: at least one period is required")
    if len(periods) > MAX_PERIODS:
        raise SpecError(f"{where}periods: at most {MAX_PERIODS} periods")
    holidays = raw.get("holidays") or {}
    if not isinstance(holidays, dict):
        raise SpecError(f"{where}holidays: must be {{country, subdivision}} or {{ics}} or {{ics_url}}")
    _unknown(holidays, HOLIDAY_FIELDS, f"{where}holidays.")
    exceptions = raw.get("exceptions") or []
    targets = raw.get("targets") or []
    if not isinstance(exceptions, list) or len(exceptions) > MAX_EXCEPTIONS:
        raise SpecError(f"{where}exceptions: must be a list of at most {MAX_EXCEPTIONS}")
    if not isinstance(targets, list) or len(targets) > MAX_TARGETS:
        raise SpecError(f"{where}targets: must be a list of at most {MAX_TARGETS}")
    checked_exceptions = [_exception(e, f"{where}exceptions[{i}]") for i, e in enumerate(exceptions)]
    days = [d for d, _, _ in checked_exceptions]
    if len(set(days)) != len(days):
        raise SpecError(f"{where}exceptions: a date appears twice")
    return ScheduleSpec(
        name=_text(raw.get("name"), f"{where}name", MAX_NAME, required=True),
        timezone=check_timezone(str(raw.get("timezone") or ""), f"{where}timezone"),
        description=_text(raw.get("description"), f"{where}description", MAX_DESCRIPTION),
        owner=_text(raw.get("owner"), f"{where}owner", 64),
        periods=tuple(check_period(p, f"{where}periods[{i}]") for i, p in enumerate(periods)),
        holiday_country=_text(holidays.get("country"), f"{where}holidays.country", 8).upper(),
        holiday_subdivision=_text(holidays.get("subdivision"), f"{where}holidays.subdivision", 16).upper(),
        holiday_ics=str(holidays.get("ics") or ""),
        holiday_ics_url=_text(holidays.get("ics_url"), f"{where}holidays.ics_url", 1000),
        exceptions=tuple(sorted(checked_exceptions)),
        enforced=_flag(raw.get("enforced"), f"{where}enforced"),
        retain_running=_flag(raw.get("retain_running"), f"{where}retain_running"),
        active=True if raw.get("active") is None else _flag(raw.get("active"), f"{where}active"),
        targets=tuple(_target(t, f"{where}targets[{i}]") for i, t in enumerate(targets)),
    )


def check_override_until(until, now: datetime | None = None, zone: str = "UTC") -> datetime:
    """An override's expiry as a UTC instant: ISO 8601 (a naive time is in the schedule's zone); in the future."""
    now = now or datetime.now(UTC)
    if isinstance(until, datetime):
        moment = until
    else:
        try:
            moment = datetime.fromisoformat(str(until).strip())
        except ValueError:
            raise SpecError(f"until: {until!r} is not an ISO 8601 time such as 2026-12-04T18:00") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(zone))
    moment = moment.astimezone(UTC)
    if moment <= now:
        raise SpecError(f"until: {moment:%Y-%m-%d %H:%M} UTC is in the past: an override must end in the future")
    return moment


def to_dict(spec: ScheduleSpec) -> dict:
    """The spec in the file format (the inverse of check_spec; empty fields left out)."""
    out: dict = {"name": spec.name, "timezone": spec.timezone}
    if spec.owner:
        out["owner"] = spec.owner
    if spec.description:
        out["description"] = spec.description
    out["periods"] = [
        {k: v for k, v in vars(p).items() if v not in (None, "")} for p in spec.periods
    ]  # fmt: skip
    holidays = {"country": spec.holiday_country, "subdivision": spec.holiday_subdivision,
                "ics": spec.holiday_ics, "ics_url": spec.holiday_ics_url}  # fmt: skip
    if any(holidays.values()):
        out["holidays"] = {k: v for k, v in holidays.items() if v}
    if spec.exceptions:
        out["exceptions"] = [
            {"date": d.isoformat(), "state": s, **({"note": n} if n else {})} for d, s, n in spec.exceptions
        ]
    out["enforced"], out["retain_running"] = spec.enforced, spec.retain_running
    if not spec.active:
        out["active"] = False
    if spec.targets:
        out["targets"] = [
            {"group": t.group} if t.group else {"resource_type": t.resource_type, "resource_id": t.resource_id}
            for t in spec.targets
        ]
    return out
