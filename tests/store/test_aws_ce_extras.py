"""The once-a-day Cost Explorer extras (forecast, anomalies, recommendations) against botocore's Stubber.

moto 5.2.5 does not implement these four operations, so a real boto3 ce client answers from Stubber;
Stubber also checks every request's parameters, and one with nothing queued proves no request was made.
"""

from datetime import UTC, date, datetime, timedelta

import boto3
import pytest
from botocore.config import Config
from botocore.stub import ANY, Stubber
from sqlalchemy import select
from sqlmodel import Session

from finops.data import ce_calls
from finops.data.ce_features import ANOMALIES as ANOMALIES_OP
from finops.data.ce_features import FORECAST as FORECAST_OP
from finops.data.ce_features import OPERATIONS, run_extras
from finops.data.ce_features import RIGHTSIZING as RIGHTSIZING_OP
from finops.data.ce_features import SAVINGS_PLANS as SAVINGS_PLANS_OP
from finops.data.refresh import run_refresh
from finops.data.tables import Anomaly, AwsForecast, CeApiCall, CeFeature, Recommendation
from finops.settings import get_settings

TODAY = date(2026, 11, 4)
NOW = datetime(2026, 11, 4, 6, 0, tzinfo=UTC)
MONITOR = "arn:aws:ce::123456789012:anomalymonitor/0d4d5e1f-1111-2222-3333-444455556666"

FORECAST_REQUEST = {
    "TimePeriod": {"Start": "2026-11-04", "End": "2027-02-01"},
    "Metric": "UNBLENDED_COST",
    "Granularity": "DAILY",
    "PredictionIntervalLevel": 80,
}
ANOMALIES_REQUEST = {"DateInterval": {"StartDate": "2026-08-06", "EndDate": "2026-11-04"}}
RIGHTSIZING_REQUEST = {"Service": "AmazonEC2"}
SP_REQUEST = {
    "SavingsPlansType": "COMPUTE_SP",
    "TermInYears": "ONE_YEAR",
    "PaymentOption": "NO_UPFRONT",
    "LookbackPeriodInDays": "THIRTY_DAYS",
}

FORECAST = {
    "Total": {"Amount": "3702.1234567", "Unit": "USD"},
    "ForecastResultsByTime": [
        {
            "TimePeriod": {"Start": "2026-11-04", "End": "2026-11-05"},
            "MeanValue": "41.2345678901",
            "PredictionIntervalLowerBound": "35.0000000001",
            "PredictionIntervalUpperBound": "47.4691357801",
        },
        {
            "TimePeriod": {"Start": "2026-11-05", "End": "2026-11-06"},
            "MeanValue": "-2.5",  # credits can forecast below zero: kept as served
            "PredictionIntervalLowerBound": "-4.75",
            "PredictionIntervalUpperBound": "0.1",
        },
        {"TimePeriod": {"Start": "2026-11-06", "End": "2026-11-07"}, "MeanValue": "40.01"},  # no interval
    ],
}


def anomaly(n: int, **impact) -> dict:
    return {
        "AnomalyId": f"6b2d4a5e-0000-4000-8000-00000000000{n}",
        "AnomalyStartDate": f"2026-10-{10 + n}T00:00:00Z",
        "AnomalyEndDate": f"2026-10-{12 + n}T00:00:00Z",
        "DimensionValue": "Amazon Elastic Compute Cloud - Compute",
        "RootCauses": [
            {
                "Service": "Amazon Elastic Compute Cloud - Compute",
                "Region": "us-east-1",
                "LinkedAccount": "111111111111",
                "LinkedAccountName": "prod-core",
                "UsageType": "USE1-BoxUsage:m5.4xlarge",
                "Impact": {"Contribution": 120.5},
            },
            {
                "Service": "Amazon Simple Storage Service",
                "Region": "eu-west-1",
                "LinkedAccount": "222222222222",
                "LinkedAccountName": "data",
                "UsageType": "EU-TimedStorage-ByteHrs",
                "Impact": {"Contribution": 29.75},
            },
        ],
        "AnomalyScore": {"MaxScore": 0.93, "CurrentScore": 0.875},
        "Impact": impact
        or {
            "MaxImpact": 80.0,
            "TotalImpact": 150.25,
            "TotalActualSpend": 300.5,
            "TotalExpectedSpend": 150.25,
            "TotalImpactPercentage": 100.0,
        },
        "MonitorArn": MONITOR,
    }


