"""`finops budgets ...` and `finops alerts ...` against a real store: import (a file of two budgets), list, show,
export and import again, evaluate as of a day, status in three formats, approve in a user's name, alerts as
CSV, delete; bad input exits 2 naming the field and saves nothing, not even the file's good budgets."""

import csv
import io
import json
from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import select
from sqlmodel import Session

from finops.cli import main
from finops.data import groups, resources
from finops.data.access import Actor
from finops.data.tables import Budget, BudgetAction, User

FILE = """
budgets:
  - name: web-team
    owner: lead
    scope: {kind: group, group: web}
    period: monthly
    amount: 1000
    thresholds:
      - {at: 50, kind: percent, on: actual, channels: [inbox]}
      - {at: 100, kind: percent, on: forecast, action: stop, approval: manual}
  - name: everything
    owner: boss
    scope: platform
    period: quarterly
    auto: {basis: average, periods: 2}
    metric: amortized
"""


@pytest.fixture
def cli_store(store):
    with Session(store) as s:
        s.add(User(username="lead", role="member", password_hash="-"))
        s.add(User(username="boss", role="admin", password_hash="-"))
        s.commit()
        with time_machine.travel(datetime(2026, 11, 1, tzinfo=UTC), tick=False):
            resources.add_resource(session=s, resource_type="app", resource_id="w1", name="w1", owner="lead",
                                   state="running", hourly_cost=2.0)  # fmt: skip
            groups.create_group(session=s, actor=Actor("lead"), name="web", resources=[("app", "w1")])
    return store


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def names(engine) -> list[str]:
    with Session(engine) as s:
        return list(s.execute(select(Budget.name).order_by(Budget.id)).scalars())


