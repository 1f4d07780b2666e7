"""Forecasts, anomalies and recommendations in the store: the sidecar's model jobs, feedback that survives
re-detection, skipped series, failures that keep the previous run, and the CLI."""

import json
from datetime import date, timedelta

import pandas as pd
import pytest
from sqlalchemy import select
from sqlmodel import Session

from finops import cli as finops_cli
from finops.data import anomalies, forecasts, load, queries, recommendations
from finops.data.sources import demo
from finops.data.tables import Anomaly, AnomalyRun, ForecastRun, Recommendation, Resource
from finops.settings import Settings

SMALL = Settings(forecast_top_n=1, forecast_workers=1)


def found(rows: list[tuple]) -> pd.DataFrame:
    """Detector output rows: (dimension, key, start, end, impact)."""
    out = []
    for dimension, key, start, end, impact in rows:
        out.append(
            {
                "dimension": dimension,
                "service": key if dimension == "service" else "",
                "account_id": key if dimension == "account" else "",
                "start_day": start,
                "end_day": end,
                "duration_days": (end - start).days + 1,
                "expected": 100.0,
                "actual": 100.0 + impact,
                "impact": impact,
                "score": 9.0,
                "low_confidence": False,
                "contributors": [{"name": "111", "expected": 1.0, "actual": 2.0, "impact": 1.0}],
                "external_id": f"{dimension}:{key}:{start.isoformat()}",
            }
        )
    return pd.DataFrame(out)


D = date(2026, 10, 1)


def test_feedback_survives_redetection_even_when_the_start_moves(engine):
    with Session(engine) as s:
        anomalies.save_detected(session=s, found=found([("service", "S3", D, D + timedelta(days=2), 50.0)]), since=D)
        (row,) = s.execute(select(Anomaly)).scalars().all()
        anomalies.set_feedback(session=s, anomaly_id=row.id, feedback="false_positive", actor="ada")
        # restated data: the same rise now starts a day later and lasts longer
        moved = found([("service", "S3", D + timedelta(days=1), D + timedelta(days=4), 80.0)])
        counts = anomalies.save_detected(session=s, found=moved, since=D)
        assert counts == {"detected": 1, "new": 0, "updated": 1, "dropped": 0}
        s.expire_all()
        (again,) = s.execute(select(Anomaly)).scalars().all()
        assert (again.id, again.feedback, again.feedback_by, again.impact) == (row.id, "false_positive", "ada", 80.0)
        assert again.start_day == D + timedelta(days=1)
        open_rows = anomalies.list_anomalies(session=s, status="open")
        assert open_rows.empty  # dismissed stays dismissed


def test_undetected_anomalies_without_feedback_are_dropped_those_with_feedback_stay(engine):
    with Session(engine) as s:
        rows = found([("service", "S3", D, D, 50.0), ("account", "111", D, D, 60.0)])
        anomalies.save_detected(session=s, found=rows, since=D)
        kept = s.execute(select(Anomaly).where(Anomaly.dimension == "account")).scalars().one()
        anomalies.set_feedback(session=s, anomaly_id=kept.id, feedback="planned", actor="ada")
        counts = anomalies.save_detected(session=s, found=found([]), since=D)
        assert counts["dropped"] == 1
        remaining = s.execute(select(Anomaly.dimension, Anomaly.feedback)).all()
        assert [tuple(r) for r in remaining] == [("account", "planned")]


@pytest.mark.parametrize(
    ("feedback", "message"),
    [("maybe", "feedback must be one of: confirmed, false_positive, planned"), ("confirmed", "no anomaly 999")],
)
def test_feedback_refused_with_a_reason(engine, feedback, message):
    with Session(engine) as s, pytest.raises(anomalies.AnomalyError, match=message):
        anomalies.set_feedback(session=s, anomaly_id=999, feedback=feedback, actor="ada")


