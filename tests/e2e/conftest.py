"""A real app server (streamlit run Home.py) on a copy of the demo store, and Debian's Chromium."""

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.conftest import ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright hook: use the system Chromium (Playwright cannot download its own here)."""
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def app_store(_modeled_file, tmp_path_factory):
    """The SQLite file behind the running app: a private copy of the modeled demo store."""
    folder = tmp_path_factory.mktemp("e2e-store")
    shutil.copy(_modeled_file, folder / "finops.db")
    return folder / "finops.db"


@pytest.fixture(scope="session")
def app_url(app_store):
    """URL of a running app on `app_store` (users: see tests/conftest.py)."""
    folder = app_store.parent
    port = _free_port()
    env = {
        **os.environ,
        "FINOPS_DATA_DIR": str(folder),
        "FINOPS_DATABASE_URL": "",
        "FINOPS_SOURCE": "demo",
        "FINOPS_COOKIE_KEY": "e2e-cookie-key-that-is-long-enough-0123456789",
    }
    log = open(folder / "streamlit.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "Home.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).read() == b"ok":
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start: {(folder / 'streamlit.log').read_text()}") from None
            time.sleep(0.2)
    yield url
    proc.terminate()
    proc.wait(10)
    log.close()


@pytest.fixture(scope="session")
def seeded_sum(_seeded_file):
    """Unblended total of the store behind the app for days in [start, end), straight from SQLite."""

    def total(start, end) -> float:
        with sqlite3.connect(_seeded_file) as conn:
            sql = "SELECT SUM(unblended_micros) FROM cost_daily WHERE day >= ? AND day < ?"
            return conn.execute(sql, (start.isoformat(), end.isoformat())).fetchone()[0] / 1e6

    return total
