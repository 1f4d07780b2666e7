"""The Budgets and Inbox pages, compared with the store: the form's validation names the field and saves nothing,
a member creates a group budget and sees its figures (estimated, as the store computes them), members never see
platform budgets, an approval from the page, and the inbox marks alerts seen."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select
from sqlmodel import Session

from finops.budgeting.specs import check_spec
from finops.data import budget_actions, budget_runs, budgets, groups, notifications, resources
from finops.data.access import Actor
from finops.data.tables import Budget, BudgetAction
from finops.settings import get_settings
from tests.pages.conftest import open_page, shown

PAGE = "pages/budgets.py"
MEMBER, ADMIN = Actor("member"), Actor("admin", is_admin=True)


@pytest.fixture
def team(seeded_store):
    """The member's group `e2e team` of one resource running at $2 an hour for the last ten days."""
    with Session(seeded_store) as s, time_machine.travel(datetime.now(UTC) - timedelta(days=10), tick=False):
        resources.add_resource(session=s, resource_type="app", resource_id="team-1", name="Team app", owner="member",
                               state="running", hourly_cost=2.0)  # fmt: skip
        groups.create_group(session=s, actor=MEMBER, name="e2e team", resources=[("app", "team-1")])
    return seeded_store


def stored(engine) -> list[Budget]:
    with Session(engine) as s:
        return list(s.execute(select(Budget).order_by(Budget.id)).scalars())


def errors(at) -> list[str]:
    return [shown(e.value) for e in at.error]


def fill(at, name="team budget", amount="1000", group="e2e team (member)"):
    at.text_input(key="bd_new_name").input(name)
    at.selectbox(key="bd_new_group").select(group)
    at.text_input(key="bd_new_amount").input(amount)
    return at


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda at: at.text_input(key="bd_new_amount").input("0"), "amount: must be greater than 0 and at most"),
        (lambda at: at.text_input(key="bd_new_amount").input("ten"), "amount: must be a number (got 'ten')"),
        (lambda at: at.text_input(key="bd_new_at_0").input("0"), "thresholds[0].at: must be greater than 0"),
        (lambda at: at.text_input(key="bd_new_at_1").input("1001"), "thresholds[1].at: must be greater than 0 and"),
        (lambda at: at.text_input(key="bd_new_em_0").input("not-an-address"),
         "thresholds[0].channels[0]: 'not-an-address' is not an email address"),
        (lambda at: at.text_input(key="bd_new_name").input(""), "name: is required"),
    ],
)  # fmt: skip
def test_the_form_names_what_is_wrong_and_saves_nothing(team, change, message):
    at = fill(open_page(PAGE, username="member", role="member"))
    change(at)
    at.button(key="bd_create").click().run()
    assert not at.exception, at.exception
    assert len(errors(at)) == 1 and errors(at)[0].startswith(message), errors(at)
    assert stored(team) == []


def test_a_member_creates_a_group_budget_and_sees_what_the_store_computes(team):
    at = open_page(PAGE, username="member", role="member")
    assert any("No budgets yet" in i.value for i in at.info)
    assert at.selectbox(key="bd_new_scope").options == ["a resource group", "a person's resources"]  # no platform
    fill(at).run()
    at.button(key="bd_create").click().run()
    assert not at.exception, at.exception
    assert [shown(m.value) for m in at.success] == ["Created budget 'team budget'."]
    [row] = stored(team)
    assert (row.owner, row.scope, row.amount_micros, row.period) == ("member", "group", 1_000_000_000, "monthly")
    with Session(team) as s:
        expected = budget_runs.status(session=s, actor=MEMBER).set_index("name").loc["team budget"]
        labels = [t.label() for t in budgets.spec_of(s, row).thresholds]
    assert labels == ["80 % of actual", "100 % of forecast"]
    listed = at.dataframe[0].value.set_index("name").loc["team budget"]
    assert listed["basis"] == "estimated" and listed["scope"] == "group e2e team"
    assert listed["actual"] == pytest.approx(expected["actual"], abs=0.05)
    assert listed["forecast"] == pytest.approx(expected["forecast"], abs=0.05)
    metric = next(m for m in at.metric if m.label == "Actual (estimated)")
    assert metric.value == f"${expected['actual']:,.2f}"