def test_detection_on_the_demo_finds_the_injected_anomalies(seeded_store):
    with Session(seeded_store) as s:
        counts = anomalies.run_detection(session=s, settings=Settings())
        table = anomalies.list_anomalies(session=s)
        _, last = queries.coverage(session=s)
    assert counts["detected"] == len(table) >= 3
    by_key = {(r.dimension, r.service or r.account_id): r for r in table.itertuples()}
    for event in demo.anomalies(last):
        if event.kind == "new_service":  # a new service shows as its account's anomaly
            hit = by_key[("account", event.account_id)]
            assert hit.contributors.startswith(event.service)
        else:
            hit = by_key[("service", event.service)]
            assert hit.contributors.startswith(event.account_id)
        assert hit.start_day == event.start and hit.impact > 0 and hit.source == "finops"


@pytest.mark.slow
def test_forecast_run_stores_points_errors_and_skips_bad_series(seeded_store):
    with Session(seeded_store) as s:
        # an account with one day of cost: its series is skipped with a reason, the others go on
        rows = pd.DataFrame(
            [{"day": date(2026, 1, 5), "provider": "demo", "account_id": "999999999999", "account_name": "tiny",
              "service": "Amazon S3", "region": "", "unblended_cost": 1.0, "amortized_cost": 1.0, "currency": "USD",
              "estimated": False}]
        )  # fmt: skip
        load.replace_window(s, "manual", date(2026, 1, 5), date(2026, 1, 6), rows)
        run = forecasts.run_forecasts(session=s, settings=SMALL, refresh_run_id=1)
        assert run.status == "ok" and run.message == "7 series forecast, 1 skipped"
        table = forecasts.series_table(session=s, run_id=run.id).set_index("series")
        assert table.loc["account:999999999999", "skipped"].startswith("only 1 day")
        total = table.loc["total"]
        assert total["history_days"] > 400 and not total["low_confidence"]
        assert 0 < total["mape"] < 0.5 and 0 < total["naive_mape"] < 1.5
        points = forecasts.points(session=s, run_id=run.id, series="total")
        assert len(points) == run.horizon_days == 90
        assert (points["yhat_lower"] <= points["yhat"]).all() and (points["yhat"] <= points["yhat_upper"]).all()
        assert forecasts.latest_run(session=s).id == run.id


def test_a_failed_forecast_run_keeps_the_previous_one(seeded_store, monkeypatch):
    from finops.models import forecast_batch

    with Session(seeded_store) as s:
        good = ForecastRun(refresh_run_id=None, status="ok")
        s.add(good)
        s.commit()

        def broken(*_args, **_kwargs):
            raise RuntimeError("boom")

        monkeypatch.setattr(forecast_batch, "forecast_many", broken)
        run = forecasts.run_forecasts(session=s, settings=SMALL, refresh_run_id=1)
        assert (run.status, run.message) == ("failed", "RuntimeError: boom")
        assert forecasts.latest_run(session=s).id == good.id
        assert forecasts.last_modeled_version(session=s) == 1  # not retried for the same data


def test_update_models_runs_once_per_data_version(seeded_store, monkeypatch):
    from finops.jobs import tasks
    from finops.models import forecast_batch

    calls = []

    def fake_many(frames, **_kwargs):  # the Prophet fits are covered above; here: the job's bookkeeping
        calls.append(sorted(frames))
        return {}

    monkeypatch.setattr(forecast_batch, "forecast_many", fake_many)
    monkeypatch.setenv("FINOPS_FORECAST_TOP_N", "2")
    from finops.settings import get_settings

    get_settings.cache_clear()
    tasks.update_models()
    tasks.update_models()
    assert len(calls) == 1 and calls[0][-1] == "total" and sum(c.startswith("service:") for c in calls[0]) == 2
    with Session(seeded_store) as s:
        assert s.execute(select(Anomaly)).first() is not None
        assert s.execute(select(Recommendation).where(Recommendation.source == "schedule")).first() is not None


