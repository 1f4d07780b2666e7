"""SQLModel tables of the store.

Money is stored as integer micro-units (1e-6 of `currency`) in `*_micros` columns, so sums are exact
integer sums on SQLite and PostgreSQL alike; read functions turn them into `unblended_cost` /
`amortized_cost` floats in the currency.
"""

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import JSON, BigInteger, Column, DateTime, Index, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


def money() -> Column:
    return Column(BigInteger, nullable=False, server_default="0")


def json_column() -> Column:
    """A JSON value (dict or list) in its own column type: JSON on PostgreSQL, JSON text on SQLite. SQLAlchemy
    does not see changes made inside the value: assign a new one."""
    return Column(JSON, nullable=False)


def new_uid() -> str:
    return uuid.uuid4().hex


# Ids people see or requests point at are never handed out twice. PostgreSQL sequences never go back; SQLite
# reuses the largest id after a delete unless the table is AUTOINCREMENT. Bulk cost tables are left out: their
# ids are never shown or referenced, and AUTOINCREMENT costs a write per insert.
NEVER_REUSED = {"sqlite_autoincrement": True}


class CostDaily(SQLModel, table=True):
    """One row of the cost contract: a day's cost of one service in one account (and region)."""

    __tablename__ = "cost_daily"
    __table_args__ = (
        UniqueConstraint("source", "day", "provider", "account_id", "service", "region", "currency"),
        # covering index: day-range reads (Home, daily spend) never touch the table itself
        Index("ix_cost_daily_day_cover", "day", "account_id", "service", "unblended_micros", "amortized_micros"),
    )

    id: int | None = Field(default=None, primary_key=True)
    day: date
    provider: str = Field(max_length=32)
    account_id: str = Field(max_length=256)
    account_name: str = Field(default="", max_length=256)
    service: str = Field(max_length=256)
    region: str = Field(default="", max_length=64)
    unblended_micros: int = Field(sa_column=money())
    amortized_micros: int = Field(sa_column=money())
    currency: str = Field(default="USD", max_length=3)
    estimated: bool = False
    source: str = Field(max_length=32)


class CostResourceDaily(SQLModel, table=True):
    """A day's cost of one resource (or, resource_id "", of what a bill names no resource for) in one account,
    service and region, from billing files (FOCUS): the same totals as cost_daily, one level finer."""

    __tablename__ = "cost_resource_daily"
    __table_args__ = (
        UniqueConstraint(
            "source", "day", "provider", "account_id", "resource_id", "service", "region", "currency",
            name="uq_cost_resource_daily_key",
        ),
        Index("ix_cost_resource_daily_resource", "resource_id", "day"),
    )  # fmt: skip

    id: int | None = Field(default=None, primary_key=True)
    day: date = Field(index=True)
    provider: str = Field(max_length=32)
    account_id: str = Field(max_length=256)
    resource_id: str = Field(default="", max_length=1024)  # ARNs and Azure ids run long
    resource_name: str = Field(default="", max_length=512)
    resource_type: str = Field(default="", max_length=256)
    service: str = Field(max_length=256)
    region: str = Field(default="", max_length=64)
    unblended_micros: int = Field(sa_column=money())
    amortized_micros: int = Field(sa_column=money())
    currency: str = Field(default="USD", max_length=3)
    tags: dict = Field(default_factory=dict, sa_column=json_column())
    source: str = Field(max_length=32)


class FocusSource(SQLModel, table=True):
    """A FOCUS location the sidecar polls (FINOPS_FOCUS_PATHS): what it held at its last import, and how the
    last look went; the next poll imports only when the location's listing differs from `digest`."""

    __tablename__ = "focus_source"

    location: str = Field(primary_key=True, max_length=1024)  # a path or s3://bucket/prefix, as configured
    digest: str = Field(default="", max_length=64)  # sha256 of the files imported last (name, version, size)
    files: int = 0  # how many files that import read
    run_id: int | None = None  # its refresh_run (the data version it made)
    imported_at: datetime | None = None
    checked_at: datetime | None = None  # the last look, imported or not
    status: str = Field(default="", max_length=16)  # ok, unchanged, failed
    error: str = Field(default="", max_length=2000)  # one line, the last failure's reason ("" after a success)


class CostDelivery(SQLModel, table=True):
    """One billing-file delivery of one provider's period (a FOCUS or CUR 2.0 import): when it came, from where,
    and what it left in the store; kept for every delivery, so a re-delivered period shows each time it came."""

    __tablename__ = "cost_delivery"
    __table_args__ = (Index("ix_cost_delivery_provider", "source", "provider", "window_start"), NEVER_REUSED)

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=32)
    provider: str = Field(max_length=32)
    window_start: date  # the period the delivery replaced: [window_start, window_end)
    window_end: date
    run_id: int | None = None  # the refresh_run that loaded it (the data version it made)
    location: str = Field(default="", max_length=1024)  # the file, folder or s3:// prefix as given
    files: int = 0
    rows: int = 0  # cost_daily rows of this provider in the window after the load
    resource_rows: int = 0  # cost_resource_daily rows likewise
    delivered_at: datetime = Field(default_factory=utcnow)


