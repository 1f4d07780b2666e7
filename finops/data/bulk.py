"""Bulk inserts for the cost tables' owners: rows bound exactly as SQLAlchemy would, without per-row dicts or SQL
compilation (PostgreSQL: one COPY; SQLite: multi-row INSERT ... VALUES), inside the caller's transaction."""

import sqlite3
from collections.abc import Iterator

import numpy as np
import pandas as pd
from sqlalchemy import Table, insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

CHUNK = 100_000  # rows converted to driver values at a time: bounds the loader's extra memory
ROWS_PER_INSERT = 500  # rows per multi-row INSERT (SQLite: 2x faster than executemany of single rows)


def _bound_values(values: pd.Series, process) -> np.ndarray:
    """`values` as the DBAPI parameters SQLAlchemy would send (an object array).

    Text, days and flags repeat, so the column type's bind processor runs once per distinct value and the
    rows share the results; numbers (money) are distinct and have no processor.
    """
    if process is None and pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.to_numpy(dtype=object)
    if values.dtype == object and len(values) and isinstance(values.iloc[0], dict | list):
        # JSON values (resource tags) are unhashable: rows sharing one object share its bound value
        codes, _ = pd.factorize(values.map(id), use_na_sentinel=False)
        _, first = np.unique(codes, return_index=True)
        bound = np.empty(len(first), dtype=object)
        bound[:] = [process(v) if process else v for v in values.iloc[first].tolist()]
        return bound[codes]
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    bound = np.empty(len(uniques), dtype=object)
    bound[:] = [process(v) for v in uniques.tolist()] if process else uniques.tolist()
    return bound[codes]


def _bound_chunks(conn: Connection, records: pd.DataFrame, table: Table) -> Iterator[np.ndarray]:
    """`records` as DBAPI parameters in column order, CHUNK rows at a time (2-D object arrays)."""
    dialect = conn.dialect
    processors = [table.c[col].type.dialect_impl(dialect).bind_processor(dialect) for col in records.columns]
    for lo in range(0, len(records), CHUNK):
        part = records.iloc[lo : lo + CHUNK]
        block = np.empty((len(part), len(processors)), dtype=object)
        for j, (col, process) in enumerate(zip(records.columns, processors, strict=True)):
            block[:, j] = _bound_values(part[col], process)
        yield block


def _max_params(conn: Connection) -> int:
    """How many parameters one statement may bind on this connection."""
    if conn.dialect.name == "sqlite":
        getlimit = getattr(conn.connection.driver_connection, "getlimit", None)
        return getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) if getlimit else 999  # 999: SQLite < 3.32
    return 65_535  # PostgreSQL's wire protocol limit


def bulk_insert(conn: Connection, table: Table, records: pd.DataFrame) -> None:
    """Insert `records` (columns named as `table`'s) on `conn`, inside the caller's transaction; the table's
    owner calls it (cost_daily in load.py, cost_resource_daily in resource_costs.py).

    PostgreSQL through psycopg gets one COPY; SQLite (and other positional drivers) multi-row INSERT ...
    VALUES statements of up to ROWS_PER_INSERT rows. Both bypass per-row dicts and SQL compilation, and
    bind values exactly as SQLAlchemy would (SQLite: days as 'YYYY-MM-DD' text, flags as 0/1; money is
    integer micros everywhere).
    """
    if records.empty:
        return
    dialect = conn.dialect
    quote = dialect.identifier_preparer.quote
    name = dialect.identifier_preparer.format_table(table)
    columns = ", ".join(quote(col) for col in records.columns)
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        sql = f"COPY {name} ({columns}) FROM STDIN"
        driver = conn.connection.driver_connection  # the session's own connection: the COPY joins its transaction
        assert driver is not None, "a connection in use has its driver connection"
        try:
            with driver.cursor() as cursor, cursor.copy(sql) as copy:
                for block in _bound_chunks(conn, records, table):
                    for row in block.tolist():
                        copy.write_row(row)
        except dialect.loaded_dbapi.Error as exc:  # raise what SQLAlchemy would (IntegrityError, ...)
            raise DBAPIError.instance(sql, None, exc, dialect.loaded_dbapi.Error, dialect=dialect) from exc
        return
    mark = {"qmark": "?", "format": "%s", "pyformat": "%s"}.get(dialect.paramstyle)
    if mark is None:  # a driver we do not feed positionally: let SQLAlchemy bind dicts
        for lo in range(0, len(records), CHUNK):
            conn.execute(insert(table), records.iloc[lo : lo + CHUNK].to_dict("records"))
        return
    width = len(records.columns)
    row_marks = "(" + ", ".join([mark] * width) + ")"
    per_insert = max(1, min(ROWS_PER_INSERT, _max_params(conn) // width))
    head = f"INSERT INTO {name} ({columns}) VALUES "
    full = head + ", ".join([row_marks] * per_insert)
    step = per_insert * width
    for block in _bound_chunks(conn, records, table):
        params = block.ravel().tolist()
        whole = len(params) - len(params) % step
        for lo in range(0, whole, step):
            conn.exec_driver_sql(full, tuple(params[lo : lo + step]))
        if whole < len(params):
            rest = ", ".join([row_marks] * ((len(params) - whole) // width))
            conn.exec_driver_sql(head + rest, tuple(params[whole:]))
