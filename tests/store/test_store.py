"""The store on SQLite and PostgreSQL: loading, rollups, failure atomicity, exact money, read functions."""

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from finops.data import db, load, queries
from finops.data.sources import CONTRACT_COLUMNS, demo
from finops.data.tables import (
    CostAccount,
    CostDaily,
    CostDailyService,
    CostMonthly,
    CostMonthlyService,
    CostService,
    ForecastPoint,
    ForecastRun,
    Heartbeat,
    Recommendation,
    RefreshRun,
)
from finops.money import micros_to_amount

# a short demo window keeps the load fast; it spans three months so rollups cross month boundaries
DEMO_START, DEMO_LAST = date(2025, 1, 20), date(2025, 3, 10)
DEMO_END = DEMO_LAST + timedelta(days=1)
KEY = ["day", "provider", "account_id", "service", "region", "currency", "source"]


@pytest.fixture(scope="module")
def demo_rows() -> pd.DataFrame:
    return demo.generate(seed=7, start=DEMO_START, end=DEMO_LAST)


# failure tests need less: ten days across a month boundary
FEW_START, FEW_END = date(2025, 2, 25), date(2025, 3, 7)


@pytest.fixture(scope="module")
def few_rows(demo_rows) -> pd.DataFrame:
    days = demo_rows["day"]
    return demo_rows[(days >= FEW_START) & (days < FEW_END)].reset_index(drop=True)


def replace(engine, rows: pd.DataFrame, start: date, end: date, source: str = "demo") -> RefreshRun:
    with Session(engine) as s:
        run = load.replace_window(s, source, start, end, rows)
        s.expunge(run)
        return run


def version(engine) -> int:
    with Session(engine) as s:
        return queries.data_version(session=s)


SORT = {
    CostDaily: KEY,
    CostMonthly: ["month", "provider", "account_id", "service", "currency"],
    CostDailyService: ["day", "service", "currency"],
    CostMonthlyService: ["month", "service", "currency"],
}


def table(engine, tbl) -> pd.DataFrame:
    """Every row of `tbl` (without its id), sorted by its key, as plain Python values."""
    cols = [c for c in tbl.__table__.c if c.name != "id"]
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(select(*cols))]
    frame = pd.DataFrame(rows, columns=[c.name for c in cols])
    return frame.sort_values(SORT.get(tbl, list(frame.columns)), ignore_index=True)


def monthly_rollup(*, session: Session, start: date, end: date, accounts=(), services=()) -> pd.DataFrame:
    """The cost_monthly rows of the months in `[start, end)`, read with the test's own SQL, money as amounts."""
    c = CostMonthly.__table__.c
    cols = ["month", "account_id", "account_name", "service", "currency", "unblended_micros", "amortized_micros"]
    stmt = select(*(c[name] for name in cols), c.days).where(c.month >= start, c.month < end)
    if accounts:
        stmt = stmt.where(c.account_id.in_(list(accounts)))
    if services:
        stmt = stmt.where(c.service.in_(list(services)))
    frame = pd.DataFrame([tuple(r) for r in session.connection().execute(stmt)], columns=[*cols, "days"])
    frame["month"] = pd.to_datetime(frame["month"]).dt.date
    for metric in ("unblended", "amortized"):
        frame[f"{metric}_cost"] = micros_to_amount(frame.pop(f"{metric}_micros").astype("int64"))
    return frame


def currencies(*, session: Session) -> list[str]:
    """Currencies present in the monthly rollup, read with the test's own SQL."""
    c = CostMonthly.__table__.c
    return [r[0] for r in session.connection().execute(select(c.currency).distinct().order_by(c.currency))]


def snapshot(engine) -> dict[str, pd.DataFrame]:
    tables = (CostDaily, CostMonthly, CostDailyService, CostMonthlyService, CostAccount, CostService)
    return {t.__tablename__: table(engine, t) for t in tables}


def assert_same(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> None:
    assert a.keys() == b.keys()
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name], check_dtype=False, obj=name)