class CostMonthly(SQLModel, table=True):
    """Monthly rollup per account and service, derived from cost_daily after each load."""

    __tablename__ = "cost_monthly"
    __table_args__ = (Index("ix_cost_monthly_month", "month", "account_id", "service"),)

    id: int | None = Field(default=None, primary_key=True)
    month: date
    provider: str = Field(max_length=32)
    account_id: str = Field(max_length=256)
    account_name: str = Field(default="", max_length=256)
    service: str = Field(max_length=256)
    currency: str = Field(default="USD", max_length=3)
    unblended_micros: int = Field(sa_column=money())
    amortized_micros: int = Field(sa_column=money())
    days: int = 0
    estimated: bool = False


class CostMonthlyService(SQLModel, table=True):
    """Monthly rollup per service over all accounts, derived from cost_monthly (unfiltered monthly views)."""

    __tablename__ = "cost_monthly_service"
    __table_args__ = (Index("ix_cost_monthly_service_month", "month", "service"),)

    id: int | None = Field(default=None, primary_key=True)
    month: date
    service: str = Field(max_length=256)
    currency: str = Field(default="USD", max_length=3)
    unblended_micros: int = Field(sa_column=money())
    amortized_micros: int = Field(sa_column=money())


class CostAccount(SQLModel, table=True):
    """Every account that has cost data, with one of its names (the greatest, if it changed): the account picker."""

    __tablename__ = "cost_account"

    account_id: str = Field(primary_key=True, max_length=256)
    account_name: str = Field(default="", max_length=256)


class CostService(SQLModel, table=True):
    """Every service that has cost data (the service picker)."""

    __tablename__ = "cost_service"

    service: str = Field(primary_key=True, max_length=256)


class CostSourceMonth(SQLModel, table=True):
    """Monthly rollup per source, provider and currency, derived from cost_daily and cost_resource_daily after each
    load: what each source holds (Data Sources), without scanning the cost tables."""

    __tablename__ = "cost_source_month"
    __table_args__ = (Index("ix_cost_source_month_month", "month", "source", "provider"),)

    id: int | None = Field(default=None, primary_key=True)
    month: date
    source: str = Field(max_length=32)
    provider: str = Field(max_length=32)
    currency: str = Field(default="USD", max_length=3)
    rows: int = 0  # cost_daily rows
    resource_rows: int = 0  # cost_resource_daily rows
    accounts: int = 0
    first_day: date
    last_day: date


class CostDailyService(SQLModel, table=True):
    """Daily rollup per service over all accounts, derived after each load (long-range service views)."""

    __tablename__ = "cost_daily_service"
    __table_args__ = (Index("ix_cost_daily_service_day", "day", "service"),)

    id: int | None = Field(default=None, primary_key=True)
    day: date
    service: str = Field(max_length=256)
    currency: str = Field(default="USD", max_length=3)
    unblended_micros: int = Field(sa_column=money())
    amortized_micros: int = Field(sa_column=money())


class RefreshRun(SQLModel, table=True):
    """One load of a source's window; the id of the newest successful run is the data version."""

    __tablename__ = "refresh_run"
    __table_args__ = (NEVER_REUSED,)

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=32)
    status: str = Field(default="running", max_length=16, index=True)  # running | ok | failed
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    window_start: date | None = None
    window_end: date | None = None
    rows: int = 0
    error: str | None = None
    # a part of the refresh run with this id (a history month loaded by the same refresh); None: a run itself
    part_of: int | None = Field(default=None, foreign_key="refresh_run.id", index=True)


class User(SQLModel, table=True):
    """A person who logs in; the password is kept only as a bcrypt hash."""

    __tablename__ = "app_user"
    __table_args__ = (NEVER_REUSED,)

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True, index=True)
    name: str = Field(default="", max_length=128)
    email: str = Field(default="", max_length=256)
    role: str = Field(max_length=16)  # admin | member
    password_hash: str = Field(max_length=128)
    created_at: datetime = Field(default_factory=utcnow)
    failed_logins: int = 0  # consecutive failures since the last successful login
    locked_until: datetime | None = None  # after too many failures, no attempt is checked before this moment
    sessions_valid_after: datetime | None = None  # logins (and cookies) from before this moment are ended


class Heartbeat(SQLModel, table=True):
    """The sidecar's latest sign of life, one row per process name."""

    __tablename__ = "heartbeat"

    name: str = Field(primary_key=True, max_length=64)
    pid: int
    host: str = Field(max_length=256)
    started_at: datetime
    beat_at: datetime


