"""A crontab line (the refresh schedule) in words: "three times a day, at 05:00, 13:00 and 21:00 UTC"."""

# APScheduler 3.x numbers the days of the week from Monday (0) to Sunday (6), unlike crontab: the sidecar runs
# "0 8 * * 1" on Tuesdays, so that is what these words say
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
NAMES = {name[:3].lower(): i for i, name in enumerate(WEEKDAYS)}
COUNTS = {1: "once", 2: "twice", 3: "three times", 4: "four times", 5: "five times", 6: "six times"}
MAX_TIMES = 6  # more times than this read better as "every N hours"


def _values(field: str, low: int, high: int) -> list[int] | None:
    """The numbers a cron field lists ("5,13,21", "1-5", "*/6", "mon-fri"), or None when it cannot say."""
    out: list[int] = []
    for part in field.lower().split(","):
        span, _, step_text = part.partition("/")
        step = int(step_text) if step_text.isdigit() and int(step_text) > 0 else (1 if not step_text else 0)
        if not step:
            return None
        if span == "*":
            first, last = low, high
        else:
            ends = [NAMES.get(e, e) for e in span.split("-")]
            if not all(isinstance(e, int) or str(e).isdigit() for e in ends) or len(ends) > 2:
                return None
            first, last = int(ends[0]), int(ends[-1])
        if not low <= first <= last <= high:
            return None
        out += range(first, last + 1, step)
    return sorted(set(out))


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _days(day_of_month: str, month: str, day_of_week: str) -> str | None:
    """ "a day", "on weekdays" ...: when in the week or month the times apply (None: too complex to say)."""
    if month != "*":
        return None
    if day_of_month == "*" and day_of_week == "*":
        return "a day"
    if day_of_month == "*":
        days = _values(day_of_week, 0, 6)
        if days == [0, 1, 2, 3, 4]:
            return "on weekdays"
        return f"on {_join([WEEKDAYS[d] + 's' for d in days])}" if days else None
    if day_of_week == "*":
        dates = _values(day_of_month, 1, 31)
        return f"on day {_join([str(d) for d in dates])} of each month" if dates else None
    return None


def cron_in_words(line: str) -> str:
    """`line` (5 crontab fields, UTC) said in words; a line too complex to say is quoted as it is."""
    fields = line.split()
    quoted = f"on the crontab schedule `{line}` (UTC)"
    if len(fields) != 5:
        return quoted
    minute, hour, day_of_month, month, day_of_week = fields
    days = _days(day_of_month, month, day_of_week)
    minutes, hours = _values(minute, 0, 59), _values(hour, 0, 23)
    if days is None or not minutes or not hours:
        return quoted
    if len(minutes) == 1 and hour.startswith("*") and len(hours) > MAX_TIMES:
        step = hour.partition("/")[2] or "1"
        every = "every hour" if step == "1" else f"every {step} hours"
        return f"{every}, at minute {minutes[0]} ({'every day' if days == 'a day' else days}, UTC)"
    times = [f"{h:02d}:{m:02d}" for h in hours for m in minutes]
    if len(times) > MAX_TIMES:
        return quoted
    if days == "a day":
        return f"{COUNTS[len(times)]} a day, at {_join(times)} UTC"
    return f"{days}, at {_join(times)} UTC"
