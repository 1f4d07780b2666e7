"""The Execution Costs page and Overview's combined costs, compared with SQL written here; the rate card form."""

import io
from datetime import UTC, datetime

import pandas as pd
import pytest
from sqlalchemy import text

from finops import costs
from finops.settings import get_settings
from tests.pages.conftest import open_page, shown

PAGE = "pages/execution_costs.py"
TODAY = datetime.now(UTC).date()


def sql(engine, query: str, **params):
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(query), params).all()]


def runs_in(engine, start, end) -> tuple[int, float]:
    moment = lambda d: datetime(d.year, d.month, d.day, tzinfo=UTC)  # noqa: E731
    n, micros = sql(engine, "SELECT COUNT(*), SUM(cost_micros) FROM execution WHERE started_at >= :s AND "
                            "started_at < :e", s=moment(start), e=moment(end))[0]  # fmt: skip
    return n, int(micros or 0) / 1e6


def test_cards_and_tables_equal_the_store(seeded_store, downloads):
    at = open_page(PAGE)
    start, end = costs.month_window(TODAY, 12)
    n, total = runs_in(seeded_store, start, end)
    cards = {m.label: m.value for m in at.metric}
    assert cards["Execution cost"] == f"${total:,.2f}" and cards["Runs"] == f"{n:,}"
    assert cards["Cost per run (mean)"] == f"${total / n:,.2f}"
    monthly = pd.read_csv(io.BytesIO(downloads["executions_by_month.csv"]))
    assert monthly["runs"].sum() == n and monthly["cost"].sum() == pytest.approx(total, abs=1e-4)
    by_user = pd.read_csv(io.BytesIO(downloads["executions_by_user.csv"]))
    query = "SELECT username, SUM(cost_micros) FROM execution WHERE started_at >= :s GROUP BY username"
    expected = dict(sql(seeded_store, query, s=datetime(start.year, start.month, 1, tzinfo=UTC)))
    assert dict(zip(by_user["user"], by_user["cost"], strict=True)) == pytest.approx(
        {u: int(c) / 1e6 for u, c in expected.items()}
    )
    top = pd.read_csv(io.BytesIO(downloads["most_expensive_runs.csv"]))
    (most,) = sql(seeded_store, "SELECT MAX(cost_micros) FROM execution")[0]
    assert top["cost"].iloc[0] == pytest.approx(int(most) / 1e6) and len(top) == 20


def test_combined_costs_on_the_page_and_on_overview(seeded_store, downloads):
    for page in (PAGE, "pages/overview.py"):
        downloads.clear()
        open_page(page)
        table = pd.read_csv(io.BytesIO(downloads["combined_costs.csv"]))
        assert len(table) == 12
        for row in table.itertuples():
            month = datetime.strptime(row.month, "%Y-%m-%d").date()
            after = costs.add_months(month, 1)
            infra = int(sql(seeded_store, "SELECT SUM(unblended_micros) FROM cost_daily WHERE day >= :s AND day < :e",
                            s=month, e=after)[0][0]) / 1e6  # fmt: skip
            _, runs = runs_in(seeded_store, month, after)
            assert (row.infrastructure_cost, row.execution_cost) == (pytest.approx(infra), pytest.approx(runs))
            assert row.total_cost == pytest.approx(infra + runs)


def test_executions_in_the_bill_are_a_share_never_added(seeded_store, downloads, monkeypatch):
    monkeypatch.setenv("FINOPS_EXECUTIONS_IN_BILL", "true")
    get_settings.cache_clear()
    at = open_page("pages/overview.py")
    assert any("already in the bill" in c.value for c in at.caption)
    table = pd.read_csv(io.BytesIO(downloads["combined_costs.csv"]))
    assert (table["total_cost"] == table["infrastructure_cost"]).all()
    share = 100 * table["execution_cost"] / table["total_cost"]
    assert table["execution_share_pct"].tolist() == pytest.approx(share.tolist(), abs=0.05)  # to one decimal
    assert all(f"{v:.1f}" == str(v) for v in table["execution_share_pct"])


def test_member_gets_admins_only(seeded_store):
    at = open_page(PAGE, username="member", role="member")
    assert any("Admins only" in e.value for e in at.error) and len(at.metric) == 0 and len(at.dataframe) == 0


def test_an_admin_sets_a_rate_and_a_bad_one_is_named(seeded_store):
    at = open_page(PAGE)
    at.text_input(key="ex_rate_type").input("gpu-h100")
    at.number_input(key="ex_rate_usd").set_value(9.5)
    at.checkbox(key="ex_rate_gpu").check()
    at.button(key="ex_rate_save").click().run()
    assert any("Rate of gpu-h100 saved" in shown(s.value) for s in at.success), [s.value for s in at.success]
    stored = sql(seeded_store, "SELECT usd_per_hour_micros, gpu, created_by FROM execution_rate "
                               "WHERE compute_type = 'gpu-h100'")  # fmt: skip
    assert [(int(m), bool(g), by) for m, g, by in stored] == [(9_500_000, True, "admin")]
    at.text_input(key="ex_rate_type").input("has space")
    at.button(key="ex_rate_save").click().run()
    assert any("compute_type: 1-64 letters" in shown(e.value) for e in at.error), [e.value for e in at.error]


def test_no_runs_says_how_they_arrive(store):
    from sqlmodel import Session

    from finops.data import users

    with Session(store) as s:
        users.add_user(session=s, username="admin", role="admin", password="admin-pass-1")
    at = open_page(PAGE)
    assert any("POST /api/v1/finops/executions" in i.value for i in at.info)
