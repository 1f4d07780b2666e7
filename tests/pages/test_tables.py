"""Every table of every page goes through the one helper: titled columns, money and percentages formatted, a dash
for an empty cell, account names beside ids, sources in words (the browser check of titles is in tests/e2e)."""

import json
import re

import pytest
from sqlalchemy import text
from sqlmodel import Session

from finops.columns import COLUMNS, SOURCE_NAMES
from finops.data import load
from tests.pages.conftest import open_page

SEEDED_PAGES = ["pages/overview.py", "pages/service_breakdown.py", "pages/resource_groups.py", "pages/audit_log.py",
                "pages/data_sources.py"]  # fmt: skip
MODELED_PAGES = ["pages/forecast.py", "pages/anomalies.py", "pages/recommendations.py"]
RAW = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)*$")
FORMATS = {"money": "dollar", "estimate": "dollar", "change_pct": "%+.1f%%", "ratio": "percent"}


def check_tables(at) -> int:
    """Assert every table's presentation; returns how many tables were checked."""
    for table in at.dataframe:
        config = json.loads(table.proto.columns)
        assert table.proto.placeholder == "—"
        frame = table.value
        for name in frame.columns:
            label = config[name]["label"]
            assert label and not RAW.match(label), (name, label)
            kind = COLUMNS[name].kind if name in COLUMNS else "text"
            if kind in FORMATS:
                assert config[name]["type_config"]["format"] == FORMATS[kind], name
            if kind == "source":
                assert set(frame[name].dropna()) <= set(SOURCE_NAMES.values()), frame[name].unique()
        assert not frame.isin([""]).any().any()  # empty text is missing, shown as the dash
        if "account_id" in frame.columns:
            assert list(frame.columns).index("account_name") == list(frame.columns).index("account_id") + 1
    return len(at.dataframe)


def test_every_seeded_page_table_is_titled_and_formatted(seeded_store):
    with Session(seeded_store) as s:  # a run with a failed history month, so Data Sources has runs to show
        run_id = s.connection().execute(text("SELECT MAX(id) FROM refresh_run")).scalar()
        load.record_failed_run(s, "aws_ce", None, None, "test", part_of=run_id)
    assert sum(check_tables(open_page(page)) for page in SEEDED_PAGES) >= 8


def test_every_insight_page_table_is_titled_and_formatted(modeled_store):
    counts = {page: check_tables(open_page(page)) for page in MODELED_PAGES}
    assert all(counts.values()), counts


def test_account_names_beside_ids_and_sources_in_words(modeled_store):
    at = open_page("pages/anomalies.py")
    table = at.dataframe[0].value
    by_account = table[table["account_id"].notna()]
    assert len(by_account) and set(by_account["account_name"]) <= {"prod-core", "prod-data", "staging", "dev",
                                                                     "ml-sandbox"}  # fmt: skip
    assert set(table["source"]) <= {"FinOps", "AWS"}
    at = open_page("pages/data_sources.py")
    assert at.dataframe[0].value["source"].tolist()[0] == "Demo data"


@pytest.mark.parametrize("metric", ["unblended", "amortized"])
def test_overview_first_month_change_is_empty_not_none(seeded_store, metric):
    at = open_page("pages/overview.py")
    at.radio(key="overview_metric").set_value(metric).run()
    totals = at.dataframe[0].value
    assert totals["mom_pct"].isna().iloc[0] and totals["mom_pct"].notna().iloc[1:].all()
    assert at.dataframe[0].proto.placeholder == "—"  # what the browser draws for it