class ForecastRun(SQLModel, table=True):
    """A batch of forecasts computed from one refresh (filled by the forecasting issue)."""

    __tablename__ = "forecast_run"
    __table_args__ = (NEVER_REUSED,)

    id: int | None = Field(default=None, primary_key=True)
    refresh_run_id: int | None = Field(default=None, foreign_key="refresh_run.id")
    created_at: datetime = Field(default_factory=utcnow)
    metric: str = Field(default="unblended_cost", max_length=32)
    interval_level: float = 0.8
    horizon_days: int = 90
    status: str = Field(default="ok", max_length=16)  # running | ok | failed
    finished_at: datetime | None = None
    message: str | None = None  # why it failed, or how many series were skipped
    done: int = 0  # series finished so far (progress of a running run)
    total: int = 0  # series in the run


class ForecastSeries(SQLModel, table=True):
    """One series of a forecast run: its history, its back-test error beside the seasonal-naive one, or why
    it was skipped."""

    __tablename__ = "forecast_series"
    __table_args__ = (UniqueConstraint("run_id", "series"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="forecast_run.id", index=True)
    series: str = Field(max_length=300)  # total | service:NAME | account:ID
    history_days: int = 0
    low_confidence: bool = False
    mape: float | None = None  # back-test MAPE of 30-day-ahead forecasts from the last 3 origins, chosen model
    naive_mape: float | None = None  # the same for the seasonal-naive baseline (same weekday, last 4 weeks)
    skipped: str | None = None  # the reason, when the series got no forecast
    model: str | None = Field(default=None, max_length=32)  # the model the back-test chose
    last_week_mape: float | None = None  # back-test MAPE of "last week repeated"
    total_error: float | None = None  # back-test error of the 30-day total, chosen model
    naive_total_error: float | None = None
    last_week_total_error: float | None = None
    coverage: float | None = None  # share of back-test days inside the stored band


class ForecastPoint(SQLModel, table=True):
    """One forecast day of one series ("total", "service:NAME", "account:ID"), in Prophet's names."""

    __tablename__ = "forecast_point"
    __table_args__ = (UniqueConstraint("run_id", "series", "ds"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="forecast_run.id", index=True)
    series: str = Field(max_length=300)
    ds: date
    yhat: float
    yhat_lower: float
    yhat_upper: float


class Recommendation(SQLModel, table=True):
    """A way to save money, from AWS or from the project's own analysis (filled by later issues)."""

    __tablename__ = "recommendation"
    __table_args__ = (NEVER_REUSED,)

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=32)  # aws_rightsizing | aws_savings_plans | idle | schedule ...
    kind: str = Field(max_length=64)
    account_id: str = Field(default="", max_length=64)
    resource_id: str = Field(default="", max_length=256)
    description: str = Field(default="", max_length=1000)
    estimated_monthly_savings: float = 0.0
    currency: str = Field(default="USD", max_length=3)
    status: str = Field(default="open", max_length=16, index=True)  # open | dismissed | done
    created_at: datetime = Field(default_factory=utcnow)


class CeApiCall(SQLModel, table=True):
    """One billed Cost Explorer request (USD 0.01 each), successful or not: the API spend and the daily cap."""

    __tablename__ = "ce_api_call"

    id: int | None = Field(default=None, primary_key=True)
    called_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True), index=True)
    operation: str = Field(max_length=64)
    page: int = 1  # 1-based page of a paginated request
    run_id: int | None = Field(default=None, foreign_key="refresh_run.id", index=True)
    status: str = Field(default="ok", max_length=16)  # ok | error
    error_code: str | None = Field(default=None, max_length=128)
    retries: int = 0  # botocore's retry attempts inside this call (ResponseMetadata.RetryAttempts)
    cost_usd: float = 0.01


class RefreshRequest(SQLModel, table=True):
    """A refresh asked for by a person (UI button, CLI); the sidecar takes it within seconds."""

    __tablename__ = "refresh_request"
    __table_args__ = (NEVER_REUSED,)

    id: int | None = Field(default=None, primary_key=True)
    requested_at: datetime = Field(default_factory=utcnow)
    requested_by: str = Field(default="", max_length=64)
    backfill: bool = False
    status: str = Field(default="pending", max_length=16, index=True)  # pending | running | done | failed
    started_at: datetime | None = None
    finished_at: datetime | None = None
    run_id: int | None = Field(default=None, foreign_key="refresh_run.id")
    error: str | None = None


class CeFeature(SQLModel, table=True):
    """The last outcome of each once-a-day Cost Explorer call (forecast, anomalies, recommendations)."""

    __tablename__ = "ce_feature"

    operation: str = Field(primary_key=True, max_length=64)  # e.g. GetCostForecast
    last_attempt_at: datetime | None = None
    last_success_at: datetime | None = None
    status: str = Field(default="never", max_length=16)  # never | ok | not_permitted | error
    message: str | None = None


