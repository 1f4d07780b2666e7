"""The sidecar's jobs: module-level functions the scheduler calls; each opens its own session."""

import logging
import os
import signal
import socket
import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from finops.data import (
    anomalies,
    aws_prices,
    budget_actions,
    budget_runs,
    db,
    focus_sources,
    forecasts,
    load,
    notifications,
    power,
    queries,
    recommendations,
    refresh_requests,
    schedule_runs,
)
from finops.data.drivers import aws_discovery, aws_utilization
from finops.data.refresh import RefreshError, run_refresh
from finops.data.sources import aws_pricing, focus_s3, resolve_source
from finops.data.store_lock import StoreLock
from finops.data.tables import Budget, Heartbeat, RefreshRun
from finops.settings import get_settings

log = logging.getLogger(__name__)
SIDECAR = "sidecar"
STARTED_AT = datetime.now(UTC)  # imported when the sidecar starts: the process's start time
_refreshing = threading.Lock()  # one refresh at a time, whichever job asks
_store_lock: StoreLock | None = None  # this process's hold on the store (one sidecar per store)
_budgets_seen: dict = {"key": None, "at": None}  # what the last budget evaluation saw, and when


def take_store() -> bool:
    """Take the store's sidecar lock (never blocks); True when this process holds it."""
    global _store_lock
    if _store_lock is None:
        _store_lock = StoreLock(db.get_engine())
    return _store_lock.acquire()


def holder() -> Heartbeat | None:
    """The last heartbeat row: who worked on this store most recently (shown while waiting for the lock)."""
    with db.session() as s:
        return s.get(Heartbeat, SIDECAR)


def release(name: str = SIDECAR) -> None:
    """Give the store up at a clean stop: the lock, and a heartbeat that no longer claims the sidecar is alive."""
    global _store_lock
    if _store_lock is None:
        return
    lapsed = datetime(1970, 1, 1, tzinfo=UTC)
    t = Heartbeat.__table__
    try:
        with db.get_engine().begin() as conn:
            conn.execute(
                update(t).where(t.c.name == name, t.c.host == socket.gethostname(), t.c.pid == os.getpid())
                .values(beat_at=lapsed)
            )  # fmt: skip
    except Exception as exc:  # noqa: BLE001 - the lock below is what matters; the row only informs the UI
        log.warning("could not mark the heartbeat stopped: %s", exc)
    finally:
        _store_lock.release()
        _store_lock = None


def beat(name: str = SIDECAR) -> None:
    """Write this process's heartbeat row (the UI reads it as "the sidecar is alive")."""
    now = datetime.now(UTC)
    me = {"pid": os.getpid(), "host": socket.gethostname(), "started_at": STARTED_AT, "beat_at": now}
    t = Heartbeat.__table__
    with db.get_engine().begin() as conn:
        if conn.execute(update(t).where(t.c.name == name).values(**me)).rowcount:
            return
    try:
        with db.get_engine().begin() as conn:
            conn.execute(insert(t).values(name=name, **me))
    except IntegrityError:  # written meanwhile by ourselves on another thread: the update will do next time
        pass


def heartbeat(name: str = SIDECAR) -> None:
    """Check that this process still holds the store, then beat; step down when another sidecar has it."""
    if _store_lock is not None and not _store_lock.alive() and not take_store():
        log.error("lost the store's sidecar lock and another sidecar holds it now; stopping")
        os.kill(os.getpid(), signal.SIGTERM)
        return
    beat(name)


def close_interrupted() -> int:
    """Mark refresh runs and requests, forecast and anomaly runs and stop/start requests left 'running' by a
    sidecar that died as failed (each by its owner); returns how many."""
    with db.session() as s:
        count = (
            load.close_interrupted_runs(s)
            + refresh_requests.close_interrupted(session=s)
            + forecasts.close_interrupted(session=s)
            + anomalies.close_interrupted(session=s)
            + power.close_interrupted(session=s)
            + notifications.close_interrupted(session=s)
            + budget_actions.close_interrupted(session=s)
        )
        s.commit()
    return count


