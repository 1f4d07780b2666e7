"""`import focus` against real stores (SQLite file, PostgreSQL): the FOCUS 1.0 sample's own sums, CSV.gz and
Parquet alike, re-delivery replaces, bad files change nothing and are named by file, row and column."""

import csv
import gzip
import json
import shutil
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from sqlmodel import Session, select

from finops.cli import main
from finops.data import db, focus_imports
from finops.data.sources import focus_rows
from finops.data.sources.focus import FocusError
from finops.data.tables import CostResourceDaily
from tests.conftest import TEST_DATA, use_store

SAMPLE = TEST_DATA / "focus-1.0" / "focus_sample.csv"
NULLS = ("NULL", "")
MICRO = Decimal("0.000001")


def read_rows(path: Path = SAMPLE) -> tuple[list[str], list[dict]]:
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def write_rows(path: Path, header: list[str], rows: list[dict]) -> Path:
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=header, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def text(value: str) -> str:
    return "" if value in NULLS else value


def expected(rows: list[dict]) -> dict[tuple, tuple[Decimal, Decimal]]:
    """day x service x account -> (BilledCost, EffectiveCost) summed exactly from the CSV text (not DuckDB)."""
    out: dict[tuple, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for row in rows:
        key = (row["ChargePeriodStart"][:10], text(row["ServiceName"]), text(row["SubAccountId"]))
        out[key][0] += Decimal(row["BilledCost"])
        out[key][1] += Decimal(row["EffectiveCost"])
    return {key: (billed, effective) for key, (billed, effective) in out.items()}


def stored(engine, table: str) -> dict[tuple, tuple[Decimal, Decimal]]:
    """day x service x account -> (unblended, amortized) as stored in `table`, in currency units."""
    query = (
        f"SELECT day, service, account_id, SUM(unblended_micros), SUM(amortized_micros) FROM {table} "
        "WHERE source = 'focus' GROUP BY day, service, account_id"
    )
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(query).all()
    return {(str(d), s, a): (Decimal(u) * MICRO, Decimal(m) * MICRO) for d, s, a, u, m in rows}


def assert_matches(engine, table: str, rows: list[dict]) -> None:
    want, got = expected(rows), stored(engine, table)
    assert set(got) == set(want)
    for key, (billed, effective) in want.items():
        # each stored row is rounded half-even to the micro: a group differs by a few micros, never a cent
        assert abs(got[key][0] - billed) < Decimal("0.00005"), key
        assert abs(got[key][1] - effective) < Decimal("0.00005"), key
        assert round(got[key][0], 2) == round(billed, 2) or abs(got[key][0] - billed) < MICRO * 10, key


def snapshot(engine) -> dict[str, list]:
    """Every row of the tables an import writes (ids left out), to compare a store before and after."""
    tables = {
        "cost_daily": "day, provider, account_id, account_name, service, region, currency, unblended_micros, "
        "amortized_micros, source",
        "cost_resource_daily": "day, provider, account_id, resource_id, resource_name, resource_type, service, "
        "region, currency, unblended_micros, amortized_micros, source",
        "cost_monthly": "month, provider, account_id, service, currency, unblended_micros, amortized_micros",
        "cost_daily_service": "day, service, currency, unblended_micros, amortized_micros",
        "refresh_run": "id, source, status",
    }
    with engine.connect() as conn:
        return {
            name: sorted(tuple(str(v) for v in r) for r in conn.exec_driver_sql(f"SELECT {cols} FROM {name}").all())
            for name, cols in tables.items()
        }


def run_import(engine, path: Path, provider: str | None = None) -> focus_imports.FocusImport:
    with Session(engine) as s:
        return focus_imports.import_focus(s, path, provider=provider)


def total(engine, table: str, where: str = "") -> int:
    with engine.connect() as conn:
        return conn.exec_driver_sql(f"SELECT COALESCE(SUM(unblended_micros), 0) FROM {table} {where}").scalar_one()


def test_the_sample_gives_its_own_sums_per_day_service_and_account(engine):
    header, rows = read_rows()
    done = run_import(engine, SAMPLE)
    assert done.rows_read == len(rows) == 1000
    assert done.run.status == "ok" and done.run.source == "focus"
    assert_matches(engine, "cost_daily", rows)
    assert_matches(engine, "cost_resource_daily", rows)  # per-resource rows add up to the same totals
    # the rollups come from the same writer: a month's total is the days' total
    assert total(engine, "cost_monthly") == total(engine, "cost_daily")
    assert total(engine, "cost_daily_service") == total(engine, "cost_daily")
    # nulls (the bare word NULL) are empty strings, never the text "NULL"; currencies as billed
    with engine.connect() as conn:
        nulls = conn.exec_driver_sql(
            "SELECT COUNT(*) FROM cost_resource_daily WHERE resource_id = 'NULL' OR region = 'NULL' "
            "OR resource_name = 'NULL' OR resource_type = 'NULL'"
        ).scalar_one()
        nulls += conn.exec_driver_sql(
            "SELECT COUNT(*) FROM cost_daily WHERE account_name = 'NULL' OR region = 'NULL'"
        ).scalar_one()
        currencies = {c for (c,) in conn.exec_driver_sql("SELECT DISTINCT currency FROM cost_daily").all()}
        providers = {p for (p,) in conn.exec_driver_sql("SELECT DISTINCT provider FROM cost_daily").all()}
        tagged = conn.exec_driver_sql(
            "SELECT tags FROM cost_resource_daily WHERE resource_id <> '' ORDER BY day, resource_id"
        ).all()
    assert nulls == 0
    assert currencies == {"USD"}
    assert providers == {"AWS", "Microsoft", "Oracle"}
    assert any("environment" in (t if isinstance(t, dict) else json.loads(t)) for (t,) in tagged)


def parquet_copy(source: Path, target: Path) -> Path:
    """The CSV as Parquet with the types pyarrow infers (timestamps, doubles), as an export tool would write."""
    table = pacsv.read_csv(source, convert_options=pacsv.ConvertOptions(null_values=["NULL"], strings_can_be_null=True))
    assert pa.types.is_timestamp(table.schema.field("ChargePeriodStart").type)
    pq.write_table(table, target)
    return target


def test_csv_gz_and_parquet_give_the_same_store(engine, tmp_path):
    run_import(engine, SAMPLE)
    from_csv = snapshot(engine)
    gz = tmp_path / "focus_sample.csv.gz"
    with SAMPLE.open("rb") as src, gzip.open(gz, "wb") as dst:
        shutil.copyfileobj(src, dst)
    run_import(engine, gz)
    from_gz = snapshot(engine)
    run_import(engine, parquet_copy(SAMPLE, tmp_path / "focus_sample.parquet"))
    from_parquet = snapshot(engine)
    runs = [from_csv.pop("refresh_run"), from_gz.pop("refresh_run"), from_parquet.pop("refresh_run")]
    assert from_csv == from_gz == from_parquet
    assert [len(r) for r in runs] == [1, 2, 3]


def test_a_folder_of_mixed_files_is_one_import(engine, tmp_path):
    header, rows = read_rows()
    folder = tmp_path / "export"
    (folder / "aws").mkdir(parents=True)
    write_rows(folder / "aws" / "part-1.csv", header, [r for r in rows if r["ProviderName"] == "AWS"])
    others = write_rows(tmp_path / "others.csv", header, [r for r in rows if r["ProviderName"] != "AWS"])
    parquet_copy(others, folder / "others.parquet")
    (folder / "README.txt").write_text("not a billing file")
    done = run_import(engine, folder)
    assert len(done.files) == 2 and done.rows_read == 1000
    assert_matches(engine, "cost_daily", rows)
    assert_matches(engine, "cost_resource_daily", rows)


def test_a_redelivered_period_replaces_that_providers_period_never_doubles(engine, tmp_path):
    header, rows = read_rows()
    run_import(engine, SAMPLE)
    first = snapshot(engine)
    run_import(engine, SAMPLE)  # the same delivery again
    again = snapshot(engine)
    assert len(again.pop("refresh_run")) == 2
    first.pop("refresh_run")
    assert again == first
    # AWS re-delivers September with every amount doubled: AWS is replaced, Microsoft and Oracle stay
    aws = [r for r in rows if r["ProviderName"] == "AWS"]
    redelivered = [
        {**r, "BilledCost": str(Decimal(r["BilledCost"]) * 2), "EffectiveCost": str(Decimal(r["EffectiveCost"]) * 2)}
        for r in aws
    ]
    before_others = total(engine, "cost_daily", "WHERE provider <> 'AWS'")
    done = run_import(engine, write_rows(tmp_path / "aws-2024-09.csv", header, redelivered))
    assert set(done.windows) == {"AWS"}
    assert total(engine, "cost_daily", "WHERE provider <> 'AWS'") == before_others
    assert_matches(engine, "cost_daily", [*redelivered, *[r for r in rows if r["ProviderName"] != "AWS"]])
    assert_matches(engine, "cost_resource_daily", [*redelivered, *[r for r in rows if r["ProviderName"] != "AWS"]])


def bad_file(tmp_path: Path, case: str) -> tuple[Path, str]:
    """A broken copy of the sample, and what the refusal must name (row counted from 1 after the header)."""
    header, rows = read_rows()
    path = tmp_path / f"{case}.csv"
    if case == "missing_column":
        return write_rows(
            path, [h for h in header if h != "EffectiveCost"], rows
        ), "row 0 (header), column EffectiveCost"
    if case == "unknown_version":  # FOCUS 0.5-style names: AmortizedCost, ChargeType, Region
        renamed = {"EffectiveCost": "AmortizedCost", "ChargeCategory": "ChargeType", "RegionId": "Region",
                   "BilledCost": "Cost", "ChargePeriodStart": "UsageStart", "BillingPeriodEnd": "PeriodEnd",
                   "ListCost": "PublicCost", "BillingCurrency": "Currency"}  # fmt: skip
        rows = [{renamed.get(k, k): v for k, v in r.items()} for r in rows]
        return write_rows(path, [renamed.get(h, h) for h in header], rows), "row 0 (header), columns: not FOCUS"
    if case == "non_numeric_cost":
        rows[16]["BilledCost"] = "12,50"
        return write_rows(path, header, rows), "row 17, column BilledCost"
    if case == "charge_outside_billing_period":
        rows[4]["ChargePeriodStart"] = "2024-08-31 23:00:00"
        return write_rows(path, header, rows), "row 5, column ChargePeriodStart"
    if case == "mixed_currencies":
        rows[8]["BillingCurrency"] = "EUR"
        return write_rows(path, header, rows), "row 9, column BillingCurrency"
    if case == "parquet_non_numeric_cost":
        rows[99]["EffectiveCost"] = "n/a"
        table = pa.Table.from_pylist([{k: (None if v == "NULL" else v) for k, v in r.items()} for r in rows])
        target = tmp_path / f"{case}.parquet"
        pq.write_table(table, target)
        return target, "row 100, column EffectiveCost"
    raise AssertionError(case)


BAD = [
    "missing_column",
    "unknown_version",
    "non_numeric_cost",
    "charge_outside_billing_period",
    "mixed_currencies",
    "parquet_non_numeric_cost",
]


@pytest.mark.parametrize("case", BAD)
def test_a_bad_file_is_named_by_row_and_column_and_changes_nothing(engine, tmp_path, case):
    run_import(engine, SAMPLE)
    before = snapshot(engine)
    path, named = bad_file(tmp_path, case)
    with pytest.raises(FocusError) as refused:
        run_import(engine, path)
    message = str(refused.value)
    assert str(path) in message and named in message and "\n" not in message
    assert snapshot(engine) == before  # the previous import stays, no run recorded


def test_one_bad_file_in_a_folder_refuses_the_whole_import(engine, tmp_path):
    header, rows = read_rows()
    folder = tmp_path / "export"
    folder.mkdir()
    write_rows(folder / "a-good.csv", header, [r for r in rows if r["ProviderName"] == "AWS"])
    broken = [dict(r) for r in rows if r["ProviderName"] != "AWS"]
    broken[2]["BillingCurrency"] = "EUR"
    write_rows(folder / "b-bad.csv", header, broken)
    with pytest.raises(FocusError, match=r"b-bad\.csv: row 3, column BillingCurrency"):
        run_import(engine, folder)
    assert snapshot(engine)["cost_daily"] == []


def test_the_cli_exit_codes(engine, tmp_path, monkeypatch, capsys):
    use_store(monkeypatch, tmp_path, url=engine.url.render_as_string(hide_password=False))
    assert main(["import", "focus", str(SAMPLE)]) == 0
    out, err = capsys.readouterr()
    assert err == "" and "imported 1,000 rows from 1 file(s)" in out and "AWS [2024-09-01, 2024-10-01)" in out
    before = snapshot(engine)
    path, named = bad_file(tmp_path, "non_numeric_cost")
    assert main(["import", "focus", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and named in err and str(path) in err
    assert main(["import", "focus", str(tmp_path / "nowhere")]) == 2
    assert "no such file or folder" in capsys.readouterr().err
    assert snapshot(engine) == before
    # --provider names every row's provider
    assert main(["import", "focus", str(SAMPLE), "--provider", "Acme Cloud"]) == 0
    capsys.readouterr()
    with engine.connect() as conn:
        providers = {p for (p,) in conn.exec_driver_sql("SELECT DISTINCT provider FROM cost_resource_daily").all()}
    assert providers == {"AWS", "Microsoft", "Oracle", "Acme Cloud"}
    with pytest.raises(SystemExit) as usage:
        main(["import", "focus", str(SAMPLE), "--provider", "x" * 40])
    assert usage.value.code == 2


def test_the_cli_refuses_a_store_without_schema(tmp_path, monkeypatch, capsys):
    use_store(monkeypatch, tmp_path)
    assert main(["import", "focus", str(SAMPLE)]) == 1
    assert "python -m finops init" in capsys.readouterr().err


def test_other_shapes_of_the_same_bill_give_the_same_store(engine, tmp_path):
    """A FOCUS 1.2-style file (extra columns), UTC date-times in ISO 8601 with Z, the region column named
    Region, lower-case currency codes: the same store as the sample."""
    header, rows = read_rows()
    run_import(engine, SAMPLE)
    want = snapshot(engine)
    renamed = ["Region" if h == "RegionId" else h for h in header] + ["InvoiceId", "BillingAccountType"]
    shaped = [
        {
            **{("Region" if k == "RegionId" else k): v for k, v in r.items()},
            "ChargePeriodStart": r["ChargePeriodStart"].replace(" ", "T") + "Z",
            "BillingCurrency": r["BillingCurrency"].lower(),
            "InvoiceId": "INV-1",
            "BillingAccountType": "Billing Account",
        }
        for r in rows
    ]
    run_import(engine, write_rows(tmp_path / "focus-1.2.csv", renamed, shaped))
    got = snapshot(engine)
    assert len(got.pop("refresh_run")) == 2
    want.pop("refresh_run")
    assert got == want


def test_files_without_rows_are_refused(engine, tmp_path):
    header, _ = read_rows()
    path = write_rows(tmp_path / "empty.csv", header, [])
    with pytest.raises(FocusError, match="no rows after the header"):
        run_import(engine, path)
    assert snapshot(engine)["refresh_run"] == []


def test_rows_streamed_in_small_batches_give_the_same_store(engine, monkeypatch):
    run_import(engine, SAMPLE)
    whole = snapshot(engine)
    monkeypatch.setattr(focus_rows, "BATCH", 7)  # the sample's rows cross many batches (and tag sets)
    done = run_import(engine, SAMPLE)
    again = snapshot(engine)
    assert [r[2] for r in again.pop("refresh_run")] == ["ok", "ok"] and whole.pop("refresh_run")
    assert again == whole
    assert done.run.rows == done.daily_rows == whole_count(engine, "cost_daily")
    assert done.resource_rows == whole_count(engine, "cost_resource_daily")
    with Session(engine) as s:  # tags written as JSON text read back as the same dicts through SQLModel
        tags = s.exec(select(CostResourceDaily.tags).where(CostResourceDaily.resource_id != "")).all()
    assert tags and all(isinstance(t, dict) for t in tags) and any("environment" in t for t in tags)


def whole_count(engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.exec_driver_sql(f"SELECT COUNT(*) FROM {table}").scalar_one()


def test_a_failure_after_some_resource_batches_changes_nothing(engine, tmp_path, monkeypatch):
    header, rows = read_rows()
    run_import(engine, SAMPLE)
    before = snapshot(engine)
    write_rows(tmp_path / "changed.csv", header, [{**r, "BilledCost": "1.5"} for r in rows])
    monkeypatch.setattr(focus_rows, "BATCH", 50)
    batches = focus_rows.FocusData.resources

    def failing(self):
        for i, batch in enumerate(batches(self)):
            if i == 3:
                raise OSError("disk full")  # after 150 new resource rows (and every daily row) are written
            yield batch

    monkeypatch.setattr(focus_rows.FocusData, "resources", failing)
    with pytest.raises(OSError, match="disk full"):
        run_import(engine, tmp_path / "changed.csv")
    after = snapshot(engine)
    runs = after.pop("refresh_run")
    before.pop("refresh_run")
    assert after == before
    assert [r[2] for r in runs] == ["ok", "failed"]


def test_a_large_write_gives_sqlite_its_page_cache_back(engine):
    if engine.dialect.name != "sqlite":
        pytest.skip("a SQLite page cache")
    with engine.connect() as conn:
        default = conn.exec_driver_sql("PRAGMA cache_size").scalar()
        with db.large_write(conn, cache_mib=64):
            assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -64 * 1024
        assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == default