ANOMALIES = {"Anomalies": [anomaly(1)]}


def ec2(instance_type: str) -> dict:
    return {"EC2ResourceDetails": {"InstanceType": instance_type, "Region": "US East (N. Virginia)", "Vcpu": "2"}}


RIGHTSIZING = {
    "Metadata": {
        "RecommendationId": "r-1",
        "GenerationTimestamp": "2026-11-03T10:00:00Z",
        "LookbackPeriodInDays": "14",
    },
    "Summary": {
        "TotalRecommendationCount": "2",
        "EstimatedTotalMonthlySavingsAmount": "132.48",
        "SavingsCurrencyCode": "USD",
        "SavingsPercentage": "41",
    },
    "RightsizingRecommendations": [
        {
            "AccountId": "111111111111",
            "CurrentInstance": {
                "ResourceId": "i-0abc123def4567890",
                "InstanceName": "api-1",
                "ResourceDetails": ec2("m5.large"),
                "MonthlyCost": "70.08",
                "CurrencyCode": "USD",
            },
            "RightsizingType": "MODIFY",
            "ModifyRecommendationDetail": {
                "TargetInstances": [
                    {
                        "EstimatedMonthlyCost": "30.37",
                        "EstimatedMonthlySavings": "39.71",
                        "CurrencyCode": "USD",
                        "DefaultTargetInstance": True,
                        "ResourceDetails": ec2("t3.medium"),
                    },
                    {
                        "EstimatedMonthlyCost": "15.18",
                        "EstimatedMonthlySavings": "54.90",
                        "CurrencyCode": "USD",
                        "DefaultTargetInstance": False,
                        "ResourceDetails": ec2("t3.small"),
                    },
                ]
            },
            "FindingReasonCodes": ["CPU_OVER_PROVISIONED"],
        },
        {
            "AccountId": "222222222222",
            "CurrentInstance": {
                "ResourceId": "i-0fff000111222333a",
                "ResourceDetails": ec2("c5.xlarge"),
                "MonthlyCost": "124.10",
                "CurrencyCode": "USD",
            },
            "RightsizingType": "TERMINATE",
            "TerminateRecommendationDetail": {"EstimatedMonthlySavings": "77.58", "CurrencyCode": "USD"},
        },
    ],
    "Configuration": {"RecommendationTarget": "SAME_INSTANCE_FAMILY", "BenefitsConsidered": True},
}

SAVINGS_PLANS = {
    "Metadata": {"RecommendationId": "sp-1", "GenerationTimestamp": "2026-11-03T10:00:00Z"},
    "SavingsPlansPurchaseRecommendation": {
        "AccountScope": "PAYER",
        "SavingsPlansType": "COMPUTE_SP",
        "TermInYears": "ONE_YEAR",
        "PaymentOption": "NO_UPFRONT",
        "LookbackPeriodInDays": "THIRTY_DAYS",
        "SavingsPlansPurchaseRecommendationDetails": [],
        "SavingsPlansPurchaseRecommendationSummary": {
            "EstimatedROI": "28.4",
            "CurrencyCode": "USD",
            "EstimatedTotalCost": "1890.2",
            "CurrentOnDemandSpend": "2650.75",
            "EstimatedSavingsAmount": "760.55",
            "TotalRecommendationCount": "1",
            "DailyCommitmentToPurchase": "31.2",
            "HourlyCommitmentToPurchase": "1.3",
            "EstimatedSavingsPercentage": "28.69",
            "EstimatedMonthlySavingsAmount": "228.1650000001",
        },
    },
}


def ce_client():
    kw = {"region_name": "us-east-1", "aws_access_key_id": "x", "aws_secret_access_key": "x"}
    return boto3.client("ce", config=Config(retries={"mode": "standard", "max_attempts": 1}), **kw)


