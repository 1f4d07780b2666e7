"""Daily cost per resource (cost_resource_daily): replaced per source, provider and window, in the caller's
transaction (the cost_daily load of the same billing files), so both tables always hold the same import."""

from collections.abc import Callable, Iterable, Mapping
from datetime import date

import pandas as pd
from sqlalchemy import delete
from sqlalchemy.engine import Connection
from sqlmodel import col

from finops.data import db
from finops.data.bulk import bulk_insert
from finops.data.tables import CostResourceDaily

COLUMNS = [
    "day",
    "provider",
    "account_id",
    "resource_id",
    "resource_name",
    "resource_type",
    "service",
    "region",
    "unblended_micros",
    "amortized_micros",
    "currency",
    "tags",
]


def replacer(
    source: str, providers: Mapping[str, tuple[date, date]], batches: Callable[[], Iterable[pd.DataFrame]]
) -> Callable[[Connection], None]:
    """What `load.replace_window(..., also=)` runs: replace `source`'s resource rows of each provider's window
    with the rows `batches()` yields (COLUMNS; money in micros, tags as dicts)."""

    def replace(conn: Connection) -> None:
        replace_days(conn, source, providers, batches())

    return replace


def replace_days(
    conn: Connection, source: str, providers: Mapping[str, tuple[date, date]], batches: Iterable[pd.DataFrame]
) -> None:
    """Delete `source`'s rows of each provider in its window `[lo, hi)` and insert the rows of `batches` (frames
    of COLUMNS, inserted one at a time so a large import never holds them all); the caller commits."""
    for provider, (lo, hi) in providers.items():
        conn.execute(
            delete(CostResourceDaily).where(
                col(CostResourceDaily.source) == source,
                col(CostResourceDaily.provider) == provider,
                col(CostResourceDaily.day) >= lo,
                col(CostResourceDaily.day) < hi,
            )
        )
    table = db.table_of(CostResourceDaily)
    for rows in batches:
        missing = [c for c in COLUMNS if c not in rows.columns]
        if missing:
            raise ValueError(f"resource rows lack the columns: {', '.join(missing)}")
        bulk_insert(conn, table, rows[COLUMNS].assign(source=source))
