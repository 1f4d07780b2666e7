"""FOCUS 1.0-1.2 billing files (CSV, CSV.gz, Parquet) -> the daily cost contract and daily cost per resource.
AWS Data Exports CUR 2.0 files are read too, mapped onto the same columns (`finops.data.sources.cur2`).

DuckDB reads the files (streaming, in bounded memory) and sums them per day as exact decimals; this module
only reads and checks. Nothing here writes the store: `finops/data/focus_imports.py` loads what it returns.
The column mapping and its reasons are in docs/focus.md.
"""

from datetime import date, timedelta
from pathlib import Path

import duckdb

from finops.data.sources import cur2, focus_rows
from finops.data.sources.focus_rows import DAILY, FocusData

SUFFIXES = (".csv", ".csv.gz", ".parquet")
NULL_WORDS = ["NULL", ""]  # how FOCUS CSV files write a null cell (the sample: the bare word NULL)
AMOUNT = "DECIMAL(38, 12)"  # exact: providers give up to 10-12 decimals; sums stay exact far beyond any bill

# Columns every FOCUS version 1.0, 1.1 and 1.2 has; a file with few of them is not one of those versions.
CORE = [
    "BilledCost",
    "BillingAccountId",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "ChargeCategory",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "EffectiveCost",
    "ListCost",
    "ProviderName",
    "ServiceName",
]
# What the import reads and so requires (ProviderName only when --provider does not name the provider).
REQUIRED = [
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargePeriodStart",
    "SubAccountId",
    "SubAccountName",
    "ServiceName",
    "BilledCost",
    "EffectiveCost",
    "BillingCurrency",
]
# Columns of other formats, to say what a file is when it is not FOCUS 1.0-1.2.
OLDER = {"AmortizedCost", "ChargeType", "UsageDateTime", "Region"}  # FOCUS 0.5 / 1.0-preview
# Longest values the store keeps (tables.py); a longer one is refused, never cut.
LIMITS = {
    "ProviderName": 32,
    "SubAccountId": 256,
    "SubAccountName": 256,
    "ServiceName": 256,
    "region": 64,
    "BillingCurrency": 3,
    "ResourceId": 1024,
    "ResourceName": 512,
    "ResourceType": 256,
}


class FocusError(ValueError):
    """A billing file the import refuses; the message names the file, the row and the column."""


def billing_files(path: Path) -> list[Path]:
    """`path` itself, or every FOCUS file (.csv, .csv.gz, .parquet) under the folder `path`, sorted."""
    if path.is_file():
        if not path.name.lower().endswith(SUFFIXES):
            raise FocusError(f"{path}: not a .csv, .csv.gz or .parquet file")
        return [path]
    if not path.is_dir():
        raise FocusError(f"{path}: no such file or folder")
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.name.lower().endswith(SUFFIXES))
    if not files:
        raise FocusError(f"{path}: no .csv, .csv.gz or .parquet file in this folder")
    return files


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _scan(con: duckdb.DuckDBPyConnection, path: Path) -> tuple[str, dict[str, str]]:
    """The DuckDB table function reading `path` (with its row number) and the file's columns -> types."""
    if path.name.lower().endswith(".parquet"):
        scan = f"read_parquet({_quote(str(path))}, file_row_number = true)"  # rows numbered by the reader
    else:  # every cell as text: the checks below name the row of a bad one instead of failing the whole read
        nulls = ", ".join(_quote(w) for w in NULL_WORDS)
        scan = (
            f"read_csv({_quote(str(path))}, header = true, all_varchar = true, nullstr = [{nulls}], auto_detect = true)"
        )
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()
    except duckdb.Error as exc:
        raise FocusError(f"{path}: cannot be read: {str(exc).splitlines()[0]}") from exc
    return scan, {row[0]: row[1] for row in described}


def _check_columns(path: Path, columns: dict[str, str], provider: str | None) -> None:
    if cur2.is_cur2(columns):
        absent = cur2.missing(columns)
        if absent:
            raise FocusError(f"{path}: row 0 (header), column {absent[0]}: required column missing (CUR 2.0)")
        return
    names = set(columns)
    if len(names & set(CORE)) < len(CORE) // 2:
        if any(n.startswith("lineItem/") for n in names):
            kind = "a legacy AWS Cost and Usage Report (lineItem/...); export CUR 2.0 or FOCUS instead"
        elif any(n.startswith("line_item_") for n in names):
            kind = f"a CUR 2.0 file without {', '.join(sorted(cur2.MARKERS - names))}"
        elif names & OLDER:
            kind = f"a FOCUS version before 1.0 (it has {', '.join(sorted(names & OLDER))})"
        else:
            kind = "no FOCUS version this import knows"
        raise FocusError(
            f"{path}: row 0 (header), columns: not FOCUS 1.0-1.2: only {len(names & set(CORE))} of its "
            f"{len(CORE)} core columns; looks like {kind}"
        )
    required = REQUIRED if provider else [*REQUIRED, "ProviderName"]
    missing = [c for c in required if c not in names]
    if missing:
        raise FocusError(f"{path}: row 0 (header), column {missing[0]}: required column missing")