class AwsForecast(SQLModel, table=True):
    """AWS's own cost forecast (GetCostForecast, DAILY), shown beside ours; replaced by each fetch."""

    __tablename__ = "aws_forecast"
    __table_args__ = (UniqueConstraint("metric", "ds"),)

    id: int | None = Field(default=None, primary_key=True)
    fetched_at: datetime = Field(default_factory=utcnow)
    metric: str = Field(default="unblended_cost", max_length=32)
    ds: date
    yhat: float
    yhat_lower: float | None = None
    yhat_upper: float | None = None
    interval_level: int = 80


class Anomaly(SQLModel, table=True):
    """A cost anomaly, from AWS Cost Anomaly Detection (source "aws") or our detector (source "finops").

    `external_id` is stable across runs (AWS's AnomalyId, or our series + start day), so feedback survives
    re-detection.
    """

    __tablename__ = "anomaly"
    __table_args__ = (UniqueConstraint("source", "external_id"), NEVER_REUSED)

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=16)  # aws | finops
    external_id: str = Field(max_length=300)
    dimension: str = Field(default="", max_length=16)  # service | account | total | "" (AWS monitors)
    service: str = Field(default="", max_length=256)
    account_id: str = Field(default="", max_length=256)
    start_day: date
    end_day: date | None = None
    expected: float | None = None
    actual: float | None = None
    impact: float = 0.0  # sum of actual minus expected, in the currency
    score: float | None = None
    # root causes / the accounts or services that moved most: a list of objects
    contributors: list = Field(default_factory=list, sa_column=json_column())
    low_confidence: bool = False
    feedback: str | None = Field(default=None, max_length=32)  # confirmed | false_positive | planned
    feedback_by: str | None = Field(default=None, max_length=64)
    feedback_at: datetime | None = None
    detected_at: datetime = Field(default_factory=utcnow)
    # the same rise seen by service and by account: both rows carry the event's key (ours only)
    event_id: str | None = Field(default=None, max_length=300, index=True)


class AnomalyRun(SQLModel, table=True):
    """One scan of the stored costs for anomalies: its progress while it runs, then its outcome."""

    __tablename__ = "anomaly_run"
    __table_args__ = (NEVER_REUSED,)

    id: int | None = Field(default=None, primary_key=True)
    refresh_run_id: int | None = Field(default=None, foreign_key="refresh_run.id")
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    status: str = Field(default="running", max_length=16)  # running | ok | failed
    step: str = Field(default="", max_length=64)  # what it is doing now
    done: int = 0
    total: int = 0
    message: str | None = None


class Resource(SQLModel, table=True):
    """A thing that costs money while it runs: a platform resource (CLI) or an AWS one (discovery)."""

    __tablename__ = "resource"
    __table_args__ = (UniqueConstraint("resource_type", "resource_id"), NEVER_REUSED)

    id: int | None = Field(default=None, primary_key=True)
    resource_type: str = Field(max_length=32)  # one of finops.data.resources.RESOURCE_TYPES
    resource_id: str = Field(max_length=256)
    name: str = Field(max_length=256, index=True)
    owner: str = Field(default="", max_length=64)
    state: str = Field(default="", max_length=32)
    hourly_cost: float = 0.0
    tags: dict = Field(default_factory=dict, sa_column=json_column())  # the resource's own tags (AWS, CSV)
    account_id: str = Field(default="", max_length=64)
    region: str = Field(default="", max_length=64)
    source: str = Field(default="platform", max_length=16)  # platform | aws
    updated_at: datetime = Field(default_factory=utcnow)
    # what the last stop saved to restore later (an Auto Scaling group's min/max/desired, an ECS desiredCount)
    saved_state: dict = Field(default_factory=dict, sa_column=json_column())
    seen_at: datetime | None = None  # when discovery last found it (AWS resources)
    size: str = Field(default="", max_length=64)  # instance type, DB class or Fargate "cpu/memory" (discovery)
    price_known: bool = True  # False: no price is known for this size, and hourly_cost is 0, not a guess
    price_source: str = Field(default="", max_length=32)  # price_list_api | bundled | "" (typed in, or unknown)
    price_as_of: date | None = None  # the day the price was fetched (API) or recorded (bundled table)
    cpu_checked_on: date | None = None  # the UTC day CloudWatch's CPU was last read (at most once a day)
    cpu_peak: float | None = None  # the highest daily peak CPU (%) over that check's window
    idle: bool = False  # the peak stayed under the idle threshold every day of the window


