"""The API's request and response bodies (pydantic), which are also its OpenAPI schema.

Responses are rendered by `finops.api.responses` from the same DataFrames the pages show; these models describe
them (tests check every response against them through schemathesis). Keys are snake_case like the CSV columns;
query parameters keep the seed's camelCase names.
"""

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from finops.data import execution_fields, groups

MAX_BATCH = 10_000


class Meta(BaseModel):
    """What every response describes: the data version, how far the data runs, its currency, and freshness."""

    data_version: int = Field(description="Id of the newest successful refresh (the UI's cache key)")
    executions_version: int = Field(description="Id of the newest stored execution (0: none)")
    last_day: date | None = Field(description="The last day with cost data")
    currency: str | None = Field(
        description="The currency of the figures (a cost endpoint's `currency` parameter, else the store's default: "
        "USD when it holds USD, else the one with the most cost); null when the store holds none, or, for answers "
        "without cost figures, several"
    )
    currencies: list[str]
    stale: bool = Field(description="True when the latest refresh failed or none succeeded for 24 hours")
    stale_reason: str | None


class Error(BaseModel):
    status: int
    message: str = Field(description="What was wrong, naming the field")
    errors: list[dict] = Field(default_factory=list, description="One {field, message} per problem (422)")


class CostRow(BaseModel):
    month: date | None = None
    day: date | None = None
    service: str | None = None
    account_id: str | None = None
    account_name: str | None = None
    cost: float
    currency: str


class Costs(BaseModel):
    meta: Meta
    metric: Literal["unblended_cost", "amortized_cost"]
    data: list[CostRow]


class ServiceRow(BaseModel):
    service: str
    cost: float
    previous_cost: float
    change_pct: float | None
    share_pct: float | None
    currency: str


class ServiceBreakdown(BaseModel):
    meta: Meta
    metric: str
    start_date: date
    end_date: date = Field(description="Included")
    previous_start_date: date
    previous_end_date: date = Field(description="Included")
    data: list[ServiceRow]


class ForecastRow(BaseModel):
    month: date
    yhat: float
    yhat_lower: float
    yhat_upper: float
    days: int = Field(description="Days of the month the forecast covers")


class Forecast(BaseModel):
    meta: Meta
    forecast_run: int | None
    interval_level: int
    data: list[ForecastRow]


class RecommendationRow(BaseModel):
    id: int
    source: str
    kind: str
    account_id: str
    resource_id: str
    description: str
    estimated_monthly_savings: float
    status: str
    created_at: datetime


class Recommendations(BaseModel):
    meta: Meta
    total_monthly_savings: float
    data: list[RecommendationRow]


class AnomalyRow(BaseModel):
    id: int
    start_day: date
    end_day: date
    duration_days: int
    dimension: str
    service: str
    account_id: str
    expected: float | None
    actual: float | None
    impact: float
    impact_pct: float | None
    score: float | None
    source: str
    status: str
    low_confidence: bool
    contributors: str


class Anomalies(BaseModel):
    meta: Meta
    data: list[AnomalyRow]


class ExecutionCostRow(BaseModel):
    """One row of execution costs: a month, a workflow, a user or a run, depending on `by`."""

    model_config = ConfigDict(extra="allow")
    month: date | None = None
    workflow_id: str | None = None
    workflow_name: str | None = None
    user: str | None = None
    execution_id: str | None = None
    runs: int | None = None
    cost: float
    cost_per_run: float | None = None
    median_per_run: float | None = None
    p90_per_run: float | None = None
    min_per_run: float | None = None
    max_per_run: float | None = None
    share_pct: float | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    duration_hours: float | None = None
    status: str | None = None
    compute_type: str | None = None
    compute_count: int | None = None
    usd_per_hour: float | None = None


class ExecutionCosts(BaseModel):
    meta: Meta
    by: Literal["month", "workflow", "user", "run"]
    start_date: date
    end_date: date = Field(description="Excluded: the first day after the window")
    runs: int
    total_cost: float
    data: list[ExecutionCostRow]