def _text(name: str, columns: dict[str, str]) -> str:
    """The column as trimmed text, null when absent or empty (CSV cells are already text; Parquet may be typed)."""
    if name not in columns:
        return "CAST(NULL AS VARCHAR)"
    kind = columns[name].upper()
    if kind.startswith(("MAP", "STRUCT")):
        value = f"CAST(to_json({_ident(name)}) AS VARCHAR)"
    elif kind.startswith("TIMESTAMP WITH TIME ZONE"):
        value = f"strftime({_ident(name)}, '%Y-%m-%d %H:%M:%S')"  # as UTC (DuckDB without ICU)
    else:
        value = f"CAST({_ident(name)} AS VARCHAR)"
    return f"NULLIF(trim({value}), '')"


def _normalised(scan: str, columns: dict[str, str], provider: str | None, numbered: bool) -> str:
    """SQL selecting each row of one file in the import's own column names, still as text, with its row number.

    The CSV reader does not number rows: `numbered` counts them with a window over the scan, which holds the
    file in memory, so only the error path (one thread, the file's order) asks for it."""
    region = "RegionId" if "RegionId" in columns else "Region"
    if "file_row_number" in columns:
        row_no = "file_row_number + 1"
    else:
        row_no = "row_number() OVER ()" if numbered else "CAST(NULL AS BIGINT)"
    if cur2.is_cur2(columns):
        mapped = cur2.picks(columns, lambda name: _text(name, columns), AMOUNT)
        if provider:
            mapped["provider"] = _quote(provider)
        return (
            "SELECT "
            + ", ".join(f"{sql} AS {name}" for name, sql in {"row_no": row_no, **mapped}.items())
            + (f" FROM {scan}")
        )
    picks = {
        "row_no": row_no,
        "bp_start": _text("BillingPeriodStart", columns),
        "bp_end": _text("BillingPeriodEnd", columns),
        "charge_start": _text("ChargePeriodStart", columns),
        "provider": _quote(provider) if provider else _text("ProviderName", columns),
        "account_id": _text("SubAccountId", columns),
        "account_name": _text("SubAccountName", columns),
        "service": _text("ServiceName", columns),
        "region": _text(region, columns),
        "billed": _text("BilledCost", columns),
        "effective": _text("EffectiveCost", columns),
        "currency": _text("BillingCurrency", columns),
        "resource_id": _text("ResourceId", columns),
        "resource_name": _text("ResourceName", columns),
        "resource_type": _text("ResourceType", columns),
        "tags": _text("Tags", columns),
    }
    return "SELECT " + ", ".join(f"{sql} AS {name}" for name, sql in picks.items()) + f" FROM {scan}"


def _ts(expr: str) -> str:
    """A FOCUS date-time (UTC; `2024-09-01 00:00:00`, ISO 8601 with Z or an offset) as a UTC timestamp."""
    return f"CAST(TRY_CAST({expr} AS TIMESTAMPTZ) AS TIMESTAMP)"