class ResourceGroup(SQLModel, table=True):
    """A named collection of resources, owned by one user (admins see every group)."""

    __tablename__ = "resource_group"
    __table_args__ = (
        UniqueConstraint("owner", "name"),
        Index("ix_resource_group_name", "name"),
        NEVER_REUSED,
    )

    id: int | None = Field(default=None, primary_key=True)
    # which group, even if an id were ever handed out again: requests carry it and the sidecar compares it
    uid: str = Field(default_factory=new_uid, max_length=32, unique=True)
    name: str = Field(max_length=100)
    description: str = Field(default="", max_length=1000)
    owner: str = Field(max_length=64)  # username
    status: str = Field(default="active", max_length=16, index=True)  # active | archived
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class ResourceGroupMember(SQLModel, table=True):
    """One resource in one group; the same resource (type + id) at most once per group."""

    __tablename__ = "resource_group_member"
    __table_args__ = (
        UniqueConstraint("group_id", "resource_type", "resource_id"),
        Index("ix_resource_group_member_resource", "resource_type", "resource_id"),
        NEVER_REUSED,
    )

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="resource_group.id", ondelete="CASCADE")
    resource_type: str = Field(max_length=32)
    resource_id: str = Field(max_length=256)
    resource_name: str = Field(default="", max_length=256)
    added_at: datetime = Field(default_factory=utcnow)
    added_by: str = Field(default="", max_length=64)


class AuditLog(SQLModel, table=True):
    """Who did what to which object, and when (resource groups now; schedules and budgets later)."""

    __tablename__ = "audit_log"
    __table_args__ = (NEVER_REUSED,)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str = Field(max_length=64)
    action: str = Field(max_length=32)  # create | update | delete | add | remove ...
    object_type: str = Field(max_length=32)
    object_id: str = Field(default="", max_length=300)
    detail: dict = Field(default_factory=dict, sa_column=json_column())


class PowerAction(SQLModel, table=True):
    """A "Stop all" / "Start all" asked for on a resource group; the sidecar carries it out through the drivers.

    `results` is a list with one {resource_type, resource_id, name, before, after, outcome, error} per member.
    """

    __tablename__ = "power_action"
    __table_args__ = (NEVER_REUSED,)

    id: int | None = Field(default=None, primary_key=True)
    requested_at: datetime = Field(default_factory=utcnow)
    requested_by: str = Field(max_length=64)
    group_id: int = Field(index=True)  # no foreign key: the log outlives a deleted group
    group_uid: str = Field(default="", max_length=32)  # the group it was filed for (ResourceGroup.uid)
    group_name: str = Field(max_length=100)
    action: str = Field(max_length=8)  # stop | start
    # pending | running | done | partial | failed | refused (the sidecar's re-check) | cancelled (group deleted)
    status: str = Field(default="pending", max_length=16, index=True)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    results: list = Field(default_factory=list, sa_column=json_column())
    error: str | None = None


class Schedule(SQLModel, table=True):
    """When its targets run: periods in an IANA time zone, holidays, dated exceptions and overrides; owned by a
    user (admins see every schedule)."""

    __tablename__ = "schedule"
    __table_args__ = (UniqueConstraint("owner", "name"), NEVER_REUSED)

    id: int | None = Field(default=None, primary_key=True)
    uid: str = Field(default_factory=new_uid, max_length=32, unique=True)
    name: str = Field(max_length=100)
    description: str = Field(default="", max_length=1000)
    owner: str = Field(max_length=64, index=True)  # username
    timezone: str = Field(default="UTC", max_length=64)  # IANA name, e.g. Europe/Berlin
    enforced: bool = False  # re-apply the desired state every tick (an RDS instance AWS restarted, say)
    retain_running: bool = False  # a target started by hand before a period began is not stopped at its end
    holiday_country: str = Field(default="", max_length=8)  # ISO code for the `holidays` package; "" = none
    holiday_subdivision: str = Field(default="", max_length=16)
    holiday_ics: str = Field(default="")  # an iCalendar of blackout days (its text), "" = none
    holiday_ics_url: str = Field(default="", max_length=1000)  # where holiday_ics came from, if a URL
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class SchedulePeriod(SQLModel, table=True):
    """One period of a schedule, in AWS Instance Scheduler's language (see finops.scheduling)."""

    __tablename__ = "schedule_period"

    id: int | None = Field(default=None, primary_key=True)
    schedule_id: int = Field(foreign_key="schedule.id", ondelete="CASCADE", index=True)
    position: int = 0
    begin: str = Field(default="", max_length=5)  # HH:MM, "" = none
    end: str = Field(default="", max_length=5)
    weekdays: str | None = Field(default=None, max_length=200)  # None = every day
    monthdays: str | None = Field(default=None, max_length=200)
    months: str | None = Field(default=None, max_length=200)


class ScheduleException(SQLModel, table=True):
    """A local day on which a schedule's targets stay running or stopped all day, whatever the periods say."""

    __tablename__ = "schedule_exception"
    __table_args__ = (UniqueConstraint("schedule_id", "day"),)

    id: int | None = Field(default=None, primary_key=True)
    schedule_id: int = Field(foreign_key="schedule.id", ondelete="CASCADE", index=True)
    day: date
    state: str = Field(max_length=16)  # running | stopped
    note: str = Field(default="", max_length=200)


