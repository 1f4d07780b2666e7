"""What every command group shares: bad usage in one line, opening the store, printing tables, CSV and JSON."""

import argparse
import json
import re
import sys
from collections.abc import Sequence
from datetime import date

import pandas as pd
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError

from finops.data import db
from finops.data.db import StoreUnavailable
from finops.export import to_csv_bytes
from finops.settings import get_settings

PROG = "python -m finops"


class CommandError(RuntimeError):
    """A command cannot go on; the message is printed as one line and the exit code is 1."""


class Parser(argparse.ArgumentParser):
    """An ArgumentParser that reports bad usage in one line (exit code 2)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def iso_date(text: str) -> date:
    """argparse type: a YYYY-MM-DD date."""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    raise argparse.ArgumentTypeError(f"invalid date {text!r}: expected YYYY-MM-DD")


def first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    return (str(orig).strip().splitlines() or [type(orig).__name__])[0]


def store_label() -> str:
    return db.redact(get_settings().store_url)


def open_store(*, migrated: bool = True) -> Engine:
    """The configured store's engine, checked reachable and, when `migrated`, on the newest schema."""
    try:
        engine = db.get_engine()
    except (OSError, ArgumentError) as exc:  # a SQLite folder that cannot be made, a malformed URL
        raise StoreUnavailable(f"cannot open the store at {store_label()}: {exc}") from exc
    db.check_reachable(engine)
    if migrated:
        current, heads = db.schema_revisions(engine)
        if not current:
            raise CommandError(f"the store at {store_label()} has no schema yet: run `{PROG} init` first")
        if current != heads:
            raise CommandError(
                f"the store at {store_label()} is at schema revision {', '.join(sorted(current))}, this version "
                f"needs {', '.join(sorted(heads))}: run `{PROG} init`"
            )
    return engine


def json_records(frame: pd.DataFrame) -> list[dict]:
    """Rows as dicts of JSON-ready values: dates in ISO form, numpy scalars as Python numbers."""

    def plain(value):
        return value.isoformat() if isinstance(value, date) else value.item() if hasattr(value, "item") else value

    return [{key: plain(value) for key, value in row.items()} for row in frame.to_dict("records")]


def text_table(header: list[str], rows: list[list[str]], right: Sequence[int] = (), footer=()) -> str:
    """Aligned columns (those in `right` right-aligned), with `footer` rows below a rule."""
    widths = [max(len(str(r[i])) for r in [header, *rows, *footer]) for i in range(len(header))]

    def line(cells) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    body = [line(header), *(line(r) for r in rows)]
    if footer:
        body += ["  ".join("-" * w for w in widths), *(line(r) for r in footer)]
    return "\n".join(body)


def emit(frame: pd.DataFrame, fmt: str, empty: str, money_cols: Sequence[str] = (), right: Sequence[str] = ()) -> None:
    """Print `frame` as csv (formula-safe), json or an aligned table (`empty` on stderr when it has no rows);
    in the table, money columns have 2 decimals and, with the `right` ones, are right-aligned."""
    if fmt == "csv":
        sys.stdout.write(to_csv_bytes(frame).decode("utf-8"))
    elif fmt == "json":
        print(json.dumps(json_records(frame), indent=2, default=str))
    elif frame.empty:
        print(empty, file=sys.stderr)
    else:
        cols = list(frame.columns)
        rows = [[_cell(v, c in money_cols) for c, v in zip(cols, r, strict=True)] for r in frame.itertuples(False)]
        print(text_table(cols, rows, right=[i for i, c in enumerate(cols) if c in money_cols or c in right]))


def _cell(value, money: bool) -> str:
    return f"{value:,.2f}" if money and value is not None and not pd.isna(value) else str(value)
