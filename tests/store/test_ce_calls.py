"""The Cost Explorer recorder is a botocore event hook: every request of a watched client is counted and capped."""

from datetime import UTC, datetime

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import EndpointConnectionError
from botocore.stub import Stubber
from sqlalchemy import select
from sqlmodel import Session

from finops.data import ce_calls
from finops.data.tables import CeApiCall

NOW = datetime(2026, 11, 4, 6, 0, tzinfo=UTC)
FORECAST_REQUEST = {
    "TimePeriod": {"Start": "2026-11-04", "End": "2026-12-01"},
    "Metric": "UNBLENDED_COST",
    "Granularity": "DAILY",
}


def ce_client():
    kw = {"region_name": "us-east-1", "aws_access_key_id": "x", "aws_secret_access_key": "x"}
    return boto3.client("ce", config=Config(retries={"mode": "standard", "max_attempts": 1}), **kw)


def calls(session: Session) -> list[tuple]:
    rows = session.execute(select(CeApiCall).order_by(CeApiCall.id)).scalars()
    return [(c.operation, c.page, c.status, c.error_code, c.cost_usd) for c in rows]


def test_every_operation_of_a_watched_client_is_recorded(engine):
    ce = ce_client()
    with Session(engine) as s, Stubber(ce) as stub:
        ce_calls.Recorder(s, 10, now=lambda: NOW).watch(ce)
        stub.add_response("get_cost_forecast", {"ForecastResultsByTime": []}, FORECAST_REQUEST)
        stub.add_response("get_anomalies", {"Anomalies": [], "NextPageToken": "t2"})
        stub.add_response("get_anomalies", {"Anomalies": []})
        stub.add_client_error("get_dimension_values", service_error_code="ValidationException", http_status_code=400)
        ce.get_cost_forecast(**FORECAST_REQUEST)
        pages = ce.get_paginator("get_anomalies").paginate(DateInterval={"StartDate": "2026-08-06"})
        assert len(list(pages)) == 2
        with pytest.raises(ce.exceptions.ClientError):
            ce.get_dimension_values(TimePeriod={"Start": "2026-11-01", "End": "2026-11-04"}, Dimension="SERVICE")
        assert calls(s) == [
            ("GetCostForecast", 1, "ok", None, 0.01),
            ("GetAnomalies", 1, "ok", None, 0.01),
            ("GetAnomalies", 2, "ok", None, 0.01),
            ("GetDimensionValues", 1, "error", "ValidationException", 0.0),
        ]


def test_a_request_without_an_answer_is_recorded_as_failed(engine):
    ce = ce_client()

    def unreachable(request, **_kwargs):
        raise EndpointConnectionError(endpoint_url=request.url)

    ce.meta.events.register("before-send.cost-explorer", unreachable)
    with Session(engine) as s:
        ce_calls.Recorder(s, 10, now=lambda: NOW).watch(ce)
        with pytest.raises(EndpointConnectionError):
            ce.get_cost_forecast(**FORECAST_REQUEST)
        assert calls(s) == [("GetCostForecast", 1, "error", "EndpointConnectionError", 0.0)]


def test_watching_again_replaces_the_earlier_recorder(engine):
    ce = ce_client()
    with Session(engine) as s, Stubber(ce) as stub:
        first = ce_calls.Recorder(s, 10, now=lambda: NOW)
        first.watch(ce)
        second = ce_calls.Recorder(s, 10, now=lambda: NOW)
        second.watch(ce)
        second.watch(ce)  # idempotent
        stub.add_response("get_cost_forecast", {"ForecastResultsByTime": []}, FORECAST_REQUEST)
        ce.get_cost_forecast(**FORECAST_REQUEST)
        assert (first.ids, len(second.ids)) == ([], 1) and len(calls(s)) == 1


def test_the_cap_refuses_before_anything_is_validated_or_sent(engine):
    ce = ce_client()
    with Session(engine) as s:
        s.add(CeApiCall(called_at=NOW, operation="GetCostAndUsage"))
        s.commit()
        ce_calls.Recorder(s, 1, now=lambda: NOW).watch(ce)
        with pytest.raises(ce_calls.BudgetExceeded, match="daily cap of 1"):
            ce.get_cost_forecast(Bad="parameters")  # refused before botocore would reject them
        assert len(calls(s)) == 1
