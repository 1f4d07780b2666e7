"""Exchange rates on SQLite and PostgreSQL: `finops fx import` stores a file's rates exactly, all or nothing,
re-imports replace a (currency, day), and `fx list` shows them."""

from datetime import date

import pytest
from sqlalchemy import text
from sqlmodel import Session

from finops.cli import main
from finops.data import exchange_rates
from tests.conftest import use_store


@pytest.fixture
def cli_store(engine, tmp_path, monkeypatch):
    """The `engine` store as the CLI's (settings point at it)."""
    use_store(monkeypatch, tmp_path, engine.url.render_as_string(hide_password=False))
    return engine


def stored(engine) -> list[tuple]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT currency, day, rate_nanos, source, imported_by FROM exchange_rate "
                                 "ORDER BY currency, day"))  # fmt: skip
        return [(c, str(d), int(n), src, by) for c, d, n, src, by in rows]


def test_fx_import_stores_exactly_and_replaces(cli_store, tmp_path, capsys):
    first = tmp_path / "rates.csv"
    first.write_text("currency,day,rate\nEUR,2025-01-01,1.0823\nEUR,2025-02-01,1.04\nGBP,2025-01-01,1.25\n")
    assert main(["fx", "import", str(first), "--by", "ada"]) == 0
    assert "imported 3 rates of EUR, GBP from 2025-01-01 to 2025-02-01" in capsys.readouterr().out
    assert stored(cli_store) == [
        ("EUR", "2025-01-01", 1_082_300_000, "rates.csv", "ada"),
        ("EUR", "2025-02-01", 1_040_000_000, "rates.csv", "ada"),
        ("GBP", "2025-01-01", 1_250_000_000, "rates.csv", "ada")]  # fmt: skip
    again = tmp_path / "fix.csv"
    again.write_text("currency,day,rate\nEUR,2025-02-01,1.05\n")
    assert main(["fx", "import", str(again), "--by", "bob"]) == 0
    assert stored(cli_store)[1] == ("EUR", "2025-02-01", 1_050_000_000, "fix.csv", "bob")
    assert len(stored(cli_store)) == 3
    with cli_store.connect() as conn:
        log = conn.execute(text("SELECT actor, action, object_type, object_id FROM audit_log ORDER BY id")).all()
    assert [tuple(r) for r in log] == [("ada", "import", "exchange_rate", "rates.csv"),
                                       ("bob", "import", "exchange_rate", "fix.csv")]  # fmt: skip
    with Session(cli_store) as s:
        frame = exchange_rates.rates(session=s)
    assert frame[["currency", "day", "rate"]].values.tolist() == [
        ["EUR", date(2025, 1, 1), 1.0823], ["EUR", date(2025, 2, 1), 1.05],
        ["GBP", date(2025, 1, 1), 1.25]]  # fmt: skip
    capsys.readouterr()
    assert main(["fx", "list", "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "currency,day,rate,source,imported_at,imported_by"


def test_a_bad_row_imports_nothing(cli_store, tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("currency,day,rate\nEUR,2025-01-01,1.08\nCHF,2025-01-01,one\n")
    assert main(["fx", "import", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "refused, nothing imported: row 3, column rate: 'one'" in err
    assert stored(cli_store) == []
    with cli_store.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM audit_log")).scalar() == 0


def test_a_failure_mid_import_leaves_the_rates_as_they_were(engine, monkeypatch):
    with Session(engine) as s:
        exchange_rates.import_rates(s, "old.csv", actor="ada", text="currency,day,rate\nEUR,2025-01-01,1.1\n")
    before = stored(engine)

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(exchange_rates.audit, "record", boom)  # after the old rate is deleted, the new ones added
    with Session(engine) as s, pytest.raises(RuntimeError, match="disk full"):
        exchange_rates.import_rates(s, "new.csv", text="currency,day,rate\nEUR,2025-01-01,2\nGBP,2025-01-01,1.3\n")
    assert stored(engine) == before
