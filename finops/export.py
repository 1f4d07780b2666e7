"""CSV export that spreadsheets cannot turn into formulas."""

import pandas as pd

# A cell starting with one of these is run as a formula by Excel, LibreOffice and Google Sheets (OWASP).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """A text cell prefixed with ' when a spreadsheet would run it; other values unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV of `frame` with every text cell (and header) neutralised."""
    safe = frame.copy()
    safe.columns = [neutralise(str(c)) for c in safe.columns]
    # The csv writer quotes a cell only for characters of the line terminator: with "\n" rows a cell holding a
    # bare CR is written unquoted, and a spreadsheet splits the row there (a new row can start with a formula).
    # Such a file gets CRLF rows (RFC 4180), which quotes those cells; other files keep "\n".
    has_cr = any("\r" in c for c in safe.columns)
    for col in safe.columns:
        if not pd.api.types.is_numeric_dtype(safe[col]) and not pd.api.types.is_bool_dtype(safe[col]):
            safe[col] = safe[col].map(neutralise)
            has_cr = has_cr or bool(safe[col].map(lambda v: isinstance(v, str) and "\r" in v).any())
    return safe.to_csv(index=False, lineterminator="\r\n" if has_cr else "\n").encode("utf-8")