def test_import_evaluate_status_approve_export_delete(cli_store, tmp_path, capsys):
    path = tmp_path / "budgets.yaml"
    path.write_text(FILE)
    result = run(capsys, "budgets", "import", str(path))
    assert result == (0, "created web-team (lead)\ncreated everything (boss)\n", ""), result[2]
    assert run(capsys, "budgets", "import", str(path))[1].startswith("replaced web-team (lead)")
    code, out, _ = run(capsys, "budgets", "list", "--format", "json")
    listed = {r["name"]: r for r in json.loads(out)}
    assert listed["web-team"]["scope"] == "group web" and listed["everything"]["amount"] == "auto: average of 2"
    # as of the end of Nov 20: 20 days x 24 h x $2 = $960; the forecast to Nov 30 is $1,440
    code, out, _ = run(capsys, "budgets", "evaluate", "--at", "2026-11-20")
    assert (
        out == "evaluated 2 budgets as of the end of 2026-11-20: 2 new alerts, 1 actions proposed, 0 messages queued\n"
    )
    code, out, _ = run(capsys, "budgets", "status", "--format", "csv", "--at", "2026-11-20")
    rows = {r["name"]: r for r in csv.DictReader(io.StringIO(out))}
    assert list(next(iter(rows.values()))) == ["name", "scope", "period_start", "period_end", "amount", "actual",
                                               "forecast", "pct_actual", "pct_forecast", "status"]  # fmt: skip
    web = rows["web-team"]
    assert (web["period_start"], web["period_end"], web["amount"], web["actual"], web["forecast"]) == (
        "2026-11-01", "2026-12-01", "1000.00", "960.00", "1440.00")  # fmt: skip
    assert (web["pct_actual"], web["pct_forecast"], web["status"]) == ("96.0", "144.0", "forecast_over")
    assert rows["everything"]["status"] == "no_data"
    code, out, _ = run(capsys, "budgets", "status")
    assert code == 0 and "web-team" in out and "1,440.00" in out
    with Session(cli_store) as s:
        action = s.execute(select(BudgetAction)).scalars().one()
    assert run(capsys, "budgets", "approve", str(action.id), "--as", "nobody")[:1] == (2,)
    code, out, _ = run(capsys, "budgets", "approve", str(action.id))
    assert (code, out) == (0, f"budget action {action.id} (stop for web-team): approved by lead\n")
    code, _, err = run(capsys, "budgets", "approve", str(action.id))
    assert code == 2 and "is approved, not awaiting approval" in err
    code, out, _ = run(capsys, "alerts", "list", "--format", "csv")
    alerts = list(csv.DictReader(io.StringIO(out)))
    assert sorted(a["threshold"] for a in alerts) == ["100 % of forecast, stop", "50 % of actual"]
    assert {a["deliveries"] for a in alerts} == {"inbox"}
    code, exported, _ = run(capsys, "budgets", "export", "web-team")
    again = tmp_path / "again.yaml"
    again.write_text(exported.replace("name: web-team", "name: web copy"))
    assert run(capsys, "budgets", "import", str(again))[0] == 0
    code, out, _ = run(capsys, "budgets", "show", "web copy")
    assert "amount: 1000.0" in out and "# 2026-" in out
    assert run(capsys, "budgets", "delete", "web copy")[0] == 0
    assert names(cli_store) == ["web-team", "everything"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: x\nowner: lead\nscope: {group: web}\namount: 0\n", "amount: must be greater than 0"),
        ("name: x\nowner: lead\nscope: {group: web}\namount: ten\n", "amount: must be a number (got 'ten')"),
        (
            "name: x\nowner: lead\nscope: {kind: galaxy}\namount: 5\n",
            "scope.kind: must be one of platform, user, group",
        ),
        ("name: x\nowner: lead\nscope: {user: ghost}\namount: 5\n", "scope.user: no user 'ghost'"),
        ("name: x\nowner: lead\nscope: {group: web}\namount: 5\nthresholds: [{at: 1001}]\n", "thresholds[0].at:"),
        (
            "name: x\nowner: lead\nscope: {group: web}\namount: 5\nthresholds: [{at: 5, channels: [pager]}]\n",
            "thresholds[0].channels[0]: unknown channel 'pager'",
        ),
        ("name: x\nowner: lead\nscope: platform\namount: 5\n", "scope: a platform budget is admins' alone"),
        ("name: x\nscope: platform\namount: 5\n", "owner: budget 'x' names no owner"),
        (
            "[{name: a, owner: lead, scope: {group: web}, amount: 5}, {name: b, owner: lead, scope: {group: nope}, "
            "amount: 5}]",
            "budgets.yaml[1]: scope.group: no group 'nope'",
        ),
        ("{not yaml", "not JSON or YAML"),
    ],
)
def test_bad_input_exits_2_naming_the_field_and_saves_nothing(cli_store, tmp_path, capsys, text, message):
    path = tmp_path / "budgets.yaml"
    path.write_text(text)
    code, out, err = run(capsys, "budgets", "import", str(path))
    assert (code, out) == (2, "") and message in err and err.count("\n") == 1
    assert names(cli_store) == []


def test_alerts_test_names_what_is_wrong(cli_store, capsys, monkeypatch):
    from finops.settings import get_settings

    monkeypatch.setenv("FINOPS_CHANNELS", json.dumps({"ops": "http://127.0.0.1:1/hook"}))
    get_settings.cache_clear()
    code, _, err = run(capsys, "alerts", "test", "ops")
    assert code == 2 and err.startswith("finops: channel 'ops': cannot reach 127.0.0.1")
    code, _, err = run(capsys, "alerts", "test", "email:lead@example.com")
    assert code == 2 and "FINOPS_SMTP_HOST: not set" in err
    monkeypatch.setenv("FINOPS_CHANNELS", json.dumps({"ops": "ftp://example.com/x"}))
    get_settings.cache_clear()
    code, _, err = run(capsys, "budgets", "list")
    assert code == 2 and "FINOPS_CHANNELS: channel 'ops': a webhook URL must be http:// or https://" in err