def queue_all(stub: Stubber, **override) -> None:
    """Queue the four happy responses; `override[name]` replaces one of them by a callable (stub) -> None."""
    steps = {
        "forecast": lambda s: s.add_response("get_cost_forecast", FORECAST, FORECAST_REQUEST),
        "anomalies": lambda s: s.add_response("get_anomalies", ANOMALIES, ANOMALIES_REQUEST),
        "rightsizing": lambda s: s.add_response("get_rightsizing_recommendation", RIGHTSIZING, RIGHTSIZING_REQUEST),
        "savings_plans": lambda s: s.add_response(
            "get_savings_plans_purchase_recommendation", SAVINGS_PLANS, SP_REQUEST
        ),
    }
    steps.update(override)
    for step in steps.values():
        step(stub)


def error(operation: str, code: str, message: str = "", status: int = 400):
    return lambda s: s.add_client_error(
        operation, service_error_code=code, service_message=message, http_status_code=status
    )


def extras(engine, ce, *, today=TODAY, now=NOW, cap=100, force=False) -> dict[str, str]:
    with Session(engine) as s:
        recorder = ce_calls.Recorder(s, cap, now=lambda: now)
        return run_extras(s, ce, recorder, today=today, force=force)


def rows(engine, table, *order) -> list:
    with Session(engine) as s:
        return list(s.execute(select(table).order_by(*(order or (table.id,)))).scalars().all())


def features(engine) -> dict[str, CeFeature]:
    return {f.operation: f for f in rows(engine, CeFeature, CeFeature.operation)}


def recommendations(engine) -> dict[tuple, tuple]:
    return {
        (r.source, r.kind, r.resource_id): (
            r.account_id,
            r.description,
            r.estimated_monthly_savings,
            r.currency,
            r.status,
        )
        for r in rows(engine, Recommendation)
    }


EXPECTED_RECOMMENDATIONS = {
    ("aws_rightsizing", "modify", "i-0abc123def4567890"): (
        "111111111111",
        "Modify i-0abc123def4567890 (m5.large -> t3.small)",
        54.90,
        "USD",
        "open",
    ),
    ("aws_rightsizing", "terminate", "i-0fff000111222333a"): (
        "222222222222",
        "Terminate i-0fff000111222333a (c5.xlarge)",
        77.58,
        "USD",
        "open",
    ),
    ("aws_savings_plans", "savings_plan_purchase", "COMPUTE_SP/ONE_YEAR/NO_UPFRONT"): (
        "",
        "Buy a 1-year Compute Savings Plan (no upfront) committing USD 1.300/hour",
        228.1650000001,
        "USD",
        "open",
    ),
}


def test_happy_path_stores_exactly_what_was_served(store):
    ce = ce_client()
    with Stubber(ce) as stub:
        queue_all(stub)
        outcomes = extras(store, ce)
        stub.assert_no_pending_responses()
    assert outcomes == dict.fromkeys(OPERATIONS, "ok")

    forecast = rows(store, AwsForecast, AwsForecast.ds)
    assert [(f.metric, f.ds, f.yhat, f.yhat_lower, f.yhat_upper, f.interval_level) for f in forecast] == [
        ("unblended_cost", date(2026, 11, 4), 41.2345678901, 35.0000000001, 47.4691357801, 80),
        ("unblended_cost", date(2026, 11, 5), -2.5, -4.75, 0.1, 80),
        ("unblended_cost", date(2026, 11, 6), 40.01, None, None, 80),
    ]

    (a,) = rows(store, Anomaly)
    served = ANOMALIES["Anomalies"][0]
    assert (a.source, a.external_id, a.dimension) == ("aws", served["AnomalyId"], "")
    assert (a.start_day, a.end_day) == (date(2026, 10, 11), date(2026, 10, 13))
    assert (a.impact, a.actual, a.expected, a.score) == (150.25, 300.5, 150.25, 0.875)
    assert (a.service, a.account_id) == ("Amazon Elastic Compute Cloud - Compute", "111111111111")
    assert a.contributors == served["RootCauses"]
    assert a.feedback is None

    assert recommendations(store) == EXPECTED_RECOMMENDATIONS
    assert sum(r.estimated_monthly_savings for r in rows(store, Recommendation)) == pytest.approx(360.6450000001)

    calls = rows(store, CeApiCall)
    assert [(c.operation, c.page, c.status, c.cost_usd) for c in calls] == [(op, 1, "ok", 0.01) for op in OPERATIONS]
    feats = features(store)
    assert {op: (f.status, f.message) for op, f in feats.items()} == dict.fromkeys(OPERATIONS, ("ok", None))
    assert all(
        f.last_attempt_at.replace(tzinfo=UTC) == NOW == f.last_success_at.replace(tzinfo=UTC) for f in feats.values()
    )


