"""`executions`, `rates` and `tokens` commands on the demo store: figures, refusals and exit codes."""

import csv
import io
import json

import pytest

from finops.cli import main
from tests.store.test_cli import sql

HEADER = "execution_id,workflow_id,workflow_name,user,started_at,ended_at,status,compute_type,compute_count\n"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def count(engine) -> int:
    return sql(engine, "SELECT COUNT(*) FROM execution")[0][0]


def test_import_stores_the_file_and_a_second_import_changes_nothing(seeded_store, tmp_path, capsys):
    path = tmp_path / "runs.csv"
    rows = ["x-1,wf-x,X,ana,2026-11-02T10:00:00Z,2026-11-02T12:00:00Z,succeeded,gpu-t4,3",
            "x-2,wf-x,X,ana,2026-11-02T10:00:00+01:00,2026-11-02T10:30:00+01:00,failed,cpu-small,1"]  # fmt: skip
    path.write_text(HEADER + "\n".join(rows) + "\n")
    before = count(seeded_store)
    assert run(capsys, "executions", "import", str(path))[:2] == (0, f"stored 2 runs from {path}; 0 were already "
                                                                    "stored and left as they were\n")  # fmt: skip
    code, out, _ = run(capsys, "executions", "import", str(path))
    assert code == 0 and "stored 0 runs" in out and "2 were already stored" in out
    assert count(seeded_store) == before + 2
    rows = dict(sql(seeded_store, "SELECT execution_id, cost_micros FROM execution WHERE execution_id LIKE 'x-%'"))
    assert rows == {"x-1": 3 * 2 * 530_000, "x-2": 50_000}  # 3 T4 for 2 h at 0.53; 1 small for 0.5 h at 0.10


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("y-1,wf,W,ana,2026-11-02T10:00:00Z,2026-11-02T09:00:00Z,succeeded,gpu-t4,1", "line 3), column ended_at: "),
        ("y-1,wf,W,ana,2026-11-02T10:00:00Z,2026-11-02T11:00:00Z,succeeded,tpu-v5,1", "column compute_type: 'tpu-v5' "
                                                                                     "has no rate in force"),
        ("y-1,wf,W,ana,2026-11-02,2026-11-03,done,gpu-t4,1", "column status: must be one of"),
        ("y-1,wf,W,ana,2026-11-02,2026-11-03,succeeded,gpu-t4,many", "column compute_count: "),
    ],
)  # fmt: skip
def test_a_bad_row_exits_2_names_line_and_column_and_stores_nothing(seeded_store, tmp_path, capsys, line, message):
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + "ok-1,wf,W,ana,2026-11-02T10:00:00Z,2026-11-02T11:00:00Z,succeeded,gpu-t4,1\n" + line)
    before = count(seeded_store)
    code, out, err = run(capsys, "executions", "import", str(path))
    assert (code, out) == (2, "") and message in err and err.count("\n") == 1 and "nothing was stored" in err
    assert count(seeded_store) == before


def test_list_by_workflow_as_csv_matches_the_store(seeded_store, capsys):
    code, out, _ = run(capsys, "executions", "list", "--months", "3", "--by", "workflow", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and rows and {"workflow_id", "runs", "cost", "median_per_run", "p90_per_run"} <= set(rows[0])
    start = sql(seeded_store, "SELECT date('now', 'start of month', '-2 months')")[0][0]
    (total,) = sql(seeded_store, "SELECT SUM(cost_micros) FROM execution WHERE started_at >= ?", start)[0]
    assert sum(float(r["cost"]) for r in rows) == pytest.approx(total / 1e6, abs=1e-4)
    with pytest.raises(SystemExit) as exit_code:
        run(capsys, "executions", "list", "--months", "0")
    assert exit_code.value.code == 2 and "invalid months '0'" in capsys.readouterr().err


def test_rates_set_and_list(seeded_store, capsys):
    code, out, _ = run(capsys, "rates", "set", "gpu-h100", "9.80", "--from", "2026-01-01", "--gpu")
    assert code == 0 and "rate of gpu-h100: USD 9.80 per unit-hour from 2026-01-01 00:00 UTC" in out
    code, out, _ = run(capsys, "rates", "list", "--format", "json")
    card = {(r["compute_type"], r["usd_per_hour"], r["in_force"]) for r in json.loads(out)}
    assert ("gpu-h100", 9.8, True) in card and ("gpu-a100", 3.67, True) in card and ("gpu-a100", 4.1, False) in card
    code, _, err = run(capsys, "rates", "set", "gpu-h100", "-3")
    assert code == 1 and "usd_per_hour: must be from 0" in err


def test_tokens_add_shows_the_token_once_and_list_never(seeded_store, capsys):
    code, out, err = run(capsys, "tokens", "add", "ci", "--user", "admin", "--expires", "30")
    token = out.strip().splitlines()[-1]
    assert code == 0 and token.startswith("finops_") and len(token) > 40 and "shown only this once" in err
    code, out, _ = run(capsys, "tokens", "list", "--format", "csv")
    assert code == 0 and token not in out and "ci,admin" in out and "active" in out
    (stored,) = sql(seeded_store, "SELECT token_hash FROM api_token WHERE name = 'ci'")[0]
    assert token not in stored
    assert run(capsys, "tokens", "revoke", "ci")[:2] == (0, "token ci revoked\n")
    assert "revoked" in run(capsys, "tokens", "list")[1]
    assert run(capsys, "tokens", "add", "x", "--user", "nobody")[0] == 1
    with pytest.raises(SystemExit) as exit_code:
        run(capsys, "tokens", "add", "x", "--user", "admin", "--expires", "0")
    assert exit_code.value.code == 2
