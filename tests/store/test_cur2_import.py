"""AWS Data Exports CUR 2.0 Parquet files through `import focus`, on SQLite and PostgreSQL: billed and amortized
cost by line item type (Savings Plans, reserved instances, credits, refunds, tax) against sums made here with
Decimal from the rows themselves, resource rows and tags, and bad files named by their CUR column."""

from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlmodel import Session

from finops.data import focus_imports
from finops.data.sources.focus import FocusError

MICRO = Decimal("0.000001")
PERIOD = {
    "bill_billing_period_start_date": datetime(2026, 10, 1),
    "bill_billing_period_end_date": datetime(2026, 11, 1),
}
ACCOUNT = {"line_item_usage_account_id": "123456789012", "line_item_usage_account_name": "prod"}
EMPTY = {
    "savings_plan_savings_plan_effective_cost": None,
    "savings_plan_total_commitment_to_date": None,
    "savings_plan_used_commitment": None,
    "reservation_effective_cost": None,
    "reservation_unused_amortized_upfront_fee_for_billing_period": None,
    "reservation_unused_recurring_fee": None,
    "reservation_reservation_a_r_n": None,
}
SP = "arn:aws:savingsplans::123456789012:savingsplan/sp-1"
RI = "arn:aws:ec2:eu-west-1:123456789012:reserved-instances/ri-1"


def line(day: int, kind: str, product: str, unblended: str, resource: str = "", **extra) -> dict:
    return {
        **PERIOD, **ACCOUNT, **EMPTY,
        "line_item_usage_start_date": datetime(2026, 10, day, 3),
        "line_item_product_code": product, "product_region_code": "eu-west-1",
        "line_item_line_item_type": kind, "line_item_unblended_cost": unblended,
        "line_item_currency_code": "USD", "line_item_resource_id": resource,
        "resource_tags": [("user_team", "web")] if resource else [],
        **extra,
    }  # fmt: skip


# one day of an account with every kind of line, and what AWS's amortized cost makes of each
# fmt: off
LINES = [
    (line(1, "Usage", "AmazonEC2", "10.123456789", "i-0aaa"), "10.123456789"),
    (line(1, "SavingsPlanCoveredUsage", "AmazonEC2", "4.00", "i-0bbb",
          savings_plan_savings_plan_effective_cost="2.50"), "2.50"),
    (line(1, "SavingsPlanNegation", "AmazonEC2", "-4.00", "i-0bbb"), "0"),
    (line(1, "SavingsPlanRecurringFee", "ComputeSavingsPlans", "24.00", SP,
          savings_plan_total_commitment_to_date="24.00", savings_plan_used_commitment="20.00"), "4.00"),
    (line(1, "SavingsPlanUpfrontFee", "ComputeSavingsPlans", "1000.00", SP), "0"),
    (line(1, "DiscountedUsage", "AmazonRDS", "0", "arn:aws:rds:eu-west-1:123456789012:db:orders",
          reservation_effective_cost="1.75"), "1.75"),
    (line(1, "RIFee", "AmazonRDS", "30.00", RI, reservation_unused_amortized_upfront_fee_for_billing_period="3.00",
          reservation_unused_recurring_fee="2.00"), "5.00"),
    (line(1, "Fee", "AmazonRDS", "500.00", RI, reservation_reservation_a_r_n=RI), "0"),
    (line(2, "Tax", "AmazonEC2", "1.80"), "1.80"),
    (line(2, "Credit", "AmazonEC2", "-3.00"), "-3.00"),
    (line(2, "Refund", "AmazonRDS", "-0.50"), "-0.50"),
    (line(2, "Usage", "AmazonEC2", "7.00", "i-0aaa"), "7.00"),
]
# fmt: on


def write_cur(path: Path, rows: list[dict]) -> Path:
    columns = {name: [r[name] for r in rows] for name in rows[0]}
    types = {"resource_tags": pa.map_(pa.string(), pa.string())}
    table = pa.table({name: pa.array(values, type=types.get(name)) for name, values in columns.items()})
    pq.write_table(table, path)
    return path


def import_file(engine, path: Path):
    with Session(engine) as s:
        return focus_imports.import_focus(s, path)


