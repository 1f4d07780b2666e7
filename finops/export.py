"""CSV export: exact decimal amounts, ISO 8601 dates, and cells spreadsheets cannot turn into formulas.

Every column is written by its kind in `finops.columns` (docs/exports.md lists each export's header):
amounts read from the store as decimals with 6 places, exactly the store's micro-units (rows sum to the totals
to the last digit); estimates to the cent; percentages and ratios with 6 places; days as YYYY-MM-DD and
moments as YYYY-MM-DDTHH:MM:SSZ (UTC). An empty cell is a missing value.
"""

from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np
import pandas as pd

from finops.columns import PLACES, column
from finops.money import MICROS

# A cell starting with one of these is run as a formula by Excel, LibreOffice and Google Sheets (OWASP).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """A text cell prefixed with ' when a spreadsheet would run it; other values unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA or value is pd.NaT


def exact_amount(value) -> str:
    """An amount of the store (a float that is a whole number of micro-units) as its exact 6-place decimal."""
    if _missing(value):
        return ""
    micros = int(np.rint(float(value) * MICROS))  # exact: the float is the nearest one to micros / 10**6
    return f"{Decimal(micros).scaleb(-6):.6f}"


def rounded(value, places: int) -> str:
    """A float rounded half-even to `places` decimals, written with exactly that many."""
    if _missing(value):
        return ""
    return f"{Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN):.{places}f}"


def iso(value, *, day: bool = False) -> str:
    """A day as YYYY-MM-DD, a moment as YYYY-MM-DDTHH:MM:SSZ (UTC; naive moments are UTC); `day`: the day of it."""
    if _missing(value):
        return ""
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if day and isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, datetime):
        moment = value.astimezone(UTC) if value.tzinfo else value
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _written(values: pd.Series, kind: str) -> tuple[pd.Series, bool]:
    """One column as its kind writes it, and whether it holds numbers (never neutralised: "-3.5" is a number)."""
    if kind == "money":
        return values.map(exact_amount), True
    if kind in PLACES:
        return values.map(lambda v: rounded(v, PLACES[kind])), True
    if kind in ("date", "month"):
        return values.map(lambda v: iso(v, day=True)), False
    if kind == "datetime" or values.map(lambda v: isinstance(v, date | pd.Timestamp)).any():
        return values.map(iso), False
    numeric = pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)
    return values, numeric


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV of `frame`: every column written by its kind, every text cell (and header) neutralised."""
    safe = pd.DataFrame(index=frame.index)
    text_columns = []
    for position, name in enumerate(frame.columns):
        values, numeric = _written(frame.iloc[:, position], column(str(name)).kind)
        header = neutralise(str(name))
        safe[header] = values
        if not numeric:
            text_columns.append(header)
    # The csv writer quotes a cell only for characters of the line terminator: with "\n" rows a cell holding a
    # bare CR is written unquoted, and a spreadsheet splits the row there (a new row can start with a formula).
    # Such a file gets CRLF rows (RFC 4180), which quotes those cells; other files keep "\n".
    has_cr = any("\r" in c for c in safe.columns)
    for col in text_columns:
        safe[col] = safe[col].map(neutralise)
        has_cr = has_cr or bool(safe[col].map(lambda v: isinstance(v, str) and "\r" in v).any())
    return safe.to_csv(index=False, lineterminator="\r\n" if has_cr else "\n").encode("utf-8")
