"""`python -m finops ...` against real stores: reports match the store, users, demo, bootstrap, failures."""

import csv
import io
import json
import os
import subprocess
import sys
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from subprocess import PIPE

import pandas as pd
import pytest
from sqlalchemy import text
from sqlmodel import Session

from finops.cli import main
from finops.costs import add_months
from finops.data import db, load, queries, users
from finops.data.sources import demo
from tests.conftest import use_store

ROOT = Path(__file__).parents[2]
UNREACHABLE_PG = "postgresql+psycopg://u:p@127.0.0.1:1/x"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def sql(engine, query: str, *params):
    with engine.connect() as conn:
        return conn.exec_driver_sql(query, params).all()


def store_sum(engine, start: date, end: date, column: str = "unblended_micros") -> float:
    (total,) = sql(engine, f"SELECT SUM({column}) FROM cost_daily WHERE day >= ? AND day < ?", str(start), str(end))[0]
    return total / 1e6


@pytest.fixture
def months(seeded_store) -> tuple[date, date]:
    """Three whole months inside the demo data."""
    with db.session() as s:
        first, _ = queries.coverage(session=s)
    start = add_months(first, 2)
    return start, add_months(start, 3)


def test_costs_month_service_csv_matches_the_store(seeded_store, months, capsys):
    start, end = months
    code, out, err = run(
        capsys, "costs", "--from", str(start), "--to", str(end), "--by", "month,service", "--format", "csv"
    )
    assert (code, err) == (0, "")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == ["month", "service", "unblended_cost", "currency"]
    assert sum(float(r["unblended_cost"]) for r in rows) == pytest.approx(
        store_sum(seeded_store, start, end), abs=0.005
    )
    expected = {
        (month, service): micros / 1e6
        for month, service, micros in sql(
            seeded_store,
            "SELECT strftime('%Y-%m-01', day), service, SUM(unblended_micros) FROM cost_daily "
            "WHERE day >= ? AND day < ? GROUP BY 1, 2",
            str(start),
            str(end),
        )
    }
    got = {(r["month"], r["service"]): float(r["unblended_cost"]) for r in rows}
    assert got.keys() == expected.keys() and len(rows) == len(got)
    assert all(got[key] == pytest.approx(value, abs=0.005) for key, value in expected.items())
    assert [r["month"] for r in rows] == sorted(r["month"] for r in rows)
    assert {r["currency"] for r in rows} == {"USD"}


def test_costs_month_grain_counts_only_the_window_days(seeded_store, months, capsys):
    start, end = months[0] + timedelta(days=14), months[1] + timedelta(days=9)
    code, out, _ = run(capsys, "costs", "--from", str(start), "--to", str(end), "--by", "month", "--format", "json")
    records = json.loads(out)
    assert code == 0 and [r["month"] for r in records] == [str(add_months(start, i)) for i in range(4)]
    assert sum(r["unblended_cost"] for r in records) == pytest.approx(store_sum(seeded_store, start, end), abs=0.005)


def test_costs_day_account_json(seeded_store, months, capsys):
    start, end = months[0], months[0] + timedelta(days=3)
    code, out, _ = run(
        capsys, "costs", "--from", str(start), "--to", str(end), "--by", "day,account", "--format", "json"
    )
    records = json.loads(out)
    assert code == 0
    assert list(records[0]) == ["day", "account_id", "account_name", "unblended_cost", "currency"]
    expected = sql(
        seeded_store,
        "SELECT day, account_id, MAX(account_name), SUM(unblended_micros) FROM cost_daily "
        "WHERE day >= ? AND day < ? GROUP BY 1, 2",
        str(start),
        str(end),
    )
    got = {(r["day"], r["account_id"]): (r["account_name"], r["unblended_cost"]) for r in records}
    assert len(records) == len(expected) == 15  # 3 days x 5 accounts
    for day, account_id, name, micros in expected:
        assert got[(str(day), account_id)] == (name, pytest.approx(micros / 1e6, abs=1e-6))
    assert got[(str(start), "111111111111")][0] == "prod-core"
    assert all(round(r["unblended_cost"], 6) == r["unblended_cost"] for r in records)