class ScheduleTarget(SQLModel, table=True):
    """What a schedule acts on: a resource group (id and uid) or one resource (type and id)."""

    __tablename__ = "schedule_target"
    __table_args__ = (UniqueConstraint("schedule_id", "group_id", "resource_type", "resource_id"),)

    id: int | None = Field(default=None, primary_key=True)
    schedule_id: int = Field(foreign_key="schedule.id", ondelete="CASCADE", index=True)
    group_id: int = Field(default=0, index=True)  # 0 = a single resource
    group_uid: str = Field(default="", max_length=32)
    resource_type: str = Field(default="", max_length=32)
    resource_id: str = Field(default="", max_length=256)


class ScheduleOverride(SQLModel, table=True):
    """ "Keep running until Friday 18:00": a state forced on a schedule until an expiry, with who and why."""

    __tablename__ = "schedule_override"
    __table_args__ = (NEVER_REUSED,)

    id: int | None = Field(default=None, primary_key=True)
    schedule_id: int = Field(foreign_key="schedule.id", ondelete="CASCADE", index=True)
    state: str = Field(max_length=16)  # running | stopped
    starts_at: datetime = Field(default_factory=utcnow)
    until: datetime
    reason: str = Field(default="", max_length=500)
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    cancelled_at: datetime | None = None
    cancelled_by: str | None = Field(default=None, max_length=64)


class ScheduleAction(SQLModel, table=True):
    """One start or stop the sidecar carried out (or tried) for a schedule: the activity log."""

    __tablename__ = "schedule_action"
    __table_args__ = (Index("ix_schedule_action_schedule", "schedule_id", "at"), NEVER_REUSED)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    schedule_id: int  # no foreign key: the log outlives a deleted schedule
    schedule_name: str = Field(max_length=100)
    resource_type: str = Field(max_length=32)
    resource_id: str = Field(max_length=256)
    action: str = Field(max_length=8)  # start | stop | none (left alone: retained, refused)
    before: str = Field(default="", max_length=32)
    after: str = Field(default="", max_length=32)
    error: str | None = None
    attempt: int = 1


class ScheduleResourceState(SQLModel, table=True):
    """What the reconciler remembers of a scheduled resource: the desired state it last reached, a start kept by
    hand (retain_running), and a failed action waiting to be retried."""

    __tablename__ = "schedule_resource_state"
    __table_args__ = (UniqueConstraint("resource_type", "resource_id"),)

    id: int | None = Field(default=None, primary_key=True)
    resource_type: str = Field(max_length=32)
    resource_id: str = Field(max_length=256)
    last_desired: str = Field(default="", max_length=16)  # running | stopped | "" (never reached)
    retained: bool = False
    failures: int = 0
    retry_at: datetime | None = None
    last_error: str | None = None
    updated_at: datetime = Field(default_factory=utcnow)


class ResourceInterval(SQLModel, table=True):
    """The ledger: one running or stopped interval of a resource ([started_at, ended_at); open while None),
    with its hourly cost then and what caused it (schedule:ID, stop_all:ID, discovery ...)."""

    __tablename__ = "resource_interval"
    __table_args__ = (Index("ix_resource_interval_resource", "resource_type", "resource_id", "ended_at"),)

    id: int | None = Field(default=None, primary_key=True)
    resource_type: str = Field(max_length=32)
    resource_id: str = Field(max_length=256)
    state: str = Field(max_length=16)  # running | stopped
    started_at: datetime = Field(index=True)
    ended_at: datetime | None = None
    hourly_cost: float = 0.0
    cause: str = Field(default="", max_length=64)


class Budget(SQLModel, table=True):
    """A spending limit on a scope (the platform, narrowed to accounts and services; a user's resources; a
    group's) per calendar period, owned by a user; the amount is fixed or set at each period's start."""

    __tablename__ = "budget"
    __table_args__ = (UniqueConstraint("owner", "name"), NEVER_REUSED)

    id: int | None = Field(default=None, primary_key=True)
    uid: str = Field(default_factory=new_uid, max_length=32, unique=True)
    name: str = Field(max_length=100)
    description: str = Field(default="", max_length=1000)
    owner: str = Field(max_length=64, index=True)  # username
    scope: str = Field(max_length=16)  # platform | user | group
    scope_user: str = Field(default="", max_length=64)  # the person of a user budget
    group_id: int = 0  # the group of a group budget (with its uid: a group made again is another group)
    group_uid: str = Field(default="", max_length=32)
    accounts: list = Field(default_factory=list, sa_column=json_column())  # platform: [] = every account
    services: list = Field(default_factory=list, sa_column=json_column())  # platform: [] = every service
    period: str = Field(default="monthly", max_length=16)  # monthly | quarterly | annual
    amount_micros: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))  # None: automatic
    auto_basis: str = Field(default="", max_length=16)  # average | forecast (when automatic)
    auto_periods: int = 3
    metric: str = Field(default="unblended", max_length=16)  # unblended | amortized
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class BudgetThreshold(SQLModel, table=True):
    """One of a budget's (up to 10) thresholds: a % of the amount or an absolute figure, on actual or forecast
    spend, the channels it alerts and the action it proposes."""

    __tablename__ = "budget_threshold"
    __table_args__ = (NEVER_REUSED,)

    id: int | None = Field(default=None, primary_key=True)
    budget_id: int = Field(foreign_key="budget.id", ondelete="CASCADE", index=True)
    position: int = 0
    at: float
    kind: str = Field(default="percent", max_length=16)  # percent | absolute
    on: str = Field(default="actual", max_length=16)  # actual | forecast
    channels: list = Field(default_factory=list, sa_column=json_column())  # names; the inbox always gets it
    action: str = Field(default="notify", max_length=16)  # notify | schedule | stop
    approval: str = Field(default="manual", max_length=16)  # manual | automatic
    schedule_name: str = Field(default="", max_length=100)  # what a schedule action attaches


