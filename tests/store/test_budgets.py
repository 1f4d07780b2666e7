"""Budgets in the store on SQLite and PostgreSQL, with time frozen (time-machine) where periods matter: the costs
of each scope (billed from the cost tables, estimated from the ledger), forecasts that know the schedules,
alerts once per threshold and period across re-evaluations and restarts, actions with preview, approval, the
sidecar's re-check and the undo at the next period (month, quarter and year), and who may do what."""

import json
import re
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest
import time_machine
from sqlalchemy import func, select
from sqlmodel import Session

from finops.budgeting.specs import BudgetSpecError, check_spec
from finops.data import (
    budget_actions,
    budget_costs,
    budget_runs,
    budgets,
    groups,
    load,
    resources,
    schedule_runs,
    schedules,
)
from finops.data.access import Actor, Forbidden, NotFound
from finops.data.tables import (
    AuditLog,
    Budget,
    BudgetAction,
    BudgetAlert,
    BudgetPeriod,
    ForecastPoint,
    ForecastRun,
    Notification,
    User,
)
from finops.scheduling.specs import check_spec as check_schedule
from finops.settings import Settings
from tests.store.test_store import frame_of

ADMIN, LEAD, OTHER = Actor("admin", is_admin=True), Actor("lead"), Actor("other")
NOV_1 = datetime(2026, 11, 1, tzinfo=UTC)
NOV_11 = datetime(2026, 11, 11, tzinfo=UTC)  # a Wednesday, 00:00 UTC
SETTINGS = Settings(platform_url="", channels={})


def at(moment: datetime):
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def s(engine):
    with Session(engine) as session:
        for actor in (ADMIN, LEAD, OTHER):
            session.add(User(username=actor.username, role="admin" if actor.is_admin else "member", password_hash="-"))
        session.commit()
        yield session


@pytest.fixture
def web(s):
    """Two running platform resources of `lead` ($1 and $2 an hour) since Nov 1 and the group `web` holding them,
    plus `shared` ($4 an hour, tagged finops:protect=true) in the group too."""
    with at(NOV_1):
        resources.add_resource(session=s, resource_type="app", resource_id="web-1", name="web 1", owner="lead",
                               state="running", hourly_cost=1.0)  # fmt: skip
        resources.add_resource(session=s, resource_type="app", resource_id="web-2", name="web 2", owner="lead",
                               state="running", hourly_cost=2.0)  # fmt: skip
        resources.add_resource(session=s, resource_type="app", resource_id="shared", name="shared", owner="lead",
                               state="stopped", hourly_cost=4.0, tags={"finops:protect": "true"})  # fmt: skip
        groups.create_group(session=s, actor=LEAD, name="web",
                            resources=[("app", "web-1"), ("app", "web-2"), ("app", "shared")])  # fmt: skip
    return s


def budget(s, actor=LEAD, known=(), **raw):
    base = {"name": "web-team", "scope": {"kind": "group", "group": "web"}, "amount": 1000,
            "thresholds": [{"at": 50, "on": "actual"}, {"at": 100, "on": "forecast"}]}  # fmt: skip
    return budgets.save(session=s, actor=actor, spec=check_spec({**base, **raw}), known_channels=set(known))


def office(s, targets, name="office"):
    spec = check_schedule({"name": name, "timezone": "UTC", "targets": targets,
                           "periods": [{"begin": "08:00", "end": "20:00", "weekdays": "mon-fri"}]})  # fmt: skip
    return schedules.save(session=s, actor=LEAD, spec=spec)


def evaluate(s, moment, settings=SETTINGS):
    with at(moment):
        return budget_runs.evaluate(session=s, settings=settings)


def status_of(s, actor, moment, name="web-team") -> dict:
    with at(moment):
        frame = budget_runs.status(session=s, actor=actor)
    return frame[frame["name"] == name].iloc[0].to_dict()


def count(s, model) -> int:
    return s.execute(select(func.count()).select_from(model)).scalar()


# ---- what a scope costs ----------------------------------------------------------------------------------------