def test_access_denied_on_one_call_leaves_the_others_stored(store):
    ce = ce_client()
    with Stubber(ce) as stub:
        queue_all(
            stub,
            rightsizing=error("get_rightsizing_recommendation", "AccessDeniedException", "User: x is not authorized"),
        )
        outcomes = extras(store, ce)
        stub.assert_no_pending_responses()
    assert outcomes["GetRightsizingRecommendation"] == "not_permitted"
    assert [v for k, v in outcomes.items() if k != "GetRightsizingRecommendation"] == ["ok"] * 3
    feat = features(store)["GetRightsizingRecommendation"]
    assert (feat.status, feat.message) == (
        "not_permitted",
        "not permitted: the role needs ce:GetRightsizingRecommendation",
    )
    assert feat.last_attempt_at is not None and feat.last_success_at is None
    assert len(rows(store, AwsForecast)) == 3 and len(rows(store, Anomaly)) == 1
    assert {k[0] for k in recommendations(store)} == {"aws_savings_plans"}
    denied = [c for c in rows(store, CeApiCall) if c.status == "error"]
    assert [(c.operation, c.error_code, c.cost_usd) for c in denied] == [
        ("GetRightsizingRecommendation", "AccessDeniedException", 0.0)
    ]


@pytest.mark.parametrize("code", ["AccessDenied", "UnauthorizedOperation"])
def test_other_denied_codes_are_not_permitted(store, code):
    ce = ce_client()
    with Stubber(ce) as stub:
        queue_all(stub, forecast=error("get_cost_forecast", code))
        outcomes = extras(store, ce)
    assert outcomes["GetCostForecast"] == "not_permitted"
    assert features(store)["GetCostForecast"].message == "not permitted: the role needs ce:GetCostForecast"


def test_other_client_error_is_recorded_with_code_and_message(store):
    ce = ce_client()
    with Stubber(ce) as stub:
        queue_all(stub, anomalies=error("get_anomalies", "LimitExceededException", "Too many requests\nsecond line"))
        outcomes = extras(store, ce)
    assert outcomes["GetAnomalies"] == "error" and outcomes["GetSavingsPlansPurchaseRecommendation"] == "ok"
    feat = features(store)["GetAnomalies"]
    assert (feat.status, feat.message) == ("error", "LimitExceededException: Too many requests")


def test_once_a_day_gate(store):
    ce = ce_client()
    with Stubber(ce) as stub:
        queue_all(stub)
        extras(store, ce)
    later = NOW + timedelta(hours=17)  # still the same UTC day
    with Stubber(ce) as stub:  # nothing queued: any request would raise
        assert extras(store, ce, now=later) == dict.fromkeys(OPERATIONS, "skipped")
    assert len(rows(store, CeApiCall)) == 4

    with Stubber(ce) as stub:  # force runs them anyway
        queue_all(stub)
        assert extras(store, ce, now=later, force=True) == dict.fromkeys(OPERATIONS, "ok")
        stub.assert_no_pending_responses()

    tomorrow = TODAY + timedelta(days=1)
    next_requests = {
        "forecast": lambda s: s.add_response(
            "get_cost_forecast",
            FORECAST,
            {**FORECAST_REQUEST, "TimePeriod": {"Start": "2026-11-05", "End": "2027-02-01"}},
        ),
        "anomalies": lambda s: s.add_response(
            "get_anomalies", ANOMALIES, {"DateInterval": {"StartDate": "2026-08-07", "EndDate": "2026-11-05"}}
        ),
        "rightsizing": lambda _s: None,  # once a week: not due tomorrow
        "savings_plans": lambda _s: None,
    }
    with Stubber(ce) as stub:
        queue_all(stub, **next_requests)
        outcomes = extras(store, ce, today=tomorrow, now=NOW + timedelta(days=1))
        stub.assert_no_pending_responses()
    assert outcomes == {FORECAST_OP: "ok", ANOMALIES_OP: "ok", RIGHTSIZING_OP: "skipped", SAVINGS_PLANS_OP: "skipped"}
    assert len(rows(store, CeApiCall)) == 10
    assert len(rows(store, AwsForecast)) == 3 and len(rows(store, Anomaly)) == 1  # replaced / upserted, not added