def with_month(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(month=[d.replace(day=1) for d in frame["day"]])


def assert_rollups_match_raw(engine) -> None:
    """cost_monthly and cost_daily_service hold exactly the integer sums of cost_daily."""
    raw = with_month(table(engine, CostDaily))
    metrics = ["unblended_micros", "amortized_micros"]

    keys = SORT[CostMonthly]
    monthly = table(engine, CostMonthly)
    want = raw.groupby(keys, as_index=False).agg(
        unblended_micros=("unblended_micros", "sum"),
        amortized_micros=("amortized_micros", "sum"),
        days=("day", "nunique"),
    )
    pd.testing.assert_frame_equal(monthly[[*keys, *metrics, "days"]], want, check_dtype=False)

    keys = SORT[CostDailyService]
    daily = table(engine, CostDailyService)
    want = raw.groupby(keys, as_index=False)[metrics].sum()
    pd.testing.assert_frame_equal(daily[[*keys, *metrics]], want, check_dtype=False)

    keys = SORT[CostMonthlyService]
    by_service = table(engine, CostMonthlyService)
    want = raw.groupby(keys, as_index=False)[metrics].sum()
    pd.testing.assert_frame_equal(by_service[[*keys, *metrics]], want, check_dtype=False)

    accounts = table(engine, CostAccount).sort_values("account_id", ignore_index=True)
    want = raw.groupby("account_id", as_index=False)["account_name"].max()
    pd.testing.assert_frame_equal(accounts[["account_id", "account_name"]], want, check_dtype=False)
    assert sorted(table(engine, CostService)["service"]) == sorted(raw["service"].unique())


# ---------------------------------------------------------------------------------------------------------
# loading the demo organisation


def test_demo_load_rollups_equal_raw_and_frame(engine, demo_rows):
    run = replace(engine, demo_rows, DEMO_START, DEMO_END)
    assert run.status == "ok" and run.rows == len(demo_rows)
    assert version(engine) == run.id

    raw = table(engine, CostDaily)
    assert len(raw) == len(demo_rows)
    assert set(raw["source"]) == {"demo"}
    assert_rollups_match_raw(engine)

    # and the rollups equal the generated frame to the cent, per month, service and account
    frame = with_month(demo_rows)
    keys = ["month", "account_id", "service"]
    want = frame.groupby(keys, as_index=False, observed=True)[["unblended_cost", "amortized_cost"]].sum()
    monthly = table(engine, CostMonthly)
    assert len(monthly) == len(want)
    got = monthly.set_index(keys).loc[pd.MultiIndex.from_frame(want[keys])]
    for metric in ("unblended", "amortized"):
        diff = np.abs(got[f"{metric}_micros"].to_numpy() / 1e6 - want[f"{metric}_cost"].to_numpy())
        assert diff.max() < 0.005, metric
    assert sorted(set(monthly["month"])) == [date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1)]

    daily = table(engine, CostDailyService)
    per_day = frame.groupby(["day", "service"], observed=True)["unblended_cost"].sum()
    got_daily = daily.set_index(["day", "service"])["unblended_micros"].loc[per_day.index] / 1e6
    assert np.abs(got_daily.to_numpy() - per_day.to_numpy()).max() < 0.005
    total = frame["unblended_cost"].sum()
    assert abs(monthly["unblended_micros"].sum() / 1e6 - total) < 0.005
    assert abs(daily["unblended_micros"].sum() / 1e6 - total) < 0.005


def test_loading_twice_is_idempotent_and_bumps_version(engine, demo_rows):
    first = replace(engine, demo_rows, DEMO_START, DEMO_END)
    before = snapshot(engine)
    second = replace(engine, demo_rows, DEMO_START, DEMO_END)
    assert second.id > first.id
    assert version(engine) == second.id
    assert_same(snapshot(engine), before)
    with Session(engine) as s:
        last, ok = queries.latest_runs(session=s)
    assert last.id == ok.id == second.id


