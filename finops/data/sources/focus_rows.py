"""The rows of a checked FOCUS import, streamed out of DuckDB in batches: the daily cost contract and the daily cost
per resource, money already in exact integer micro-units. `finops.data.sources.focus.read` makes them."""

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

BATCH = 100_000  # rows handed to the store at a time: bounds what the import holds beside DuckDB's own memory


def _micros(amount: str) -> str:
    """SQL: an exact decimal sum as integer micro-units, half-even on the 7th decimal (as finops.money does)."""
    return f"CAST(CAST(round_even({amount}, 6) AS DECIMAL(38, 6)) * 1000000 AS BIGINT)"


# The daily contract summed from the exact per-resource sums (per_resource), rounded once, in cost_daily's key order
DAILY = (
    "SELECT day, provider, account_id, max(account_name) AS account_name, service, region, currency, "
    f"{_micros('sum(billed)')} AS unblended_micros, {_micros('sum(effective)')} AS amortized_micros, "
    "false AS estimated FROM per_resource GROUP BY day, provider, account_id, service, region, currency "
    "ORDER BY day, provider, account_id, service, region, currency"
)
# cost_resource_daily's key order, so the store appends to its unique index rather than seeking in it. per_resource
# is created in this order and DuckDB keeps a table's insertion order: reading it back needs no second sort
RESOURCE_ORDER = "day, provider, account_id, resource_id, service, region, currency"
RESOURCES = (
    "SELECT day, provider, account_id, resource_id, resource_name, resource_type, service, region, currency, "
    f"{_micros('billed')} AS unblended_micros, {_micros('effective')} AS amortized_micros, tags FROM per_resource"
)


@dataclass
class FocusData:
    """A checked import, open on its DuckDB connection until closed: each provider's window, the counts, and the
    rows as batches of at most BATCH rows (read the daily rows and the resource rows one after the other)."""

    con: duckdb.DuckDBPyConnection
    windows: dict[str, tuple[date, date]]  # provider -> [first day, end day) of its billing periods
    files: list[Path]
    rows: int  # rows read from the files
    daily_rows: int
    resource_rows: int
    _tags: dict[str, dict] = field(default_factory=dict)  # tag text -> its dict, one per distinct text

    def daily(self) -> Iterator[pd.DataFrame]:
        """The store columns of the cost contract (load.STORE_COLUMNS: money in micros), BATCH rows at a time."""
        yield from self._batches(DAILY)

    def resources(self) -> Iterator[pd.DataFrame]:
        """resource_costs.COLUMNS (money in micros, tags as dicts), BATCH rows at a time."""
        for batch in self._batches(RESOURCES):
            batch["tags"] = self._parsed(batch["tags"])
            yield batch

    def _batches(self, sql: str) -> Iterator[pd.DataFrame]:
        for batch in self.con.sql(sql).to_arrow_reader(BATCH):
            yield batch.to_pandas()

    def _parsed(self, texts: pd.Series) -> np.ndarray:
        """Tags as dicts (a non-object JSON value, e.g. a list, is kept under "tags"); rows with the same text
        share one dict, which the store serialises once."""
        codes, uniques = pd.factorize(texts.fillna("{}"))
        parsed = np.empty(len(uniques), dtype=object)
        for i, text in enumerate(uniques.tolist()):
            if text not in self._tags:
                value = json.loads(text)
                self._tags[text] = value if isinstance(value, dict) else {"tags": value}
            parsed[i] = self._tags[text]
        return parsed[codes]

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> "FocusData":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