def refresh_costs(backfill: bool = False) -> None:
    """Scheduled refresh of the configured source (a failure is recorded on its run and logged)."""
    with _refreshing, db.session() as s:
        try:
            run = run_refresh(s, get_settings(), backfill=backfill)
            log.info("refresh %s: %s rows for [%s, %s)", run.id, run.rows, run.window_start, run.window_end)
        except RefreshError as exc:
            log.warning("refresh failed: %s", exc)
        except Exception:
            log.exception("refresh failed")


def refresh_if_stale() -> None:
    """At start: refresh now unless a refresh already succeeded today (UTC), so a new store fills at once."""
    with db.session() as s:
        newest_ok = select(RefreshRun.finished_at).where(RefreshRun.status == "ok").order_by(RefreshRun.id.desc())
        last = s.execute(newest_ok.limit(1)).scalar()
    if last is not None and last.replace(tzinfo=last.tzinfo or UTC).date() == datetime.now(UTC).date():
        return
    log.info("no refresh yet today: refreshing now")
    refresh_costs(backfill=False)


def take_requests() -> None:
    """Run every pending refresh request, oldest first, recording each outcome on the request."""
    if not _refreshing.acquire(blocking=False):
        return  # a refresh is running; requests wait for the next poll
    try:
        while True:
            with db.session() as s:
                request = refresh_requests.take_next(session=s)
                if request is None:
                    return
                log.info("refresh request %s from %s", request.id, request.requested_by or "?")
                try:
                    run = run_refresh(s, get_settings(), backfill=request.backfill)
                    refresh_requests.finish(session=s, request=request, run=run)
                except RefreshError as exc:
                    refresh_requests.finish(session=s, request=request, run=None, error=str(exc))
                except Exception as exc:
                    log.exception("refresh request %s failed", request.id)
                    s.rollback()
                    refresh_requests.finish(session=s, request=request, run=None, error=f"{type(exc).__name__}: {exc}")
    finally:
        _refreshing.release()


def take_power_actions() -> None:
    """Carry out every pending Stop all / Start all, oldest first (each member's outcome is recorded)."""
    while True:
        with db.session() as s:
            row = power.take_next(session=s)
            if row is None:
                return
            log.info("%s of group %s requested by %s", row.action, row.group_name, row.requested_by)
            try:
                power.execute(session=s, row=row, settings=get_settings())
            except Exception as exc:
                log.exception("%s of group %s failed", row.action, row.group_id)
                s.rollback()
                power.fail(session=s, row=row, error=f"{type(exc).__name__}: {exc}")


def discover_resources() -> None:
    """Discover AWS resources into the inventory (only when the cost source is AWS); failures are logged."""
    settings = get_settings()
    if resolve_source(settings) != "aws":
        return
    with db.session() as s:
        try:
            counts = aws_discovery.run_discovery(session=s, settings=settings)
            idle = aws_utilization.mark_idle(session=s, settings=settings)
            recommendations.refresh_own(session=s)
        except Exception:
            log.exception("resource discovery failed")
            return
    log.info("discovery: %(found)s resources, %(new)s new, %(missing)s missing", counts)
    log.info("utilization: %(checked)s checked, %(idle)s idle", idle)
    for error in [*counts["errors"], *idle["errors"]]:
        log.warning("discovery: %s", error)


def reconcile_schedules() -> None:
    """One schedule tick: act where the schedules' desired state differs from the resources' (see schedule_runs)."""
    with db.session() as s:
        try:
            counts = schedule_runs.reconcile(session=s, settings=get_settings())
        except Exception:
            s.rollback()
            log.exception("schedule reconciliation failed")
            return
    if counts["acted"] or counts["failed"] or counts["refused"]:
        log.info("schedules: %(resources)s resources, %(acted)s acted on, %(failed)s failed, %(refused)s refused",
                 counts)  # fmt: skip