def test_recommendations_are_fetched_once_a_week(store):
    ce = ce_client()
    with Stubber(ce) as stub:
        queue_all(stub)
        extras(store, ce)
    for days, due in ((6, "skipped"), (7, "ok")):
        later = TODAY + timedelta(days=days)
        with Stubber(ce) as stub:
            stub.add_response("get_cost_forecast", FORECAST, {**FORECAST_REQUEST, "TimePeriod": ANY})
            stub.add_response("get_anomalies", ANOMALIES, {"DateInterval": ANY})
            if due == "ok":
                queue_all(stub, forecast=lambda _s: None, anomalies=lambda _s: None)
            outcomes = extras(store, ce, today=later, now=NOW + timedelta(days=days))
            stub.assert_no_pending_responses()
        assert outcomes == {FORECAST_OP: "ok", ANOMALIES_OP: "ok", RIGHTSIZING_OP: due, SAVINGS_PLANS_OP: due}
    calls = [c.operation for c in rows(store, CeApiCall)]
    assert calls.count(RIGHTSIZING_OP) == calls.count(SAVINGS_PLANS_OP) == 2 and calls.count(FORECAST_OP) == 3


def test_a_failed_attempt_also_waits_for_tomorrow(store):
    ce = ce_client()
    with Stubber(ce) as stub:
        queue_all(stub, savings_plans=error("get_savings_plans_purchase_recommendation", "AccessDeniedException"))
        extras(store, ce)
    with Stubber(ce):
        assert extras(store, ce)["GetSavingsPlansPurchaseRecommendation"] == "skipped"


def test_feedback_on_an_aws_anomaly_survives_a_refetch(store):
    ce = ce_client()
    with Stubber(ce) as stub:
        queue_all(stub)
        extras(store, ce)
    with Session(store) as s:
        row = s.execute(select(Anomaly)).scalar_one()
        row.feedback = "false_positive"
        s.commit()
    grown = anomaly(1, MaxImpact=90.0, TotalImpact=210.0, TotalActualSpend=400.0, TotalExpectedSpend=190.0)
    with_aws_feedback = dict(anomaly(2), Feedback="PLANNED_ACTIVITY")
    with Stubber(ce) as stub:
        queue_all(stub, anomalies=lambda s: s.add_response("get_anomalies", {"Anomalies": [grown, with_aws_feedback]}))
        extras(store, ce, force=True)
    first, second = rows(store, Anomaly)
    assert (first.impact, first.actual, first.expected, first.feedback) == (210.0, 400.0, 190.0, "false_positive")
    assert second.feedback == "planned"  # AWS's own feedback only fills a new row


def test_data_unavailable_means_no_forecast(store):
    ce = ce_client()
    with Session(store) as s:  # an older forecast no longer stands
        s.add(AwsForecast(ds=date(2026, 11, 1), yhat=1.0))
        s.commit()
    with Stubber(ce) as stub:
        queue_all(
            stub,
            forecast=error("get_cost_forecast", "DataUnavailableException", "Insufficient amount of historical data"),
        )
        outcomes = extras(store, ce)
    assert outcomes["GetCostForecast"] == "ok"
    feat = features(store)["GetCostForecast"]
    assert (feat.status, feat.message) == ("ok", "no forecast: not enough history")
    assert feat.last_success_at is not None
    assert rows(store, AwsForecast) == []
    assert len(rows(store, Anomaly)) == 1


