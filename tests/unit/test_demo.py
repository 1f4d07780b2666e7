"""The demo organisation: deterministic, realistic in shape, and carrying the anomalies it announces."""

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from finops.data.sources import CONTRACT_COLUMNS, demo

REAL_SERVICES = {
    "Amazon Elastic Compute Cloud - Compute",
    "EC2 - Other",
    "Amazon Relational Database Service",
    "Amazon Simple Storage Service",
    "AWS Lambda",
    "Amazon CloudFront",
    "Amazon DynamoDB",
    "Amazon CloudWatch",
    "Elastic Load Balancing",
    "Amazon Virtual Private Cloud",
}


@pytest.fixture(scope="module")
def end() -> date:
    return demo.default_end()


@pytest.fixture(scope="module")
def rows(end) -> pd.DataFrame:
    return demo.generate(seed=42, end=end)


def series(rows: pd.DataFrame, account_id: str, service: str) -> pd.Series:
    """Daily unblended cost of one account's service, indexed by day (days without a row are absent)."""
    hit = rows[(rows["account_id"] == account_id) & (rows["service"] == service)]
    return hit.groupby("day")["unblended_cost"].sum().sort_index()


def test_same_seed_same_rows_other_seed_other_rows(rows, end):
    pd.testing.assert_frame_equal(demo.generate(seed=42, end=end), rows)
    other = demo.generate(seed=43, end=end)
    assert len(other) != len(rows) or not np.allclose(other["unblended_cost"], rows["unblended_cost"])
    # the same call with a fixed end is stable whatever today is (apart from the open-month flag)
    fixed = demo.generate(seed=42, end=date(2025, 6, 30), start=date(2025, 6, 1))
    again = demo.generate(seed=42, end=date(2025, 6, 30), start=date(2025, 6, 1))
    pd.testing.assert_frame_equal(fixed, again)
    assert (fixed["day"].min(), fixed["day"].max()) == (date(2025, 6, 1), date(2025, 6, 30))


def test_contract_columns_and_no_gaps(rows):
    assert list(rows.columns) == CONTRACT_COLUMNS
    assert not rows.isna().any().any()
    assert set(rows["provider"]) == {demo.PROVIDER}
    assert set(rows["currency"]) == {"USD"}
    assert rows["estimated"].dtype == bool
    assert all(isinstance(d, date) for d in rows["day"].head(100))
    # one row per day, account, service and region: the loader's unique key
    assert not rows.duplicated(["day", "account_id", "service", "region"]).any()


def test_accounts_and_services(rows):
    accounts = rows.groupby("account_id")["account_name"].unique()
    assert len(accounts) >= 4
    assert all(len(names) == 1 for names in accounts)  # one name per account
    names = set(rows["service"])
    assert 20 <= len(names) <= 30
    assert REAL_SERVICES <= names
    assert not any(name.startswith("AWS Service ") for name in names)  # no made-up filler names
    assert all(name.startswith(("Amazon ", "AWS ", "EC2 ", "Elastic ")) for name in names)


def test_history_of_fifteen_months_ending_yesterday(rows, end):
    assert end == pd.Timestamp.now(tz="UTC").date() - timedelta(days=1)
    first, last = rows["day"].min(), rows["day"].max()
    assert last == end
    assert first.day == 1
    assert (last.year * 12 + last.month) - (first.year * 12 + first.month) >= 15
    assert rows["day"].nunique() == (last - first).days + 1  # every day present


def test_no_negative_costs(rows):
    assert (rows["unblended_cost"] >= 0).all()
    assert (rows["amortized_cost"] >= 0).all()
    assert rows["unblended_cost"].sum() > 0


def test_amortized_spreads_reserved_instance_fees(rows):
    # over whole months the two metrics agree to within the fee rounding; daily they differ on the 1st
    monthly = rows.assign(month=[d.replace(day=1) for d in rows["day"]]).groupby("month")
    totals = monthly[["unblended_cost", "amortized_cost"]].sum()
    complete = totals.iloc[:-1]  # the last month may be partial, where amortized lags
    assert np.allclose(complete["unblended_cost"], complete["amortized_cost"], rtol=1e-6)
    firsts = rows[[d.day == 1 for d in rows["day"]]]
    assert firsts["unblended_cost"].sum() > firsts["amortized_cost"].sum() * 1.2


