"""Every table of the UI through one helper: titled columns, money and percentages formatted, a dash for an empty
cell, account names beside account ids, sources in words, and the table's CSV download under it.

Titles and kinds come from `finops.columns` (the same vocabulary the CSV export writes by), so a page passes its
frame and, at most, a few titles of its own.
"""

from collections.abc import Iterable, Mapping

import pandas as pd
import streamlit as st

from finops.columns import column, source_name
from finops.export import to_csv_bytes
from finops.ui.currency import money_format
from finops.ui.loaders import account_labels, store_status

EMPTY = "—"  # what an empty cell shows


def with_account_names(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with an `account_name` column beside `account_id` (Organizations names from the store), when it
    has ids and no names yet; an id without a known name keeps an empty name."""
    if "account_id" not in frame.columns or "account_name" in frame.columns:
        return frame
    names = account_labels(store_status().version)
    out = frame.copy()
    out.insert(list(out.columns).index("account_id") + 1, "account_name", out["account_id"].map(names))
    return out


def column_config(frame: pd.DataFrame, titles: Mapping[str, str] | None = None, currency: str | None = None) -> dict:
    """st.column_config for every column of `frame`, by its kind; `titles` overrides a column's title; money is
    shown in `currency` (USD when not given)."""
    config = {}
    for name in frame.columns:
        spec = column(str(name))
        title = (titles or {}).get(str(name), spec.title)
        config[name] = _config(spec.kind, title, str(name), currency)
    return config


def _config(kind: str, title: str, name: str, currency: str | None = None):
    cc = st.column_config
    if kind in ("money", "estimate"):
        return cc.NumberColumn(title, format=money_format(currency))
    if kind == "hourly":
        return cc.NumberColumn(title, format="$%.4f")
    if kind == "change_pct":
        return cc.NumberColumn(title, format="%+.1f%%")
    if kind == "share_pct":
        return cc.ProgressColumn(title, format="%.1f%%", min_value=0, max_value=100)
    if kind == "percent":
        return cc.NumberColumn(title, format="%.1f %%")
    if kind == "ratio":
        return cc.NumberColumn(title, format="percent")
    if kind == "int":
        return cc.NumberColumn(title, format="%d" if name.endswith("id") else "localized")
    if kind == "fx_rate":
        return cc.NumberColumn(title, format="%.6f")
    if kind == "float":
        return cc.NumberColumn(title, format="%.2f")
    if kind == "date":
        return cc.DateColumn(title, format="YYYY-MM-DD")
    if kind == "month":
        return cc.DateColumn(title, format="MMM YYYY")
    if kind == "datetime":
        return cc.DatetimeColumn(title, format="YYYY-MM-DD HH:mm")
    if kind == "bool":
        return cc.CheckboxColumn(title)
    return cc.TextColumn(title)


def display(frame: pd.DataFrame) -> pd.DataFrame:
    """What the table shows: sources in words, empty text as missing (shown as a dash)."""
    out = frame.copy()
    for name in out.columns:
        if column(str(name)).kind == "source":
            out[name] = out[name].map(source_name)
        if out[name].dtype == object or pd.api.types.is_string_dtype(out[name]):
            blank = out[name].map(lambda v: isinstance(v, str) and not v.strip())
            out[name] = out[name].astype(object).where(~blank, None)
    return out


def table(
    frame: pd.DataFrame,
    *,
    csv: tuple[str, str, str] | None = None,
    titles: Mapping[str, str] | None = None,
    hide: Iterable[str] = (),
    key: str | None = None,
    currency: str | None = None,
) -> None:
    """Show `frame` as a titled, formatted table, and under it (`csv` = (file name, label, key)) its download.

    The CSV holds the frame as it is (codes, exact amounts) with the account names; `hide` leaves columns out
    of the table only; money is shown in `currency` (USD when not given)."""
    data = with_account_names(frame)
    shown = display(data.drop(columns=[c for c in hide if c in data.columns]))
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        column_config=column_config(shown, titles, currency),
        placeholder=EMPTY,
        key=key,
    )
    if csv is not None:
        csv_download(data, *csv)


def csv_download(frame: pd.DataFrame, filename: str, label: str, key: str) -> None:
    """A download button for `frame` as CSV (exact amounts, ISO 8601 dates, formula-safe cells)."""
    st.download_button(
        label, data=to_csv_bytes(frame), file_name=filename, mime="text/csv", key=key, icon=":material/download:"
    )
