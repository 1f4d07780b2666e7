"""The `exchange_rate` table's one writer: rates an admin imports from a CSV file, all or nothing.

The file has the header `currency,day,rate`: `rate` is how many units of the reporting currency (USD, fixed) one
unit of `currency` was worth, in force from `day` until that currency's next rate. Re-importing a (currency,
day) replaces its rate. Conversion itself is pure: `finops.fx`.
"""

import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pandas as pd
from sqlalchemy import delete, func, select, tuple_
from sqlmodel import Session

from finops.data import audit
from finops.data.tables import ExchangeRate, utcnow
from finops.fx import REPORTING

HEADER = ["currency", "day", "rate"]
NANOS = Decimal(1_000_000_000)
MAX_ROWS = 100_000
CODE = re.compile(r"^[A-Z]{3}$")


class RateFileError(ValueError):
    """A rates file was refused (nothing of it imported); the message names the row and the column."""


@dataclass(frozen=True)
class Imported:
    rows: int
    currencies: list[str]
    first_day: date
    last_day: date


def parse(text: str) -> list[tuple[str, date, int]]:
    """(currency, day, rate_nanos) per row of a rates file; RateFileError naming the first bad row and column
    (rows are counted as a spreadsheet shows them: the header is row 1)."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in next(reader, [])]
    if header != HEADER:
        raise RateFileError(f"row 1: the header must be {','.join(HEADER)}, not {','.join(header) or 'empty'}")
    out: list[tuple[str, date, int]] = []
    seen: dict[tuple[str, date], int] = {}
    for number, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(HEADER):
            raise RateFileError(f"row {number}: {len(row)} values, expected 3 (currency, day, rate)")
        key = (_currency(row[0], number), _day(row[1], number))
        if key in seen:
            raise RateFileError(f"row {number}, column day: {key[0]} {key[1]} is given twice (row {seen[key]})")
        seen[key] = number
        out.append((*key, _rate(row[2], number)))
        if len(out) > MAX_ROWS:
            raise RateFileError(f"row {number}: more than {MAX_ROWS:,} rates in one file")
    if not out:
        raise RateFileError("the file holds no rates (header only)")
    return out


def _currency(value: str, number: int) -> str:
    code = value.strip()
    if not CODE.match(code):
        raise RateFileError(f"row {number}, column currency: {code!r} is not an ISO 4217 code (three capitals)")
    if code == REPORTING:
        raise RateFileError(f"row {number}, column currency: {REPORTING} is the reporting currency (its rate is 1)")
    return code


def _day(value: str, number: int) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise RateFileError(f"row {number}, column day: {value.strip()!r} is not a date (YYYY-MM-DD)") from None


def _rate(value: str, number: int) -> int:
    try:
        rate = Decimal(value.strip())
    except InvalidOperation:
        rate = Decimal("NaN")
    if not rate.is_finite() or rate <= 0 or rate > 1_000_000:
        raise RateFileError(f"row {number}, column rate: {value.strip()!r} is not a positive number up to 1000000")
    nanos = int((rate * NANOS).to_integral_value())
    if nanos == 0:
        raise RateFileError(f"row {number}, column rate: {value.strip()} is below 0.000000001")
    return nanos


def import_rates(session: Session, path: str | Path, *, actor: str = "", text: str | None = None) -> Imported:
    """Import the rates file at `path` (or its `text`, an upload named `path`) in one transaction: every row, or
    none when one is bad (RateFileError)."""
    source = Path(path).name
    rows = parse(text if text is not None else Path(path).read_text(encoding="utf-8"))
    keys = [(c, d) for c, d, _ in rows]
    days = [d for _, d, _ in rows]
    done = Imported(len(rows), sorted({c for c, _, _ in rows}), min(days), max(days))
    now = utcnow()
    try:
        for chunk in range(0, len(keys), 500):
            part = keys[chunk : chunk + 500]
            session.execute(delete(ExchangeRate).where(tuple_(ExchangeRate.currency, ExchangeRate.day).in_(part)))
        session.add_all(
            ExchangeRate(currency=c, day=d, rate_nanos=n, source=source, imported_at=now, imported_by=actor)
            for c, d, n in rows
        )
        detail = {"rows": done.rows, "currencies": done.currencies, "from": done.first_day, "to": done.last_day}
        audit.record(session, actor, "import", "exchange_rate", source, detail)
        session.commit()
    except Exception:
        session.rollback()
        raise
    return done


def rates(*, session: Session) -> pd.DataFrame:
    """Every imported rate: currency, day, rate (units of USD per unit), source, imported_at, imported_by."""
    c = ExchangeRate.__table__.c  # type: ignore[attr-defined]
    stmt = select(c.currency, c.day, c.rate_nanos, c.source, c.imported_at, c.imported_by).order_by(c.currency, c.day)
    frame = pd.DataFrame(
        [tuple(r) for r in session.connection().execute(stmt)],
        columns=["currency", "day", "rate_nanos", "source", "imported_at", "imported_by"],
    )
    frame.insert(2, "rate", [int(n) / 1e9 for n in frame.pop("rate_nanos")])
    frame["day"] = pd.to_datetime(frame["day"]).dt.date if len(frame) else frame["day"]
    return frame


def version(*, session: Session) -> str:
    """When rates last changed (ISO text; "" without any): a cache key for converted views."""
    newest = session.execute(select(func.max(ExchangeRate.imported_at))).scalar()
    count = session.execute(select(func.count()).select_from(ExchangeRate)).scalar()
    return f"{newest.isoformat()}/{count}" if newest else ""