def test_replacing_a_sub_window_changes_only_that_window(engine, demo_rows):
    replace(engine, demo_rows, DEMO_START, DEMO_END)
    before = snapshot(engine)
    lo, hi = date(2025, 2, 10), date(2025, 2, 15)  # [lo, hi)
    inside = demo_rows[(demo_rows["day"] >= lo) & (demo_rows["day"] < hi)]
    changed = inside[inside["service"] != "Amazon CloudWatch"].copy()  # one service disappears ...
    changed["unblended_cost"] *= 2  # ... and every other cost doubles
    changed["amortized_cost"] *= 2
    replace(engine, changed, lo, hi)

    after = snapshot(engine)

    def split(f: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        inner = (f["day"] >= lo) & (f["day"] < hi)
        return f[inner].reset_index(drop=True), f[~inner].reset_index(drop=True)

    old_inside, old_outside = split(before["cost_daily"])
    new_inside, new_outside = split(after["cost_daily"])
    pd.testing.assert_frame_equal(new_outside, old_outside)
    old_kept = old_inside[old_inside["service"] != "Amazon CloudWatch"].reset_index(drop=True)
    assert len(new_inside) == len(changed) == len(old_kept)
    pd.testing.assert_frame_equal(
        new_inside.drop(columns=["unblended_micros", "amortized_micros"]),
        old_kept.drop(columns=["unblended_micros", "amortized_micros"]),
    )
    for metric in ("unblended_micros", "amortized_micros"):
        doubled = (new_inside[metric] - 2 * old_kept[metric]).abs()
        assert doubled.max() <= 1, metric  # the same rows, each cost doubled (to the micro)

    assert_rollups_match_raw(engine)
    # months the window does not touch keep their rollups row for row; February's changed
    feb = date(2025, 2, 1)
    old_m, new_m = before["cost_monthly"], after["cost_monthly"]
    pd.testing.assert_frame_equal(
        new_m[new_m["month"] != feb].reset_index(drop=True), old_m[old_m["month"] != feb].reset_index(drop=True)
    )
    assert (
        new_m.loc[new_m["month"] == feb, "unblended_micros"].sum()
        > old_m.loc[old_m["month"] == feb, "unblended_micros"].sum()
    )
    pd.testing.assert_frame_equal(split(after["cost_daily_service"])[1], split(before["cost_daily_service"])[1])


def test_other_sources_are_left_alone(engine):
    mine = frame_of([("2025-02-01", "A", "S", "1", "1")])
    theirs = frame_of([("2025-02-01", "A", "S", "5", "5"), ("2025-02-02", "A", "S", "7", "7")])
    replace(engine, theirs, date(2025, 2, 1), date(2025, 3, 1), source="focus")
    replace(engine, mine, date(2025, 2, 1), date(2025, 3, 1), source="demo")
    replace(engine, mine.iloc[:0], date(2025, 2, 1), date(2025, 3, 1), source="demo")  # demo now empty
    raw = table(engine, CostDaily)
    assert raw["source"].tolist() == ["focus", "focus"]
    with Session(engine) as s:
        assert queries.total_cost(session=s, start=date(2025, 2, 1), end=date(2025, 3, 1))["unblended_cost"] == 12
        assert queries.loaded_sources(session=s) == ["demo", "focus"]
    assert_rollups_match_raw(engine)


# ---------------------------------------------------------------------------------------------------------
# a failing load leaves everything as it was


def _day_outside(rows: pd.DataFrame) -> pd.DataFrame:
    bad = rows.copy()
    bad.loc[bad.index[-1], "day"] = FEW_END  # the window's end is exclusive
    return bad


def _missing_column(rows: pd.DataFrame) -> pd.DataFrame:
    return rows.drop(columns=["amortized_cost"])


def _not_a_number(rows: pd.DataFrame) -> pd.DataFrame:
    bad = rows.copy()
    bad["unblended_cost"] = bad["unblended_cost"].astype(str)
    bad.loc[bad.index[5], "unblended_cost"] = "twelve"
    return bad


@pytest.mark.parametrize(
    ("spoil", "reason"),
    [
        (_day_outside, "outside the window"),
        (_missing_column, "amortized_cost"),
        (_not_a_number, None),
        (None, "injected failure after the first chunk"),
    ],
    ids=["day-outside-window", "missing-column", "not-a-number", "error-mid-insert"],
)
def test_failed_load_keeps_previous_data(engine, few_rows, monkeypatch, spoil, reason):
    good = replace(engine, few_rows, FEW_START, FEW_END)
    before = snapshot(engine)
    assert len(before["cost_daily"]) == len(few_rows)

    new_rows = few_rows.assign(unblended_cost=few_rows["unblended_cost"] + 1.0)
    seen: list[int] = []
    if spoil is None:
        real_insert = load._insert_rows

        def insert_then_fail(conn, records):
            real_insert(conn, records.iloc[:100])  # a chunk really reaches the database first
            seen.append(conn.execute(select(func.count()).select_from(CostDaily)).scalar())
            raise RuntimeError("injected failure after the first chunk")

        monkeypatch.setattr(load, "_insert_rows", insert_then_fail)
    else:
        new_rows = spoil(new_rows)

    with pytest.raises(Exception, match=reason):
        replace(engine, new_rows, FEW_START, FEW_END)

    if spoil is None:
        assert seen == [100]  # inside the failed transaction: old rows deleted, the first chunk inserted
    assert_same(snapshot(engine), before)
    assert version(engine) == good.id
    with Session(engine) as s:
        last, ok = queries.latest_runs(session=s)
    assert ok.id == good.id
    assert last.id > good.id
    assert last.status == "failed"
    assert last.finished_at is not None
    assert last.error and (reason or "") in last.error


# ---------------------------------------------------------------------------------------------------------
# money is stored exactly


def frame_of(rows: list[tuple]) -> pd.DataFrame:
    """Contract rows from (day, account_id, service, unblended, amortized[, account_name, estimated])."""
    records = []
    for row in rows:
        day, account, service, unblended, amortized, *rest = row
        name = rest[0] if rest else f"name-{account}"
        estimated = rest[1] if len(rest) > 1 else False
        records.append(
            {
                "day": date.fromisoformat(day),
                "provider": "aws",
                "account_id": account,
                "account_name": name,
                "service": service,
                "region": "us-east-1",
                "unblended_cost": unblended,
                "amortized_cost": amortized,
                "currency": "USD",
                "estimated": estimated,
            }
        )
    return pd.DataFrame.from_records(records, columns=CONTRACT_COLUMNS)


def test_credits_and_ten_decimal_strings_are_stored_exactly(engine):
    rows = frame_of(
        [
            ("2025-03-01", "A", "Amazon Simple Storage Service", "12.3456789012", "0.0000015000"),
            ("2025-03-01", "A", "Credits", "-250.1234564999", "-0.0000025000"),
            ("2025-03-02", "A", "Amazon Simple Storage Service", "0.1000000000", "0.2000000000"),
            ("2025-03-02", "B", "Amazon Simple Storage Service", "-0.3000000001", "99999999.9999994999"),
        ]
    )
    replace(engine, rows, date(2025, 3, 1), date(2025, 4, 1))
    raw = table(engine, CostDaily).sort_values(["day", "account_id", "service"], ignore_index=True)
    assert raw["service"].tolist()[:2] == ["Amazon Simple Storage Service", "Credits"]
    assert raw["unblended_micros"].tolist() == [12345679, -250123456, 100000, -300000]
    assert raw["amortized_micros"].tolist() == [2, -2, 200000, 99999999999999]
    monthly = table(engine, CostMonthly)
    assert monthly["unblended_micros"].sum() == -250123456 + 12345679 + 100000 - 300000
    with Session(engine) as s:
        total = queries.total_cost(session=s, start=date(2025, 3, 1), end=date(2025, 4, 1))
    assert total["unblended_cost"] == pytest.approx((-250123456 + 12345679 + 100000 - 300000) / 1e6, abs=1e-9)
    assert_rollups_match_raw(engine)


def test_float_amounts_sum_exactly(engine):
    # 0.1 + 0.2 - 0.3 is not 0 in floats; in micros it is
    rows = frame_of(
        [
            ("2025-03-01", "A", "S", 0.1, 0.1),
            ("2025-03-02", "A", "S", 0.2, 0.2),
            ("2025-03-03", "A", "S", -0.3, -0.3),
        ]
    )
    replace(engine, rows, date(2025, 3, 1), date(2025, 4, 1))
    assert table(engine, CostMonthly)["unblended_micros"].tolist() == [0]


# ---------------------------------------------------------------------------------------------------------
# every read function in finops.data.queries, on a small frame with known sums

EC2, S3, LAMBDA = "Amazon Elastic Compute Cloud - Compute", "Amazon Simple Storage Service", "Amazon Lambda"
SMALL = [
    # day, account, service, unblended, amortized, account name, estimated
    ("2025-01-15", "A", EC2, "0.25", "0.25", "alpha", False),
    ("2025-01-30", "A", EC2, "10.5", "9.5", "alpha", False),
    ("2025-01-31", "A", S3, "2.25", "2.25", "alpha", False),
    ("2025-01-31", "B", EC2, "4", "3", "beta", False),
    ("2025-02-01", "A", EC2, "1.000001", "1", "alpha", True),
    ("2025-02-01", "B", LAMBDA, "-0.5", "-0.5", "beta", True),
    ("2025-02-02", "B", EC2, "7", "6", "beta", True),
]
JAN, FEB, MAR = date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1)