def test_a_group_costs_its_ledger_intervals_and_its_forecast_knows_the_schedule(web):
    office(web, [{"resource_type": "app", "resource_id": "web-2"}])
    budget(web)
    row = status_of(web, LEAD, NOV_11)
    # 10 days x 24 h x ($1 + $2); `shared` was stopped all along
    assert row["actual"] == 720.0
    # web-1 runs on: 20 days x 24 h x $1 = 480; web-2 only in office hours: 14 weekdays x 12 h x $2 = 336
    assert row["forecast"] == 720.0 + 480.0 + 336.0
    assert row["basis"] == "estimated" and row["forecast_basis"] == "schedules (1 of 3 resources)"
    assert (row["period_start"], row["period_end"]) == (date(2026, 11, 1), date(2026, 12, 1))
    assert row["pct_actual"] == 72.0 and row["status"] == "forecast_over"


FOCUS_HEADER = ["BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd", "ProviderName",
                "SubAccountId", "SubAccountName", "ServiceName", "RegionId", "ResourceId", "BilledCost",
                "EffectiveCost", "BillingCurrency"]  # fmt: skip


def test_a_billing_file_bills_the_resources_it_names_and_the_ledger_fills_in_after_it(web, tmp_path):
    from finops.data.focus_imports import import_focus

    budget(web)
    ids = {"web-1": ("30.00", "27.00"), "arn:aws:ec2:eu-west-1:123456789012:instance/web-2": ("50.00", "45.00"),
           "someone-elses": ("999.00", "999.00")}  # fmt: skip
    lines = [",".join(FOCUS_HEADER)]
    for day in range(1, 10):  # November 1-9 billed; the 10th not yet
        for rid, (billed, effective) in ids.items():
            lines.append(f"2026-11-01,2026-12-01,2026-11-{day:02d} 00:00:00,2026-11-{day + 1:02d} 00:00:00,AWS,"
                         f"123456789012,prod,EC2,eu-west-1,{rid},{billed},{effective},USD")  # fmt: skip
    (tmp_path / "bill.csv").write_text("\n".join(lines) + "\n")
    import_focus(web, tmp_path / "bill.csv")
    row = status_of(web, LEAD, NOV_11)
    # billed Nov 1-9 (web-1 9 x $30, web-2 by its ARN 9 x $50), then the ledger's Nov 10 (24 h x $1 and x $2)
    assert row["actual"] == pytest.approx(270.0 + 24.0 + 450.0 + 48.0, abs=0.01)
    assert row["basis"] == "partly billed" and "billed to 2026-11-09 for 2 of 3 resources" in row["forecast_basis"]
    with at(NOV_11):
        daily = budget_costs.daily_spend(web, budgets.load(web, LEAD, row["id"]), NOV_11)
    by_day = dict(zip(daily["day"], daily["spend"], strict=True))
    assert by_day[date(2026, 11, 5)] == pytest.approx(80.0) and by_day[date(2026, 11, 10)] == pytest.approx(72.0)
    assert sum(by_day.values()) == pytest.approx(row["actual"], abs=0.01)
    budget(web, name="amortized", metric="amortized")
    assert status_of(web, LEAD, NOV_11, "amortized")["actual"] == pytest.approx(243.0 + 24.0 + 405.0 + 48.0, abs=0.01)


