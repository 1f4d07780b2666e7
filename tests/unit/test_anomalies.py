"""Anomaly detector, table-driven: small hand-made daily series with known rises, dips, fees and bad input."""

import logging
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from finops.models import anomaly_breakdown, anomaly_detector

START = date(2025, 1, 6)  # a Monday
WEEK = (100.0, 100.0, 100.0, 100.0, 100.0, 60.0, 60.0)  # Monday .. Sunday: weekends are cheaper


def day(i: int) -> date:
    return START + timedelta(days=i)


def weekly(days: int, *, changes: dict[int, float] | None = None, start: date = START) -> list[float]:
    """A flat weekly pattern; `changes` multiplies given days (2.0 doubles day i)."""
    values = [WEEK[(start + timedelta(days=i)).weekday()] for i in range(days)]
    for i, factor in (changes or {}).items():
        values[i] *= factor
    return values


def history(values: list[float], start: date = START) -> pd.DataFrame:
    return pd.DataFrame({"ds": pd.date_range(start, periods=len(values), freq="D"), "y": values})


def spans(found: pd.DataFrame) -> list[tuple[date, date]]:
    return list(zip(found["start_day"], found["end_day"], strict=True))


# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "found"),
    [
        # day 100 is a Wednesday (USD 100 expected), day 103 a Saturday (USD 60 expected)
        pytest.param({100: 3.0}, [(100, 100, 100.0, 300.0)], id="weekday spike"),
        pytest.param({103: 3.0}, [(103, 103, 60.0, 180.0)], id="weekend spike"),
        pytest.param({100: 2.0, 101: 1.5}, [(100, 101, 200.0, 350.0)], id="two days merge into one"),
        pytest.param({100: 2.0, 102: 2.0}, [(100, 102, 300.0, 500.0)], id="one quiet day inside does not split"),
        pytest.param({100: 2.0, 103: 2.0}, [(100, 100, 100.0, 200.0), (103, 103, 60.0, 120.0)], id="two split"),
    ],
)
def test_spike_is_one_anomaly_on_its_days_with_its_impact(changes, found):
    got = anomaly_detector.detect(history(weekly(140, changes=changes)))
    assert spans(got) == [(day(start), day(end)) for start, end, _, _ in found]
    for (start, end, expected, actual), row in zip(found, got.itertuples(), strict=True):
        assert row.duration_days == end - start + 1
        assert row.expected == pytest.approx(expected)
        assert row.actual == pytest.approx(actual)
        assert row.impact == pytest.approx(actual - expected)
        assert row.score >= anomaly_detector.DEFAULT_THRESHOLD
        assert not row.low_confidence


def test_level_shift_is_one_anomaly_from_its_first_day():
    found = anomaly_detector.detect(history(weekly(160, changes={i: 1.5 for i in range(100, 160)})))
    assert len(found) == 1 and found.iloc[0]["start_day"] == day(100)
    assert found.iloc[0]["duration_days"] >= 7  # until the expected level has caught up


@pytest.mark.parametrize(
    "values",
    [
        pytest.param(weekly(140), id="weekly pattern"),
        pytest.param(
            [100.0 if (START + timedelta(days=i)).weekday() < 5 else 10.0 for i in range(140)], id="deep weekends"
        ),
        pytest.param(weekly(140, changes={i: 0.3 for i in range(96, 98)}), id="weekend dip"),
        pytest.param(weekly(140, changes={i: 0.2 for i in range(90, 97)}), id="a week's drop and back"),
        pytest.param(weekly(140, changes={i: 0.5 for i in range(90, 140)}), id="a lasting drop"),
        pytest.param([100.0 * 1.01**i for i in range(140)], id="growth of 1 % a day"),
        pytest.param([100.0 + (5.0 if i % 2 else -5.0) for i in range(140)], id="5 % wobble"),
    ],
)
def test_ordinary_series_have_no_anomaly(values):
    assert anomaly_detector.detect(history(values)).empty


def with_fee(values: list[float], fee: float, start: date = START) -> list[float]:
    return [v + (fee if (start + timedelta(days=i)).day == 1 else 0.0) for i, v in enumerate(values)]


