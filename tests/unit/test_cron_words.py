"""The refresh schedule in words, checked against what APScheduler (the sidecar) really does with the line."""

from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.triggers.cron import CronTrigger

from finops.cron_words import cron_in_words

SAID = {
    "0 5,13,21 * * *": "three times a day, at 05:00, 13:00 and 21:00 UTC",
    "30 6 * * *": "once a day, at 06:30 UTC",
    "0 */6 * * *": "four times a day, at 00:00, 06:00, 12:00 and 18:00 UTC",
    "0 6,18 * * mon-fri": "on weekdays, at 06:00 and 18:00 UTC",
    "0 8 * * 1,3": "on Tuesdays and Thursdays, at 08:00 UTC",  # APScheduler counts days from Monday = 0
    "0 8 * * sun": "on Sundays, at 08:00 UTC",
    "0 3 1 * *": "on day 1 of each month, at 03:00 UTC",
    "15 * * * *": "every hour, at minute 15 (every day, UTC)",
    "*/5 * * * *": "on the crontab schedule `*/5 * * * *` (UTC)",  # too many times to list: quoted
    "0 0 * 1 *": "on the crontab schedule `0 0 * 1 *` (UTC)",
}


@pytest.mark.parametrize(("line", "words"), SAID.items())
def test_said_in_words(line, words):
    assert cron_in_words(line) == words


@pytest.mark.parametrize(
    "line", [line for line, words in SAID.items() if "`" not in words and "every hour" not in words]
)
def test_the_words_match_the_sidecars_fire_times(line):
    """Five weeks of APScheduler's fire times give exactly the days and times the words name."""
    trigger = CronTrigger.from_crontab(line, timezone="UTC")
    start = datetime(2026, 11, 2, tzinfo=UTC)  # a Monday
    fire, fired = trigger.get_next_fire_time(None, start), []
    while fire < start + timedelta(days=35):
        fired.append(fire)
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    words = cron_in_words(line)
    assert {f"{f:%H:%M}" for f in fired} == {t for t in words.replace(",", " ").split() if ":" in t}
    weekdays = {f"{f:%A}" for f in fired}
    if "a day" in words:
        assert len(weekdays) == 7
    elif "weekdays" in words:
        assert weekdays == {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday"}
    elif "each month" in words:
        assert {f.day for f in fired} == {1}
    else:
        assert {f"{d}s" for d in weekdays} == {w.strip(",") for w in words.split() if w.endswith(("days", "days,"))}