def test_platform_resources_are_billed_by_the_resource_tag(web, tmp_path):
    import csv

    from finops.data.focus_imports import import_focus

    budget(web)
    rows = [  # (ResourceId, Tags, BilledCost): no bill names a platform resource by its id, its tag does
        ("i-0host", {"finops-resource-id": "web-1", "team": "web"}, "30.00"),  # the host it runs on
        ("", {"user:finops-resource-id": "web-2"}, "50.00"),  # AWS's user: prefix, no resource id at all
        ("web-1", {"finops-resource-id": "not-in-inventory"}, "7.00"),  # a tag naming no resource: the id counts
        ("i-0other", {"note": "finops-resource-id"}, "999.00"),  # the key as a value names nothing
    ]
    with (tmp_path / "bill.csv").open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow([*FOCUS_HEADER, "Tags"])
        for day in range(1, 10):  # November 1-9 billed; the 10th not yet
            for rid, tags, billed in rows:
                charge = [f"2026-11-{day:02d} 00:00:00", f"2026-11-{day + 1:02d} 00:00:00"]
                where = ["AWS", "123456789012", "prod", "EC2", "eu-west-1"]
                out.writerow(
                    ["2026-11-01", "2026-12-01", *charge, *where, rid, billed, billed, "USD", json.dumps(tags)]
                )
    import_focus(web, tmp_path / "bill.csv")
    row = status_of(web, LEAD, NOV_11)
    # billed Nov 1-9 (web-1 9 x ($30 + $7), web-2 9 x $50), then the ledger's Nov 10 (24 h x $1 and x $2)
    assert row["actual"] == pytest.approx(9 * 37.0 + 24.0 + 9 * 50.0 + 48.0, abs=0.01)
    assert row["basis"] == "partly billed" and "for 2 of 3 resources" in row["forecast_basis"]
    with at(NOV_11):
        daily = budget_costs.daily_spend(web, budgets.load(web, LEAD, row["id"]), NOV_11)
    by_day = dict(zip(daily["day"], daily["spend"], strict=True))
    assert by_day[date(2026, 11, 5)] == pytest.approx(87.0) and sum(by_day.values()) == pytest.approx(row["actual"])


def test_a_user_budget_counts_what_the_user_owns_and_a_stop_ends_the_spend(web):
    with at(NOV_1):
        resources.add_resource(session=web, resource_type="app", resource_id="theirs", name="x", owner="other",
                               state="running", hourly_cost=100.0)  # fmt: skip
    budget(web, name="mine", scope={"kind": "user", "user": "lead"})
    with at(NOV_1 + timedelta(days=2)):  # web-2 stopped after two days
        web_2 = resources.get_resource(session=web, resource_type="app", resource_id="web-2")
        resources.set_state(session=web, resource=web_2, state="stopped")
        web.commit()
    row = status_of(web, LEAD, NOV_11, "mine")
    assert row["actual"] == 10 * 24 * 1.0 + 2 * 24 * 2.0
    assert row["forecast"] == row["actual"] + 20 * 24 * 1.0  # web-2 stays stopped, nothing scheduled
    assert row["forecast_basis"] == "running now, to period end"


def platform_costs(s, days: dict[str, float], account="111", service="EC2"):
    rows = frame_of([(day, account, service, cost, cost * 0.5) for day, cost in days.items()])
    first, last = min(rows["day"]), max(rows["day"])
    load.replace_window(s, f"test-{account}-{service}", first, last + timedelta(days=1), rows)


def forecast_run(s, series: dict[str, float], first: date, days: int):
    run = ForecastRun(interval_level=0.8, horizon_days=days, status="ok")
    s.add(run)
    s.flush()
    for name, daily in series.items():
        for k in range(days):
            s.add(ForecastPoint(run_id=run.id, series=name, ds=first + timedelta(days=k), yhat=daily, yhat_lower=0,
                                yhat_upper=daily * 2))  # fmt: skip
    s.commit()


def test_a_platform_budget_is_billed_and_its_forecast_comes_from_the_stored_model(s):
    days = {f"2026-11-{d:02d}": 10.0 for d in range(1, 11)} | {f"2026-10-{d:02d}": 1.0 for d in range(1, 32)}
    platform_costs(s, days)
    platform_costs(s, {f"2026-11-{d:02d}": 5.0 for d in range(1, 11)}, account="222", service="S3")
    forecast_run(s, {"total": 20.0, "account:111": 12.0}, date(2026, 11, 11), 30)
    budget(s, ADMIN, name="all", scope="platform", amount=400)
    budget(s, ADMIN, name="acct", scope={"kind": "platform", "accounts": ["111"]}, amount=400, metric="amortized")
    budget(s, ADMIN, name="s3", scope={"kind": "platform", "services": ["S3"]}, amount=400)
    everything = status_of(s, ADMIN, NOV_11, "all")
    assert (everything["actual"], everything["basis"]) == (150.0, "billed")
    assert everything["forecast"] == 150.0 + 20 * 20.0 and everything["forecast_basis"] == "forecast model"
    acct = status_of(s, ADMIN, NOV_11, "acct")  # amortized: half of unblended here, so the model is scaled by 0.5
    assert acct["actual"] == 50.0 and acct["forecast"] == 50.0 + 20 * 12.0 * 0.5
    s3 = status_of(s, ADMIN, NOV_11, "s3")  # no S3 series: the run rate of the last 28 days
    assert s3["actual"] == 50.0 and s3["forecast"] == pytest.approx(50.0 + 20 * 50.0 / 28, abs=0.01)
    assert s3["forecast_basis"] == "run rate of the last 28 days"