class BudgetPeriod(SQLModel, table=True):
    """A budget's figures in one period as the last evaluation found them (the amount it fixed at the period's
    first evaluation, actual and forecast spend, status)."""

    __tablename__ = "budget_period"
    __table_args__ = (UniqueConstraint("budget_id", "period_start"),)

    id: int | None = Field(default=None, primary_key=True)
    budget_id: int = Field(foreign_key="budget.id", ondelete="CASCADE", index=True)
    period_start: date
    period_end: date
    amount_micros: int = Field(sa_column=money())
    amount_set_at: datetime = Field(default_factory=utcnow)
    amount_basis: str = Field(default="fixed", max_length=200)  # fixed, or how an automatic amount was set
    actual_micros: int = Field(sa_column=money())
    forecast_micros: int = Field(sa_column=money())
    basis: str = Field(default="billed", max_length=16)  # billed | estimated
    forecast_basis: str = Field(default="", max_length=200)
    status: str = Field(default="ok", max_length=16)
    as_of: datetime = Field(default_factory=utcnow)
    evaluated_at: datetime = Field(default_factory=utcnow)


class BudgetAlert(SQLModel, table=True):
    """A threshold crossed in a period: at most one per threshold and period, whoever evaluates and however often
    (the unique constraint, not memory). Kept when its budget is deleted: the history names it."""

    __tablename__ = "budget_alert"
    __table_args__ = (UniqueConstraint("budget_id", "threshold_id", "period_start"), NEVER_REUSED)

    id: int | None = Field(default=None, primary_key=True)
    budget_id: int = Field(index=True)
    threshold_id: int
    period_start: date
    period_end: date
    budget_name: str = Field(max_length=100)
    owner: str = Field(max_length=64, index=True)  # the budget's owner then (who sees it besides admins)
    threshold: str = Field(max_length=200)  # its label then, e.g. "80 % of actual"
    on: str = Field(max_length=16)
    value_micros: int = Field(sa_column=money())  # the actual or forecast spend that crossed it
    limit_micros: int = Field(sa_column=money())
    amount_micros: int = Field(sa_column=money())
    basis: str = Field(default="billed", max_length=16)
    message: str = Field(default="")
    created_at: datetime = Field(default_factory=utcnow, index=True)


class Notification(SQLModel, table=True):
    """An alert on its way to an email or webhook channel: the outbox, retried with backoff, sent at most once."""

    __tablename__ = "notification"
    __table_args__ = (UniqueConstraint("alert_id", "channel"), NEVER_REUSED)

    id: int | None = Field(default=None, primary_key=True)
    alert_id: int = Field(index=True)
    channel: str = Field(max_length=320)  # a settings channel's name, or email:ADDRESS
    kind: str = Field(max_length=16)  # email | webhook
    subject: str = Field(max_length=300)
    body: str = Field(default="")
    status: str = Field(default="pending", max_length=16, index=True)  # pending|sending|delivered|failed|unknown
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    last_error: str | None = None
    delivered_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class InboxSeen(SQLModel, table=True):
    """How far a user has read the in-app inbox (alert ids only grow, so one number per user is enough)."""

    __tablename__ = "inbox_seen"

    username: str = Field(primary_key=True, max_length=64)
    last_alert_id: int = 0
    seen_at: datetime = Field(default_factory=utcnow)


class BudgetAction(SQLModel, table=True):
    """What a crossed threshold proposes beyond an alert (stop the scope's resources, or attach a schedule to them
    for the rest of the period): its preview, approval, what the sidecar did, and its undo at the next period."""

    __tablename__ = "budget_action"
    __table_args__ = (UniqueConstraint("alert_id"), NEVER_REUSED)

    id: int | None = Field(default=None, primary_key=True)
    budget_id: int = Field(index=True)
    budget_name: str = Field(max_length=100)
    owner: str = Field(max_length=64)  # the budget's owner then
    alert_id: int
    threshold: str = Field(max_length=200)
    action: str = Field(max_length=16)  # stop | schedule
    schedule_id: int = 0  # what a schedule action attaches
    schedule_name: str = Field(default="", max_length=100)
    period_start: date
    period_end: date
    # awaiting_approval | approved | running | done | failed | rejected | expired | undone
    status: str = Field(max_length=24, index=True)
    preview: dict = Field(default_factory=dict, sa_column=json_column())  # resources, changes, saved_per_day
    approved_by: str = Field(default="", max_length=64)
    approved_at: datetime | None = None
    done_at: datetime | None = None
    result: dict = Field(default_factory=dict, sa_column=json_column())  # per resource: before, after, outcome
    undone_at: datetime | None = None
    undo_result: dict = Field(default_factory=dict, sa_column=json_column())
    message: str = Field(default="")
    created_at: datetime = Field(default_factory=utcnow)