def test_anomalies_follow_next_page_token(store):
    ce = ce_client()
    with Stubber(ce) as stub:
        queue_all(
            stub,
            anomalies=lambda s: (
                s.add_response("get_anomalies", {"Anomalies": [anomaly(1)], "NextPageToken": "pg2"}, ANOMALIES_REQUEST),
                s.add_response(
                    "get_anomalies", {"Anomalies": [anomaly(2)]}, {**ANOMALIES_REQUEST, "NextPageToken": "pg2"}
                ),
            ),
        )
        extras(store, ce)
        stub.assert_no_pending_responses()
    assert [a.external_id for a in rows(store, Anomaly)] == [anomaly(1)["AnomalyId"], anomaly(2)["AnomalyId"]]
    calls = [(c.operation, c.page) for c in rows(store, CeApiCall) if c.operation == "GetAnomalies"]
    assert calls == [("GetAnomalies", 1), ("GetAnomalies", 2)]


def test_anomaly_without_total_impact_uses_max_impact(store):
    ce = ce_client()
    with Stubber(ce) as stub:
        queue_all(
            stub, anomalies=lambda s: s.add_response("get_anomalies", {"Anomalies": [anomaly(3, MaxImpact=12.5)]})
        )
        extras(store, ce)
    (a,) = rows(store, Anomaly)
    assert (a.impact, a.actual, a.expected) == (12.5, None, None)


def test_rightsizing_pages_and_dismissed_rows_are_not_resurrected(store):
    ce = ce_client()
    with Stubber(ce) as stub:
        queue_all(stub)
        extras(store, ce)
    with Session(store) as s:
        for rec in s.execute(select(Recommendation).where(Recommendation.kind == "terminate")).scalars():
            rec.status = "dismissed"
        s.commit()
    first, second = RIGHTSIZING["RightsizingRecommendations"]
    odd = {  # negative and missing savings count 0
        "AccountId": "333333333333",
        "CurrentInstance": {"ResourceId": "i-0neg", "ResourceDetails": ec2("r5.large")},
        "RightsizingType": "MODIFY",
        "ModifyRecommendationDetail": {
            "TargetInstances": [{"EstimatedMonthlySavings": "-3.5", "ResourceDetails": ec2("r5.xlarge")}]
        },
    }
    nothing = {
        "AccountId": "333333333333",
        "CurrentInstance": {"ResourceId": "i-0none"},
        "RightsizingType": "TERMINATE",
    }
    with Stubber(ce) as stub:
        queue_all(
            stub,
            rightsizing=lambda s: (
                s.add_response(
                    "get_rightsizing_recommendation",
                    {"RightsizingRecommendations": [second, odd], "NextPageToken": "n2"},
                    RIGHTSIZING_REQUEST,
                ),
                s.add_response(
                    "get_rightsizing_recommendation",
                    {"RightsizingRecommendations": [nothing]},
                    {**RIGHTSIZING_REQUEST, "NextPageToken": "n2"},
                ),
            ),
            savings_plans=lambda s: s.add_response(  # AWS recommends nothing to buy now
                "get_savings_plans_purchase_recommendation", {"SavingsPlansPurchaseRecommendation": {}}, SP_REQUEST
            ),
        )
        extras(store, ce, force=True)
        stub.assert_no_pending_responses()
    got = recommendations(store)
    assert got == {
        ("aws_rightsizing", "terminate", "i-0fff000111222333a"): (
            *EXPECTED_RECOMMENDATIONS[("aws_rightsizing", "terminate", "i-0fff000111222333a")][:4],
            "dismissed",
        ),
        ("aws_rightsizing", "modify", "i-0neg"): (
            "333333333333",
            "Modify i-0neg (r5.large -> r5.xlarge)",
            0.0,
            "USD",
            "open",
        ),
        ("aws_rightsizing", "terminate", "i-0none"): ("333333333333", "Terminate i-0none", 0.0, "USD", "open"),
    }
    assert first["CurrentInstance"]["ResourceId"] not in {k[2] for k in got}  # the open one AWS dropped is gone