def test_an_automatic_amount_is_the_average_of_past_periods_fixed_for_the_period(s):
    platform_costs(s, {"2026-08-01": 300.0, "2026-09-01": 600.0, "2026-10-01": 900.0, "2026-11-02": 10.0})
    with at(NOV_1):
        budget(s, ADMIN, name="auto", scope="platform", amount=None, auto={"basis": "average", "periods": 3})
    evaluate(s, datetime(2026, 11, 3, tzinfo=UTC))
    assert status_of(s, ADMIN, datetime(2026, 11, 3, tzinfo=UTC), "auto")["amount"] == 600.0
    platform_costs(s, {"2026-10-02": 3000.0})  # October grows later: this period's amount stays what it was set to
    evaluate(s, datetime(2026, 11, 4, tzinfo=UTC))
    period = s.execute(select(BudgetPeriod)).scalars().one()
    assert period.amount_micros == 600_000_000 and period.amount_basis.startswith("average of 3 periods")
    december = status_of(s, ADMIN, datetime(2026, 12, 2, tzinfo=UTC), "auto")  # a new period: a new average
    assert december["amount"] == pytest.approx((600 + 3900 + 10) / 3, abs=0.01)


def test_a_group_automatic_amount_averages_what_its_ledger_says_of_past_periods(web):
    with at(NOV_1):
        budget(web, name="auto", amount=None, auto={"basis": "average", "periods": 2})
    december = datetime(2026, 12, 2, tzinfo=UTC)
    evaluate(web, december)
    row = status_of(web, LEAD, december, "auto")  # October is before the first interval: only November counts
    assert row["amount"] == pytest.approx(30 * 24 * (1.0 + 2.0), abs=0.01)
    assert row["amount_basis"] == "average of 1 periods (2026-11)"


# ---- alerts once per threshold and period -----------------------------------------------------------------------


def test_each_threshold_alerts_once_per_period_across_evaluations_and_restarts(web, engine):
    budget(web)
    assert evaluate(web, NOV_11)["alerts"] == 2
    assert evaluate(web, NOV_11 + timedelta(hours=1))["alerts"] == 0
    with Session(engine) as fresh:  # a restarted sidecar: nothing in memory, the constraint still holds
        assert evaluate(fresh, NOV_11 + timedelta(hours=2))["alerts"] == 0
        assert evaluate(fresh, datetime(2026, 12, 25, tzinfo=UTC))["alerts"] == 2  # December: again
    assert count(web, BudgetAlert) == 4
    periods_ = sorted(a.period_start for a in web.execute(select(BudgetAlert)).scalars())
    assert periods_ == [date(2026, 11, 1)] * 2 + [date(2026, 12, 1)] * 2


def test_editing_a_budget_keeps_alerts_of_unchanged_thresholds(web):
    row = budget(web)
    evaluate(web, NOV_11)
    spec = check_spec({"name": "web-team", "scope": {"kind": "group", "group": "web"}, "amount": 1000,
                       "thresholds": [{"at": 50, "on": "actual"}, {"at": 60, "on": "actual"}]})  # fmt: skip
    budgets.save(session=web, actor=LEAD, spec=spec, budget_id=row.id)
    assert evaluate(web, NOV_11 + timedelta(hours=1))["alerts"] == 1  # only the new 60 % one