@pytest.mark.parametrize(
    ("values", "start"),
    [
        pytest.param(with_fee(weekly(200), 500.0), START, id="fee appears after the history began"),
        pytest.param(
            with_fee(weekly(200, start=date(2025, 1, 1)), 500.0, date(2025, 1, 1)),
            date(2025, 1, 1),
            id="history begins on a fee day",
        ),
        pytest.param(
            [v * 1.004**i for i, v in enumerate(with_fee(weekly(200), 50.0))], START, id="fee grows with the costs"
        ),
    ],
)
def test_recurring_first_of_month_fee_is_reported_once_at_most(values, start):
    found = anomaly_detector.detect(history(values, start))
    fee_days = [d.date() for d in pd.date_range(start, periods=len(values)) if d.day == 1]
    assert all(s < fee_days[1] for s, _ in spans(found)), spans(found)
    assert len(found) <= 1


@pytest.mark.parametrize(
    ("settings", "count"),
    [
        ({"min_impact": 40.0}, 1),
        ({"min_impact": 60.0}, 0),
        ({"min_pct": 0.4}, 1),
        ({"min_pct": 0.6}, 0),
        ({"min_impact": 0.0, "min_pct": 0.0}, 1),
        ({"threshold": 1000.0}, 0),
    ],
)
def test_min_impact_min_pct_and_threshold_filter(settings, count):
    # day 100 is a Wednesday: +50 on an expected 100 is an impact of USD 50 and 50 %
    found = anomaly_detector.detect(history(weekly(140, changes={100: 1.5})), **settings)
    assert len(found) == count
    if count:
        assert found.iloc[0]["impact"] == pytest.approx(50.0)


def test_expected_value_is_causal():
    rng = np.random.default_rng(3)
    noise = rng.lognormal(0.0, 0.05, 200)
    values = list(np.array(weekly(200, changes={60: 4.0, 120: 2.5, 170: 3.0})) * noise)
    full, past = history(values), history(values[:150])
    before = anomaly_detector.detect(past)
    after = anomaly_detector.detect(full)
    assert len(before) == 2 and len(after) == 3
    pd.testing.assert_frame_equal(after.iloc[:2], before)
    scored_full, scored_past = anomaly_detector.score_series(full), anomaly_detector.score_series(past)
    pd.testing.assert_frame_equal(scored_full.iloc[:150], scored_past)


@pytest.mark.parametrize("jump_day", [3, 5, 9])
def test_new_service_jumping_in_its_first_days_is_low_confidence(jump_day):
    # 30 days before the service existed, then a normal level, then a 6x burst `jump_day` days in
    values = [0.0] * 30 + weekly(40, changes={jump_day: 6.0, jump_day + 1: 6.0}, start=day(30))
    found = anomaly_detector.detect(history(values))
    assert spans(found) == [(day(30 + jump_day), day(31 + jump_day))]
    assert found.iloc[0]["low_confidence"]
    scored = anomaly_detector.score_series(history(values))
    assert scored["history_days"].iloc[30 + jump_day] == jump_day


@pytest.mark.parametrize(
    "values",
    [
        pytest.param([0.0] * 30 + [50.0] * 40, id="appearance at a normal level"),
        pytest.param([0.0] * 30 + [3.0] + [400.0] * 40, id="a partial first day"),
        pytest.param([0.0] * 30 + [10.0, 100.0, 200.0, 300.0] + [400.0] * 40, id="a ramp over the first days"),
    ],
)
def test_first_appearance_is_not_an_anomaly(values):
    assert anomaly_detector.detect(history(values)).empty