def test_costs_amortized_metric(seeded_store, months, capsys):
    # the first ten days of a month: unblended carries the whole monthly reserved-instance fee, amortized a third
    start, end = months[0], months[0] + timedelta(days=10)
    argv = ["--by", "month,service", "--metric", "amortized", "--format", "csv"]
    code, out, _ = run(capsys, "costs", "--from", str(start), "--to", str(end), *argv)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and list(rows[0]) == ["month", "service", "amortized_cost", "currency"]
    amortized = store_sum(seeded_store, start, end, "amortized_micros")
    assert sum(float(r["amortized_cost"]) for r in rows) == pytest.approx(amortized, abs=0.005)
    assert store_sum(seeded_store, start, end) - amortized > 1000


def test_costs_table_has_aligned_rows_and_a_total(seeded_store, months, capsys):
    start, end = months
    code, out, _ = run(capsys, "costs", "--from", str(start), "--to", str(end), "--by", "month,account")
    lines = out.splitlines()
    assert code == 0 and lines[0].split() == ["month", "account_id", "account_name", "unblended_cost", "currency"]
    assert len(lines) == 1 + 15 + 2  # header, 3 months x 5 accounts, rule, total
    assert set(lines[-2]) <= {"-", " "}
    assert lines[-1].split() == ["total", f"{store_sum(seeded_store, start, end):,.2f}", "USD"]
    assert len({line.index("USD") for line in lines[1:-2] + lines[-1:]}) == 1  # one currency column


@pytest.mark.parametrize(
    ("fmt", "stdout"), [("table", ""), ("csv", "day,service,unblended_cost,currency\n"), ("json", "[]\n")]
)
def test_costs_empty_window(seeded_store, capsys, fmt, stdout):
    code, out, err = run(
        capsys, "costs", "--from", "2001-01-01", "--to", "2001-02-01", "--by", "day,service", "--format", fmt
    )
    assert (code, out) == (0, stdout)
    assert err == ("no cost data in [2001-01-01, 2001-02-01)\n" if fmt == "table" else "")


def test_costs_csv_neutralises_formulas(seeded_store, capsys):
    row = {"day": date(2001, 1, 1), "provider": "x", "account_id": "9", "account_name": "=cmd|' /C calc'!A0"}
    row |= {"service": "@SUM(A1)", "region": "", "unblended_cost": 1.5, "amortized_cost": 1.5, "currency": "USD"}
    with Session(seeded_store) as s:
        load.replace_window(s, "test", date(2001, 1, 1), date(2001, 1, 2), pd.DataFrame([row | {"estimated": False}]))
    argv = ["--by", "day,service,account", "--format", "csv"]
    code, out, _ = run(capsys, "costs", "--from", "2001-01-01", "--to", "2001-01-02", *argv)
    # amounts are exact decimals with the store's 6 places (issue 16)
    assert code == 0 and out.splitlines()[1] == "2001-01-01,'@SUM(A1),9,'=cmd|' /C calc'!A0,1.500000,USD"


@pytest.fixture
def two_months(engine, tmp_path, monkeypatch):
    """January and February 2024 of the demo organisation in a fresh store (SQLite, and PostgreSQL when set)."""
    use_store(monkeypatch, tmp_path, url=engine.url.render_as_string(hide_password=False))
    rows = demo.generate(seed=7, start=date(2024, 1, 1), end=date(2024, 2, 29))
    with Session(engine) as s:
        load.replace_window(s, "demo", date(2024, 1, 1), date(2024, 3, 1), rows)
    rows["month"] = [day.replace(day=1).isoformat() for day in rows["day"]]
    yield rows
    db.get_engine().dispose()