def test_backfill_evaluates_as_of_a_past_day(web):
    budget(web, thresholds=[{"at": 10, "on": "actual"}])
    counts = evaluate(web, datetime(2026, 11, 4, tzinfo=UTC))  # as of the end of Nov 3: 72 h x $3 = $216
    assert counts["alerts"] == 1
    alert = web.execute(select(BudgetAlert)).scalars().one()
    assert alert.value_micros == 216_000_000 and alert.period_start == date(2026, 11, 1)


# ---- actions ----------------------------------------------------------------------------------------------------


def stop_budget(s, approval="manual", **extra):
    return budget(s, thresholds=[{"at": 50, "on": "actual", "action": "stop", "approval": approval}], **extra)


def states(s) -> dict[str, str]:
    return {r.resource_id: r.state for r in s.execute(select(resources.Resource)).scalars()}


def test_a_stop_action_previews_waits_for_approval_is_carried_out_and_undone_next_month(web):
    stop_budget(web)
    office(web, [{"resource_type": "app", "resource_id": r} for r in ("web-1", "web-2")])  # would start them at 08:00
    evaluate(web, NOV_11)
    action = web.execute(select(BudgetAction)).scalars().one()
    assert action.status == "awaiting_approval"
    preview = {r["resource_id"]: r["change"] for r in action.preview["resources"]}
    assert preview == {"web-1": "stop", "web-2": "stop", "shared": "kept: finops:protect=true"}
    assert action.preview["saved_per_day"] == 72.0
    with at(NOV_11):
        assert budget_actions.carry_out_due(session=web, settings=SETTINGS) == {}  # not approved: nothing
        with pytest.raises(NotFound):
            budget_actions.approve(session=web, actor=OTHER, action_id=action.id)
        budget_actions.approve(session=web, actor=LEAD, action_id=action.id)
        assert budget_actions.carry_out_due(session=web, settings=SETTINGS) == {"done": 1}
    assert states(web) == {"web-1": "stopped", "web-2": "stopped", "shared": "stopped"}
    # Thursday 09:00: the office schedule would start them; the budget holds them stopped
    schedule_runs.reconcile(session=web, settings=SETTINGS, now=datetime(2026, 11, 12, 9, tzinfo=UTC))
    assert states(web)["web-1"] == "stopped"
    row = status_of(web, LEAD, NOV_11 + timedelta(hours=1))
    assert row["forecast"] == 720.0  # held: nothing more this month
    with at(datetime(2026, 12, 1, 0, 5, tzinfo=UTC)):
        assert budget_actions.undo_due(session=web, settings=SETTINGS) == 1
    assert states(web) == {"web-1": "running", "web-2": "running", "shared": "stopped"}
    web.refresh(action)
    assert action.status == "undone" and action.undo_result["resources"][0]["outcome"] == "recorded"
    logged = {r.action for r in web.execute(select(AuditLog).where(AuditLog.object_type == "budget_action")).scalars()}
    assert logged == {"propose", "approve", "done", "undone"}


def test_the_sidecar_rechecks_the_approver_before_acting(web):
    stop_budget(web, approval="automatic")
    evaluate(web, NOV_11)
    web.execute(select(User).where(User.username == "lead")).scalars().one().role = "member"
    group = web.execute(select(groups.ResourceGroup)).scalars().one()
    group.owner = "other"  # the group changed hands after the action was approved
    web.commit()
    with at(NOV_11):
        assert budget_actions.carry_out_due(session=web, settings=SETTINGS) == {"refused": 1}
    assert states(web)["web-1"] == "running"
    assert "lead may no longer act" in web.execute(select(BudgetAction)).scalars().one().message