# (column named in the message, condition of a bad row, what is wrong); checked in this order
ROW_CHECKS = [
    ("BilledCost", "billed IS NULL", "empty (BilledCost is never null in FOCUS)"),
    ("BilledCost", f"TRY_CAST(billed AS {AMOUNT}) IS NULL", "not a number: {value}"),
    ("EffectiveCost", "effective IS NULL", "empty (EffectiveCost is never null in FOCUS)"),
    ("EffectiveCost", f"TRY_CAST(effective AS {AMOUNT}) IS NULL", "not a number: {value}"),
    ("BillingCurrency", "currency IS NULL", "empty"),
    ("BillingCurrency", "NOT regexp_full_match(currency, '[A-Za-z]{3}')", "not a 3-letter currency code: {value}"),
    ("ProviderName", "provider IS NULL", "empty (name the provider with --provider)"),
    ("BillingPeriodStart", f"{_ts('bp_start')} IS NULL", "not a date-time: {value}"),
    ("BillingPeriodEnd", f"{_ts('bp_end')} IS NULL", "not a date-time: {value}"),
    ("BillingPeriodEnd", f"{_ts('bp_end')} <= {_ts('bp_start')}", "not after BillingPeriodStart: {value}"),
    ("ChargePeriodStart", f"{_ts('charge_start')} IS NULL", "not a date-time: {value}"),
]
SOURCE_COLUMN = {
    "BilledCost": "billed",
    "EffectiveCost": "effective",
    "BillingCurrency": "currency",
    "ProviderName": "provider",
    "BillingPeriodStart": "bp_start",
    "BillingPeriodEnd": "bp_end",
    "ChargePeriodStart": "charge_start",
    "SubAccountId": "account_id",
    "SubAccountName": "account_name",
    "ServiceName": "service",
    "region": "region",
    "ResourceId": "resource_id",
    "ResourceName": "resource_name",
    "ResourceType": "resource_type",
    "Tags": "tags",
}


def _row(con: duckdb.DuckDBPyConnection, sql: str) -> tuple | None:
    """The first row of a query (DuckDB wants each result read to its end before the next statement)."""
    rows = con.sql(sql).fetchall()
    return tuple(rows[0]) if rows else None


def _first(con: duckdb.DuckDBPyConnection, view: str, condition: str, what: str = "") -> tuple:
    """The first row of the file behind `view` where `condition` holds: (row number, *what), counted in the
    file's order (one thread)."""
    con.execute("SET threads = 1")
    row = _row(
        con,
        f"SELECT row_no{', ' + what if what else ''} FROM {view}_n WHERE COALESCE({condition}, false) "
        "ORDER BY row_no LIMIT 1",
    )
    assert row is not None, condition
    return tuple(row)


def _check_rows(
    con: duckdb.DuckDBPyConnection, path: Path, view: str, region_name: str, names: dict[str, str] | None = None
) -> None:
    """Refuse the file at its first bad row (row 1 = the first row after the header), naming the column."""
    checks = [
        *ROW_CHECKS,
        *[
            (column, f"length({SOURCE_COLUMN[column]}) > {limit}", f"longer than {limit} characters")
            for column, limit in LIMITS.items()
        ],
        ("Tags", "tags IS NOT NULL AND NOT json_valid(tags)", "not a JSON object: {value}"),
    ]
    flags = ", ".join(f"bool_or(COALESCE({cond}, false))" for _, cond, _ in checks)
    # one scan: every check's flag, and how many currencies (a second scan of a large file costs seconds)
    *found, currencies = _row(con, f"SELECT {flags}, count(DISTINCT upper(currency)) FROM {view}") or ()
    for hit, (column, cond, what) in zip(found, checks, strict=True):
        if not hit:
            continue
        source = SOURCE_COLUMN[column]
        row_no, value = _first(con, view, cond, source)
        name = region_name if column == "region" else (names or {}).get(column, column)
        raise FocusError(f"{path}: row {row_no}, column {name}: {what.format(value=repr(value))}")
    if currencies > 1:
        first = _row(con, f"SELECT upper(currency) FROM {view} LIMIT 1")
        assert first is not None
        row_no, other = _first(con, view, f"upper(currency) <> {_quote(first[0])}", "currency")
        first = first[0]
        column = (names or {}).get("BillingCurrency", "BillingCurrency")
        raise FocusError(
            f"{path}: row {row_no}, column {column}: {other} in a file billed in {first} (one file, one "
            "currency: amounts in different currencies are never added)"
        )


def _windows(con, view: str) -> dict[str, tuple[date, date]]:
    """provider -> [first day of its earliest billing period, day after its latest period's end)."""
    rows = con.execute(
        f"SELECT provider, CAST(min({_ts('bp_start')}) AS DATE), max({_ts('bp_end')}) FROM {view} GROUP BY provider"
    ).fetchall()
    out = {}
    for provider, lo, hi_ts in rows:
        hi = hi_ts.date() + timedelta(days=1) if hi_ts.time() != hi_ts.time().min else hi_ts.date()
        out[provider] = (lo, hi)
    return out


