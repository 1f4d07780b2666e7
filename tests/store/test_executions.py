"""Executions, the rate card and API tokens in the store, on SQLite and PostgreSQL: priced once, exact, all or
none, idempotent; figures of the reports against independent SQL."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlmodel import Session

from finops import execution_reports
from finops.data import executions, load, rates, tokens, users
from finops.data.access import Actor, Forbidden
from finops.data.sources import demo, demo_executions

ADMIN = Actor("ada", is_admin=True)
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def run(i: int, hours: float = 1.5, compute_type: str = "gpu", start: datetime = T0, **fields) -> dict:
    return executions.clean(
        {"execution_id": f"e-{i}", "workflow_id": f"wf-{i % 3}", "user": f"u{i % 2}", "started_at": start,
         "ended_at": start + timedelta(hours=hours), "compute_type": compute_type, "compute_count": 2, **fields}
    )  # fmt: skip


def stored(engine) -> dict[str, tuple]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT execution_id, rate_micros, cost_micros, source FROM execution")).all()
    return {r[0]: tuple(r[1:]) for r in rows}


@pytest.fixture
def rated(engine):
    with Session(engine) as s:
        rates.set_rate(session=s, actor=ADMIN, compute_type="gpu", usd_per_hour="4.10", effective_from=date(2026, 1, 1))
    return engine


def test_cost_comes_from_the_rate_in_force_and_a_new_rate_does_not_rewrite_history(rated):
    with Session(rated) as s:
        first = executions.store(session=s, rows=[run(1)], source="api")
        rates.set_rate(session=s, actor=ADMIN, compute_type="gpu", usd_per_hour="3.67", effective_from=date(2026, 3, 3))
        executions.store(session=s, rows=[run(2), run(3, start=T0 + timedelta(days=2))], source="api")
    assert (first.received, first.inserted, first.existing) == (1, 1, [])
    # 2 units x 1.5 h x 4.10 = 12.30; the run on the 4th got the new rate: 2 x 1.5 x 3.67 = 11.01
    assert stored(rated) == {
        "e-1": (4_100_000, 12_300_000, "api"),
        "e-2": (4_100_000, 12_300_000, "api"),
        "e-3": (3_670_000, 11_010_000, "api"),
    }


def test_sending_a_batch_again_stores_nothing_twice(rated):
    batch = [run(i) for i in range(5)]
    with Session(rated) as s:
        executions.store(session=s, rows=batch[:3], source="api")
        again = executions.store(session=s, rows=batch, source="api")
        rates.set_rate(session=s, actor=ADMIN, compute_type="gpu", usd_per_hour="9", effective_from=date(2026, 1, 1))
        third = executions.store(session=s, rows=batch, source="csv")
    assert (again.received, again.inserted, sorted(again.existing)) == (5, 2, ["e-0", "e-1", "e-2"])
    assert (third.inserted, len(third.existing)) == (0, 5)
    assert {v for v in stored(rated).values()} == {(4_100_000, 12_300_000, "api")}  # first write stays, rate too


@pytest.mark.parametrize(
    ("bad", "column", "message"),
    [
        (run(9, compute_type="tpu"), "compute_type", "'tpu' has no rate in force at 2026-03-02T08:00:00Z"),
        (run(9, start=datetime(2025, 12, 31, tzinfo=UTC)), "compute_type", "has no rate in force at 2025-12-31"),
        (run(1), "execution_id", "'e-1' already appears at position 2"),
    ],
)
def test_a_bad_run_stores_nothing_of_its_batch(rated, bad, column, message):
    batch = [run(0), run(1), bad, run(3)]
    with Session(rated) as s, pytest.raises(executions.ExecutionError) as err:
        executions.store(session=s, rows=batch, source="api")
    assert err.value.column == column and err.value.index == 2 and message in str(err.value)
    assert stored(rated) == {}


def test_a_failure_after_the_insert_leaves_the_store_as_it_was(rated, monkeypatch):
    with Session(rated) as s:
        executions.store(session=s, rows=[run(0)], source="api")
    merge = executions._merge

    def merge_then_fail(session, rows, source):
        merge(session, rows, source)
        raise RuntimeError("power cut")

    monkeypatch.setattr(executions, "_merge", merge_then_fail)
    with Session(rated) as s, pytest.raises(RuntimeError, match="power cut"):
        executions.store(session=s, rows=[run(i) for i in range(1, 50)], source="api")
    assert list(stored(rated)) == ["e-0"]


def test_csv_import_is_all_or_none_and_names_the_line_and_column(rated, tmp_path):
    header = "execution_id,workflow_id,user,started_at,ended_at,compute_type,compute_count\n"
    good = "".join(f"c-{i},wf,ana,2026-03-02T08:00:00Z,2026-03-02T08:30:00Z,gpu,1\n" for i in range(100))
    path = tmp_path / "runs.csv"
    path.write_text(header + good + "c-bad,wf,ana,2026-03-02T08:00:00Z,2026-03-02T08:30:00Z,tpu,1\n")
    with Session(rated) as s, pytest.raises(executions.ExecutionError) as err:
        executions.import_csv(session=s, source=path)
    assert str(err.value).startswith("row 101 (line 102), column compute_type: 'tpu' has no rate")
    assert stored(rated) == {}
    path.write_text(header + good)
    with Session(rated) as s:
        result = executions.import_csv(session=s, source=path)
    assert (result.inserted, set(stored(rated)["c-7"])) == (100, {4_100_000, 2_050_000, "csv"})
    path.write_bytes(b"\x00\x01binary")
    with Session(rated) as s, pytest.raises(executions.ExecutionError, match="NUL byte"):
        executions.import_csv(session=s, source=path)


def test_ten_thousand_runs_import_in_one_go(rated, tmp_path):
    header = "execution_id,workflow_id,started_at,ended_at,compute_type,compute_count\n"
    lines = [f"big-{i},wf-{i % 7},2026-03-{1 + i % 28:02d}T{i % 24:02d}:00:00Z,2026-03-{1 + i % 28:02d}T{i % 24:02d}"
             f":{i % 60:02d}:{i % 59:02d}Z,gpu,{1 + i % 4}\n" for i in range(10_000)]  # fmt: skip
    path = tmp_path / "big.csv"
    path.write_text(header + "".join(lines))
    with Session(rated) as s:
        result = executions.import_csv(session=s, source=path)
    assert result.inserted == 10_000
    expected = 0
    for i in range(10_000):  # rate x units x seconds / 3600, in micro-units, independent of the code
        seconds = (i % 60) * 60 + i % 59
        expected += round(4_100_000 * (1 + i % 4) * seconds * 1_000_000 / 3_600_000_000)
    with rated.connect() as conn:
        total = conn.execute(text("SELECT SUM(cost_micros) FROM execution")).scalar()
    assert abs(int(total) - expected) <= 10_000  # round() of a float may differ by one micro-unit on a half


def test_only_admins_set_rates_and_bad_rates_are_named(rated):
    with Session(rated) as s:
        with pytest.raises(Forbidden, match="only an admin may change the rate card"):
            rates.set_rate(session=s, actor=Actor("max"), compute_type="gpu", usd_per_hour="1")
        for value, message in [("-1", "usd_per_hour: must be from 0"), ("abc", "is not a number"),
                               ("10001", "must be from 0")]:  # fmt: skip
            with pytest.raises(rates.RateError, match=message):
                rates.set_rate(session=s, actor=ADMIN, compute_type="gpu", usd_per_hour=value)
        with pytest.raises(rates.RateError, match="compute_type: 1-64 letters"):
            rates.set_rate(session=s, actor=ADMIN, compute_type="a b", usd_per_hour="1")
        card = rates.rate_card(session=s, now=datetime(2026, 6, 1, tzinfo=UTC))
    assert card[["compute_type", "usd_per_hour", "in_force"]].values.tolist() == [["gpu", 4.1, True]]
    with rated.connect() as conn:
        audited = conn.execute(
            text("SELECT actor, object_id FROM audit_log WHERE object_type = 'execution_rate'")
        ).all()
    assert [tuple(r) for r in audited] == [("ada", "gpu")]


@pytest.fixture
def demo_store(engine):
    """120 days of the demo organisation: costs, rates (the A100 price cut inside) and workflow runs."""
    end = date(2026, 10, 31)
    start = end - timedelta(days=119)
    rows = demo.generate(seed=7, start=start, end=end)
    with Session(engine) as s:
        load.replace_window(s, "demo", start, end + timedelta(days=1), rows)
        result = executions.load_demo(session=s, runs_to_add=demo_executions.runs(7, start, end),
                                      rate_card=demo_executions.rate_card(start, end))  # fmt: skip
    assert result.inserted > 2000
    return engine


def sql_rows(engine, query: str, **params) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(query), params).all()]


def test_demo_runs_are_priced_with_the_rate_of_their_day(demo_store):
    rows = sql_rows(demo_store, "SELECT compute_type, started_at, ended_at, compute_count, rate_micros, cost_micros "
                                "FROM execution")  # fmt: skip
    cut = datetime(2026, 10, 31, tzinfo=UTC) - timedelta(days=demo_executions.GPU_PRICE_CUT_DAYS)
    rates_by_type = {t: int(round(float(usd) * 1e6)) for t, usd, _ in demo_executions.RATES}
    assert {r[4] for r in rows if r[0] == "gpu-a100"} == {4_100_000, 3_670_000}  # runs on both sides of the cut
    for compute_type, started, ended, count, rate, cost in rows:
        started, ended = (d if isinstance(d, datetime) else datetime.fromisoformat(str(d)) for d in (started, ended))
        started, ended = (d if d.tzinfo else d.replace(tzinfo=UTC) for d in (started, ended))
        expected_rate = 3_670_000 if compute_type == "gpu-a100" and started >= cut else rates_by_type[compute_type]
        assert rate == expected_rate
        exact = rate * count * ((ended - started) // timedelta(microseconds=1)) / 3_600_000_000
        assert abs(cost - exact) <= 0.5


def test_reports_equal_the_store_sums(demo_store):
    start, end = date(2026, 8, 1), date(2026, 11, 1)
    with Session(demo_store) as s:
        view = execution_reports.execution_costs(session=s, start=start, end=end)
        added = execution_reports.combined_costs(session=s, start=start, end=end, metric="unblended_cost",
                                                 in_bill=False)  # fmt: skip
        shared = execution_reports.combined_costs(session=s, start=start, end=end, metric="unblended_cost",
                                                  in_bill=True)  # fmt: skip
    window = {"s": datetime(2026, 8, 1, tzinfo=UTC), "e": datetime(2026, 11, 1, tzinfo=UTC)}
    where = "WHERE started_at >= :s AND started_at < :e"
    ((runs, total),) = sql_rows(demo_store, f"SELECT COUNT(*), SUM(cost_micros) FROM execution {where}", **window)
    assert (view.runs, view.total) == (runs, int(total) / 1e6)
    assert view.monthly["cost"].sum() == pytest.approx(int(total) / 1e6, abs=1e-6)
    by_user = dict(sql_rows(demo_store, f"SELECT username, SUM(cost_micros) FROM execution {where} GROUP BY username",
                            **window))  # fmt: skip
    assert {r.user: r.cost for r in view.by_user.itertuples()} == {u: int(c) / 1e6 for u, c in by_user.items()}
    top = sql_rows(demo_store, f"SELECT execution_id FROM execution {where} ORDER BY cost_micros DESC, execution_id "
                               "LIMIT 5", **window)  # fmt: skip
    assert view.top_runs["execution_id"].head(5).tolist() == [r[0] for r in top]
    bill = sql_rows(demo_store, "SELECT SUM(unblended_micros) FROM cost_daily WHERE day >= :s AND day < :e",
                    s=start, e=end)[0][0]  # fmt: skip
    assert added["infrastructure_cost"].sum() == pytest.approx(int(bill) / 1e6, abs=1e-5)
    assert added["total_cost"].sum() == pytest.approx((int(bill) + int(total)) / 1e6, abs=1e-5)
    assert shared["total_cost"].sum() == pytest.approx(int(bill) / 1e6, abs=1e-5)  # never added twice
    assert (shared["execution_cost"] == added["execution_cost"]).all()


def test_tokens_are_stored_hashed_act_as_their_user_now_and_end(engine):
    with Session(engine) as s:
        users.add_user(session=s, username="ada", role="admin", password="ada-pass-123")
        row, token = tokens.add_token(session=s, name="ci", username="ada", expires_days=30)
        _, other = tokens.add_token(session=s, name="short", username="ada", expires_days=1)
        with pytest.raises(tokens.TokenError, match="already exists"):
            tokens.add_token(session=s, name="ci", username="ada")
        with pytest.raises(tokens.TokenError, match="no user 'bob'"):
            tokens.add_token(session=s, name="b", username="bob")
        use = tokens.authenticate(session=s, token=token)
        assert use is not None and use.actor == Actor("ada", True) and use.touch_due
        tokens.touch(session=s, token_id=use.token_id)
        again = tokens.authenticate(session=s, token=token)
        assert again is not None and not again.touch_due  # recorded at most once a minute
        later = datetime.now(UTC) + timedelta(days=2)
        assert tokens.authenticate(session=s, token=other, now=later) is None  # expired
        assert tokens.authenticate(session=s, token=token + "x") is None
        s.execute(text("UPDATE app_user SET role = 'member' WHERE username = 'ada'"))
        s.commit()
        demoted = tokens.authenticate(session=s, token=token)
        assert demoted is not None and demoted.actor == Actor("ada", False)  # the role now, not when made
        tokens.revoke(session=s, name="ci")
        assert tokens.authenticate(session=s, token=token) is None
        listed = tokens.list_tokens(session=s)
    assert token not in listed.to_csv() and row.token_hash not in listed.to_csv()
    assert dict(zip(listed["name"], listed["state"], strict=True)) == {"ci": "revoked", "short": "active"}
    hashes = sql_rows(engine, "SELECT token_hash, last_used_at FROM api_token WHERE name = 'ci'")
    assert len(hashes[0][0]) == 64 and token not in hashes[0][0] and hashes[0][1] is not None


def test_a_batch_waits_for_another_writer_instead_of_failing(rated):
    """SQLite: a batch stored while another process writes waits for its lock (busy timeout) and succeeds. Before
    the batch took the write lock first, a write committed between its read of the stored ids and its insert made
    SQLite refuse the insert at once ("database is locked"): the sidecar's demo refresh failed that way beside a
    resource import."""
    if rated.dialect.name != "sqlite":
        pytest.skip("PostgreSQL has no such lock")
    import sqlite3
    import threading
    import time

    path = rated.url.database
    holding = threading.Event()

    def other_writer():
        conn = sqlite3.connect(path, isolation_level=None, timeout=30)
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO audit_log (at, actor, action, object_type, object_id, detail) "
                     "VALUES ('2026-01-01', 'x', 'x', 'x', 'x', '{}')")  # fmt: skip
        holding.set()
        time.sleep(1.0)
        conn.execute("COMMIT")
        conn.close()

    thread = threading.Thread(target=other_writer)
    thread.start()
    holding.wait(10)
    started = time.monotonic()
    with Session(rated) as s:
        result = executions.store(session=s, rows=[run(i) for i in range(20)], source="api")
    thread.join()
    assert result.inserted == 20 and time.monotonic() - started >= 0.5  # it waited for the other writer
    assert len(stored(rated)) == 20