def test_a_schedule_action_attaches_the_schedule_for_the_rest_of_the_quarter_then_detaches(web):
    night = office(web, [], name="office-hours")
    budget(web, period="quarterly", thresholds=[{"at": 10, "action": "schedule", "schedule": "office-hours",
                                                 "approval": "automatic"}])  # fmt: skip
    evaluate(web, NOV_11)
    with at(NOV_11):
        assert budget_actions.carry_out_due(session=web, settings=SETTINGS) == {"done": 1}
    assert [t.group_id for t in schedules.targets_of(web, night.id)] == [1]
    action = web.execute(select(BudgetAction)).scalars().one()
    assert action.period_end == date(2027, 1, 1) and action.preview["schedule_id"] == night.id
    with at(datetime(2026, 12, 31, 23, tzinfo=UTC)):
        assert budget_actions.undo_due(session=web, settings=SETTINGS) == 0  # still Q4
    with at(datetime(2027, 1, 1, 0, 1, tzinfo=UTC)):
        assert budget_actions.undo_due(session=web, settings=SETTINGS) == 1
    assert schedules.targets_of(web, night.id) == []


def test_an_annual_budget_resets_at_new_year(web):
    budget(web, period="annual", amount=10_000, thresholds=[{"at": 1, "on": "actual"}])
    assert evaluate(web, datetime(2026, 12, 31, 23, tzinfo=UTC))["alerts"] == 1
    assert evaluate(web, datetime(2026, 12, 31, 23, 30, tzinfo=UTC))["alerts"] == 0
    row = status_of(web, LEAD, datetime(2027, 1, 1, 1, tzinfo=UTC))
    assert (row["period_start"], row["actual"]) == (date(2027, 1, 1), 3.0)  # one hour of $1 + $2
    assert evaluate(web, datetime(2027, 1, 5, tzinfo=UTC))["alerts"] == 1


# ---- who may do what --------------------------------------------------------------------------------------------


def test_the_access_matrix(web):
    with pytest.raises(Forbidden, match="platform budget is admins"):
        budget(web, LEAD, name="p", scope="platform")
    with pytest.raises(Forbidden, match="may budget only themselves"):
        budget(web, LEAD, name="u", scope={"kind": "user", "user": "other"})
    with pytest.raises(budgets.BudgetError, match="no group 'web' that other owns"):
        budget(web, OTHER, name="g")
    with pytest.raises(Forbidden, match="only an admin may save a budget for"):
        budget(web, LEAD, name="x", owner="other", scope={"kind": "user", "user": "other"})
    mine = budget(web, LEAD)
    theirs = budget(web, ADMIN, name="others", scope={"kind": "user", "user": "other"})
    platform = budget(web, ADMIN, name="platform", scope="platform")
    seen = {a.username: set(budgets.list_budgets(session=web, actor=a)["name"]) for a in (ADMIN, LEAD, OTHER)}
    assert seen == {"admin": {"web-team", "others", "platform"}, "lead": {"web-team"}, "other": {"others"}}
    for actor, row in ((OTHER, mine), (LEAD, theirs), (LEAD, platform), (OTHER, platform)):
        with pytest.raises(NotFound):
            budgets.load(web, actor, row.id)
        with pytest.raises(NotFound):
            budgets.delete_budget(session=web, actor=actor, budget_id=row.id)
    with at(NOV_11):
        assert set(budget_runs.status(session=web, actor=OTHER)["name"]) == {"others"}
    budgets.delete_budget(session=web, actor=LEAD, budget_id=mine.id)
    assert count(web, Budget) == 2


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"amount": 0}, "amount: must be greater than 0"),
        ({"amount": "abc"}, "amount: must be a number (got 'abc')"),
        ({"amount": -5}, "amount: must be greater than 0"),
        ({"thresholds": [{"at": p} for p in range(1, 12)]}, "thresholds: at most 10 per budget (it has 11)"),
        ({"thresholds": [{"at": 0}]}, "thresholds[0].at: must be greater than 0"),
        ({"thresholds": [{"at": 1001}]}, "thresholds[0].at: must be greater than 0 and at most 1,000"),
        ({"scope": {"kind": "team"}}, "scope.kind: must be one of platform, user, group"),
        ({"scope": {"kind": "user", "user": "nobody"}}, "scope.user: no user 'nobody'"),
        ({"scope": {"kind": "group", "group": "nope"}}, "scope.group: no group 'nope'"),
        ({"thresholds": [{"at": 5, "channels": ["slack"]}]}, "thresholds[0].channels[0]: unknown channel 'slack'"),
        ({"thresholds": [{"at": 5, "channels": ["email:not-an-address"]}]}, "is not an email address"),
        ({"thresholds": [{"at": 5, "action": "schedule", "schedule": "none"}]}, "thresholds[0].schedule: no schedule"),
        ({"period": "weekly"}, "period: must be one of monthly, quarterly, annual"),
        ({"colour": "red"}, "colour: unknown field"),
    ],
)
def test_bad_input_names_the_field_and_saves_nothing(web, raw, message):
    before = (count(web, Budget), count(web, AuditLog))
    with pytest.raises(
        (BudgetSpecError, budgets.BudgetError, Forbidden),
        match=re.escape(message),
    ):
        budget(web, **raw)
    assert (count(web, Budget), count(web, AuditLog)) == before