class AwsPrice(SQLModel, table=True):
    """An on-demand hourly price from the AWS Price List API, per family, size, region and engine, with its date
    (or the record that the API had none for it then, so it is asked again only after a week).

        family: ec2 (size = instance type), rds (size = DB instance class, engine = mysql | postgres | mariadb,
        Single-AZ) or fargate (size = vcpu or gb: per vCPU-hour or per GB-hour, Linux/x86).
    """

    __tablename__ = "aws_price"
    __table_args__ = (UniqueConstraint("family", "size", "region", "engine"),)

    id: int | None = Field(default=None, primary_key=True)
    family: str = Field(max_length=16)
    size: str = Field(max_length=64)
    region: str = Field(max_length=32)
    engine: str = Field(default="", max_length=32)
    usd_per_hour: float | None = None  # None: the API was asked (at fetched_at) and gave no single price
    effective_date: date | None = None  # the price list's effectiveDate of the on-demand term
    fetched_at: datetime = Field(default_factory=utcnow)
    sku: str = Field(default="", max_length=64)


class ExecutionRate(SQLModel, table=True):
    """The rate card: what one unit of a compute type costs per hour from `effective_from` on (USD micro-units).

    A new rate is a new row; an execution's cost is computed once, from the rate in force when it started, so a
    rate change never rewrites history.
    """

    __tablename__ = "execution_rate"
    __table_args__ = (UniqueConstraint("compute_type", "effective_from"), NEVER_REUSED)

    id: int | None = Field(default=None, primary_key=True)
    compute_type: str = Field(max_length=64)
    effective_from: datetime
    usd_per_hour_micros: int = Field(sa_column=money())
    gpu: bool = False
    note: str = Field(default="", max_length=256)
    created_at: datetime = Field(default_factory=utcnow)
    created_by: str = Field(default="", max_length=64)


class Execution(SQLModel, table=True):
    """One workflow run reported by the platform (API, CSV or the demo), with its cost computed once."""

    __tablename__ = "execution"
    __table_args__ = (Index("ix_execution_started_at", "started_at"), NEVER_REUSED)

    id: int | None = Field(default=None, primary_key=True)
    execution_id: str = Field(max_length=128, unique=True)  # the platform's id: a re-sent run is not stored twice
    workflow_id: str = Field(max_length=128, index=True)
    workflow_name: str = Field(default="", max_length=256)
    username: str = Field(default="", max_length=64)
    started_at: datetime
    ended_at: datetime
    status: str = Field(default="succeeded", max_length=16)  # succeeded | failed | cancelled
    compute_type: str = Field(max_length=64)
    compute_count: int = 1
    rate_micros: int = Field(sa_column=money())  # USD per hour per unit in force when it started
    cost_micros: int = Field(sa_column=money())  # rate x count x duration, rounded half-even once
    currency: str = Field(default="USD", max_length=3)
    source: str = Field(default="api", max_length=16)  # api | csv | demo
    received_at: datetime = Field(default_factory=utcnow)


class ApiToken(SQLModel, table=True):
    """A bearer token of the REST API, acting as its user; only the SHA-256 of the token is kept."""

    __tablename__ = "api_token"
    __table_args__ = (NEVER_REUSED,)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True)
    username: str = Field(max_length=64, index=True)
    token_hash: str = Field(max_length=64, unique=True)  # hex SHA-256 of the whole token
    prefix: str = Field(max_length=16)  # the token's first characters, to recognise it in a list
    created_at: datetime = Field(default_factory=utcnow)
    created_by: str = Field(default="", max_length=64)
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None


class ExchangeRate(SQLModel, table=True):
    """An exchange rate an admin imported: `rate_nanos` / 1e9 units of the reporting currency (USD) per 1 unit of
    `currency`, in force from `day` until the next rate of that currency."""

    __tablename__ = "exchange_rate"

    currency: str = Field(primary_key=True, max_length=3)
    day: date = Field(primary_key=True)
    rate_nanos: int = Field(sa_column=Column(BigInteger, nullable=False))  # the rate to 9 decimals, exactly
    source: str = Field(default="", max_length=255)  # the file it came from
    imported_at: datetime = Field(default_factory=utcnow)
    imported_by: str = Field(default="", max_length=64)
