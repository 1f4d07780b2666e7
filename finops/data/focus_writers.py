"""Writing FOCUS export rows to a file: CSV (nulls as the bare word NULL, as FOCUS files write them; exact decimal
amounts) or Parquet (decimal amounts, UTC timestamps), a chunk of rows at a time."""

import csv
from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from sqlmodel import Session

from finops.data.focus_export import AMOUNTS, COLUMNS, MOMENTS, BillingAccount, focus_rows
from finops.export import neutralise

SUFFIXES = (".csv", ".parquet")
NULL = "NULL"
AMOUNT_TYPE = pa.decimal128(38, 6)  # the store's micro-units, exactly


def _csv_cell(name: str, value) -> str:
    if value is None:
        return NULL
    if name in AMOUNTS or name in MOMENTS:
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return neutralise(value)  # a name starting with = + - @ is not run as a formula by a spreadsheet


def write_csv(path: Path, chunks: Iterable[list[dict]]) -> int:
    """Write the rows to a UTF-8 CSV with the COLUMNS header; returns how many rows were written."""
    rows = 0
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        for chunk in chunks:
            writer.writerows([_csv_cell(name, row[name]) for name in COLUMNS] for row in chunk)
            rows += len(chunk)
    return rows


def _arrow_type(name: str) -> pa.DataType:
    if name in AMOUNTS:
        return AMOUNT_TYPE
    if name in MOMENTS:
        return pa.timestamp("s", tz="UTC")
    return pa.bool_() if name == "x_Estimated" else pa.string()


SCHEMA = pa.schema([pa.field(name, _arrow_type(name)) for name in COLUMNS])


def _moment(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def write_parquet(path: Path, chunks: Iterable[list[dict]]) -> int:
    """Write the rows to a Parquet file (SCHEMA), one row group per chunk; returns how many rows were written."""
    rows = 0
    with pq.ParquetWriter(path, SCHEMA) as writer:
        for chunk in chunks:
            columns = {
                name: [_moment(r[name]) for r in chunk] if name in MOMENTS else [r[name] for r in chunk]
                for name in COLUMNS
            }
            writer.write_table(pa.table(columns, schema=SCHEMA))
            rows += len(chunk)
    return rows


def export_focus(*, session: Session, start: date, end: date, out: Path, payer: BillingAccount | None = None) -> int:
    """Write the store's costs of `[start, end)` as FOCUS 1.2 to `out` (.csv or .parquet); returns the rows written.
    A file with no rows still has its header (CSV) or schema (Parquet)."""
    suffix = out.suffix.lower()
    if suffix not in SUFFIXES:
        raise ValueError(f"{out}: the file must end with .csv or .parquet")
    chunks = focus_rows(session=session, start=start, end=end, payer=payer)
    return write_csv(out, chunks) if suffix == ".csv" else write_parquet(out, chunks)