def sums(engine, table: str) -> dict[tuple[str, str], tuple[Decimal, Decimal]]:
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            f"SELECT day, service, SUM(unblended_micros), SUM(amortized_micros) FROM {table} GROUP BY day, service"
        ).all()
    return {(str(d), s): (Decimal(u) * MICRO, Decimal(a) * MICRO) for d, s, u, a in rows}


def test_cur2_lines_are_billed_as_given_and_amortized_by_their_type(engine, tmp_path):
    done = import_file(engine, write_cur(tmp_path / "cur.parquet", [r for r, _ in LINES]))
    period = (PERIOD["bill_billing_period_start_date"].date(), PERIOD["bill_billing_period_end_date"].date())
    assert done.rows_read == len(LINES) and done.windows == {"AWS": period}
    want: dict[tuple[str, str], list[Decimal]] = {}
    for row, amortized in LINES:
        key = (row["line_item_usage_start_date"].date().isoformat(), row["line_item_product_code"])
        got = want.setdefault(key, [Decimal(0), Decimal(0)])
        got[0] += Decimal(row["line_item_unblended_cost"])
        got[1] += Decimal(amortized)
    for table in ("cost_daily", "cost_resource_daily"):
        stored = sums(engine, table)
        assert set(stored) == set(want), table
        for key, (billed, amortized) in want.items():
            assert abs(stored[key][0] - billed) <= MICRO and abs(stored[key][1] - amortized) <= MICRO, (table, key)
    # Savings Plans: 1,000 upfront and 24 recurring billed, 4 of it unused; the covered usage costs 2.50, not 4
    assert want[("2026-10-01", "ComputeSavingsPlans")] == [Decimal("1024.00"), Decimal("4.00")]
    with engine.connect() as conn:
        ids = dict(conn.exec_driver_sql(
            "SELECT resource_id, SUM(unblended_micros) FROM cost_resource_daily WHERE day = '2026-10-01' "
            "GROUP BY resource_id").all())  # fmt: skip
        tags = conn.exec_driver_sql("SELECT tags FROM cost_resource_daily WHERE resource_id = 'i-0aaa'").scalars()
        regions = {r for (r,) in conn.exec_driver_sql("SELECT DISTINCT region FROM cost_daily").all()}
    assert ids["i-0aaa"] == 10_123_457 and ids["i-0bbb"] == 0  # covered usage and its negation cancel
    assert all(t in ({"user_team": "web"}, '{"user_team": "web"}') for t in tags) and regions == {"eu-west-1"}


def test_a_legacy_cur_is_refused_and_says_what_it_is(engine, tmp_path):
    path = tmp_path / "legacy.csv"
    path.write_text("lineItem/UsageStartDate,lineItem/UnblendedCost,lineItem/ProductCode\n2026-10-01,1,AmazonEC2\n")
    with pytest.raises(FocusError, match=r"legacy AWS Cost and Usage Report"):
        import_file(engine, path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"line_item_unblended_cost": "ten"}, r"row 2, column line_item_unblended_cost: not a number: 'ten'"),
        ({"line_item_currency_code": "EUR"}, r"row 2, column line_item_currency_code: EUR in a file billed in USD"),
        (
            {"line_item_usage_start_date": datetime(2026, 11, 5)},
            r"row 2, column line_item_usage_start_date: .*outside AWS's billing periods",
        ),  # fmt: skip
    ],
)
def test_a_bad_cur2_line_is_named_by_its_cur_column_and_nothing_is_imported(engine, tmp_path, change, message):
    rows = [r for r, _ in LINES[:3]]
    rows[1] = {**rows[1], **change}
    with pytest.raises(FocusError, match=message):
        import_file(engine, write_cur(tmp_path / "bad.parquet", rows))
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM cost_daily").scalar_one() == 0


def test_a_cur2_file_without_a_required_column_is_refused(engine, tmp_path):
    rows = [{k: v for k, v in r.items() if k != "line_item_usage_account_id"} for r, _ in LINES[:2]]
    with pytest.raises(FocusError, match=r"row 0 \(header\), column line_item_usage_account_id: required"):
        import_file(engine, write_cur(tmp_path / "short.parquet", rows))