@pytest.mark.parametrize(
    ("start", "by", "keys"),
    [
        ("2024-01-01", "month", ["month"]),  # whole months: the monthly rollup
        ("2024-01-10", "month,service,account", ["month", "service", "account_id"]),  # cut months: daily rows
        ("2024-02-20", "day,service", ["day", "service"]),
    ],
)
def test_costs_report_on_each_backend(two_months, capsys, start, by, keys):
    code, out, _ = run(capsys, "costs", "--from", start, "--to", "2024-03-01", "--by", by, "--format", "json")
    assert code == 0
    rows = two_months[two_months["day"] >= date.fromisoformat(start)].astype({"day": "str"})
    expected = rows.groupby(keys)["unblended_cost"].sum()
    got = {tuple(r[k] for k in keys): r["unblended_cost"] for r in json.loads(out)}
    assert len(got) == len(expected)
    for key, value in expected.items():
        assert got[key if isinstance(key, tuple) else (key,)] == pytest.approx(value, abs=1e-5)


@pytest.mark.parametrize("metric", ["unblended", "amortized"])
def test_costs_csv_amounts_are_the_stores_exactly(two_months, engine, capsys, metric):
    """The CLI's CSV writes each amount as the store's exact sum of micro-units (never a binary float)."""
    argv = ["--by", "day,service,account", "--metric", metric, "--format", "csv"]
    code, out, _ = run(capsys, "costs", "--from", "2024-01-05", "--to", "2024-02-10", *argv)
    assert code == 0
    written = list(csv.DictReader(io.StringIO(out)))
    assert list(written[0]) == ["day", "service", "account_id", "account_name", f"{metric}_cost", "currency"]
    with engine.connect() as conn:
        stored = {
            (str(day)[:10], service, account): f"{Decimal(int(total)).scaleb(-6):.6f}"
            for day, service, account, total in conn.execute(
                text(f"SELECT day, service, account_id, SUM({metric}_micros) FROM cost_daily WHERE day >= :s AND "
                     "day < :e GROUP BY day, service, account_id"),
                {"s": date(2024, 1, 5), "e": date(2024, 2, 10)},
            )
        }  # fmt: skip
    assert {(r["day"], r["service"], r["account_id"]): r[f"{metric}_cost"] for r in written} == stored


def test_users_add_from_stdin_then_list_without_hashes(seeded_store, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("s3cret-pass-9\nignored\n"))
    code, out, _ = run(capsys, "users", "add", "carol", "--role", "member", "--name", "Carol C", "--email", "c@x.io")
    assert code == 0 and "s3cret" not in out
    with db.session() as s:
        carol = users.get_user(session=s, username="carol")
        assert (carol.role, carol.name, carol.email) == ("member", "Carol C", "c@x.io")
        assert users.check_password("s3cret-pass-9", carol.password_hash)
    code, out, _ = run(capsys, "users", "list")
    table = [line.split() for line in out.splitlines()]
    assert code == 0 and table[0][:4] == ["username", "role", "name", "created"]
    assert [row[:2] for row in table[1:]] == [["admin", "admin"], ["carol", "member"], ["member", "member"]]
    assert "$2" not in out and carol.password_hash not in out