def import_focus_files() -> None:
    """Import each FINOPS_FOCUS_PATHS location whose billing files changed since its last import; a failure is
    recorded on its focus_source row and logged, the previous data stays, and the next poll tries again."""
    settings = get_settings()
    if not settings.focus_paths:
        return
    with db.session() as s:
        try:
            outcomes = focus_sources.poll(s, settings.focus_paths, lambda: focus_s3.make_client(settings))
        except Exception:
            s.rollback()
            log.exception("FOCUS polling failed")
            return
    for outcome in outcomes:
        if outcome.status == "imported":
            log.info("FOCUS %s: imported %s as run %s", outcome.location, outcome.message, outcome.run_id)
        elif outcome.status == "failed":
            log.warning("FOCUS %s: import failed, previous data kept: %s", outcome.location, outcome.message)


def refresh_prices() -> None:
    """Re-fetch AWS prices older than a week from the Price List API (AWS source, price list on); the next
    discovery prices the inventory with them. Failures are logged; the stored prices stay."""
    settings = get_settings()
    if resolve_source(settings) != "aws" or not settings.aws_price_list:
        return
    with db.session() as s:
        try:
            counts = aws_prices.refresh_stale(session=s, client=aws_pricing.make_client(settings))
        except Exception:
            log.exception("refreshing AWS prices failed")
            return
    log.info("AWS prices: %(asked)s asked, %(stored)s stored", counts)
    for error in counts["errors"]:
        log.warning("AWS prices: %s", error)


def update_models() -> None:
    """After new data: scan for anomalies, then forecast every series (once per data version, even on failure)."""
    settings = get_settings()
    with db.session() as s:
        version = queries.data_version(session=s)
        if version == 0 or forecasts.last_modeled_version(session=s) == version:
            return
        try:
            counts = anomalies.run_detection(session=s, settings=settings, refresh_run_id=version)
            log.info("anomalies: %(detected)s detected, %(new)s new, %(updated)s updated, %(dropped)s dropped", counts)
        except Exception:
            s.rollback()
            log.exception("anomaly detection failed")
        try:
            recommendations.refresh_own(session=s)
        except Exception:
            s.rollback()
            log.exception("recommendations failed")
        run = forecasts.run_forecasts(session=s, settings=settings, refresh_run_id=version)
        log.info("forecast run %s for data version %s: %s (%s)", run.id, version, run.status, run.message)


def _budget_inputs(s) -> tuple:
    """What a budget evaluation depends on: the data version, the newest forecast, the budgets' last change."""
    changed = s.execute(select(func.max(col(Budget.updated_at)), func.count(col(Budget.id)))).one()
    return queries.data_version(session=s), queries.forecast_run_id(session=s), tuple(changed)


def evaluate_budgets() -> None:
    """Evaluate every budget after new data, a new forecast or a budget's change, and at least every
    FINOPS_BUDGET_EVAL_MINUTES (alerts, their deliveries and actions are queued by the evaluation)."""
    settings, now = get_settings(), datetime.now(UTC)
    with db.session() as s:
        key = _budget_inputs(s)
        last = _budgets_seen["at"]
        if (
            key == _budgets_seen["key"]
            and last is not None
            and now - last < timedelta(minutes=settings.budget_eval_minutes)
        ):
            return
        try:
            counts = budget_runs.evaluate(session=s, settings=settings, as_of=now)
        except Exception:
            s.rollback()
            log.exception("budget evaluation failed")
            return
    _budgets_seen.update(key=key, at=now)
    if counts["alerts"] or counts["skipped"]:
        log.info("budgets: %(budgets)s evaluated, %(alerts)s alerts, %(actions)s actions, %(queued)s messages "
                 "queued, %(skipped)s skipped", counts)  # fmt: skip


def budget_outbox() -> None:
    """Carry out approved budget actions, undo those whose period ended, send waiting alerts: each step on its own,
    so a failing mail server never holds up an action (or the other way round)."""
    settings = get_settings()
    steps = (
        ("budget actions", lambda s: budget_actions.carry_out_due(session=s, settings=settings)),
        ("budget undo", lambda s: budget_actions.undo_due(session=s, settings=settings)),
        ("alert delivery", lambda s: notifications.deliver_due(session=s, settings=settings)),
    )
    for name, step in steps:
        with db.session() as s:
            try:
                result = step(s)
            except Exception:
                s.rollback()
                log.exception("%s failed", name)
                continue
        if result and (not isinstance(result, dict) or any(result.values())):
            log.info("%s: %s", name, result)