@pytest.mark.parametrize(
    ("state", "tags", "hourly", "expected"),  # tags["idle"]: the CPU check's mark (Resource.idle)
    [
        ("running", {"env": "dev"}, 1.0, ("schedule", round(730 * 108 / 168, 2))),
        ("running", {"Environment": "Staging"}, 2.0, ("schedule", round(2 * 730 * 108 / 168, 2))),
        ("running", {"env": "prod"}, 1.0, None),
        ("stopped", {"env": "dev"}, 1.0, None),
        ("running", {"env": "dev"}, 0.0, None),
        ("running", {"idle": True, "env": "prod"}, 0.5, ("idle", 365.0)),
        ("idle", {}, 0.5, ("idle", 365.0)),
    ],
)
def test_own_recommendations(state, tags, hourly, expected):
    tags = dict(tags)
    res = Resource(resource_type="app", resource_id="a1", name="A", state=state, hourly_cost=hourly,
                   idle=tags.pop("idle", False), tags=tags)  # fmt: skip
    schedule, idle = recommendations.own_recommendations([res])
    got = [("schedule", r["estimated_monthly_savings"]) for r in schedule] + [
        ("idle", r["estimated_monthly_savings"]) for r in idle
    ]
    assert got == ([expected] if expected else [])


def test_cli_forecast_and_anomalies(modeled_store, capsys):
    assert finops_cli.main(["forecast", "--format", "csv"]) == 0
    out = capsys.readouterr()
    frame = pd.read_csv(pd.io.common.StringIO(out.out))
    assert list(frame.columns) == ["month", "yhat", "yhat_lower", "yhat_upper", "days"]
    assert frame["days"].sum() == 90 and "back-test MAPE" in out.err
    assert finops_cli.main(["forecast", "--series", "service:Nope"]) == 1
    assert "no forecast for service:Nope" in capsys.readouterr().err
    assert finops_cli.main(["forecast", "--series", "bogus"]) == 1
    assert "series must be total, service:NAME or account:ID" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        finops_cli.main(["forecast", "--interval", "50"])
    assert exit_info.value.code == 2 and "between 51 and 99" in capsys.readouterr().err
    assert finops_cli.main(["anomalies", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["source"] for r in rows} == {"finops"} and all(r["impact"] > 0 for r in rows)


def test_cli_forecast_before_any_run(seeded_store, capsys):
    assert finops_cli.main(["forecast"]) == 1
    assert "no forecast yet" in capsys.readouterr().err


# --- issue 15 ----------------------------------------------------------------------------------------------------


def _costs(days: int, spikes: dict[int, float], start: date = date(2025, 1, 6)) -> pd.DataFrame:
    """One service in one account, weekly pattern, the given days multiplied."""
    rows = []
    for i in range(days):
        day = start + timedelta(days=i)
        cost = (60.0 if day.weekday() >= 5 else 100.0) * spikes.get(i, 1.0)
        rows.append({"day": day, "provider": "aws", "account_id": "111111111111", "account_name": "a",
                     "service": "Amazon S3", "region": "", "unblended_cost": cost, "amortized_cost": cost,
                     "currency": "USD", "estimated": False})  # fmt: skip
    return pd.DataFrame(rows)


def test_detection_reports_the_whole_history_from_eight_weeks_after_the_first_day(engine):
    start = date(2025, 1, 6)
    rows = _costs(500, {30: 5.0, 100: 5.0, 450: 5.0})  # day 100 is 400 days before the end
    with Session(engine) as s:
        load.replace_window(s, "manual", start, start + timedelta(days=500), rows)
        counts = anomalies.run_detection(session=s, settings=Settings(), refresh_run_id=1)
        found = anomalies.list_anomalies(session=s, dimension="service")
        assert sorted(found["start_day"]) == [start + timedelta(days=100), start + timedelta(days=450)]
        again = anomalies.run_detection(session=s, settings=Settings())
        assert (again["new"], again["dropped"], again["detected"]) == (0, 0, counts["detected"])
        assert sorted(anomalies.list_anomalies(session=s)["id"]) == sorted(anomalies.list_anomalies(session=s)["id"])
        runs = s.execute(select(AnomalyRun).order_by(AnomalyRun.id)).scalars().all()
        assert [(r.status, r.done, r.total, r.refresh_run_id) for r in runs] == [("ok", 3, 3, 1), ("ok", 3, 3, None)]
        assert anomalies.running_run(session=s) is None


def test_the_service_and_account_views_of_one_rise_are_one_event_with_one_answer(engine):
    rows = found([("service", "S3", D, D, 50.0), ("account", "111", D, D, 50.0), ("account", "222", D, D, 9.0)])
    rows["event_id"] = ["service:S3:" + D.isoformat(), "service:S3:" + D.isoformat(), None]
    with Session(engine) as s:
        anomalies.save_detected(session=s, found=rows, since=D)
        events = anomalies.list_anomalies(session=s, events=True).set_index("account_id")
        assert len(events) == 2 and len(anomalies.list_anomalies(session=s)) == 3
        both = events.loc["111"]
        assert (both["dimension"], both["service"]) == ("service + account", "S3")
        assert both["views"] == "service: S3 (+50.00); account: 111 (+50.00)"
        assert events.loc["222", "views"] == "account: 222 (+9.00)"
        anomalies.set_feedback(session=s, anomaly_id=int(both["id"]), feedback="planned", actor="ada")
        s.expire_all()
        feedback = dict(s.execute(select(Anomaly.account_id, Anomaly.feedback)).all())
        assert feedback == {"": "planned", "111": "planned", "222": None}


def test_a_forecast_run_shows_its_progress_while_it_runs(seeded_store, monkeypatch):
    from finops import progress
    from finops.models import forecast_batch

    seen = []

    def slow_many(frames, *, progress=None, **_kwargs):  # the fits are tested elsewhere; here: the bookkeeping
        for i in range(1, len(frames) + 1):
            progress(i, len(frames))
            with Session(seeded_store) as other:  # what a page sees meanwhile
                seen.append(progress_of(other))
        return {}

    def progress_of(other):
        current = progress.running(session=other, kind="forecast")
        return (current.done, current.total, current.text.split(":")[1].strip()) if current else None

    monkeypatch.setattr(forecast_batch, "forecast_many", slow_many)
    monkeypatch.setattr(forecasts, "PROGRESS_SECONDS", 0.0)
    bar = []
    with Session(seeded_store) as s:
        run = forecasts.run_forecasts(session=s, settings=SMALL, progress=lambda d, t: bar.append((d, t)))
        assert seen[0][:2] == (1, 7) and seen[-1][:2] == (7, 7) and seen[0][2].startswith("1 of 7 series")
        assert bar[0] == (0, 7) and bar[-1] == (7, 7)  # total, 1 service, 5 accounts
        assert run.status == "ok" and progress.running(session=s, kind="forecast") is None
        s.add(AnomalyRun(step="saving", done=2, total=3))
        s.commit()
        current = progress.running(session=s, kind="anomalies")
        assert current.share == pytest.approx(2 / 3) and "saving, step 3 of 3" in current.text
        from finops.jobs import tasks

        assert tasks.close_interrupted() == 1
        assert progress.running(session=s, kind="anomalies") is None


def test_cli_progress_bar(capsys):
    from finops.cli.insights import progress_bar

    draw = progress_bar("forecast", "series", width=10)
    draw(0, 4)
    draw(2, 4)
    draw(4, 4)
    err = capsys.readouterr().err
    assert err.endswith("\rforecast [##########] 4/4 series\n")
    assert "\rforecast [#####-----] 2/4 series" in err and err.count("\n") == 1
