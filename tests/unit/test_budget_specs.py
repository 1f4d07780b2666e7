"""The budget language (the README's example included), calendar periods and what figures mean: pure, table-driven."""

import re
from datetime import UTC, date, datetime

import pandas as pd
import pytest

from finops.budgeting import evaluation, periods
from finops.budgeting.evaluation import Figures
from finops.budgeting.specs import BudgetSpecError, ThresholdSpec, check_spec, read, to_dict
from tests.conftest import ROOT


def test_the_readme_example_is_a_valid_budget_and_round_trips():
    text = (ROOT / "README.md").read_text()
    example = re.search(r"```yaml\n(name: web team.*?)```", text, re.S).group(1)
    [raw] = read(example.encode())
    spec = check_spec(raw, known_channels={"ops-slack"})
    assert (spec.name, spec.owner, spec.scope, spec.scope_group, spec.amount) == (
        "web team",
        "lead",
        "group",
        "web",
        1200,
    )
    assert [t.label() for t in spec.thresholds] == [
        "80 % of actual", "100 % of forecast", "$1,500.00 of forecast, stop", "90 % of actual, schedule"]  # fmt: skip
    assert spec.thresholds[3].schedule == "office hours" and spec.thresholds[3].approval == "automatic"
    assert check_spec(to_dict(spec), known_channels={"ops-slack"}) == spec


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"amount": 0}, "amount: must be greater than 0"),
        ({"amount": -1}, "amount: must be greater than 0"),
        ({"amount": "abc"}, "amount: must be a number (got 'abc')"),
        ({"amount": True}, "amount: must be a number"),
        ({"amount": float("nan")}, "amount: must be a number"),
        ({"amount": 5, "auto": {"basis": "average"}}, "amount: give either amount or auto, not both"),
        ({"amount": None}, "amount: is required"),
        ({"amount": None, "auto": {"basis": "median"}}, "auto.basis: must be one of average, forecast"),
        (
            {"amount": None, "auto": {"basis": "average", "periods": 13}},
            "auto.periods: must be at least 1 and at most 12",
        ),
        ({"amount": None, "auto": {"basis": "average", "periods": 2.5}}, "auto.periods: must be a whole number"),
        ({"thresholds": [{"at": i} for i in range(1, 12)]}, "thresholds: at most 10 per budget (it has 11)"),
        ({"thresholds": [{"at": 0}]}, "thresholds[0].at: must be greater than 0"),
        ({"thresholds": [{"at": 1000.5}]}, "thresholds[0].at: must be greater than 0 and at most 1,000"),
        ({"thresholds": [{"at": 2000, "kind": "absolute"}]}, None),  # an absolute figure may exceed 1,000
        ({"thresholds": [{"at": 50}, {"at": 50}]}, "thresholds[1]: the same threshold (50 % of actual) is given twice"),
        ({"thresholds": [{"at": 50, "on": "budget"}]}, "thresholds[0].on: must be one of actual, forecast"),
        (
            {"thresholds": [{"at": 50, "action": "delete"}]},
            "thresholds[0].action: must be one of notify, schedule, stop",
        ),
        ({"thresholds": [{"at": 50, "action": "schedule"}]}, "thresholds[0].schedule: a schedule action names the"),
        ({"thresholds": [{"at": 50, "schedule": "x"}]}, "thresholds[0].schedule: only a schedule action names"),
        ({"thresholds": [{"at": 50, "channels": ["pager"]}]}, "thresholds[0].channels[0]: unknown channel 'pager'"),
        ({"thresholds": [{"at": 50, "channels": ["email:x"]}]}, "thresholds[0].channels[0]: 'x' is not an email"),
        ({"scope": "galaxy"}, "scope.kind: must be one of platform, user, group"),
        ({"scope": {"kind": "user"}}, "scope.user: a user budget names the user"),
        ({"scope": {"kind": "group"}}, "scope.group: a group budget names the group"),
        ({"scope": {"kind": "user", "user": "a", "accounts": ["1"]}}, "scope.accounts: only a platform budget"),
        ({"scope": {"kind": "platform", "group": "web"}}, "scope.group: only a group budget names a group"),
        ({"period": "weekly"}, "period: must be one of monthly, quarterly, annual"),
        ({"metric": "blended"}, "metric: must be one of unblended, amortized"),
        ({"name": ""}, "name: is required"),
        ({"owner": ["a"]}, "owner: must be text"),
        ({"colour": "red"}, "colour: unknown field"),
    ],
)
def test_bad_budgets_name_the_field(raw, message):
    base = {"name": "b", "scope": "platform", "amount": 10}
    if message is None:
        check_spec({**base, **raw}, known_channels=set())
        return
    with pytest.raises(BudgetSpecError) as info:
        check_spec({**base, **raw}, known_channels=set())
    assert str(info.value).startswith(message)