@pytest.fixture
def small(engine):
    run = replace(engine, frame_of(SMALL), JAN, MAR, source="test")
    return engine, run


def micros(frame: pd.DataFrame, *cols: str) -> list[tuple]:
    """Rows of `frame` with cost columns as integer micros (exact comparison)."""
    out = frame.copy()
    for col in ("unblended_cost", "amortized_cost"):
        if col in out:
            out[col] = [round(v * 1_000_000) for v in out[col]]
    return [tuple(r) for r in out[list(cols)].itertuples(index=False, name=None)]


def test_query_runs_and_versions(engine):
    with Session(engine) as s:
        assert queries.data_version(session=s) == 0
        assert queries.latest_runs(session=s) == (None, None)
        assert queries.loaded_sources(session=s) == []
        assert queries.coverage(session=s) == (None, None)
    ok = replace(engine, frame_of(SMALL), JAN, MAR, source="test")
    with pytest.raises(load.ContractError):
        replace(engine, frame_of(SMALL), JAN, FEB, source="other")  # February rows fall outside
    with Session(engine) as s:
        assert queries.data_version(session=s) == ok.id
        last, good = queries.latest_runs(session=s)
        assert (last.status, last.source, good.id, good.status, good.rows) == ("failed", "other", ok.id, "ok", 7)
        assert (good.window_start, good.window_end) == (JAN, MAR)
        assert queries.loaded_sources(session=s) == ["test"]
        assert queries.coverage(session=s) == (date(2025, 1, 15), date(2025, 2, 2))


