"""A long `finops resources import` beside a running sidecar: the import holds the store's write lock only for its
final merge, so the sidecar's heartbeats and jobs go on and none fails with "database is locked"."""

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest

from bench.bench_import import write_csv
from finops import cli
from tests.conftest import ROOT, use_store

ROWS = 200_000


def beat_of(path: Path) -> datetime | None:
    with sqlite3.connect(path, timeout=30) as conn:
        row = conn.execute("SELECT beat_at FROM heartbeat WHERE name = 'sidecar'").fetchone()
    return datetime.fromisoformat(row[0]) if row else None


@pytest.mark.slow
def test_a_long_import_does_not_stall_the_sidecar(_seeded_file, tmp_path, monkeypatch, capsys):
    store = tmp_path / "finops.db"
    shutil.copy(_seeded_file, store)
    write_csv(tmp_path / "inventory.csv", ROWS, seed=3)
    env = {**os.environ, "FINOPS_DATA_DIR": str(tmp_path), "FINOPS_DATABASE_URL": "", "FINOPS_SOURCE": "demo",
           "FINOPS_HEARTBEAT_SECONDS": "1", "FINOPS_REQUEST_POLL_SECONDS": "1"}  # fmt: skip
    log = tmp_path / "sidecar.log"
    proc = subprocess.Popen([sys.executable, "-m", "finops.jobs"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=log.open("w"))  # fmt: skip
    gaps, stop = [], threading.Event()
    try:
        deadline = time.monotonic() + 30
        while beat_of(store) is None and time.monotonic() < deadline:
            time.sleep(0.1)
        with sqlite3.connect(store) as conn:  # a refresh for the sidecar to write at the same time
            conn.execute("INSERT INTO refresh_request (requested_at, requested_by, backfill, status) "
                         "VALUES (datetime('now'), 'test', 0, 'pending')")  # fmt: skip

        def watch():  # the longest time between two heartbeats the sidecar wrote during the import
            last, seen = beat_of(store), time.monotonic()
            while not stop.is_set():
                beat = beat_of(store)
                if beat != last:
                    gaps.append(time.monotonic() - seen)
                    last, seen = beat, time.monotonic()
                time.sleep(0.05)
            gaps.append(time.monotonic() - seen)

        watcher = threading.Thread(target=watch)
        watcher.start()
        use_store(monkeypatch, tmp_path)
        started = time.monotonic()
        assert cli.main(["resources", "import", str(tmp_path / "inventory.csv")]) == 0
        took = time.monotonic() - started
        assert f"imported {ROWS:,} resources" in capsys.readouterr().out
        time.sleep(2)
        stop.set()
        watcher.join()
        with sqlite3.connect(store) as conn:
            deadline = time.monotonic() + 60
            while conn.execute("SELECT status FROM refresh_request").fetchone()[0] != "done":
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        stop.set()
        proc.kill()
    text = log.read_text()
    assert "database is locked" not in text and " ERROR " not in text and "Traceback" not in text, text
    print(f"import of {ROWS:,} rows: {took:.1f} s; longest heartbeat gap {max(gaps):.1f} s")  # noqa: T201
    assert max(gaps) < 15, f"heartbeats stalled for {max(gaps):.1f} s during a {took:.1f} s import"