def test_daily_cap_stops_the_remaining_extras(store):
    ce = ce_client()
    with Stubber(ce) as stub:
        stub.add_response("get_cost_forecast", FORECAST, FORECAST_REQUEST)
        stub.add_response("get_anomalies", ANOMALIES, ANOMALIES_REQUEST)
        outcomes = extras(store, ce, cap=2)
        stub.assert_no_pending_responses()  # and nothing else was requested (nothing else was queued)
    assert outcomes == {
        "GetCostForecast": "ok",
        "GetAnomalies": "ok",
        "GetRightsizingRecommendation": "error",
        "GetSavingsPlansPurchaseRecommendation": "error",
    }
    feats = features(store)
    assert all("daily cap of 2" in feats[op].message for op in OPERATIONS[2:])
    calls = rows(store, CeApiCall)
    assert [(c.operation, c.cost_usd) for c in calls] == [("GetCostForecast", 0.01), ("GetAnomalies", 0.01)]


def test_a_failure_while_storing_is_an_error_not_a_crash(store, monkeypatch):
    from finops.data import forecasts

    def broken(*_args):
        raise RuntimeError("disk full\nmore detail")

    monkeypatch.setattr(forecasts, "store_aws_forecast", broken)
    ce = ce_client()
    with Stubber(ce) as stub:
        queue_all(stub)
        outcomes = extras(store, ce)
        stub.assert_no_pending_responses()
    assert outcomes == {**dict.fromkeys(OPERATIONS, "ok"), "GetCostForecast": "error"}
    assert features(store)["GetCostForecast"].message == "RuntimeError: disk full"
    assert rows(store, AwsForecast) == [] and len(rows(store, Anomaly)) == 1


def test_an_unexpected_client_exception_is_an_error_not_a_crash(store):
    ce = ce_client()
    with Stubber(ce):  # nothing queued: botocore's Stubber raises a non-AWS error for each call
        outcomes = extras(store, ce)
    assert outcomes == dict.fromkeys(OPERATIONS, "error")
    assert features(store)["GetCostForecast"].message.startswith("UnStubbedResponseError")


# --- from run_refresh ----------------------------------------------------------------------------

CAU_REQUEST = {
    "TimePeriod": {"Start": "2026-11-01", "End": "2026-11-04"},
    "Granularity": "DAILY",
    "Metrics": ["UnblendedCost", "AmortizedCost"],
    "GroupBy": [{"Type": "DIMENSION", "Key": "SERVICE"}, {"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"}],
}


@pytest.fixture
def aws_settings(store, monkeypatch):
    monkeypatch.setenv("FINOPS_SOURCE", "aws")
    monkeypatch.setenv("FINOPS_AWS_REFRESH_MONTHS_BACK", "0")  # no history months to pull
    get_settings.cache_clear()
    return get_settings()


def test_refresh_runs_the_extras_and_survives_their_denial(store, aws_settings):
    ce = ce_client()
    org = boto3.client("organizations", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    denied = {
        name: error(op, "AccessDeniedException")
        for name, op in [
            ("forecast", "get_cost_forecast"),
            ("anomalies", "get_anomalies"),
            ("rightsizing", "get_rightsizing_recommendation"),
        ]
    }
    with Stubber(ce) as stub, Stubber(org) as org_stub:
        org_stub.add_response("list_accounts", {"Accounts": []}, {})
        stub.add_response("get_cost_and_usage", {"ResultsByTime": []}, CAU_REQUEST)
        queue_all(stub, **denied)
        with Session(store) as s:
            run = run_refresh(s, aws_settings, today=TODAY, clients=(ce, org), extras=True)
        stub.assert_no_pending_responses()
    assert run.status == "ok"
    assert {op: f.status for op, f in features(store).items()} == {
        "GetCostForecast": "not_permitted",
        "GetAnomalies": "not_permitted",
        "GetRightsizingRecommendation": "not_permitted",
        "GetSavingsPlansPurchaseRecommendation": "ok",
    }
    calls = rows(store, CeApiCall)
    assert len(calls) == 5 and {c.run_id for c in calls} == {run.id}  # the extras' calls belong to the run


def test_refresh_pinned_to_another_day_skips_the_extras(store, aws_settings):
    ce = ce_client()
    org = boto3.client("organizations", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(ce) as stub, Stubber(org) as org_stub:
        org_stub.add_response("list_accounts", {"Accounts": []}, {})
        stub.add_response("get_cost_and_usage", {"ResultsByTime": []}, CAU_REQUEST)
        with Session(store) as s:
            run = run_refresh(s, aws_settings, today=TODAY, clients=(ce, org))
    assert run.status == "ok" and features(store) == {}
