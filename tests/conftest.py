"""Shared fixtures: a fresh empty store, and a store seeded with the demo organisation and two users."""

import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from finops.data import db, executions, groups, load, resources, users
from finops.data.sources import demo, demo_executions
from finops.settings import get_settings

ROOT = Path(__file__).resolve().parents[1]
TEST_DATA = ROOT / "tests" / "data"  # third-party fixtures with their licences (tests/data/README.md)
ADMIN = ("admin", "admin-pass-1")
MEMBER = ("member", "member-pass-1")


def use_store(monkeypatch, data_dir: Path, url: str = "") -> None:
    """Point settings and the engine cache at a store in `data_dir` (or at `url`)."""
    monkeypatch.setenv("FINOPS_DATA_DIR", str(data_dir))
    monkeypatch.setenv("FINOPS_DATABASE_URL", url)
    monkeypatch.setenv("FINOPS_SOURCE", "demo")
    monkeypatch.setenv("FINOPS_COOKIE_KEY", "test-cookie-key-that-is-long-enough-0123456789")
    get_settings.cache_clear()
    db.get_engine.cache_clear()


@pytest.fixture(autouse=True)
def _fresh_caches():
    yield
    get_settings.cache_clear()
    db.get_engine.cache_clear()


@pytest.fixture
def store(tmp_path, monkeypatch):
    """An empty, migrated SQLite store in a temp dir; yields its engine."""
    use_store(monkeypatch, tmp_path)
    db.init_db()
    yield db.get_engine()
    db.get_engine().dispose()


def seed(engine, seed_value: int = 42) -> None:
    """Load the demo organisation (costs, resources, resource groups, workflow runs) and an admin and a member into
    the store behind `engine`."""
    from sqlmodel import Session

    rows = demo.generate(seed=seed_value)
    first, last = rows["day"].min(), rows["day"].max()
    with Session(engine) as s:
        load.replace_window(s, "demo", first, last + timedelta(days=1), rows)
        users.add_user(session=s, username=ADMIN[0], role="admin", password=ADMIN[1], name="Ada Admin")
        users.add_user(session=s, username=MEMBER[0], role="member", password=MEMBER[1], name="Max Member")
        resources.add_missing(session=s, items=demo.resources(seed_value))
        executions.load_demo(
            session=s,
            runs_to_add=demo_executions.runs(seed_value, first, last),
            rate_card=demo_executions.rate_card(first, last),
        )
        groups.add_missing(session=s, items=demo.groups(seed_value))


@pytest.fixture(scope="session")
def _seeded_file(tmp_path_factory):
    """One demo store per test session; tests get copies of it."""
    folder = tmp_path_factory.mktemp("seeded")
    engine = db.make_engine(f"sqlite:///{folder / 'finops.db'}")
    db.init_db(engine)
    seed(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return folder / "finops.db"


@pytest.fixture
def seeded_store(_seeded_file, tmp_path, monkeypatch):
    """A private copy of the demo store (admin + member users); yields its engine."""
    shutil.copy(_seeded_file, tmp_path / "finops.db")
    use_store(monkeypatch, tmp_path)
    yield db.get_engine()
    db.get_engine().dispose()


@pytest.fixture(scope="session")
def _modeled_file(_seeded_file, tmp_path_factory):
    """The demo store after the sidecar's model jobs: anomalies, a forecast run (total, top 3 services, every
    account; real Prophet fits) and our own recommendations. One per test session; tests get copies."""
    from sqlmodel import Session

    from finops.data import anomalies, forecasts, recommendations
    from finops.settings import Settings

    folder = tmp_path_factory.mktemp("modeled")
    shutil.copy(_seeded_file, folder / "finops.db")
    engine = db.make_engine(f"sqlite:///{folder / 'finops.db'}")
    settings = Settings(forecast_top_n=3, forecast_workers=2)
    with Session(engine) as s:
        anomalies.run_detection(session=s, settings=settings)
        recommendations.refresh_own(session=s)
        run = forecasts.run_forecasts(session=s, settings=settings, refresh_run_id=1)
        assert run.status == "ok", run.message
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return folder / "finops.db"


@pytest.fixture
def modeled_store(_modeled_file, tmp_path, monkeypatch):
    """A private copy of the demo store with anomalies, forecasts and recommendations; yields its engine."""
    shutil.copy(_modeled_file, tmp_path / "finops.db")
    use_store(monkeypatch, tmp_path)
    yield db.get_engine()
    db.get_engine().dispose()


def pytest_collection_modifyitems(items):
    """Tests on the modeled store need its Prophet fits (about a minute, once per session): they count as slow,
    so `make test-fast` leaves them out (`make test` runs them)."""
    for item in items:
        if {"modeled_store", "_modeled_file", "app_store", "app_url"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
