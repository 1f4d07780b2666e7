"""API fixtures: the demo store (a SQLite file, or PostgreSQL) with tokens and groups, an in-process client, and a
real uvicorn on 127.0.0.1.

Each test module gets its own store (module scope) so that one module's writes never change another's figures.
"""

import shutil
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from finops.api import responses
from finops.api.app import PREFIX, create_app
from finops.api.responses import CACHE
from finops.data import anomalies, db, groups, recommendations, tokens, users
from finops.data.access import Actor
from tests.conftest import ADMIN, MEMBER, seed, use_store
from tests.store.conftest import BACKENDS, postgres_url, reset_postgres

OTHER = ("mia", "mia-pass-123")  # a second member, who owns a group the first must never see


@dataclass
class Store:
    engine: Engine
    tokens: dict[str, str] = field(default_factory=dict)  # who -> bearer token
    groups: dict[str, int] = field(default_factory=dict)  # owner -> a group of theirs

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


def make_tokens(engine: Engine) -> Store:
    """Tokens for admin, member and mia, and one group each (the member's holds a resource they own)."""
    store = Store(engine)
    with Session(engine) as s:
        users.add_user(session=s, username=OTHER[0], role="member", password=OTHER[1])
        for who in (ADMIN[0], MEMBER[0], OTHER[0]):
            store.tokens[who] = tokens.add_token(session=s, name=f"test-{who}", username=who)[1]
        mine = groups.create_group(session=s, actor=Actor(MEMBER[0]), name="member group",
                                   resources=[("app", "demo-app-01")])  # fmt: skip
        store.groups[MEMBER[0]] = mine.id
        store.groups[OTHER[0]] = groups.create_group(session=s, actor=Actor(OTHER[0]), name="mia group").id
        store.groups[ADMIN[0]] = groups.create_group(session=s, actor=Actor(ADMIN[0], True), name="=HYPERLINK(1)").id
        recommendations.refresh_own(session=s)  # schedule recommendations from the demo inventory
        last = date.today() - timedelta(days=2)
        anomalies.store_aws_anomalies(s, [
            {"external_id": f"aws-{k}", "service": "AWS Lambda", "account_id": "111111111111",
             "start_day": last - timedelta(days=10 * k), "end_day": last - timedelta(days=10 * k), "impact": 50.0 + k,
             "actual": 150.0 + k, "expected": 100.0, "score": None, "contributors": [{"Service": "AWS Lambda"}]}
            for k in range(1, 25)
        ], datetime.now(UTC))  # fmt: skip
    return store


@pytest.fixture(scope="module", params=BACKENDS)
def api_store(request, _seeded_file, tmp_path_factory):
    """The demo organisation with users, tokens and groups, on SQLite or PostgreSQL (settings point at it)."""
    patch = pytest.MonkeyPatch()
    folder = tmp_path_factory.mktemp("api")
    if request.param == "sqlite":
        shutil.copy(_seeded_file, folder / "finops.db")
        use_store(patch, folder)
    else:
        url = postgres_url()
        engine = db.make_engine(url)
        reset_postgres(engine)
        db.init_db(engine)
        seed(engine)
        engine.dispose()
        use_store(patch, folder, url)
    CACHE.clear()
    engine = db.get_engine()
    yield make_tokens(engine)
    engine.dispose()
    CACHE.clear()
    patch.undo()


@pytest.fixture(autouse=True)
def _fresh_meta(monkeypatch):
    """Tests write to the store behind the app's back and look at once: no second of freshness caching."""
    monkeypatch.setattr(responses, "FRESHNESS_SECONDS", 0.0)


@pytest.fixture
def client(api_store) -> TestClient:
    """The app in process, on `api_store` (its settings are re-read for every test)."""
    return TestClient(create_app(), base_url="http://127.0.0.1")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def live_url(api_store):
    """A real uvicorn serving the app on a free 127.0.0.1 port, in a thread, for the module."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture
def live(live_url, api_store):
    with httpx.Client(base_url=live_url + PREFIX, timeout=60) as http:
        yield http
