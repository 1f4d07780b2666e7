"""Refreshes through the sidecar: requests, interrupted runs, the CLI's `refresh` (the store lock: test_store_lock)."""

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlmodel import Session, select

from finops import cli
from finops.data import queries, refresh_requests
from finops.data.tables import RefreshRequest, RefreshRun
from finops.jobs import tasks

ROOT = Path(__file__).parents[2]


def no_aws_credentials(monkeypatch) -> None:
    """Source aws with no credentials anywhere boto3 looks, and no instance-metadata wait."""
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/config")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("FINOPS_SOURCE", "aws")
    from finops.settings import get_settings

    get_settings.cache_clear()


def store_total(path: Path) -> tuple[int, int]:
    with sqlite3.connect(path, timeout=30) as conn:
        return conn.execute("SELECT COUNT(*), SUM(unblended_micros) FROM cost_daily").fetchone()


def version(engine) -> int:
    with Session(engine) as s:
        return queries.data_version(session=s)


def test_a_request_is_taken_refreshed_and_closed(seeded_store, monkeypatch):
    before = version(seeded_store)
    monkeypatch.setenv("FINOPS_DEMO_SEED", "7")  # the "new data" the refresh brings
    from finops.settings import get_settings

    get_settings.cache_clear()
    with Session(seeded_store) as s:
        request, created = refresh_requests.request_refresh(session=s, requested_by="ada")
        again, created_again = refresh_requests.request_refresh(session=s, requested_by="bob")
    assert created and not created_again and again.id == request.id  # an open request is not duplicated
    tasks.take_requests()
    with Session(seeded_store) as s:
        done = s.get(RefreshRequest, request.id)
        assert (done.status, done.error, done.requested_by) == ("done", None, "ada")
        assert done.run_id == queries.data_version(session=s) > before
        assert refresh_requests.open_request(session=s) is None
    tasks.take_requests()  # nothing pending: nothing happens
    assert version(seeded_store) == done.run_id


def test_a_failed_request_says_why_and_keeps_the_data(seeded_store, monkeypatch):
    no_aws_credentials(monkeypatch)
    before, count = version(seeded_store), store_total_engine(seeded_store)
    with Session(seeded_store) as s:
        request, _ = refresh_requests.request_refresh(session=s, requested_by="ada")
    tasks.take_requests()
    with Session(seeded_store) as s:
        failed = s.get(RefreshRequest, request.id)
        assert failed.status == "failed" and "no usable AWS credentials" in failed.error
        last, ok = queries.latest_runs(session=s)
        assert last.status == "failed" and "no usable AWS credentials" in last.error and ok.id == before
    assert version(seeded_store) == before and store_total_engine(seeded_store) == count


def store_total_engine(engine) -> tuple:
    with engine.connect() as conn:
        return tuple(conn.exec_driver_sql("SELECT COUNT(*), SUM(unblended_micros) FROM cost_daily").one())


def test_runs_and_requests_left_running_are_closed_as_interrupted(store):
    with Session(store) as s:
        s.add(RefreshRun(source="demo"))
        s.add(RefreshRequest(status="running"))
        s.add(RefreshRequest(status="pending"))
        s.commit()
    assert tasks.close_interrupted() == 2
    with Session(store) as s:
        run = s.execute(select(RefreshRun)).scalars().one()
        assert run.status == "failed" and run.error.startswith("interrupted")
        statuses = [r.status for r in s.execute(select(RefreshRequest).order_by(RefreshRequest.id)).scalars()]
        assert statuses == ["failed", "pending"]  # a pending one still runs