def test_weekend_dip_in_non_production_accounts(rows):
    quiet = {a[0] for a in demo.ACCOUNTS if not a[3]}
    busy = {a[0] for a in demo.ACCOUNTS if a[3]}
    assert quiet and busy
    regular = rows[~rows["service"].isin([demo.NEW_SERVICE, demo.SUPPORT])]
    weekend = np.array([d.weekday() >= 5 for d in regular["day"]])
    for account in quiet | busy:
        mine = (regular["account_id"] == account).to_numpy()
        daily_weekend = regular[mine & weekend].groupby("day")["unblended_cost"].sum().mean()
        daily_weekday = regular[mine & ~weekend].groupby("day")["unblended_cost"].sum().mean()
        ratio = daily_weekend / daily_weekday
        if account in quiet:
            assert ratio < 0.6, (account, ratio)
        else:
            assert ratio > 0.8, (account, ratio)


def test_announced_anomalies_are_in_the_data(rows, end):
    events = demo.anomalies(end)
    assert {e.kind for e in events} == {"spike", "level_shift", "new_service"}
    for ev in events:
        s = series(rows, ev.account_id, ev.service)
        if ev.kind == "spike":
            assert s[ev.start] >= 4 * s.median(), ev
            neighbours = s[(s.index >= ev.start - timedelta(days=7)) & (s.index <= ev.start + timedelta(days=7))]
            assert neighbours.idxmax() == ev.start
        elif ev.kind == "level_shift":
            window = timedelta(days=60)
            before = s[(s.index >= ev.start - window) & (s.index < ev.start)].mean()
            after = s[(s.index >= ev.start) & (s.index < ev.start + window)].mean()
            assert after >= 1.4 * before, (ev, after / before)
        elif ev.kind == "new_service":
            everywhere = rows[rows["service"] == ev.service]
            assert (everywhere["day"] >= ev.start).all()  # absent from every account before it starts
            assert set(everywhere["account_id"]) == {ev.account_id}
            days_after = pd.date_range(ev.start, end).date
            assert list(s.index) == list(days_after)  # present every day from its start
            assert (s > 0).all()


def test_current_month_is_estimated(rows):
    today = pd.Timestamp.now(tz="UTC").date()
    open_month = today.replace(day=1)
    expected = np.array([d >= open_month for d in rows["day"]])
    assert (rows["estimated"].to_numpy() == expected).all()
    assert not rows.loc[~expected, "estimated"].any()
    if today.day > 1:  # on the 1st yesterday belongs to the closed month
        assert rows["estimated"].any()


def test_bigger_settings_for_benchmarks():
    big = demo.generate(seed=1, end=date(2025, 3, 31), start=date(2025, 3, 1), n_accounts=12, n_services=40)
    assert big["account_id"].nunique() == 12
    assert big["service"].nunique() > 30
    assert list(big.columns) == CONTRACT_COLUMNS


def test_demo_resources_are_deterministic_valid_and_cover_every_platform_type():
    from finops.data.resource_fields import PLATFORM_TYPES, clean

    items = demo.resources(42)
    assert items == demo.resources(42)
    assert {i["resource_type"] for i in items} == set(PLATFORM_TYPES)
    assert len({(i["resource_type"], i["resource_id"]) for i in items}) == len(items)
    for item in items:
        clean(**{c: item.get(c) for c in ["resource_type", "resource_id", "name", "owner", "state",
                                            "hourly_cost", "tags", "account_id", "region"]})  # fmt: skip


def test_demo_groups_are_by_team_and_environment_over_their_owners_resources():
    items = {r["resource_id"]: r for r in demo.resources(42)}
    made = demo.groups(42)
    assert made == demo.groups(42)  # deterministic
    assert {g["owner"] for g in made} == {"member", "admin"}
    for group in made:
        assert group["resources"], group["name"]
        tag, _, value = group["description"].rpartition(" ")[2].partition("=")
        for resource_type, resource_id in group["resources"]:
            item = items[resource_id]
            assert item["resource_type"] == resource_type and item["owner"] == group["owner"]  # a member's own
            assert item["tags"][tag] == value
    assert {g["description"].rpartition(" ")[2].split("=")[0] for g in made} == {"team", "env"}