def test_yaml_reads_on_as_true_and_the_short_forms_are_understood():
    [raw] = read(b"name: x\nscope: {user: ada}\namount: 5\nthresholds:\n  - {at: 50, on: forecast}\n  - 80\n")
    spec = check_spec(raw)
    assert (spec.scope, spec.scope_user) == ("user", "ada")
    assert [(t.at, t.on) for t in spec.thresholds] == [(50, "forecast"), (80, "actual")]
    assert check_spec({"name": "x", "scope": {"group": "web"}, "amount": "1,200.50"}).amount == 1200.5


@pytest.mark.parametrize(
    ("day", "period", "expected"),
    [
        (date(2026, 11, 30), "monthly", (date(2026, 11, 1), date(2026, 12, 1))),
        (date(2026, 12, 31), "monthly", (date(2026, 12, 1), date(2027, 1, 1))),
        (date(2026, 2, 28), "quarterly", (date(2026, 1, 1), date(2026, 4, 1))),
        (date(2026, 10, 1), "quarterly", (date(2026, 10, 1), date(2027, 1, 1))),
        (date(2026, 12, 31), "annual", (date(2026, 1, 1), date(2027, 1, 1))),
    ],
)
def test_periods_are_calendar_months_quarters_and_years(day, period, expected):
    assert periods.bounds(day, period) == expected


def test_previous_periods_labels_and_the_end_of_a_day():
    assert periods.previous(date(2026, 1, 1), "quarterly", 2) == [
        (date(2025, 7, 1), date(2025, 10, 1)), (date(2025, 10, 1), date(2026, 1, 1))]  # fmt: skip
    assert [periods.label(date(2026, 10, 1), p) for p in periods.PERIODS] == ["2026-10", "2026-Q4", "2026"]
    assert periods.as_of_day(date(2026, 11, 30)) == datetime(2026, 12, 1, tzinfo=UTC)


T = [ThresholdSpec(at=50), ThresholdSpec(at=100, on="forecast"), ThresholdSpec(at=700, kind="absolute")]


@pytest.mark.parametrize(
    ("amount", "actual", "forecast", "crossed", "status"),
    [
        (1000, 100, 400, [], "ok"),
        (1000, 500, 900, [0], "alerting"),
        (1000, 499.996, 900, [0], "alerting"),  # half a cent under shows as the limit itself
        (1000, 700, 1000, [0, 1, 2], "forecast_over"),
        (1000, 1000, 1200, [0, 1, 2], "over"),
        (0, 800, 900, [2], "alerting"),  # no amount yet: percentages mean nothing, absolute figures still do
    ],
)
def test_thresholds_and_status(amount, actual, forecast, crossed, status):
    figures = Figures(actual, forecast, "billed")
    assert evaluation.crossed(T, amount, figures) == crossed
    assert evaluation.status(T, amount, figures) == status


def test_no_data_crosses_nothing():
    figures = Figures(0.0, 0.0, "estimated", known=False)
    assert evaluation.crossed(T, 0.0, figures) == [] and evaluation.status(T, 10.0, figures) == "no_data"


def test_the_burn_chart_lines():
    daily = pd.DataFrame({"day": [date(2026, 11, 1), date(2026, 11, 2)], "spend": [10.0, 20.0]})
    lines = evaluation.cumulative(daily, date(2026, 11, 1), date(2026, 11, 5), 100.0, 60.0)
    actual = lines[lines["line"] == "actual"]["value"].tolist()
    forecast = lines[lines["line"] == "forecast"]["value"].tolist()
    assert actual == [10.0, 30.0] and lines[lines["line"] == "budget"]["value"].tolist() == [100.0] * 4
    assert forecast == [30.0, 45.0, 60.0]  # a straight line from the last actual day to the period's last day