@pytest.mark.parametrize(
    "frame",
    [
        pytest.param(pd.DataFrame(), id="empty without columns"),
        pytest.param(pd.DataFrame({"ds": [], "y": []}), id="empty"),
        pytest.param(history([120.0]), id="single day"),
        pytest.param(history([np.nan] * 60), id="all NaN"),
        pytest.param(history([0.0] * 60), id="all zeros"),
        pytest.param(history([np.nan if i % 9 == 0 else v for i, v in enumerate(weekly(120))]), id="NaN days"),
        pytest.param(history([np.inf if i == 50 else v for i, v in enumerate(weekly(120))]), id="an infinite day"),
        pytest.param(history(weekly(120)).drop(index=[20, 21, 22, 60, 80]), id="gaps"),
        pytest.param(history(weekly(120)).iloc[::-1], id="days in reverse order"),
        pytest.param(history([-40.0 if i % 10 == 0 else v for i, v in enumerate(weekly(120))]), id="credits"),
        pytest.param(history([-5.0] * 60), id="only credits"),
        pytest.param(pd.DataFrame({"ds": ["2025-01-01", "not a day", None], "y": ["1", "x", None]}), id="garbage"),
        pytest.param(
            pd.DataFrame({"ds": pd.date_range("2025-01-01", periods=90, tz="UTC"), "y": weekly(90)}), id="tz-aware"
        ),
    ],
)
def test_bad_input_gives_no_anomaly_and_no_error(frame):
    found = anomaly_detector.detect(frame)
    assert found.empty and list(found.columns) == anomaly_detector.DETECT_COLUMNS
    assert list(anomaly_detector.score_series(frame).columns) == anomaly_detector.SERIES_COLUMNS


def test_score_series_contract():
    scored = anomaly_detector.score_series(history([0.0] * 5 + weekly(30)).drop(index=[12]))
    assert list(scored.columns) == ["ds", "y", "expected", "score", "history_days"]
    assert len(scored) == 35 and scored["y"].iloc[12] == 0.0  # the missing day is back, as 0
    assert scored["expected"].iloc[: 5 + anomaly_detector.MIN_HISTORY_DAYS].isna().all()
    assert scored["expected"].iloc[5 + anomaly_detector.MIN_HISTORY_DAYS :].notna().all()
    assert scored["history_days"].tolist() == [0] * 5 + list(range(30))


# ---------------------------------------------------------------------------------------------------------

SPIKE = 100  # day 100 (a Wednesday): account 222's EC2 cost goes from 100 to 900


def org(days: int = 130) -> pd.DataFrame:
    rows = []
    for account, service, scale in [("111", "AmazonEC2", 1.0), ("222", "AmazonEC2", 1.0), ("222", "AmazonS3", 0.5)]:
        changes = {SPIKE: 9.0} if (account, service) == ("222", "AmazonEC2") else {}
        for i, cost in enumerate(weekly(days, changes=changes)):
            rows.append((day(i), account, service, cost * scale))
    return pd.DataFrame(rows, columns=["day", "account_id", "service", "unblended_cost"])


def test_detect_costs_finds_the_rise_by_service_and_by_account_with_contributors():
    found = anomaly_breakdown.detect_costs(org())
    assert list(found.columns) == anomaly_breakdown.COST_COLUMNS
    got = {(r.dimension, r.service, r.account_id): r for r in found.itertuples()}
    assert set(got) == {("service", "AmazonEC2", ""), ("account", "", "222")}
    ec2, account = got["service", "AmazonEC2", ""], got["account", "", "222"]
    assert (ec2.start_day, ec2.end_day, ec2.impact) == (day(SPIKE), day(SPIKE), pytest.approx(800.0))
    assert ec2.contributors[0] == {"name": "222", "expected": 100.0, "actual": 900.0, "impact": 800.0}
    assert [c["name"] for c in ec2.contributors] == ["222", "111"]
    assert account.contributors[0]["name"] == "AmazonEC2"
    assert account.contributors[0]["impact"] == pytest.approx(800.0)
    assert ec2.external_id == f"service:AmazonEC2:{day(SPIKE).isoformat()}"
    assert account.external_id == f"account:222:{day(SPIKE).isoformat()}"


@pytest.mark.parametrize(
    ("since", "dimensions", "count"),
    [
        (None, ("service", "account"), 2),
        (day(SPIKE), ("service", "account"), 2),
        (day(SPIKE + 1), ("service", "account"), 0),
        (None, ("service",), 1),
        (None, ("account",), 1),
        (None, (), 0),
    ],
)
def test_detect_costs_since_and_dimensions(since, dimensions, count):
    assert len(anomaly_breakdown.detect_costs(org(), since=since, dimensions=dimensions)) == count


