"""`python -m finops ui` (what `make run` starts): Streamlit on FINOPS_HOST:FINOPS_PORT, loopback unless opened."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening_addresses(port: int) -> set[str]:
    """Local addresses of the TCP sockets listening on `port`, read from /proc/net/tcp and tcp6."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not Path(table).exists():
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                if len(address) == 8:
                    found.add(socket.inet_ntop(socket.AF_INET, bytes.fromhex(address)[::-1]))
                else:
                    words = [bytes.fromhex(address[i : i + 8])[::-1] for i in range(0, 32, 8)]
                    found.add(socket.inet_ntop(socket.AF_INET6, b"".join(words)))
    return found


@pytest.mark.slow
@pytest.mark.parametrize(("host", "expected"), [(None, {"127.0.0.1"}), ("0.0.0.0", {"0.0.0.0"})])
def test_the_ui_listens_on_loopback_unless_a_setting_opens_it(seeded_store, tmp_path, host, expected):
    port = free_port()
    env = {**os.environ, "FINOPS_DATA_DIR": str(tmp_path), "FINOPS_PORT": str(port)}
    env.pop("FINOPS_HOST", None)
    if host:
        env["FINOPS_HOST"] = host
    proc = subprocess.Popen([sys.executable, "-m", "finops", "ui"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1).read() == b"ok":
                    break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, "the UI did not start"
                time.sleep(0.2)
        assert listening_addresses(port) == expected
    finally:
        proc.terminate()
        proc.wait(timeout=15)