def _check_charge_days(
    con, path: Path, view: str, windows: dict[str, tuple[date, date]], names: dict[str, str] | None = None
) -> None:
    """Every charge starts inside its provider's billing periods in this import: what is replaced is exactly
    those days, so a charge outside them could never be replaced by a re-delivery (docs/focus.md)."""
    cases = " ".join(f"WHEN {_quote(p)} THEN DATE '{lo}'" for p, (lo, _) in windows.items())
    ends = " ".join(f"WHEN {_quote(p)} THEN DATE '{hi}'" for p, (_, hi) in windows.items())
    day = f"CAST({_ts('charge_start')} AS DATE)"
    outside = f"{day} < CASE provider {cases} END OR {day} >= CASE provider {ends} END"
    if _row(con, f"SELECT count(*) FROM {view} WHERE {outside}") != (0,):
        row_no, charge, provider = _first(con, view, outside, "charge_start, provider")
        lo, hi = windows[provider]
        raise FocusError(
            f"{path}: row {row_no}, column {(names or {}).get('ChargePeriodStart', 'ChargePeriodStart')}: {charge!r} "
            f"is outside {provider}'s billing periods "
            f"in this import, days [{lo}, {hi})"
        )


def read(path: Path, *, provider: str | None = None, threads: int = 2, memory_limit: str = "1GB") -> FocusData:
    """Read and check every billing file at `path`; FocusError at the first bad file. The result holds DuckDB
    open until closed (`with focus.read(...) as data:`): its rows are streamed from there, never held whole."""
    files = billing_files(path)
    con = duckdb.connect(config={"threads": threads, "memory_limit": memory_limit})
    con.execute("SET enable_progress_bar = false")  # it draws on stderr, where the CLI keeps its one line
    try:
        views: list[str] = []
        file_names: list[dict[str, str]] = []  # per file: FOCUS column -> the file's own (CUR 2.0), for messages
        for i, file in enumerate(files):
            scan, columns = _scan(con, file)
            _check_columns(file, columns, provider)
            view = f"f{i}"
            con.execute(f"CREATE TEMP VIEW {view} AS {_normalised(scan, columns, provider, False)}")
            con.execute(f"CREATE TEMP VIEW {view}_n AS {_normalised(scan, columns, provider, True)}")
            names = cur2.NAMES if cur2.is_cur2(columns) else {}
            region_name = names.get("region") or ("RegionId" if "RegionId" in columns else "Region")
            _check_rows(con, file, view, region_name, names)
            views.append(view)
            file_names.append(names)
        union = " UNION ALL ".join(f"SELECT * FROM {v}" for v in views)
        con.execute(f"CREATE TEMP VIEW billing AS {union}")
        windows = _windows(con, "billing")
        if not windows:
            raise FocusError(f"{path}: no rows after the header in {len(files)} file(s): nothing to import")
        for file, view, names in zip(files, views, file_names, strict=True):
            _check_charge_days(con, file, view, windows, names)
        _sum(con)
        counts = _row(con, "SELECT COALESCE(sum(n), 0), count(*) FROM per_resource") or (0, 0)
        daily_rows = _row(con, f"SELECT count(*) FROM ({DAILY})") or (0,)
    except BaseException:
        con.close()
        raise
    return FocusData(con, windows, files, int(counts[0]), int(daily_rows[0]), int(counts[1]))


def _sum(con: duckdb.DuckDBPyConnection) -> None:
    """One pass over the files: exact (unrounded) sums per resource and day, in DuckDB's temp table per_resource,
    in the order the store takes them."""
    typed = (
        f"SELECT CAST({_ts('charge_start')} AS DATE) AS day, provider, COALESCE(account_id, '') AS account_id, "
        "COALESCE(account_name, '') AS account_name, COALESCE(service, '') AS service, "
        "COALESCE(region, '') AS region, upper(currency) AS currency, "
        f"CAST(billed AS {AMOUNT}) AS billed, CAST(effective AS {AMOUNT}) AS effective, "
        "COALESCE(resource_id, '') AS resource_id, COALESCE(resource_name, '') AS resource_name, "
        "COALESCE(resource_type, '') AS resource_type, tags FROM billing"
    )
    con.execute(f"CREATE TEMP VIEW typed AS {typed}")
    con.execute(
        "CREATE TEMP TABLE per_resource AS SELECT day, provider, account_id, max(account_name) AS account_name, "
        "resource_id, max(resource_name) AS resource_name, max(resource_type) AS resource_type, service, region, "
        "currency, sum(billed) AS billed, sum(effective) AS effective, max(tags) AS tags, count(*) AS n "
        "FROM typed GROUP BY day, provider, account_id, resource_id, service, region, currency "
        f"ORDER BY {focus_rows.RESOURCE_ORDER}"  # sorted once here, while the store is not yet written to
    )