@pytest.mark.parametrize(
    "frame",
    [
        pytest.param(pd.DataFrame(), id="empty"),
        pytest.param(org()[lambda f: f["day"] == day(0)], id="a single day"),
        pytest.param(org().assign(unblended_cost=np.nan), id="all NaN"),
        pytest.param(org().assign(day=None), id="no readable day"),
        pytest.param(org().assign(unblended_cost=lambda f: f["unblended_cost"] * 0.0), id="all zeros"),
    ],
)
def test_detect_costs_bad_input(frame):
    found = anomaly_breakdown.detect_costs(frame)
    assert found.empty and list(found.columns) == anomaly_breakdown.COST_COLUMNS


def test_detect_costs_warns_about_series_it_cannot_score(caplog):
    young = pd.DataFrame(
        [(day(i), "333", "AWSLambda", 5.0) for i in range(127, 130)],
        columns=["day", "account_id", "service", "unblended_cost"],
    )
    with caplog.at_level(logging.WARNING, logger=anomaly_breakdown.__name__):
        found = anomaly_breakdown.detect_costs(pd.concat([org(), young], ignore_index=True))
    assert "AWSLambda" in caplog.text and "not scored" in caplog.text
    assert len(found) == 2  # the other series are still scored


def test_detect_costs_names_are_text():
    frame = org().assign(account_id=lambda f: f["account_id"].astype(int))
    found = anomaly_breakdown.detect_costs(frame, dimensions=("account",))
    assert found["account_id"].tolist() == ["222"] and found["external_id"].iloc[0].startswith("account:222:")


# --- issue 15: dips and their end, ramps, one event per rise ---------------------------------------------------


@pytest.mark.parametrize("dip_days", [10, 21, 35], ids=["10-days", "3-weeks", "5-weeks"])
def test_the_end_of_a_dip_is_not_an_anomaly(dip_days):
    # holidays or a paused service: the cost drops to 40 % and comes back to where it was
    values = weekly(200, changes={i: 0.4 for i in range(120, 120 + dip_days)})
    assert anomaly_detector.detect(history(values)).empty


def test_a_rise_above_the_level_before_a_dip_still_is():
    changes = {i: 0.4 for i in range(120, 141)} | {i: 2.0 for i in range(141, 200)}
    found = anomaly_detector.detect(history(weekly(200, changes=changes)))
    assert spans(found)[:1] == [(day(141), spans(found)[0][1])] and found.iloc[0]["impact"] > 0


@pytest.mark.parametrize("ramp_days", [20, 40, 60])
def test_a_new_service_ramping_up_is_not_an_anomaly_but_a_burst_is(ramp_days):
    ramp = [0.0] * 30 + [WEEK[(START + timedelta(days=30 + i)).weekday()] * min(1.0, (i + 1) / ramp_days)
                         for i in range(170)]  # fmt: skip
    assert anomaly_detector.detect(history(ramp)).empty
    burst = list(ramp)
    burst[150:152] = [v * 6 for v in burst[150:152]]
    assert spans(anomaly_detector.detect(history(burst))) == [(day(150), day(151))]


def test_the_service_and_the_account_view_of_one_rise_are_one_event():
    found = anomaly_breakdown.detect_costs(org())
    assert found["event_id"].nunique() == 1
    assert set(found["event_id"]) == {f"service:AmazonEC2:{day(SPIKE).isoformat()}"}


def test_rises_of_different_pairs_stay_different_events():
    frame = org(140)
    late = (frame["day"] == day(SPIKE + 10)) & (frame["account_id"] == "111") & (frame["service"] == "AmazonEC2")
    frame.loc[late, "unblended_cost"] *= 9
    s3 = (frame["day"] == day(SPIKE + 20)) & (frame["service"] == "AmazonS3")
    frame.loc[s3, "unblended_cost"] *= 12
    found = anomaly_breakdown.detect_costs(frame)
    events = found.groupby("event_id")["dimension"].apply(sorted).to_dict()
    assert sorted(events.values()) == [["account", "service"]] * 3
    assert len(found) == 6
