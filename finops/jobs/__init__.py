"""The sidecar (`python -m finops.jobs`): one BlockingScheduler, the only process that writes on a schedule.

`build_scheduler` says which jobs run when (tests inspect it without starting it), `tasks` holds the job
functions, and `__main__` waits for the store, migrates it and runs the scheduler until SIGTERM or SIGINT.
A new job is one function in `tasks` and one `add_job` here, with an explicit id.
"""

import logging
import threading
import time
from datetime import UTC, datetime

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError

from finops.data import db
from finops.jobs import tasks
from finops.settings import Settings, get_settings

log = logging.getLogger(__name__)
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600}
BUDGET_POLL_SECONDS = 60  # how often the sidecar looks for new data or budget changes to evaluate


def build_scheduler(settings: Settings) -> BlockingScheduler:
    """The sidecar's scheduler (UTC) with every job added, not started."""
    # the heartbeat has a thread of its own so a long refresh never stops it (the UI reads it as "alive")
    executors = {"default": ThreadPoolExecutor(4), "beat": ThreadPoolExecutor(1)}
    scheduler = BlockingScheduler(timezone="UTC", job_defaults=JOB_DEFAULTS, executors=executors)
    now = datetime.now(UTC)
    scheduler.add_job(
        tasks.heartbeat,
        IntervalTrigger(seconds=settings.heartbeat_seconds, timezone="UTC"),
        id="heartbeat",
        name="heartbeat",
        executor="beat",
        replace_existing=True,
        next_run_time=now,  # beat at once, not one interval after start
    )
    scheduler.add_job(
        tasks.refresh_costs,
        CronTrigger.from_crontab(settings.refresh_cron, timezone="UTC"),
        id="refresh_costs",
        name="refresh costs",
        replace_existing=True,
    )
    polls = [  # (function, id, name, interval): each also runs once at start
        (tasks.take_requests, "refresh_requests", "refresh requests", {"seconds": settings.request_poll_seconds}),
        (tasks.take_power_actions, "power_actions", "stop/start requests", {"seconds": settings.request_poll_seconds}),
        (tasks.discover_resources, "discover_resources", "discover AWS resources",
         {"minutes": settings.discovery_minutes}),
        (tasks.update_models, "update_models", "forecasts and anomalies after new data",
         {"seconds": settings.models_poll_seconds}),
        (tasks.reconcile_schedules, "reconcile_schedules", "stop and start scheduled resources",
         {"seconds": settings.schedule_tick_seconds}),
        (tasks.evaluate_budgets, "evaluate_budgets", "evaluate budgets after new data or changes",
         {"seconds": BUDGET_POLL_SECONDS}),
        (tasks.budget_outbox, "budget_outbox", "budget actions, their undo, alert delivery",
         {"seconds": settings.notify_poll_seconds}),
        (tasks.import_focus_files, "import_focus", "FOCUS files that changed",
         {"minutes": settings.focus_poll_minutes}),
        # prices older than a week are re-fetched: a daily look keeps that true across sidecar restarts
        (tasks.refresh_prices, "refresh_prices", "AWS prices older than a week", {"days": 1}),
    ]  # fmt: skip
    for func, job_id, name, interval in polls:
        scheduler.add_job(
            func,
            IntervalTrigger(**interval, timezone="UTC"),
            id=job_id,
            name=name,
            replace_existing=True,
            next_run_time=now,
        )
    scheduler.add_job(tasks.refresh_if_stale, id="refresh_at_start", name="refresh at start", next_run_time=now)
    return scheduler


def store_engine() -> Engine:
    """The configured store's engine; StoreUnavailable when even the engine cannot be made."""
    try:
        return db.get_engine()
    except (OSError, ArgumentError) as exc:  # a SQLite folder that cannot be made, a malformed URL
        url = db.redact(get_settings().store_url)
        raise db.StoreUnavailable(f"cannot open the store at {url}: {exc}") from exc


def wait_for_store(timeout: float, stop: threading.Event | None = None, interval: float = 1.0) -> bool:
    """Retry reaching the store for up to `timeout` seconds (or until `stop` is set); True once it answers."""
    stop = stop or threading.Event()
    deadline = time.monotonic() + timeout
    retrying = False
    while True:
        try:
            db.check_reachable(store_engine())
            if retrying:
                log.info("the store answers now")
            return True
        except db.StoreUnavailable as exc:
            remaining = deadline - time.monotonic()
            if stop.is_set():
                return False
            if remaining <= 0:
                log.error("%s (gave up after %g s)", exc, timeout)
                return False
            if not retrying:
                log.warning("%s; retrying for up to %g s", exc, timeout)
                retrying = True
            stop.wait(min(interval, remaining))