def test_members_never_see_platform_budgets(team):
    with Session(team) as s:
        spec = check_spec({"name": "all of it", "scope": "platform", "amount": 100_000})
        budgets.save(session=s, actor=ADMIN, spec=spec)
    member = open_page(PAGE, username="member", role="member")
    assert not any("all of it" in str(d.value["name"].tolist()) for d in member.dataframe)
    admin = open_page(PAGE)
    assert "all of it" in admin.dataframe[0].value["name"].tolist()
    assert admin.dataframe[0].value.set_index("name").loc["all of it", "basis"] == "billed"


def test_an_owner_approves_a_stop_from_the_page(team):
    with Session(team) as s:
        spec = check_spec({"name": "strict", "scope": {"group": "e2e team"}, "amount": 10,
                           "thresholds": [{"at": 50, "action": "stop"}]})  # fmt: skip
        budgets.save(session=s, actor=MEMBER, spec=spec)
        assert budget_runs.evaluate(session=s, settings=get_settings())["actions"] == 1
    at = open_page(PAGE, username="member", role="member")
    assert any("Waiting for approval (1)" in h.value for h in at.subheader)
    [action] = team.connect().execute(select(BudgetAction.id)).scalars().all()
    at.button(key=f"bd_approve_{action}").click().run()
    assert not at.exception, at.exception
    assert shown(at.success[0].value).startswith(f"Approved action {action}")
    with Session(team) as s:
        assert s.get(BudgetAction, action).status == budget_actions.APPROVED
        assert s.get(BudgetAction, action).approved_by == "member"


def test_the_inbox_lists_alerts_and_marks_them_seen(team):
    with Session(team) as s:
        spec = check_spec({"name": "tiny", "scope": {"group": "e2e team"}, "amount": 10,
                           "thresholds": [{"at": 50}, {"at": 100, "on": "forecast"}]})  # fmt: skip
        budgets.save(session=s, actor=MEMBER, spec=spec)
        budget_runs.evaluate(session=s, settings=get_settings())
        assert notifications.unread_count(session=s, actor=MEMBER) == 2
    at = open_page("pages/inbox.py", username="member", role="member")
    assert sorted(at.dataframe[0].value["threshold"]) == ["100 % of forecast", "50 % of actual"]
    with Session(team) as s:
        assert notifications.unread_count(session=s, actor=MEMBER) == 0
        assert notifications.unread_count(session=s, actor=ADMIN) == 2  # the admin has not looked yet


def test_the_budget_and_inbox_csvs_have_their_documented_headers_and_the_stores_figures(team, downloads):
    from tests.pages.test_exports import check_headers, rows

    with Session(team) as s:
        spec = check_spec({"name": "csv", "scope": {"group": "e2e team"}, "amount": 10,
                           "thresholds": [{"at": 50, "action": "stop"}]})  # fmt: skip
        budgets.save(session=s, actor=MEMBER, spec=spec)
        budget_runs.evaluate(session=s, settings=get_settings())
    open_page(PAGE, username="member", role="member")
    open_page("pages/inbox.py", username="member", role="member")
    names = {n for n in downloads if n.startswith(("budget", "alert"))}
    check_headers({n: downloads[n] for n in names}, expect=5)  # budgets, daily, alerts, actions; inbox alerts
    with Session(team) as s:
        expected = budget_runs.status(session=s, actor=MEMBER).set_index("name").loc["csv"]
    [row] = rows(downloads["budgets.csv"])
    assert row["actual"] == f"{expected['actual']:.2f}" and row["basis"] == "estimated"
    assert sum(float(r["spend"]) for r in rows(downloads[next(n for n in names if n.endswith("_daily.csv"))])) == (
        pytest.approx(expected["actual"], abs=0.05)
    )
