"""One sidecar per store through a lock the OS (SQLite) or the server (PostgreSQL) frees when its holder dies:
in process, and with real sidecar processes killed with SIGKILL and started again."""

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from finops.data.store_lock import StoreLock, held_elsewhere
from finops.data.tables import RefreshRun

ROOT = Path(__file__).parents[2]


def test_one_holder_at_a_time_and_free_once_released(engine):
    first, second = StoreLock(engine), StoreLock(engine)
    assert not held_elsewhere(engine)
    assert first.acquire() and first.acquire()  # taking it again is a no-op
    assert held_elsewhere(engine)
    assert not second.acquire()
    assert first.alive()
    first.release()
    assert not held_elsewhere(engine)
    assert second.acquire()
    second.release()


def test_sqlite_lock_file_is_private(engine, tmp_path):
    if engine.dialect.name != "sqlite":
        pytest.skip("the lock file is SQLite's")
    lock = StoreLock(engine)
    assert lock.acquire()
    path = Path(f"{engine.url.database}.sidecar-lock")
    assert path.read_text().strip() == str(os.getpid())
    assert path.stat().st_mode & 0o777 == 0o600
    lock.release()


def start_sidecar(url: str, folder: Path, log_name: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "FINOPS_DATA_DIR": str(folder),
        "FINOPS_DATABASE_URL": url,
        "FINOPS_SOURCE": "demo",
        "FINOPS_HEARTBEAT_SECONDS": "1",
        "FINOPS_REQUEST_POLL_SECONDS": "1",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "finops.jobs"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
        stderr=(folder / log_name).open("w"),
    )  # fmt: skip


def beating_pid(engine) -> int | None:
    with engine.connect() as conn:
        row = conn.execute(text("SELECT pid, beat_at FROM heartbeat WHERE name = 'sidecar'")).first()
    if row is None:
        return None
    beat = datetime.fromisoformat(row.beat_at) if isinstance(row.beat_at, str) else row.beat_at  # SQLite: text
    beat = beat if beat.tzinfo else beat.replace(tzinfo=UTC)
    return row.pid if (datetime.now(UTC) - beat).total_seconds() < 3 else None


def wait_for(check, timeout: float, what: str) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if check():
            return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@pytest.mark.slow
def test_a_sigkilled_sidecar_restarted_takes_over_in_seconds_and_a_second_one_waits(engine, tmp_path):
    from sqlmodel import Session

    with Session(engine) as s:  # refreshed today: the sidecars skip the refresh at start
        s.add(RefreshRun(source="demo", status="ok", finished_at=datetime.now(UTC)))
        s.commit()
    url = engine.url.render_as_string(hide_password=False)
    procs = []
    try:
        first = start_sidecar(url, tmp_path, "first.log")
        procs.append(first)
        wait_for(lambda: beating_pid(engine) == first.pid, 30, "the first sidecar's heartbeat")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        again = start_sidecar(url, tmp_path, "again.log")
        procs.append(again)
        took = wait_for(lambda: beating_pid(engine) == again.pid, 30, "the restarted sidecar's heartbeat")
        # the interpreter and imports take a few seconds here; the old lease made it wait 10 heartbeats or more
        assert took < 15, f"took over after {took:.1f} s"
        log = (tmp_path / "again.log").read_text()
        assert "waiting idle" not in log and "Traceback" not in log

        second = start_sidecar(url, tmp_path, "second.log")
        procs.append(second)
        wait_for(lambda: "waiting idle" in (tmp_path / "second.log").read_text(), 30, "the second one to wait")
        time.sleep(2)
        assert beating_pid(engine) == again.pid and second.poll() is None  # still waiting, not beating
        again.send_signal(signal.SIGKILL)
        again.wait(timeout=10)
        wait_for(lambda: beating_pid(engine) == second.pid, 15, "the waiting sidecar to take over")
        assert "taking over the store" in (tmp_path / "second.log").read_text()
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=15) == 0
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()
