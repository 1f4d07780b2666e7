"""Bad settings and bad input in all three processes: one clear line, the right exit code, nothing lost; the
store's files are private."""

import os
import stat
import subprocess
import sys
import time
from pathlib import Path
from subprocess import PIPE

import pytest

from finops.cli import main
from finops.data import db
from tests.conftest import ROOT

BAD_REGIONS = '["us-east-1", eu-west-1]'  # not JSON: used to crash the CLI and the UI with a traceback


def proc_env(folder: Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FINOPS_")}
    return {**env, "FINOPS_DATA_DIR": str(folder), "FINOPS_SOURCE": "demo", **extra}


def test_cli_names_a_bad_setting_and_exits_2(tmp_path):
    cases = {
        "regions": ["users", "list"],
        "cron": ["refresh"],
    }
    extra = {"regions": {"FINOPS_AWS_REGIONS": BAD_REGIONS}, "cron": {"FINOPS_REFRESH_CRON": "61 * * * *"}}
    procs = {
        name: subprocess.Popen([sys.executable, "-m", "finops", *argv], cwd=ROOT, env=proc_env(tmp_path, **extra[name]),
                               stdout=PIPE, stderr=PIPE, text=True)
        for name, argv in cases.items()
    }  # fmt: skip
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=60)
        assert (proc.returncode, out) == (2, ""), err
        assert err.count("\n") == 1 and "Traceback" not in err
        variable = next(iter(extra[name]))
        assert err.startswith(f"python -m finops: invalid settings: {variable}: ")


def test_sidecar_with_a_bad_setting_exits_2_before_taking_the_store(tmp_path):
    main_env = proc_env(tmp_path, FINOPS_REFRESH_CRON="0 25 * * *", FINOPS_HEARTBEAT_SECONDS="1")
    bad = subprocess.run([sys.executable, "-m", "finops.jobs"], cwd=ROOT, env=main_env, capture_output=True, text=True,
                         timeout=60)  # fmt: skip
    assert bad.returncode == 2
    errors = [line for line in bad.stderr.splitlines() if " ERROR " in line]
    assert len(errors) == 1 and "invalid settings: FINOPS_REFRESH_CRON: must be a crontab line" in errors[0]
    assert "Traceback" not in bad.stderr
    assert not (tmp_path / "finops.db").exists()  # it never touched the store, so it holds nothing
    # a corrected sidecar starts at once on the same store
    good = subprocess.Popen([sys.executable, "-m", "finops.jobs"], cwd=ROOT,
                            env=proc_env(tmp_path, FINOPS_HEARTBEAT_SECONDS="1"), stderr=PIPE, text=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "finops.db.sidecar-lock").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        from finops.data.store_lock import held_elsewhere

        engine = db.make_engine(f"sqlite:///{tmp_path / 'finops.db'}")
        while not held_elsewhere(engine) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert held_elsewhere(engine)
        engine.dispose()
    finally:
        good.terminate()
        good.wait(timeout=30)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "is not a CSV file: it holds a NUL byte at offset 8"),
        (b"resource_type,resource_id,name\napp,a-1,Caf\xe9\n", "is not UTF-8 text: byte 0xe9 at offset"),
    ],
    ids=["binary", "latin-1"],
)
def test_import_of_a_binary_or_non_utf8_file_is_one_line(store, tmp_path, capsys, content, message):
    path = tmp_path / "inventory.csv"
    path.write_bytes(content)
    assert main(["resources", "import", str(path)]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and message in err and "Traceback" not in err
    assert main(["resources", "list", "--format", "csv"]) == 0
    assert capsys.readouterr().out.count("\n") == 1  # the header only: nothing imported


@pytest.mark.parametrize("command", [["users", "add", "long", "--role", "member"], ["users", "passwd", "admin"]])
def test_a_password_over_72_bytes_is_one_line(seeded_store, tmp_path, command):
    password = "pässwörd-" * 9  # 99 bytes in UTF-8: bcrypt would read only 72 of them
    env = proc_env(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "finops", *command], cwd=ROOT, env=env, input=password + "\n",
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "password must be at most 72 bytes in UTF-8" in proc.stderr


def test_the_sqlite_store_and_its_wal_are_private(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "finops", "init"], cwd=ROOT, env=proc_env(tmp_path),
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    engine = db.make_engine(f"sqlite:///{tmp_path / 'finops.db'}")
    with engine.begin() as conn:  # a write, so the -wal file exists
        conn.exec_driver_sql("INSERT INTO heartbeat (name, pid, host, started_at, beat_at) "
                             "VALUES ('x', 1, 'h', '2026-01-01', '2026-01-01')")  # fmt: skip
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir() if p.name.startswith("finops.db")}
    engine.dispose()
    assert modes["finops.db"] == 0o600 and modes.get("finops.db-wal", 0o600) == 0o600
    assert all(mode == 0o600 for mode in modes.values()), modes