def test_cli_refresh_files_a_request_or_runs_with_wait(seeded_store, capsys, monkeypatch):
    assert cli.main(["refresh"]) == 0
    assert "refresh requested (request 1)" in capsys.readouterr().out
    assert cli.main(["refresh"]) == 0
    assert "already requested (request 1)" in capsys.readouterr().out
    before = version(seeded_store)
    assert cli.main(["refresh", "--wait"]) == 0
    assert f"as run {before + 1}" in capsys.readouterr().out
    no_aws_credentials(monkeypatch)
    assert cli.main(["refresh", "--wait"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("finops: refresh failed: no usable AWS credentials") and "Traceback" not in err


def sidecar(folder: Path, log_name: str, **env: str) -> subprocess.Popen:
    settings = {
        "FINOPS_DATA_DIR": str(folder),
        "FINOPS_DATABASE_URL": "",
        "FINOPS_SOURCE": "demo",
        "FINOPS_HEARTBEAT_SECONDS": "1",
        "FINOPS_REQUEST_POLL_SECONDS": "1",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "finops.jobs"],
        cwd=ROOT,
        env={**os.environ, **settings, **env},
        stdout=subprocess.DEVNULL,
        stderr=(folder / log_name).open("w"),
    )


def wait_for(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def query(path: Path, sql: str):
    with sqlite3.connect(path, timeout=30) as conn:
        return conn.execute(sql).fetchall()


@pytest.mark.slow
def test_a_second_sidecar_waits_idle_then_takes_over(tmp_path, _seeded_file):
    shutil.copy(_seeded_file, tmp_path / "finops.db")
    db_file = tmp_path / "finops.db"
    first = sidecar(tmp_path, "first.log")
    second = None
    try:
        wait_for(lambda: query(db_file, "SELECT pid FROM heartbeat") == [(first.pid,)], 20, "the first sidecar")
        second = sidecar(tmp_path, "second.log")
        wait_for(lambda: "waiting idle" in (tmp_path / "second.log").read_text(), 20, "the second to wait")
        time.sleep(1.5)
        assert query(db_file, "SELECT pid FROM heartbeat") == [(first.pid,)]
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=15) == 0
        wait_for(lambda: query(db_file, "SELECT pid FROM heartbeat") == [(second.pid,)], 20, "the takeover")
        assert "taking over the store" in (tmp_path / "second.log").read_text()
    finally:
        for proc in (first, second):
            if proc is not None:
                proc.kill()
                proc.wait()


@pytest.mark.slow
def test_sigkill_mid_refresh_keeps_the_previous_data_and_the_next_run_completes(tmp_path, _seeded_file):
    shutil.copy(_seeded_file, tmp_path / "finops.db")
    db_file = tmp_path / "finops.db"
    before = store_total(db_file)
    query(db_file, "SELECT 1")
    with sqlite3.connect(db_file) as conn:
        conn.execute("INSERT INTO refresh_request (requested_at, requested_by, backfill, status) "
                     "VALUES (datetime('now'), 'test', 0, 'pending')")  # fmt: skip
    proc = sidecar(tmp_path, "killed.log", FINOPS_DEMO_SEED="7")
    try:
        wait_for(lambda: query(db_file, "SELECT id FROM refresh_run WHERE status = 'running'"), 60, "the load")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        proc.kill()
    assert store_total(db_file) == before  # the half-done load rolled back
    assert query(db_file, "SELECT status FROM refresh_request") == [("running",)]
    proc = sidecar(tmp_path, "next.log", FINOPS_DEMO_SEED="7")
    try:
        wait_for(
            lambda: query(db_file, "SELECT status FROM refresh_request WHERE id = 1") == [("failed",)], 30, "cleanup"
        )
        with sqlite3.connect(db_file) as conn:
            conn.execute("INSERT INTO refresh_request (requested_at, requested_by, backfill, status) "
                         "VALUES (datetime('now'), 'test', 0, 'pending')")  # fmt: skip
        wait_for(lambda: query(db_file, "SELECT status FROM refresh_request WHERE id = 2") == [("done",)], 60, "rerun")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
    assert store_total(db_file) != before  # seed 7's organisation replaced seed 42's
    interrupted = query(db_file, "SELECT error FROM refresh_run WHERE status = 'failed'")
    assert len(interrupted) == 1 and interrupted[0][0].startswith("interrupted")


def test_forecast_runs_and_power_actions_left_running_are_closed_too(store):
    from finops.data.tables import ForecastRun, PowerAction

    with Session(store) as s:
        s.add(ForecastRun(status="running"))
        s.add(PowerAction(requested_by="ada", group_id=1, group_name="g", action="stop", status="running"))
        s.add(PowerAction(requested_by="ada", group_id=1, group_name="g", action="start", status="pending"))
        s.commit()
    assert tasks.close_interrupted() == 2
    with Session(store) as s:
        assert s.exec(select(ForecastRun.status, ForecastRun.message)).all() == [
            ("failed", "interrupted: the sidecar stopped")
        ]
        assert sorted(s.exec(select(PowerAction.status)).all()) == ["failed", "pending"]