def test_users_add_generates_a_password_on_a_terminal(seeded_store, capsys, monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr(sys, "stdin", Terminal())
    code, out, _ = run(capsys, "users", "add", "dave", "--role", "admin")
    password = next(line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("password: "))
    with db.session() as s:
        assert code == 0 and users.check_password(password, users.get_user(session=s, username="dave").password_hash)


def test_users_add_refuses_a_duplicate(seeded_store, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("another-pass-1\n"))
    code, out, err = run(capsys, "users", "add", "member", "--role", "admin")
    assert (code, out) == (1, "") and err == "finops: user 'member' already exists\n"
    with db.session() as s:
        assert users.get_user(session=s, username="member").role == "member"


def test_users_passwd_from_stdin(seeded_store, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("brand-new-pass\n"))
    code, out, _ = run(capsys, "users", "passwd", "member")
    assert code == 0 and "brand-new-pass" not in out
    with db.session() as s:
        hashed = users.get_user(session=s, username="member").password_hash
    assert users.check_password("brand-new-pass", hashed) and not users.check_password("member-pass-1", hashed)
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    code, _, err = run(capsys, "users", "passwd", "member")
    assert code == 1 and "at least 8 characters" in err
    monkeypatch.setattr(sys, "stdin", io.StringIO("whatever-123\n"))
    assert run(capsys, "users", "passwd", "nobody")[::2] == (1, "finops: no user 'nobody'\n")


def test_demo_again_keeps_the_groups_as_people_edited_them(seeded_store, capsys):
    with seeded_store.begin() as conn:
        conn.exec_driver_sql("UPDATE resource_group SET description = 'ours now' WHERE name = 'Production'")
    before = sql(seeded_store, "SELECT id, name, description FROM resource_group ORDER BY id")
    code, out, _ = run(capsys, "demo")
    assert code == 0 and "added 0 demo resource groups" in out
    assert sql(seeded_store, "SELECT id, name, description FROM resource_group ORDER BY id") == before


def test_demo_if_empty_loads_nothing_into_a_seeded_store(seeded_store, capsys):
    count = "SELECT (SELECT COUNT(*) FROM cost_daily), (SELECT COUNT(*) FROM refresh_run)"
    before = sql(seeded_store, count)
    code, out, _ = run(capsys, "demo", "--if-empty")
    assert code == 0 and "nothing loaded" in out
    assert sql(seeded_store, count) == before


def test_bootstrap_loads_demo_and_creates_one_admin_once(store, capsys):
    code, out, _ = run(capsys, "bootstrap")
    assert code == 0
    (rows,) = sql(store, "SELECT COUNT(*) FROM cost_daily")[0]
    assert rows > 50_000 and f"loaded {rows:,} demo rows (seed 42)" in out
    (inventory,) = sql(store, "SELECT COUNT(*) FROM resource WHERE source = 'platform'")[0]
    assert inventory == len(demo.resources(42)) and f"added {inventory} demo platform resources" in out
    # the demo's resource groups, by team and environment, with their resources (issue 16)
    stored = sql(store, "SELECT g.owner, g.name, COUNT(m.id) FROM resource_group g JOIN resource_group_member m "
                        "ON m.group_id = g.id GROUP BY g.owner, g.name ORDER BY g.owner, g.name")  # fmt: skip
    assert stored == sorted((g["owner"], g["name"], len(g["resources"])) for g in demo.groups(42))
    assert f"added {len(stored)} demo resource groups" in out
    # the demo's schedule and budgets (the platform's is the admin's, so the admin comes first)
    assert sql(store, "SELECT owner, name FROM schedule") == [("member", "Development office hours")]
    assert sql(store, "SELECT owner, name, scope FROM budget ORDER BY id") == [
        ("member", "Product team monthly", "group"), ("member", "ML team monthly", "group"),
        ("admin", "Platform monthly", "platform")]  # fmt: skip
    assert "added 1 demo schedules" in out and "added 3 demo budgets" in out
    assert sql(store, "SELECT DISTINCT actor FROM audit_log WHERE object_type IN ('schedule', 'budget')") == [("demo",)]
    assert "http://localhost:8501" in out and "username: admin" in out
    assert "python -m finops users passwd admin" in out
    password = next(line.split(": ", 1)[1] for line in out.splitlines() if line.strip().startswith("password: "))
    with db.session() as s:
        (admin,) = users.list_users(session=s)
    assert (admin.username, admin.role) == ("admin", "admin")
    assert users.check_password(password, admin.password_hash)

    code, out, _ = run(capsys, "bootstrap")
    assert code == 0 and "password" not in out and "none created" in out and "demo not loaded" in out
    assert sql(store, "SELECT COUNT(*) FROM app_user")[0][0] == 1
    assert sql(store, "SELECT COUNT(*), MAX(id) FROM refresh_run")[0] == (1, 1)


def test_commands_on_an_unmigrated_store_say_to_run_init(tmp_path, monkeypatch, capsys):
    use_store(monkeypatch, tmp_path)
    code, out, err = run(capsys, "costs", "--from", "2024-01-01", "--to", "2024-02-01")
    assert (code, out) == (1, "") and "has no schema yet: run `python -m finops init` first" in err
    code, out, _ = run(capsys, "init")
    assert code == 0 and "created the schema (revision" in out
    assert run(capsys, "init")[1].endswith("nothing to do\n")
    assert run(capsys, "users", "list") == (
        0,
        "",
        "no users yet: `python -m finops bootstrap` creates the first admin\n",
    )


def test_unwritable_sqlite_path_is_one_clear_line(tmp_path, monkeypatch, capsys):
    use_store(monkeypatch, tmp_path, url="sqlite:////proc/nope/x.db")
    code, out, err = run(capsys, "init")
    assert (code, out) == (1, "")
    assert err.startswith("finops: cannot open the store at sqlite:////proc/nope/x.db: ") and err.count("\n") == 1


# --- the real command line, in a subprocess -------------------------------------------------------


def test_real_command_line_failures(tmp_path):
    """Bad usage exits 2 with one line; an unreachable store exits 1 with one line and no traceback."""
    env = {**os.environ, "FINOPS_DATA_DIR": str(tmp_path), "FINOPS_DATABASE_URL": "", "FINOPS_SOURCE": "demo"}
    cases = {
        "unknown option": (["costs", "--from", "2024-01-01", "--to", "2024-02-01", "--bogus"], {}),
        "malformed date": (["costs", "--from", "2024-02-30", "--to", "2024-03-01"], {}),
        "unreachable": (
            ["costs", "--from", "2024-01-01", "--to", "2024-02-01"],
            {"FINOPS_DATABASE_URL": UNREACHABLE_PG},
        ),
    }
    # started together: each pays the interpreter's start-up, so running them side by side saves seconds
    procs = {
        name: subprocess.Popen(
            [sys.executable, "-m", "finops", *argv], cwd=ROOT, env=env | extra, stdout=PIPE, stderr=PIPE, text=True
        )
        for name, (argv, extra) in cases.items()
    }
    results = {name: (*proc.communicate(timeout=60), proc.returncode) for name, proc in procs.items()}

    out, err, code = results["unknown option"]
    assert (code, out) == (2, "") and err.count("\n") == 1
    assert err.startswith("python -m finops: error: unrecognized arguments: --bogus")
    out, err, code = results["malformed date"]
    assert (code, out) == (2, "") and err.count("\n") == 1
    assert err.startswith(
        "python -m finops costs: error: argument --from: invalid date '2024-02-30': expected YYYY-MM-DD"
    )
    out, err, code = results["unreachable"]
    assert (code, out) == (1, "") and err.count("\n") == 1
    assert err.startswith("finops: cannot open the store at postgresql+psycopg://u:***@127.0.0.1:1/x: ")
    assert "Traceback" not in err and "u:p@" not in err


def test_resources_add_import_and_list(store, capsys, tmp_path):
    from finops import cli as finops_cli

    assert finops_cli.main(["resources", "add", "app", "web-1", "--name", "Web", "--hourly-cost", "0.25"]) == 0
    assert "saved app:web-1 (Web)" in capsys.readouterr().out
    good = tmp_path / "good.csv"
    good.write_text(
        "resource_type,resource_id,name,owner\nworkspace,ws-1,=cmd|' /C calc'!A0,ada\nml_model,m-1,Ranker,max\n"
    )
    assert finops_cli.main(["resources", "import", str(good)]) == 0
    assert "imported 2 resources" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text("resource_type,resource_id,name\napp,a-2,Fine\nspaceship,s-1,Nope\n")
    assert finops_cli.main(["resources", "import", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "line 3" in err and "resource_type" in err and "Traceback" not in err
    assert finops_cli.main(["resources", "list", "--format", "csv"]) == 0
    out = capsys.readouterr().out
    assert "a-2" not in out  # nothing from the bad file was imported
    assert "web-1" in out and "m-1" in out and "'=cmd|" in out  # the formula-looking name is neutralised
    assert finops_cli.main(["resources", "add", "spaceship", "x", "--name", "X"]) == 1
    assert "spaceship" in capsys.readouterr().err