class CombinedRow(BaseModel):
    month: date
    currency: str
    infrastructure_cost: float
    execution_cost: float
    total_cost: float
    execution_share_pct: float | None


class Combined(BaseModel):
    meta: Meta
    metric: str
    executions_in_bill: bool = Field(description="True: executions are a share of the bill, never added to it")
    data: list[CombinedRow]


class Everything(BaseModel):
    meta: Meta
    monthly_costs: list[CostRow]
    daily_costs: list[CostRow]
    service_breakdown: list[ServiceRow]
    cost_forecast: list[ForecastRow]
    savings_recommendations: list[RecommendationRow]
    cost_anomalies: list[AnomalyRow]
    execution_costs: list[ExecutionCostRow]
    combined_costs: list[CombinedRow]


class ExecutionIn(BaseModel):
    """One finished workflow run, as the platform reports it (the same fields as the CSV import)."""

    model_config = ConfigDict(extra="forbid")
    execution_id: str = Field(min_length=1, max_length=execution_fields.MAX_LEN["execution_id"])
    workflow_id: str = Field(min_length=1, max_length=execution_fields.MAX_LEN["workflow_id"])
    workflow_name: str = Field("", max_length=execution_fields.MAX_LEN["workflow_name"])
    user: str = Field("", max_length=execution_fields.MAX_LEN["user"])
    started_at: datetime = Field(description="ISO 8601; UTC when it has no offset")
    ended_at: datetime = Field(description="Not before started_at")
    status: Literal["succeeded", "failed", "cancelled"] = "succeeded"
    compute_type: str = Field(min_length=1, max_length=execution_fields.MAX_LEN["compute_type"])
    compute_count: int = Field(1, ge=1, le=execution_fields.MAX_COUNT)


class ExecutionBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    executions: list[ExecutionIn] = Field(min_length=1, max_length=MAX_BATCH)


class ExecutionsStored(BaseModel):
    received: int
    inserted: int
    existing: list[str] = Field(description="Execution ids already stored: left as they were (idempotent)")


class RefreshRequest(BaseModel):
    request_id: int
    status: str = Field(description="pending | running | done | failed")
    created: bool = Field(description="False when a waiting request was reused")
    requested_at: datetime
    requested_by: str
    started_at: datetime | None
    finished_at: datetime | None
    run_id: int | None
    error: str | None


class Group(BaseModel):
    id: int
    name: str
    description: str
    owner: str
    status: str
    created_at: datetime
    updated_at: datetime
    resources: int | None = None


class GroupMember(BaseModel):
    resource_type: str
    resource_id: str
    resource_name: str
    state: str | None
    hourly_cost: float | None
    monthly_cost: float | None = Field(description="hourly cost x 730")
    added_at: datetime
    added_by: str


class GroupList(BaseModel):
    meta: Meta
    total: int
    page: int
    page_size: int
    data: list[Group]


class GroupDetail(BaseModel):
    meta: Meta
    group: Group
    members: list[GroupMember]


class GroupRef(BaseModel):
    id: int
    name: str
    owner: str
    status: str


class GroupsOfResource(BaseModel):
    meta: Meta
    resource_type: str
    resource_id: str
    data: list[GroupRef]


class ResourceRef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    resource_type: str = Field(min_length=1, max_length=32)
    resource_id: str = Field(min_length=1, max_length=256)
    name: str = Field("", max_length=256)


class GroupCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=groups.MAX_NAME)
    description: str = Field("", max_length=groups.MAX_DESCRIPTION)
    resources: list[ResourceRef] = Field(default_factory=list, max_length=1000)


class GroupUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=groups.MAX_NAME)
    description: str | None = Field(None, max_length=groups.MAX_DESCRIPTION)
    status: Literal["active", "archived"] | None = None
