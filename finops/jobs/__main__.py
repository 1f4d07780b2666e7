"""`python -m finops.jobs`: wait for the store, migrate it, take its sidecar lock, run the scheduler until
SIGTERM or SIGINT.

Exit codes: 0 after a signal, 1 when the store stays unreachable for FINOPS_STARTUP_WAIT_SECONDS, 2 when a
setting is invalid (one line naming it, before the store is touched).
A job still running SHUTDOWN_GRACE_SECONDS after the signal (a long refresh or forecast) is abandoned: the
process exits and its open transaction rolls back, as after a crash; the next start marks it interrupted.
"""

import logging
import os
import signal
import sys
import threading
import time

from apscheduler.events import EVENT_SCHEDULER_STARTED
from sqlalchemy.exc import OperationalError

from finops.data import db
from finops.jobs import build_scheduler, tasks, wait_for_store
from finops.settings import InvalidSettings, Settings, get_settings

log = logging.getLogger("finops.jobs")
LOCK_RETRY_SECONDS = 1.0  # how often a waiting sidecar tries the store's lock again
SHUTDOWN_GRACE_SECONDS = 5  # under the 10 s that docker stop and systemd give before SIGKILL


def busy_threads() -> list[threading.Thread]:
    """Job threads still running (the scheduler's pools let idle workers go at shutdown)."""
    me = threading.current_thread()
    return [t for t in threading.enumerate() if t is not me and not t.daemon and t.is_alive()]


def wait_for_jobs(grace: float) -> bool:
    """Give running jobs up to `grace` seconds to finish; True when none is left."""
    deadline = time.monotonic() + grace
    for thread in busy_threads():
        thread.join(max(0.0, deadline - time.monotonic()))
    return not busy_threads()


def configure_logging() -> None:
    """INFO and above to stderr, one line each, UTC timestamps."""
    handler = logging.StreamHandler(sys.stderr)
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%Y-%m-%dT%H:%M:%SZ")
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    # a "Running job"/"executed successfully" pair per heartbeat is noise; job failures still log as ERROR
    logging.getLogger("apscheduler.executors").setLevel(logging.WARNING)
    logging.getLogger("apscheduler.scheduler").setLevel(logging.WARNING)  # "Adding job tentatively" etc.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


def migrate(settings: Settings) -> bool:
    """Bring the store to the newest schema; False (logged) when that fails on a store gone away."""
    try:
        db.init_db()
    except (db.StoreUnavailable, OperationalError) as exc:
        log.error("cannot migrate the store at %s: %s", db.redact(settings.store_url), exc)
        return False
    return True


def wait_for_lock(stop: threading.Event) -> bool:
    """Wait idle while another sidecar holds this store's lock; True once this process holds it.

    The operating system (SQLite) or the server (PostgreSQL) frees the lock when its holder dies, so a sidecar
    restarted after a crash takes over within a second, and a second one started beside a live one waits.
    """
    waiting = False
    while not stop.is_set():
        if tasks.take_store():
            if waiting:
                log.info("the other sidecar is gone; taking over the store")
            return True
        if not waiting:
            other = tasks.holder()
            who = f"{other.host}, pid {other.pid}, last beat {other.beat_at}" if other else "unknown"
            log.warning("another sidecar (%s) works on this store; waiting idle until it stops", who)
            waiting = True
        stop.wait(LOCK_RETRY_SECONDS)
    return False


def main() -> int:
    configure_logging()
    try:
        settings = get_settings()
    except InvalidSettings as exc:
        log.error("invalid settings: %s", exc)
        return 2
    stop = threading.Event()
    scheduler = None  # built once the store is ready, so a failed start logs nothing about jobs

    def on_signal(signum, _frame) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        stop.set()
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=False)

    def on_started(_event) -> None:
        if stop.is_set() and scheduler.running:  # the signal came while start() was on its way
            scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    ready = wait_for_store(settings.startup_wait_seconds, stop) and wait_for_lock(stop) and migrate(settings)
    if ready and not stop.is_set():
        if interrupted := tasks.close_interrupted():
            log.warning("marked %s run(s) or request(s) left running by a stopped sidecar as failed", interrupted)
        scheduler = build_scheduler(settings)
        scheduler.add_listener(on_started, EVENT_SCHEDULER_STARTED)
        log.info("store %s ready; scheduler starting", db.redact(settings.store_url))
        scheduler.start()
    elif not stop.is_set():
        tasks.release()
        return 1
    if scheduler is not None:
        finished = wait_for_jobs(SHUTDOWN_GRACE_SECONDS)
        if finished:  # with a job still writing, marking the heartbeat would wait for its lock: exit instead
            tasks.release()
        else:
            names = ", ".join(t.name for t in busy_threads())
            log.warning("jobs still running after %s s (%s): abandoning them; their writes roll back",
                        SHUTDOWN_GRACE_SECONDS, names)  # fmt: skip
            log.info("stopped")
            logging.shutdown()
            os._exit(0)  # the job threads cannot be interrupted; exiting drops their open transactions
    log.info("stopped")
    return 0


raise SystemExit(main())