def test_query_accounts_services_currencies(small):
    engine, _ = small
    with Session(engine) as s:
        accounts = queries.accounts(session=s)
        assert sorted(accounts.columns) == sorted(["account_id", "account_name"])
        assert [tuple(r) for r in accounts.itertuples(index=False)] == [("A", "alpha"), ("B", "beta")]
        assert queries.services(session=s) == [EC2, LAMBDA, S3]
        assert currencies(session=s) == ["USD"]
    eur = frame_of([("2025-02-05", "C", "Compute", "3", "3")]).assign(currency="EUR", provider="azure")
    replace(engine, eur, FEB, MAR, source="focus")
    with Session(engine) as s:
        assert currencies(session=s) == ["EUR", "USD"]
        assert queries.loaded_sources(session=s) == ["focus", "test"]
        assert queries.accounts(session=s)["account_id"].tolist() == ["A", "B", "C"]


def test_monthly_rollup(small):
    engine, _ = small
    cols = ["month", "account_id", "account_name", "service", "currency", "unblended_cost", "amortized_cost", "days"]
    with Session(engine) as s:
        frame = monthly_rollup(session=s, start=JAN, end=MAR)
        assert sorted(frame.columns) == sorted(cols)
        got = sorted(micros(frame, *cols))
        assert got == sorted(
            [
                (JAN, "A", "alpha", EC2, "USD", 10_750_000, 9_750_000, 2),
                (JAN, "A", "alpha", S3, "USD", 2_250_000, 2_250_000, 1),
                (JAN, "B", "beta", EC2, "USD", 4_000_000, 3_000_000, 1),
                (FEB, "A", "alpha", EC2, "USD", 1_000_001, 1_000_000, 1),
                (FEB, "B", "beta", EC2, "USD", 7_000_000, 6_000_000, 1),
                (FEB, "B", "beta", LAMBDA, "USD", -500_000, -500_000, 1),
            ]
        )
        assert all(isinstance(m, date) for m in frame["month"])
        feb = monthly_rollup(session=s, start=FEB, end=MAR)
        assert set(feb["month"]) == {FEB} and len(feb) == 3
        only_b = monthly_rollup(session=s, start=JAN, end=MAR, accounts=["B"])
        assert sorted(micros(only_b, "month", "service", "unblended_cost")) == [
            (JAN, EC2, 4_000_000),
            (FEB, EC2, 7_000_000),
            (FEB, LAMBDA, -500_000),
        ]
        ec2 = monthly_rollup(session=s, start=JAN, end=MAR, services=[EC2], accounts=["A", "B"])
        assert sorted(micros(ec2, "month", "account_id", "unblended_cost")) == [
            (JAN, "A", 10_750_000),
            (JAN, "B", 4_000_000),
            (FEB, "A", 1_000_001),
            (FEB, "B", 7_000_000),
        ]
        assert monthly_rollup(session=s, start=MAR, end=date(2025, 4, 1)).empty
    rollup = table(engine, CostMonthly)
    assert rollup.loc[rollup["month"] == FEB, "estimated"].tolist() == [True, True, True]
    assert rollup.loc[rollup["month"] == JAN, "estimated"].tolist() == [False, False, False]