def test_a_budget_whose_figures_fail_does_not_stop_the_others(web, monkeypatch):
    budget(web)
    budget(web, name="second", thresholds=[{"at": 1}])
    real = budget_runs.Costs.figures

    def broken(self, b):
        if b.name == "web-team":
            raise RuntimeError("bad data")
        return real(self, b)

    monkeypatch.setattr(budget_runs.Costs, "figures", broken)
    counts = evaluate(web, NOV_11)
    assert counts["skipped"] == 1 and counts["alerts"] == 1


def test_deleting_a_budget_cancels_its_waiting_actions_and_keeps_its_alerts(web):
    row = stop_budget(web)
    evaluate(web, NOV_11)
    budgets.delete_budget(session=web, actor=LEAD, budget_id=row.id)
    action = web.execute(select(BudgetAction)).scalars().one()
    assert action.status == "cancelled" and count(web, BudgetAlert) == 1 and count(web, BudgetPeriod) == 0
    assert count(web, Notification) == 0
    frame = pd.DataFrame(budget_actions.recent(session=web, actor=ADMIN))
    assert frame["status"].tolist() == ["cancelled"]


def test_a_user_and_a_group_budget_count_their_workflow_runs_priced_by_the_rate_card(web):
    from finops.data import executions, rates
    from finops.data.execution_fields import clean

    with at(NOV_1):
        rates.set_rate(session=web, actor=ADMIN, compute_type="cpu", usd_per_hour=10, effective_from=date(2026, 1, 1))
        resources.add_resource(session=web, resource_type="workflow", resource_id="wf-etl", name="ETL", owner="lead")
        groups.add_resource(session=web, actor=LEAD, group_id=1, resource_type="workflow", resource_id="wf-etl")
    runs = [  # two hours of the lead's ETL on Nov 5, one hour of someone else's other workflow
        {"execution_id": "r1", "workflow_id": "wf-etl", "user": "lead", "started_at": "2026-11-05T01:00:00Z",
         "ended_at": "2026-11-05T03:00:00Z", "compute_type": "cpu"},
        {"execution_id": "r2", "workflow_id": "wf-other", "user": "other", "started_at": "2026-11-05T01:00:00Z",
         "ended_at": "2026-11-05T02:00:00Z", "compute_type": "cpu"},
    ]  # fmt: skip
    executions.store(session=web, rows=[clean(r) for r in runs], source="api")
    budget(web)
    budget(web, name="mine", scope={"kind": "user", "user": "lead"})
    budget(web, name="theirs", scope={"kind": "user", "user": "other"}, actor=ADMIN)
    group = status_of(web, LEAD, NOV_11)
    assert group["actual"] == 720.0 + 20.0  # the group holds wf-etl: its run counts
    assert group["forecast_basis"].endswith("workflow runs at their 28-day rate")
    assert status_of(web, LEAD, NOV_11, "mine")["actual"] == 720.0 + 20.0
    theirs = status_of(web, ADMIN, NOV_11, "theirs")  # no resources, one run: priced runs only, billed
    assert (theirs["actual"], theirs["basis"]) == (10.0, "billed")
    assert theirs["forecast"] == pytest.approx(10.0 + 10.0 / 28 * 20, abs=0.01)
