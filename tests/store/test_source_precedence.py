"""Billing files supersede Cost Explorer for the accounts and days they cover, whichever was loaded last: the
same cost is never counted twice, and Cost Explorer still fills the days the files have not reached."""

from datetime import date, timedelta

import pandas as pd
from sqlmodel import Session

from finops.data import load
from tests.store.test_focus_import import run_import, write_rows

HEADER = ["BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd", "ProviderName",
          "SubAccountId", "SubAccountName", "ServiceName", "RegionId", "ResourceId", "BilledCost", "EffectiveCost",
          "BillingCurrency"]  # fmt: skip
NOV = date(2026, 11, 1)


def ce_rows(accounts: list[str], days: int, cost: float) -> pd.DataFrame:
    rows = [
        {"day": NOV + timedelta(days=d), "provider": "aws", "account_id": a, "account_name": a, "service": "EC2",
         "region": "eu-west-1", "unblended_cost": cost, "amortized_cost": cost, "currency": "USD", "estimated": False}
        for d in range(days) for a in accounts
    ]  # fmt: skip
    return pd.DataFrame(rows)


def ce_refresh(engine, accounts=("111111111111", "222222222222"), days=10, cost=10.0) -> None:
    with Session(engine) as s:
        load.replace_window(s, "aws_ce", NOV, NOV + timedelta(days=days), ce_rows(list(accounts), days, cost))


def focus_file(tmp_path, days: int, cost: str):
    lines = [
        {"BillingPeriodStart": "2026-11-01", "BillingPeriodEnd": "2026-12-01",
         "ChargePeriodStart": f"{NOV + timedelta(days=d)} 00:00:00",
         "ChargePeriodEnd": f"{NOV + timedelta(days=d + 1)} 00:00:00", "ProviderName": "AWS",
         "SubAccountId": "111111111111", "SubAccountName": "prod", "ServiceName": "Amazon EC2",
         "RegionId": "eu-west-1", "ResourceId": "i-0abc", "BilledCost": cost, "EffectiveCost": cost,
         "BillingCurrency": "USD"}
        for d in range(days)
    ]  # fmt: skip
    return write_rows(tmp_path / "bill.csv", HEADER, lines)


def per_source(engine, table: str = "cost_daily") -> dict[tuple, int]:
    """(source, account, day) -> unblended micros."""
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(f"SELECT source, account_id, day, SUM(unblended_micros) FROM {table} "
                                    "GROUP BY source, account_id, day").all()  # fmt: skip
    return {(src, acc, str(day)): int(m) for src, acc, day, m in rows}


def monthly_total(engine) -> int:
    with engine.connect() as conn:
        return int(conn.exec_driver_sql("SELECT SUM(unblended_micros) FROM cost_monthly").scalar_one())


def test_a_billing_file_supersedes_cost_explorer_for_its_accounts_and_days(engine, tmp_path):
    ce_refresh(engine)  # two accounts, Nov 1-10, $10 a day each
    run_import(engine, focus_file(tmp_path, days=5, cost="12.50"))  # account 1's bill, Nov 1-5
    got = per_source(engine)
    for d in range(10):
        day = str(NOV + timedelta(days=d))
        assert got.get(("aws_ce", "222222222222", day)) == 10_000_000  # the other account is left alone
        if d < 5:  # the bill's days: only the bill
            assert ("aws_ce", "111111111111", day) not in got and got[("focus", "111111111111", day)] == 12_500_000
        else:  # after the bill's last day Cost Explorer still counts
            assert got[("aws_ce", "111111111111", day)] == 10_000_000
    # the rollups add up to the same, never both sources
    assert monthly_total(engine) == (10 * 10 + 5 * 12.5 + 5 * 10) * 1_000_000


def test_a_later_cost_explorer_refresh_does_not_bring_the_covered_days_back(engine, tmp_path):
    run_import(engine, focus_file(tmp_path, days=5, cost="12.50"))
    ce_refresh(engine, cost=11.0)
    got = per_source(engine)
    assert not [k for k in got if k[0] == "aws_ce" and k[1] == "111111111111" and k[2] < "2026-11-06"]
    assert got[("aws_ce", "111111111111", "2026-11-06")] == 11_000_000
    assert monthly_total(engine) == (10 * 11 + 5 * 12.5 + 5 * 11) * 1_000_000
