"""The sidecar: its scheduler's jobs, the heartbeat task, and the real process's start, beat and stop."""

import logging
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from finops.data import db
from finops.data.tables import Heartbeat
from finops.jobs import build_scheduler, tasks, wait_for_store
from finops.settings import Settings
from tests.conftest import use_store

ROOT = Path(__file__).parents[2]


def test_build_scheduler_has_the_heartbeat_refresh_and_request_jobs():
    settings = Settings(heartbeat_seconds=17, refresh_cron="0 6,18 * * *", request_poll_seconds=4, discovery_minutes=9)
    scheduler = build_scheduler(settings)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {
        "heartbeat",
        "refresh_costs",
        "refresh_requests",
        "refresh_at_start",
        "power_actions",
        "discover_resources",
        "update_models",
        "reconcile_schedules",
        "evaluate_budgets",
        "budget_outbox",
        "refresh_prices",
        "import_focus",
    }
    assert jobs["import_focus"].func is tasks.import_focus_files
    assert jobs["import_focus"].trigger.interval == timedelta(minutes=60)  # FINOPS_FOCUS_POLL_MINUTES
    assert jobs["evaluate_budgets"].func is tasks.evaluate_budgets
    assert jobs["budget_outbox"].func is tasks.budget_outbox
    assert jobs["budget_outbox"].trigger.interval == timedelta(seconds=15)
    assert jobs["refresh_prices"].func is tasks.refresh_prices
    assert jobs["refresh_prices"].trigger.interval == timedelta(days=1)  # re-fetches prices older than a week
    assert jobs["update_models"].func is tasks.update_models
    assert jobs["reconcile_schedules"].func is tasks.reconcile_schedules
    assert jobs["reconcile_schedules"].trigger.interval == timedelta(seconds=60)
    assert jobs["power_actions"].func is tasks.take_power_actions
    assert jobs["power_actions"].trigger.interval == timedelta(seconds=4)
    assert jobs["discover_resources"].func is tasks.discover_resources
    assert jobs["discover_resources"].trigger.interval == timedelta(minutes=9)
    cron = jobs["refresh_costs"]
    assert cron.func is tasks.refresh_costs and isinstance(cron.trigger, CronTrigger)
    assert str(cron.trigger.fields[5]) == "6,18" and str(cron.trigger.fields[6]) == "0"  # hour, minute
    poll = jobs["refresh_requests"]
    assert poll.func is tasks.take_requests and poll.trigger.interval == timedelta(seconds=4)
    assert jobs["refresh_at_start"].func is tasks.refresh_if_stale
    job = jobs["heartbeat"]
    assert (job.id, job.func, job.args, job.executor) == ("heartbeat", tasks.heartbeat, (), "beat")
    assert isinstance(job.trigger, IntervalTrigger) and job.trigger.interval == timedelta(seconds=17)
    assert str(scheduler.timezone) == "UTC" and str(job.trigger.timezone) == "UTC"
    assert abs(job.next_run_time - datetime.now(UTC)) < timedelta(seconds=5)  # beats at start
    # 3.x has no public getter for the defaults; they are applied to each job when the scheduler starts
    defaults = scheduler._job_defaults
    assert (defaults["coalesce"], defaults["max_instances"], defaults["misfire_grace_time"]) == (True, 1, 3600)
    assert not scheduler.running


def test_heartbeat_writes_then_updates_one_row(store):
    tasks.heartbeat()
    with db.session() as s:
        first = s.get(Heartbeat, "sidecar")
        assert (first.pid, first.host) == (os.getpid(), socket.gethostname())
        beat, started = first.beat_at, first.started_at
    assert started <= beat
    assert abs(beat.replace(tzinfo=UTC) - datetime.now(UTC)) < timedelta(seconds=5)  # SQLite returns naive UTC
    time.sleep(0.01)
    tasks.heartbeat()
    with db.session() as s:
        rows = s.connection().exec_driver_sql("SELECT name, beat_at FROM heartbeat").all()
        second = s.get(Heartbeat, "sidecar")
        assert len(rows) == 1 and second.beat_at > beat and second.started_at == started


def test_wait_for_store_gives_up_with_one_clear_line(tmp_path, monkeypatch, caplog):
    use_store(monkeypatch, tmp_path, url="sqlite:////proc/nope/x.db")
    started = time.monotonic()
    with caplog.at_level(logging.INFO, logger="finops.jobs"):
        assert wait_for_store(0.3, interval=0.1) is False
    assert time.monotonic() - started < 3
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and errors[0].startswith("cannot open the store at sqlite:////proc/nope/x.db: ")


def test_wait_for_store_succeeds_on_a_reachable_store(tmp_path, monkeypatch):
    use_store(monkeypatch, tmp_path)
    assert wait_for_store(0) is True


def sidecar(tmp_path: Path, **env: str) -> subprocess.Popen:
    settings = {"FINOPS_DATA_DIR": str(tmp_path), "FINOPS_DATABASE_URL": "", "FINOPS_HEARTBEAT_SECONDS": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "finops.jobs"],
        cwd=ROOT,
        env={**os.environ, **settings, **env},
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "sidecar.log").open("w"),
    )


def read_heartbeat(path: Path) -> tuple | None:
    if not path.exists():
        return None
    try:
        with sqlite3.connect(path, timeout=5) as conn:
            return conn.execute("SELECT pid, beat_at FROM heartbeat WHERE name = 'sidecar'").fetchone()
    except sqlite3.OperationalError:  # not migrated yet
        return None


def poll(read, until, timeout: float):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = read()
        if until(value):
            return value
        time.sleep(0.1)
    return read()


def test_sidecar_beats_and_stops_cleanly_on_sigterm(tmp_path, _seeded_file):
    shutil.copy(_seeded_file, tmp_path / "finops.db")  # refreshed today: no refresh at start
    proc = sidecar(tmp_path)
    try:
        store = tmp_path / "finops.db"
        first = poll(lambda: read_heartbeat(store), lambda row: row is not None, timeout=15)
        assert first is not None and first[0] == proc.pid, (tmp_path / "sidecar.log").read_text()
        second = poll(lambda: read_heartbeat(store), lambda row: row[1] != first[1], timeout=5)
        assert second[1] > first[1]  # it keeps beating, every FINOPS_HEARTBEAT_SECONDS
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()
    log = (tmp_path / "sidecar.log").read_text()
    assert "received SIGTERM" in log and log.rstrip().endswith("finops.jobs: stopped") and "Traceback" not in log


def test_sidecar_exits_1_when_the_store_stays_unreachable(tmp_path):
    url = "postgresql+psycopg://u:p@127.0.0.1:1/x"
    proc = sidecar(tmp_path, FINOPS_DATABASE_URL=url, FINOPS_STARTUP_WAIT_SECONDS="1")
    try:
        assert proc.wait(timeout=20) == 1
    finally:
        proc.kill()
    log = (tmp_path / "sidecar.log").read_text()
    errors = [line for line in log.splitlines() if " ERROR " in line]
    assert len(errors) == 1 and "cannot open the store at postgresql+psycopg://u:***@127.0.0.1:1/x: " in errors[0]
    assert "gave up after 1 s" in errors[0]
    assert "Traceback" not in log and "u:p@" not in log
