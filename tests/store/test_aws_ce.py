"""The aws_ce source end to end: real boto3 against a moto server, and botocore's Stubber for the errors."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import NoCredentialsError
from botocore.stub import Stubber
from sqlalchemy import func, select
from sqlmodel import Session

from finops.data import ce_calls
from finops.data.refresh import RefreshError, run_refresh
from finops.data.sources import aws_ce
from finops.data.tables import CeApiCall, CostDaily, CostMonthly, RefreshRun
from finops.money import amount_to_micros
from finops.settings import get_settings

TODAY = date(2026, 11, 4)  # past the grace days: the steady window is [2026-11-01, 2026-11-04)
DAYS = ["2026-11-01", "2026-11-02", "2026-11-03"]
ACCOUNTS = ["111111111111", "222222222222"]
SERVICES = ["Amazon Elastic Compute Cloud - Compute", "Amazon Simple Storage Service", "Tax"]


def amount(i: int) -> str:
    """Awkward amounts: many decimals, some negative (credits)."""
    value = Decimal(i * 7919 % 100_003) / Decimal(1000) + Decimal("0.0000001234")
    return str(-value if i % 5 == 0 else value)


def served() -> list[dict]:
    """3 days x 2 accounts x 3 services as DAILY ResultsByTime periods."""
    out, i = [], 1
    for day in DAYS:
        groups = []
        for account in ACCOUNTS:
            for service in SERVICES:
                groups.append(
                    {
                        "Keys": [service, account],
                        "Metrics": {
                            "UnblendedCost": {"Amount": amount(i), "Unit": "USD"},
                            "AmortizedCost": {"Amount": amount(i + 1000), "Unit": "USD"},
                        },
                    }
                )
                i += 1
        end = (date.fromisoformat(day) + timedelta(days=1)).isoformat()
        out.append({"TimePeriod": {"Start": day, "End": end}, "Total": {}, "Groups": groups, "Estimated": True})
    return out


def pages(periods: list[dict]) -> list[dict]:
    """One period per page, chained by NextPageToken."""
    result = []
    for n, p in enumerate(periods):
        page = {
            "GroupDefinitions": [
                {"Type": "DIMENSION", "Key": "SERVICE"},
                {"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"},
            ],
            "ResultsByTime": [p],
            "DimensionValueAttributes": [],
        }
        if n < len(periods) - 1:
            page["NextPageToken"] = f"p{n + 2}"
        result.append(page)
    return result


def expected_micros(periods: list[dict]) -> dict[tuple, tuple[int, int]]:
    return {
        (date.fromisoformat(p["TimePeriod"]["Start"]), g["Keys"][1], g["Keys"][0]): (
            amount_to_micros(g["Metrics"]["UnblendedCost"]["Amount"]),
            amount_to_micros(g["Metrics"]["AmortizedCost"]["Amount"]),
        )
        for p in periods
        for g in p["Groups"]
    }


def stored_micros(engine) -> dict[tuple, tuple[int, int]]:
    with Session(engine) as s:
        rows = s.exec(select(CostDaily).where(CostDaily.source == aws_ce.SOURCE)).scalars().all()
        return {(r.day, r.account_id, r.service): (r.unblended_micros, r.amortized_micros) for r in rows}


def api_calls(engine) -> list[CeApiCall]:
    with Session(engine) as s:
        return list(s.exec(select(CeApiCall).order_by(CeApiCall.id)).scalars().all())


def runs(engine) -> list[RefreshRun]:
    with Session(engine) as s:
        return list(s.exec(select(RefreshRun).order_by(RefreshRun.id)).scalars().all())


# --- against a moto server -----------------------------------------------------------------------


@pytest.fixture
def aws_store(store, moto_env, monkeypatch):
    monkeypatch.setenv("FINOPS_SOURCE", "aws")
    monkeypatch.setenv("FINOPS_AWS_REFRESH_MONTHS_BACK", "0")  # history: the open month only (see history tests)
    monkeypatch.setenv("FINOPS_AWS_MAX_ATTEMPTS", "1")  # moto answers unimplemented calls with 500s
    get_settings.cache_clear()
    return store


def queue(url: str, results: list[dict]) -> None:
    r = requests.post(f"{url}/moto-api/static/ce/cost-and-usage-results", json={"results": results}, timeout=10)
    r.raise_for_status()


def test_moto_multi_page_refresh_stores_exactly_what_was_served(aws_store, moto_url):
    periods = served()
    queue(moto_url, pages(periods))
    with Session(aws_store) as s:
        run = run_refresh(s, get_settings(), today=TODAY)
    assert run.status == "ok" and run.rows == 18
    # the first refresh pulls the open month first (history months follow; none are asked for here)
    assert (run.window_start, run.window_end) == (date(2026, 11, 1), TODAY)
    assert stored_micros(aws_store) == expected_micros(periods)
    with Session(aws_store) as s:  # rollups follow, to the micro
        monthly = s.execute(select(func.sum(CostMonthly.unblended_micros))).scalar_one()
        names = set(s.execute(select(CostDaily.account_name)).scalars())
        assert s.execute(select(func.count()).where(CostDaily.estimated.is_(False))).scalar_one() == 0
    assert monthly == sum(u for u, _ in expected_micros(periods).values())
    assert names == set(ACCOUNTS)  # moto has no organization: ids are the names

    calls = api_calls(aws_store)
    assert [(c.operation, c.page, c.status, c.run_id) for c in calls] == [
        ("GetCostAndUsage", n, "ok", run.id) for n in (1, 2, 3)
    ]
    assert sum(c.cost_usd for c in calls) == pytest.approx(0.03)
    assert all(c.called_at.date() == datetime.now(UTC).date() for c in calls)

    # the same refresh again (moto serves the same bodies the same results): same data, 3 more calls
    with Session(aws_store) as s:
        again = run_refresh(s, get_settings(), today=TODAY, backfill=True)
    assert again.status == "ok" and again.id != run.id
    assert stored_micros(aws_store) == expected_micros(periods)
    assert len(api_calls(aws_store)) == 6


def test_moto_later_refresh_replaces_only_the_open_window(aws_store, moto_url, monkeypatch):
    monkeypatch.setenv("FINOPS_AWS_REFRESH_MONTHS_BACK", "1")
    get_settings.cache_clear()
    periods = served()
    october = [dict(p, TimePeriod={"Start": "2026-10-15", "End": "2026-10-16"}, Estimated=False) for p in periods[:1]]
    # the first refresh: the open month (Nov 1st), then one month of history (a closed October day)
    queue(moto_url, [{"ResultsByTime": periods[:1]}, {"ResultsByTime": october}])
    with Session(aws_store) as s:
        run_refresh(s, get_settings(), today=TODAY)
    # November restated (fewer groups); a steady refresh leaves out yesterday, still being filled in
    restated = [dict(p, Groups=p["Groups"][:2]) for p in periods[:2]]
    requests.post(f"{moto_url}/moto-api/reset", timeout=10).raise_for_status()  # moto repeats answers per body
    queue(moto_url, [totals(restated), *pages(restated)])  # the change probe first, then the pull
    with Session(aws_store) as s:
        run = run_refresh(s, get_settings(), today=TODAY)
    assert (run.window_start, run.window_end) == (date(2026, 11, 1), date(2026, 11, 3))
    stored = stored_micros(aws_store)
    assert {k: v for k, v in stored.items() if k[0] >= date(2026, 11, 1)} == expected_micros(restated)
    october_rows = {k: v for k, v in stored.items() if k[0] < date(2026, 11, 1)}
    assert october_rows == {(date(2026, 10, 15), *k[1:]): v for k, v in expected_micros(periods[:1]).items()}


def totals(periods: list[dict], nudge: dict[str, int] | None = None) -> dict:
    """The ungrouped answer (one page of daily Totals) matching `periods`; `nudge` adds micros to a day."""
    results = []
    for p in periods:
        day = p["TimePeriod"]["Start"]
        total = {}
        for metric in ("UnblendedCost", "AmortizedCost"):
            micros = sum(amount_to_micros(g["Metrics"][metric]["Amount"]) for g in p["Groups"])
            micros += (nudge or {}).get(day, 0)
            total[metric] = {"Amount": str(Decimal(micros) / 1_000_000), "Unit": "USD"}
        results.append({"TimePeriod": p["TimePeriod"], "Total": total, "Groups": [], "Estimated": True})
    return {"ResultsByTime": results, "DimensionValueAttributes": []}


def test_probe_finds_nothing_new_and_pulls_nothing(aws_store, moto_url):
    periods = served()
    queue(moto_url, pages(periods))
    with Session(aws_store) as s:
        first_id = run_refresh(s, get_settings(), today=TODAY).id
    queue(moto_url, [totals(periods)])  # Cost Explorer's totals equal what the store holds
    with Session(aws_store) as s:
        run = run_refresh(s, get_settings(), today=TODAY)
    # a steady refresh leaves out yesterday (aws_partial_days=1): Cost Explorer is still filling it in
    assert run.status == "unchanged" and (run.window_start, run.window_end) == (date(2026, 11, 1), date(2026, 11, 3))
    calls = api_calls(aws_store)
    assert len(calls) == 4 and calls[-1].run_id == run.id  # 3 pages, then the one probe request
    assert stored_micros(aws_store) == expected_micros(periods)
    with Session(aws_store) as s:
        from finops.data import queries

        assert queries.data_version(session=s) == first_id  # nothing moved: caches stay valid


def test_probe_repulls_only_the_days_that_changed(aws_store, moto_url):
    periods = served()
    queue(moto_url, pages(periods))
    with Session(aws_store) as s:
        run_refresh(s, get_settings(), today=TODAY)
    changed = dict(periods[1], Groups=[dict(g) for g in periods[1]["Groups"]])
    changed["Groups"][0] = dict(
        changed["Groups"][0],
        Metrics={m: {"Amount": "123.45", "Unit": "USD"} for m in ("UnblendedCost", "AmortizedCost")},
    )
    probe = totals([periods[0], changed, periods[2]])
    queue(moto_url, [probe, {"ResultsByTime": [changed], "DimensionValueAttributes": []}])
    with Session(aws_store) as s:
        run = run_refresh(s, get_settings(), today=TODAY)
    assert run.status == "ok" and (run.window_start, run.window_end) == (date(2026, 11, 2), date(2026, 11, 3))
    assert stored_micros(aws_store) == expected_micros([periods[0], changed, periods[2]])
    assert len(api_calls(aws_store)) == 3 + 2  # the backfill's pages, the probe, one day's pull


def test_probe_tolerates_per_row_rounding(aws_store, moto_url):
    periods = served()
    queue(moto_url, pages(periods))
    with Session(aws_store) as s:
        run_refresh(s, get_settings(), today=TODAY)
    queue(moto_url, [totals(periods, nudge={"2026-11-02": 3})])  # 3 micro-units: rounding, not a change
    with Session(aws_store) as s:
        assert run_refresh(s, get_settings(), today=TODAY).status == "unchanged"


# --- Stubber -------------------------------------------------------------------------------------


def test_history_loads_newest_month_first_and_the_cap_pauses_it(store, monkeypatch):
    monkeypatch.setenv("FINOPS_SOURCE", "aws")
    monkeypatch.setenv("FINOPS_AWS_REFRESH_MONTHS_BACK", "2")
    monkeypatch.setenv("FINOPS_AWS_MAX_REQUESTS_PER_DAY", "2")
    get_settings.cache_clear()
    november = served()
    october, september = (
        [
            dict(p, TimePeriod={"Start": f"2026-{m}-0{i + 1}", "End": f"2026-{m}-0{i + 2}"})
            for i, p in enumerate(november)
        ]
        for m in ("10", "09")
    )
    month = lambda start, end: {**REQUEST, "TimePeriod": {"Start": start, "End": end}}  # noqa: E731
    ce, org = stubbed_clients()
    with Stubber(ce) as ce_stub, Stubber(org) as org_stub:
        org_stub.add_response("list_accounts", {"Accounts": []}, {})
        ce_stub.add_response("get_cost_and_usage", {"ResultsByTime": november}, REQUEST)
        ce_stub.add_response("get_cost_and_usage", {"ResultsByTime": october}, month("2026-10-01", "2026-11-01"))
        with Session(store) as s:  # the cap (2) stops September: no request, no failure
            run = run_refresh(s, get_settings(), today=TODAY, clients=(ce, org))
        ce_stub.assert_no_pending_responses()
    assert run.status == "ok" and (run.window_start, run.window_end) == (date(2026, 11, 1), TODAY)
    assert [(r.status, r.window_start) for r in runs(store)] == [("ok", date(2026, 11, 1)), ("ok", date(2026, 10, 1))]
    assert stored_micros(store) == expected_micros(november + october)

    monkeypatch.setenv("FINOPS_AWS_MAX_REQUESTS_PER_DAY", "4")  # the next refresh goes on where it stopped
    get_settings.cache_clear()
    # a steady probe leaves out yesterday (aws_partial_days=1)
    probe = {
        **{k: v for k, v in REQUEST.items() if k != "GroupBy"},
        "TimePeriod": {"Start": "2026-11-01", "End": "2026-11-03"},
    }
    with Stubber(ce) as ce_stub, Stubber(org) as org_stub:
        org_stub.add_response("list_accounts", {"Accounts": []}, {})
        ce_stub.add_response("get_cost_and_usage", totals(november), probe)
        ce_stub.add_response("get_cost_and_usage", {"ResultsByTime": september}, month("2026-09-01", "2026-10-01"))
        with Session(store) as s:
            again = run_refresh(s, get_settings(), today=TODAY, clients=(ce, org))
        ce_stub.assert_no_pending_responses()
    assert again.status == "unchanged"
    assert stored_micros(store) == expected_micros(november + october + september)
    assert len(api_calls(store)) == 4  # history complete: a third refresh would only probe


def stubbed_clients():
    kw = {"region_name": "us-east-1", "aws_access_key_id": "x", "aws_secret_access_key": "x"}
    ce = boto3.client("ce", config=Config(retries={"mode": "standard", "max_attempts": 1}), **kw)
    org = boto3.client("organizations", **kw)
    return ce, org


@pytest.fixture
def aws_settings(store, monkeypatch):
    monkeypatch.setenv("FINOPS_SOURCE", "aws")
    monkeypatch.setenv("FINOPS_AWS_REFRESH_MONTHS_BACK", "0")  # history: the open month only (see history tests)
    get_settings.cache_clear()
    return get_settings()


REQUEST = {
    "TimePeriod": {"Start": "2026-11-01", "End": "2026-11-04"},  # the open month: history comes after
    "Granularity": "DAILY",
    "Metrics": ["UnblendedCost", "AmortizedCost"],
    "GroupBy": [{"Type": "DIMENSION", "Key": "SERVICE"}, {"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"}],
}


def test_stubbed_pagination_and_organizations_names(store, aws_settings):
    ce, org = stubbed_clients()
    periods = served()
    with Stubber(ce) as ce_stub, Stubber(org) as org_stub:
        org_stub.add_response(
            "list_accounts", {"Accounts": [{"Id": ACCOUNTS[0], "Name": "prod-core"}], "NextToken": "t"}, {}
        )
        org_stub.add_response("list_accounts", {"Accounts": [{"Id": ACCOUNTS[1], "Name": "data"}]}, {"NextToken": "t"})
        ce_stub.add_response("get_cost_and_usage", {"ResultsByTime": periods[:2], "NextPageToken": "tok2"}, REQUEST)
        ce_stub.add_response("get_cost_and_usage", {"ResultsByTime": periods[2:]}, {**REQUEST, "NextPageToken": "tok2"})
        with Session(store) as s:
            run = run_refresh(s, aws_settings, today=TODAY, clients=(ce, org))
        ce_stub.assert_no_pending_responses()
        org_stub.assert_no_pending_responses()
    assert run.rows == 18
    assert stored_micros(store) == expected_micros(periods)
    with Session(store) as s:
        names = dict(s.execute(select(CostDaily.account_id, CostDaily.account_name).distinct()).all())
    assert names == {ACCOUNTS[0]: "prod-core", ACCOUNTS[1]: "data"}
    assert [c.page for c in api_calls(store)] == [1, 2]


def test_organizations_access_denied_uses_account_ids(store, aws_settings):
    ce, org = stubbed_clients()
    with Stubber(ce) as ce_stub, Stubber(org) as org_stub:
        org_stub.add_client_error("list_accounts", service_error_code="AccessDeniedException", http_status_code=400)
        ce_stub.add_response("get_cost_and_usage", {"ResultsByTime": served()}, REQUEST)
        with Session(store) as s:
            run = run_refresh(s, aws_settings, today=TODAY, clients=(ce, org))
    assert run.status == "ok"
    with Session(store) as s:
        names = dict(s.execute(select(CostDaily.account_id, CostDaily.account_name).distinct()).all())
    assert names == {a: a for a in ACCOUNTS}


def test_throttling_is_recorded_and_fails_cleanly(store, aws_settings):
    # Stubber answers before botocore's retry handler runs, so a stubbed ThrottlingException is the error
    # left after retries: the call is recorded as an error and the refresh fails with a clear message.
    ce, org = stubbed_clients()
    with Stubber(ce) as ce_stub, Stubber(org) as org_stub:
        org_stub.add_response("list_accounts", {"Accounts": []}, {})
        ce_stub.add_client_error(
            "get_cost_and_usage",
            service_error_code="ThrottlingException",
            http_status_code=400,
            expected_params=REQUEST,
        )
        with Session(store) as s, pytest.raises(RefreshError, match="throttling"):
            run_refresh(s, aws_settings, today=TODAY, clients=(ce, org))
    (call,) = api_calls(store)
    assert (call.status, call.error_code, call.cost_usd) == ("error", "ThrottlingException", 0.0)
    (run,) = runs(store)
    assert run.status == "failed" and "ThrottlingException" in run.error and call.run_id == run.id


def test_daily_cap_refuses_before_the_request(store, monkeypatch):
    monkeypatch.setenv("FINOPS_SOURCE", "aws")
    monkeypatch.setenv("FINOPS_AWS_REFRESH_MONTHS_BACK", "0")  # history: the open month only (see history tests)
    monkeypatch.setenv("FINOPS_AWS_MAX_REQUESTS_PER_DAY", "2")
    get_settings.cache_clear()
    settings = get_settings()
    ce, org = stubbed_clients()
    periods = served()
    with Stubber(ce) as ce_stub, Stubber(org) as org_stub:
        org_stub.add_response("list_accounts", {"Accounts": []}, {})
        ce_stub.add_response("get_cost_and_usage", {"ResultsByTime": periods[:1], "NextPageToken": "a"}, REQUEST)
        ce_stub.add_response(
            "get_cost_and_usage",
            {"ResultsByTime": periods[1:2], "NextPageToken": "b"},
            {**REQUEST, "NextPageToken": "a"},
        )
        with Session(store) as s, pytest.raises(RefreshError, match="daily cap of 2"):
            run_refresh(s, settings, today=TODAY, clients=(ce, org))
        ce_stub.assert_no_pending_responses()  # the third page was never requested
    assert [c.status for c in api_calls(store)] == ["ok", "ok"]
    (run,) = runs(store)
    assert run.status == "failed" and "daily cap" in run.error
    assert stored_micros(store) == {}  # nothing half-loaded


def test_no_credentials_fails_cleanly_and_keeps_previous_data(store, aws_settings):
    ce, org = stubbed_clients()
    periods = served()
    with Stubber(ce) as ce_stub, Stubber(org) as org_stub:
        org_stub.add_response("list_accounts", {"Accounts": []}, {})
        ce_stub.add_response("get_cost_and_usage", {"ResultsByTime": periods}, REQUEST)
        with Session(store) as s:
            run_refresh(s, aws_settings, today=TODAY, clients=(ce, org))
    before = stored_micros(store)

    class NoCreds:
        def get_paginator(self, _name):
            raise NoCredentialsError()

    with Session(store) as s, pytest.raises(RefreshError, match="no usable AWS credentials") as err:
        run_refresh(s, aws_settings, today=TODAY + timedelta(days=1), clients=(ce, NoCreds()))
    assert "\n" not in str(err.value)
    last = runs(store)[-1]
    assert last.status == "failed" and last.error == str(err.value)
    assert stored_micros(store) == before


def test_no_credentials_with_real_boto3(store, aws_settings, monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with Session(store) as s, pytest.raises(RefreshError, match="no usable AWS credentials"):
        run_refresh(s, aws_settings, today=TODAY)
    assert runs(store)[-1].status == "failed"


def throttle_first(times: int):
    """A before-send hook answering the first `times` attempts with a ThrottlingException (then the server)."""
    from botocore.awsrequest import AWSResponse

    state = {"left": times}

    class Raw:
        def stream(self, **_kw):
            yield b""

    def handler(request, **_kw):
        if state["left"] <= 0:
            return None
        state["left"] -= 1
        body = b'{"__type":"ThrottlingException","message":"Rate exceeded"}'
        headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": "r"}
        response = AWSResponse(request.url, 400, headers, Raw())
        response._content = body
        return response

    return handler


def test_moto_throttling_retried_by_botocore_and_recorded(aws_store, moto_url, monkeypatch):
    monkeypatch.setenv("FINOPS_AWS_MAX_ATTEMPTS", "3")
    get_settings.cache_clear()
    settings = get_settings()
    ce, org = aws_ce.make_clients(settings)
    ce.meta.events.register("before-send.ce.GetCostAndUsage", throttle_first(1))
    queue(moto_url, [{"ResultsByTime": served()}])
    with Session(aws_store) as s:
        run = run_refresh(s, settings, today=TODAY, clients=(ce, org))
    assert run.status == "ok" and run.rows == 18
    (call,) = api_calls(aws_store)
    assert (call.status, call.retries) == ("ok", 1)


def test_moto_throttling_past_max_attempts_fails_cleanly(aws_store, moto_url, monkeypatch):
    monkeypatch.setenv("FINOPS_AWS_MAX_ATTEMPTS", "2")
    get_settings.cache_clear()
    settings = get_settings()
    ce, org = aws_ce.make_clients(settings)
    ce.meta.events.register("before-send.ce.GetCostAndUsage", throttle_first(5))
    with Session(aws_store) as s, pytest.raises(RefreshError, match="throttling .*after 2 attempts"):
        run_refresh(s, settings, today=TODAY, clients=(ce, org))
    (call,) = api_calls(aws_store)
    assert (call.status, call.error_code, call.retries) == ("error", "ThrottlingException", 1)  # 2 attempts


def test_demo_refresh_regenerates_up_to_yesterday(store):
    settings = get_settings()  # FINOPS_SOURCE=demo from the store fixture
    with Session(store) as s:
        first = run_refresh(s, settings, today=date(2026, 11, 20))
        assert first.source == "demo" and first.window_end == date(2026, 11, 20)
        first_start = first.window_start
    with Session(store) as s:
        second = run_refresh(s, settings, today=date(2026, 11, 21))
    assert second.window_end == date(2026, 11, 21) and second.window_start == first_start
    with Session(store) as s:
        last = s.execute(select(func.max(CostDaily.day))).scalar_one()
        first_day = s.execute(select(func.min(CostDaily.day))).scalar_one()
    assert last == date(2026, 11, 20) and first_day == second.window_start


def test_recorder_counts_only_todays_calls(engine):
    """The cap counts rows since midnight UTC, on SQLite and PostgreSQL."""
    now = datetime(2026, 11, 4, 0, 30, tzinfo=UTC)
    ce, _ = stubbed_clients()
    with Session(engine) as s, Stubber(ce) as stub:
        s.add(CeApiCall(called_at=now - timedelta(hours=1), operation="GetCostAndUsage"))  # yesterday
        s.commit()
        recorder = ce_calls.Recorder(s, 2, now=lambda: now)
        recorder.watch(ce)
        assert recorder.used_today() == 0
        stub.add_response("get_cost_and_usage", {"ResultsByTime": []}, REQUEST)
        stub.add_response("get_cost_and_usage", {}, {**REQUEST, "NextPageToken": "p2"})
        assert ce.get_cost_and_usage(**REQUEST) == {"ResultsByTime": []}
        ce.get_cost_and_usage(**REQUEST, NextPageToken="p2")
        with pytest.raises(ce_calls.BudgetExceeded, match="daily cap of 2"):
            ce.get_cost_and_usage(**REQUEST)  # nothing queued: Stubber would fail it had it been sent
        calls = list(s.exec(select(CeApiCall).order_by(CeApiCall.id)).scalars())
    assert [c.page for c in calls] == [1, 1, 2]
    assert calls[-1].called_at.replace(tzinfo=UTC) == now


# --- one refresh, one run ------------------------------------------------------------------------


def month_of(periods: list[dict], month: str) -> list[dict]:
    """`periods` moved to the first days of `month` ("2026-10")."""
    return [
        dict(p, TimePeriod={"Start": f"{month}-0{i + 1}", "End": f"{month}-0{i + 2}"}) for i, p in enumerate(periods)
    ]


def history_request(start: str, end: str) -> dict:
    return {**REQUEST, "TimePeriod": {"Start": start, "End": end}}


def test_a_refresh_with_history_is_one_run_with_its_parts(engine):
    from finops.data import queries
    from finops.settings import Settings

    settings = Settings(source="aws", aws_refresh_months_back=2, aws_max_attempts=1)
    november, october, september = served(), month_of(served(), "2026-10"), month_of(served(), "2026-09")
    ce, org = stubbed_clients()
    with Stubber(ce) as ce_stub, Stubber(org) as org_stub:
        org_stub.add_response("list_accounts", {"Accounts": []}, {})
        ce_stub.add_response("get_cost_and_usage", {"ResultsByTime": november}, REQUEST)
        ce_stub.add_response(
            "get_cost_and_usage", {"ResultsByTime": october}, history_request("2026-10-01", "2026-11-01")
        )
        ce_stub.add_response(
            "get_cost_and_usage", {"ResultsByTime": september}, history_request("2026-09-01", "2026-10-01")
        )
        with Session(engine) as s:
            run = run_refresh(s, settings, today=TODAY, clients=(ce, org))
        ce_stub.assert_no_pending_responses()
    assert stored_micros(engine) == expected_micros(november + october + september)
    rows = runs(engine)
    assert [r.part_of for r in rows] == [None, run.id, run.id]  # one run, two parts
    assert [(r.status, r.window_start) for r in rows] == [
        ("ok", date(2026, 11, 1)), ("ok", date(2026, 10, 1)), ("ok", date(2026, 9, 1))
    ]  # fmt: skip
    assert {c.run_id for c in api_calls(engine)} == {run.id}  # every request of the refresh counts on its run
    with Session(engine) as s:
        listed = queries.recent_runs(session=s)
        assert queries.data_version(session=s) == rows[-1].id  # each load moves the data version
        status_run, _ = queries.latest_runs(session=s)
    assert listed["id"].tolist() == [run.id]
    assert (listed["rows"].iloc[0], listed["history"].iloc[0], listed["requests"].iloc[0]) == (54, "2 months loaded", 3)
    assert status_run.id == run.id and status_run.finished_at >= rows[-1].finished_at


def test_a_failed_history_month_is_a_failed_part_not_a_failed_refresh(engine):
    from finops import reports
    from finops.settings import Settings

    settings = Settings(source="aws", aws_refresh_months_back=2, aws_max_attempts=1)
    november, october = served(), month_of(served(), "2026-10")
    ce, org = stubbed_clients()
    with Stubber(ce) as ce_stub, Stubber(org) as org_stub:
        org_stub.add_response("list_accounts", {"Accounts": []}, {})
        ce_stub.add_response("get_cost_and_usage", {"ResultsByTime": november}, REQUEST)
        ce_stub.add_response(
            "get_cost_and_usage", {"ResultsByTime": october}, history_request("2026-10-01", "2026-11-01")
        )
        ce_stub.add_client_error(
            "get_cost_and_usage", service_error_code="DataUnavailableException", service_message="not yet",
            http_status_code=400, expected_params=history_request("2026-09-01", "2026-10-01"),
        )  # fmt: skip
        with Session(engine) as s:
            run = run_refresh(s, settings, today=TODAY, clients=(ce, org))
        ce_stub.assert_no_pending_responses()
    assert run.status == "ok"
    assert stored_micros(engine) == expected_micros(november + october)  # what loaded stays
    failed = runs(engine)[-1]
    assert (failed.part_of, failed.status, failed.window_start) == (run.id, "failed", date(2026, 9, 1))
    assert "DataUnavailableException" in failed.error
    with Session(engine) as s:
        status = reports.status(session=s)
        listed = reports.data_sources(session=s, now=datetime.now(UTC)).runs
    assert status.last_run_status == "ok"  # the badge: the current data loaded, not "latest refresh failed"
    assert status.history_error.startswith("2026-09: ") and "DataUnavailableException" in status.history_error
    assert listed["history"].tolist() == ["1 month loaded, 1 failed"]

    # the next refresh tries the failed month again; the probe finds the current window unchanged
    probe = {k: v for k, v in REQUEST.items() if k != "GroupBy"} | {
        "TimePeriod": {"Start": "2026-11-01", "End": "2026-11-03"}
    }
    september = month_of(served(), "2026-09")
    with Stubber(ce) as ce_stub, Stubber(org) as org_stub:
        org_stub.add_response("list_accounts", {"Accounts": []}, {})
        ce_stub.add_response("get_cost_and_usage", totals(november), probe)
        ce_stub.add_response(
            "get_cost_and_usage", {"ResultsByTime": september}, history_request("2026-09-01", "2026-10-01")
        )
        with Session(engine) as s:
            again = run_refresh(s, settings, today=TODAY, clients=(ce, org))
        ce_stub.assert_no_pending_responses()
    assert again.status == "unchanged"
    assert stored_micros(engine) == expected_micros(november + october + september)
    with Session(engine) as s:
        assert reports.status(session=s).history_error is None