MONTHLY_SUMMARY_CASES = [
    ((), {}, [(JAN, 17_000_000), (FEB, 7_500_001)]),
    (
        ("service",),
        {},
        [(JAN, EC2, 14_750_000), (JAN, S3, 2_250_000), (FEB, EC2, 8_000_001), (FEB, LAMBDA, -500_000)],
    ),
    (
        ("account",),
        {"services": [EC2]},
        [(JAN, "A", "alpha", 10_750_000), (JAN, "B", "beta", 4_000_000), (FEB, "A", "alpha", 1_000_001),
         (FEB, "B", "beta", 7_000_000)],
    ),
    (
        ("service", "account"),
        {"accounts": ["B"]},
        [(JAN, EC2, "B", "beta", 4_000_000), (FEB, EC2, "B", "beta", 7_000_000), (FEB, LAMBDA, "B", "beta", -500_000)],
    ),
]  # fmt: skip


@pytest.mark.parametrize(("by", "filters", "expected"), MONTHLY_SUMMARY_CASES)
def test_query_monthly_summary_groups_in_sql(small, by, filters, expected):
    engine, _ = small
    keys = ["month"] + (["service"] if "service" in by else [])
    keys += ["account_id", "account_name"] if "account" in by else []
    with Session(engine) as s:
        frame = queries.monthly_summary(session=s, start=JAN, end=MAR, by=by, **filters)
        assert list(frame.columns) == [*keys, "currency", "unblended_cost", "amortized_cost"]
        assert micros(frame, *keys, "unblended_cost") == expected
        with pytest.raises(ValueError, match="region"):
            queries.monthly_summary(session=s, start=JAN, end=MAR, by=("region",))


def test_query_daily_costs(small):
    engine, _ = small
    cols = ["day", "service", "unblended_cost", "amortized_cost"]
    d = date.fromisoformat
    with Session(engine) as s:
        every = queries.daily_costs(session=s, start=d("2025-01-31"), end=d("2025-02-02"))
        assert sorted(every.columns) == sorted(cols)
        assert sorted(micros(every, *cols)) == [
            (d("2025-01-31"), EC2, 4_000_000, 3_000_000),
            (d("2025-01-31"), S3, 2_250_000, 2_250_000),
            (d("2025-02-01"), EC2, 1_000_001, 1_000_000),
            (d("2025-02-01"), LAMBDA, -500_000, -500_000),
        ]
        only_a = queries.daily_costs(session=s, start=d("2025-01-31"), end=d("2025-02-02"), accounts=["A"])
        assert sorted(only_a.columns) == sorted(cols)
        assert sorted(micros(only_a, *cols)) == [
            (d("2025-01-31"), S3, 2_250_000, 2_250_000),
            (d("2025-02-01"), EC2, 1_000_001, 1_000_000),
        ]
        # with accounts given, days are still summed over those accounts
        both = queries.daily_costs(session=s, start=JAN, end=MAR, accounts=["A", "B"], services=[EC2])
        assert sorted(micros(both, "day", "unblended_cost")) == [
            (d("2025-01-15"), 250_000),
            (d("2025-01-30"), 10_500_000),
            (d("2025-01-31"), 4_000_000),
            (d("2025-02-01"), 1_000_001),
            (d("2025-02-02"), 7_000_000),
        ]
        ec2 = queries.daily_costs(session=s, start=JAN, end=MAR, services=[EC2])
        assert sorted(micros(ec2, "day", "unblended_cost")) == sorted(micros(both, "day", "unblended_cost"))
        assert all(isinstance(v, date) for v in ec2["day"])
        assert queries.daily_costs(session=s, start=MAR, end=date(2025, 4, 1)).empty


def test_query_service_and_total_costs(small):
    engine, _ = small
    with Session(engine) as s:
        frame = queries.service_costs(session=s, start=JAN, end=MAR)
        assert sorted(frame.columns) == sorted(["service", "unblended_cost", "amortized_cost"])
        assert sorted(micros(frame, "service", "unblended_cost", "amortized_cost")) == [
            (EC2, 22_750_001, 19_750_000),
            (LAMBDA, -500_000, -500_000),
            (S3, 2_250_000, 2_250_000),
        ]
        total = queries.total_cost(session=s, start=JAN, end=MAR)
        assert set(total) == {"unblended_cost", "amortized_cost"}
        assert round(total["unblended_cost"] * 1e6) == 24_500_001
        assert round(total["amortized_cost"] * 1e6) == 21_500_000
        feb = queries.total_cost(session=s, start=FEB, end=MAR)
        assert (round(feb["unblended_cost"] * 1e6), round(feb["amortized_cost"] * 1e6)) == (7_500_001, 6_500_000)
        assert all(isinstance(v, float) for v in feb.values())
        assert queries.total_cost(session=s, start=MAR, end=date(2025, 4, 1)) == {
            "unblended_cost": 0.0,
            "amortized_cost": 0.0,
        }


def test_query_forecast_savings_heartbeat(small):
    engine, run = small
    with Session(engine) as s:
        assert queries.forecast_total(session=s, start=MAR, end=date(2025, 4, 1)) is None
        assert queries.potential_savings(session=s) is None
        assert queries.heartbeat(session=s) is None

        older = ForecastRun(refresh_run_id=run.id)
        s.add(older)
        s.commit()
        for i, y in enumerate([1.0, 2.0, 3.0]):
            s.add(
                ForecastPoint(
                    run_id=older.id, series="total", ds=MAR + timedelta(days=i), yhat=y, yhat_lower=0, yhat_upper=9
                )
            )
        newer = ForecastRun(refresh_run_id=run.id)
        s.add(newer)
        s.commit()
        for i, y in enumerate([10.0, 20.0, 40.0]):
            s.add(
                ForecastPoint(
                    run_id=newer.id, series="total", ds=MAR + timedelta(days=i), yhat=y, yhat_lower=0, yhat_upper=99
                )
            )
        s.add(ForecastPoint(run_id=newer.id, series=f"service:{EC2}", ds=MAR, yhat=500.0, yhat_lower=0, yhat_upper=999))
        s.add(Recommendation(source="idle", kind="stop", estimated_monthly_savings=100.5))
        s.add(Recommendation(source="idle", kind="stop", estimated_monthly_savings=20.0))
        s.add(Recommendation(source="idle", kind="stop", estimated_monthly_savings=1000.0, status="dismissed"))
        now = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
        s.add(Heartbeat(name="sidecar", pid=4242, host="box", started_at=now, beat_at=now))
        s.commit()

    with Session(engine) as s:
        # the newest run only, total series only, end exclusive
        assert queries.forecast_total(session=s, start=MAR, end=MAR + timedelta(days=2)) == pytest.approx(30.0)
        assert queries.forecast_total(session=s, start=MAR, end=date(2025, 4, 1)) == pytest.approx(70.0)
        assert queries.forecast_total(session=s, start=date(2025, 4, 1), end=date(2025, 5, 1)) is None
        assert queries.potential_savings(session=s) == pytest.approx(120.5)
        beat = queries.heartbeat(session=s)
        assert (beat.pid, beat.host) == (4242, "box")
        assert queries.heartbeat(session=s, name="other") is None


# ---------------------------------------------------------------------------------------------------------
# engine configuration


def test_sqlite_engine_uses_wal_and_busy_timeout(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'sub' / 'finops.db'}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar().lower() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert (tmp_path / "sub" / "finops.db").exists()
    finally:
        engine.dispose()


def test_unreachable_store_message_hides_the_password():
    engine = db.make_engine("postgresql+psycopg://u:secret@127.0.0.1:1/x")
    try:
        with pytest.raises(db.StoreUnavailable) as info:
            db.check_reachable(engine)
    finally:
        engine.dispose()
    message = str(info.value)
    assert "secret" not in message
    assert "u:***@127.0.0.1:1/x" in message
