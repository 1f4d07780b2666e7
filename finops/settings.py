"""The one settings object, read from FINOPS_* environment variables and a .env file.

Every setting is checked when it is read: `get_settings()` raises InvalidSettings with one line naming each bad
variable and what it allows, which the UI, the CLI (exit 2) and the sidecar (exit 2) print as it is.
"""

import json
import os
import re
import secrets
from functools import cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict, SettingsError

SOURCES = ("auto", "aws", "demo")
ENV_PREFIX = "FINOPS_"
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
COOKIE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
CHANNEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")
WEBHOOK = re.compile(r"^https?://[^\s/?#]+[^\s]*$")
S3_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")  # S3's bucket naming rules (3-63 characters)
MIN_COOKIE_KEY = 32  # PyJWT warns about shorter HMAC keys
SECRET_FIELDS = ("database_url", "cookie_key", "smtp_password", "channels")  # never echoed back in a message


class InvalidSettings(ValueError):
    """One or more FINOPS_* settings are not allowed; the message names each and what it allows."""


def _text_list(value, example: str):
    """A list setting given as text: a JSON list, or comma-separated items; anything else is returned as is."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if not text.startswith("["):
        return [part.strip() for part in text.split(",") if part.strip()]
    try:
        return json.loads(text)
    except ValueError:
        raise ValueError(f"must be a JSON list such as {example}") from None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_file=".env", extra="ignore")

    data_dir: Path = Field(Path("data"), description="Where the SQLite store and the generated cookie key live")
    database_url: str = Field("", description="SQLAlchemy URL of the store; empty means sqlite:///<data_dir>/finops.db")
    source: Literal["auto", "aws", "demo"] = Field(
        "auto", description="Cost source: aws, demo, or auto (aws when boto3 finds credentials, else demo)"
    )
    demo_seed: int = Field(42, ge=0, description="Seed of the demo organisation")
    host: str = Field(
        "127.0.0.1",
        min_length=1,
        description="Address the web UI listens on; 0.0.0.0 opens it to the network (put TLS in front)",
    )
    port: int = Field(8501, ge=1, le=65535, description="Port of the web UI that `make run` starts")
    cookie_key: str = Field(
        "", description="Key signing the login cookie; empty means generated once into <data_dir>/cookie_key"
    )
    cookie_name: str = Field("finops_auth", description="Name of the login cookie")
    cookie_expiry_days: float = Field(7, gt=0, le=365, description="How long a login lasts")
    aws_refresh_months_back: int = Field(
        13, ge=0, le=13, description="Whole months before the current one that the first AWS refresh backfills"
    )
    aws_grace_days: int = Field(
        3, ge=0, le=28, description="During the first N days of a month, refreshes also re-pull the previous month"
    )
    aws_max_requests_per_day: int = Field(
        500,
        ge=0,
        description="Cap on billed Cost Explorer requests (USD 0.01 each) per UTC day: at most USD 5 a day. "
        "A first load of 40 accounts x 120 services needs about 165 for the open month and 2,100 for 13 months "
        "of history, which then spreads over a few days",
    )
    aws_change_probe: bool = Field(
        True,
        description="Before a steady refresh, ask Cost Explorer for daily totals (one request) and re-pull only "
        "the days that changed",
    )
    aws_partial_days: int = Field(
        1,
        ge=0,
        le=3,
        description="Newest days (before today, UTC) that steady refreshes leave out while Cost Explorer is still "
        "filling them in; they are pulled once settled. The first refresh of an empty store includes them",
    )
    aws_price_list: bool = Field(
        True,
        description="Price discovered AWS resources from the AWS Price List API (pricing:GetProducts, free); "
        "false: the bundled price table only (offline)",
    )
    aws_retry_mode: Literal["standard", "adaptive"] = Field("standard", description="botocore retry mode")
    aws_max_attempts: int = Field(
        5, ge=1, le=20, description="botocore's total attempts per AWS call (first one included)"
    )
    heartbeat_seconds: int = Field(30, ge=1, le=300, description="How often the sidecar records that it is alive")
    refresh_cron: str = Field(
        "0 5,13,21 * * *", description="When the sidecar refreshes costs (crontab, UTC): three times a day"
    )
    request_poll_seconds: int = Field(
        5, ge=1, le=3600, description="How often the sidecar looks for refreshes and stop/start requests"
    )
    startup_wait_seconds: float = Field(
        30, ge=0, le=3600, description="How long the sidecar retries reaching the store at startup before it gives up"
    )
    aws_regions: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["us-east-1"],
        description='Regions where AWS resources are discovered: a JSON list (["us-east-1","eu-west-1"]) or '
        "a comma-separated list (us-east-1,eu-west-1)",
    )
    owner_tag: str = Field(
        "owner",
        min_length=1,
        max_length=128,
        description="Key of the AWS tag that names a resource's owner (matched case-insensitively); a member may "
        "group, stop and start only the resources they own",
    )
    discovery_minutes: int = Field(
        15, ge=1, le=1440, description="Minutes between discoveries of AWS resources and their state (AWS source only)"
    )
    forecast_top_n: int = Field(20, ge=0, le=200, description="Services forecast one by one (the top N by spend)")
    forecast_interval: int = Field(80, ge=51, le=99, description="Prediction interval (%) the sidecar stores")
    forecast_horizon_days: int = Field(90, ge=7, le=366, description="Days ahead the sidecar forecasts")
    forecast_workers: int = Field(2, ge=1, le=16, description="Processes that fit forecasts in parallel")
    forecast_prophet_series: int = Field(
        3,
        ge=0,
        le=10000,
        description="How many series, largest first (total, then the top services, then accounts), also try "
        "Prophet among the models their back-test chooses from (about 1 s of CPU each); the rest choose among "
        "the fast ones",
    )
    forecast_holidays_country: str = Field(
        "",
        description="ISO code of the country whose public holidays the forecasts learn (e.g. US, DE, GB); "
        "empty for none",
    )
    anomaly_min_impact: float = Field(
        20.0, ge=0, description="Smallest anomaly worth reporting: actual minus expected over its days, in USD"
    )
    anomaly_min_pct: float = Field(
        0.15, ge=0, description="Smallest anomaly worth reporting, as a share of the expected cost (0.15 = 15 %)"
    )
    schedule_tick_seconds: int = Field(
        60, ge=10, le=3600, description="How often the sidecar reconciles schedules with the resources' actual state"
    )
    models_poll_seconds: int = Field(
        60, ge=5, le=3600, description="How often the sidecar checks for new data to forecast and scan for anomalies"
    )
    platform_url: str = Field(
        "", description="Base URL the platform driver POSTs start/stop to; empty means record the desired state only"
    )
    executions_in_bill: bool = Field(
        False,
        description="Executions run on infrastructure already in the cloud bill: combined costs then show them as "
        "a share of the bill instead of adding them to it",
    )
    api_host: str = Field(
        "127.0.0.1",
        min_length=1,
        description="Address the REST API listens on; 0.0.0.0 opens it to the network (put TLS in front)",
    )
    api_port: int = Field(8000, ge=1, le=65535, description="Port of the REST API (`python -m finops api`)")
    api_workers: int = Field(1, ge=1, le=32, description="uvicorn worker processes of the REST API")
    api_cache_entries: int = Field(
        256, ge=0, le=100_000, description="Responses each API process keeps per data version (0: none)"
    )

    smtp_host: str = Field("", description="SMTP server that sends budget alerts by email; empty: email is off")
    smtp_port: int = Field(587, ge=1, le=65535, description="Port of the SMTP server")
    smtp_tls: Literal["starttls", "ssl", "none"] = Field(
        "starttls", description="starttls (port 587), ssl (port 465) or none (a relay on this machine)"
    )
    smtp_user: str = Field("", description="Login on the SMTP server; empty: no login")
    smtp_password: str = Field("", description="Password of the SMTP login")
    smtp_sender: str = Field("finops@localhost", description="From address of alert emails")
    channels: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=dict,
        description='Named alert channels, a JSON object: {"ops-slack": "https://hooks.slack.com/services/...", '
        '"finance": "mailto:fin@example.com,cfo@example.com"}. Webhooks get a Slack-compatible JSON body. '
        "Budgets name them beside inbox and email:ADDRESS",
    )
    budget_eval_minutes: int = Field(
        60, ge=1, le=60, description="Budgets are evaluated after every new data version and at least this often"
    )
    notify_poll_seconds: int = Field(
        15, ge=1, le=3600, description="How often the sidecar sends waiting alerts and carries out budget actions"
    )
    focus_paths: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="FOCUS billing files the sidecar imports when they change: folders, files or s3://bucket/prefix "
        'locations, a JSON list (["s3://bills/focus/", "/srv/azure"]) or comma-separated; empty: no polling',
    )
    focus_poll_minutes: int = Field(
        60, ge=5, le=1440, description="How often the sidecar looks for new or re-delivered FOCUS files"
    )
    focus_s3_endpoint_url: str = Field(
        "", description="Endpoint of an S3-compatible store (MinIO, Ceph) for s3:// FOCUS locations; empty: AWS S3"
    )
    focus_resource_tag: str = Field(
        "finops-resource-id",
        max_length=128,
        description="Tag key whose value in a billing file's Tags names the inventory resource a row is for (also "
        "with AWS's user: prefix): how platform resources get billed costs; empty: match by ResourceId only",
    )

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        value = value.strip()
        if not value:
            return value
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            backend = make_url(value).get_backend_name()
        except ArgumentError:
            backend = ""
        if backend not in ("sqlite", "postgresql"):
            raise ValueError(
                "must be an SQLAlchemy URL of SQLite or PostgreSQL, e.g. sqlite:///data/finops.db or "
                "postgresql+psycopg://user:password@host/db"
            )
        return value

    @field_validator("cookie_key")
    @classmethod
    def _cookie_key(cls, value: str) -> str:
        if value and len(value) < MIN_COOKIE_KEY:
            raise ValueError(f"must be at least {MIN_COOKIE_KEY} characters (or empty: one is generated)")
        return value

    @field_validator("cookie_name")
    @classmethod
    def _cookie_name(cls, value: str) -> str:
        if not COOKIE_NAME.match(value):
            raise ValueError("must be 1-64 letters, digits, '-' or '_'")
        return value

    @field_validator("refresh_cron")
    @classmethod
    def _refresh_cron(cls, value: str) -> str:
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(value, timezone="UTC")
        except ValueError as exc:
            raise ValueError(f"must be a crontab line of 5 fields such as '0 5,13,21 * * *' ({exc})") from None
        return value

    @field_validator("aws_regions", mode="before")
    @classmethod
    def _aws_regions(cls, value):
        value = _text_list(value, '["us-east-1","eu-west-1"]')
        if not isinstance(value, list) or not value or not all(isinstance(r, str) for r in value):
            raise ValueError('must list at least one region, e.g. ["us-east-1"] or us-east-1,eu-west-1')
        bad = [r for r in value if not REGION.match(r)]
        if bad:
            raise ValueError(f"{bad[0]!r} is not an AWS region name such as us-east-1")
        return value

    @field_validator("focus_paths", mode="before")
    @classmethod
    def _focus_paths(cls, value):
        value = _text_list(value, '["s3://bills/focus/", "/srv/azure"]')
        if not isinstance(value, list) or not all(isinstance(p, str) and p.strip() for p in value):
            raise ValueError('must be a list of folders, files or s3://bucket/prefix, e.g. ["s3://bills/focus/"]')
        value = [p.strip() for p in value]
        for location in value:
            check_focus_location(location)
        if len(set(value)) != len(value):
            raise ValueError("names a location twice")
        return value

    @field_validator("focus_s3_endpoint_url")
    @classmethod
    def _focus_s3_endpoint_url(cls, value: str) -> str:
        value = value.strip()
        if value and not re.match(r"^https?://[^\s/]+[^\s]*$", value):
            raise ValueError("must be empty or an http(s):// URL such as http://minio.internal:9000")
        return value

    @field_validator("forecast_holidays_country")
    @classmethod
    def _forecast_holidays_country(cls, value: str) -> str:
        value = value.strip().upper()
        if not value:
            return value
        import holidays

        if value not in holidays.list_supported_countries():
            raise ValueError("must be empty or a country code the holidays package knows, such as US, DE or GB")
        return value

    @field_validator("platform_url")
    @classmethod
    def _platform_url(cls, value: str) -> str:
        value = value.strip()
        if value and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("must be empty or an http(s):// URL such as http://platform.internal:8080/api")
        return value

    @field_validator("channels", mode="before")
    @classmethod
    def _channels(cls, value):
        if isinstance(value, str):
            try:
                value = json.loads(value) if value.strip() else {}
            except ValueError:
                raise ValueError('must be a JSON object such as {"ops": "https://hooks.example/T1"}') from None
        if not isinstance(value, dict):
            raise ValueError('must be a JSON object of name: URL, such as {"ops": "https://hooks.example/T1"}')
        for name, target in value.items():
            if not isinstance(name, str) or not CHANNEL_NAME.match(name) or name.lower() == "inbox":
                raise ValueError(f"channel name {name!r}: 1-64 letters, digits, '.', '_' or '-' (and not inbox)")
            check_channel_target(name, target)
        return value

    @field_validator("smtp_sender")
    @classmethod
    def _smtp_sender(cls, value: str) -> str:
        if not EMAIL.match(value.strip()) and not re.match(r"^[^@\s]+@[A-Za-z0-9.-]+$", value.strip()):
            raise ValueError("must be an email address such as finops@example.com")
        return value.strip()

    @property
    def store_url(self) -> str:
        """The database URL in use (the explicit one, else the SQLite file under data_dir)."""
        return self.database_url or f"sqlite:///{self.data_dir / 'finops.db'}"

    def signing_key(self) -> str:
        """The cookie key: the configured one, else one generated on first use and kept in data_dir (0600)."""
        if self.cookie_key:
            return self.cookie_key
        path = self.data_dir / "cookie_key"
        if not path.exists():
            create_private_file(path, secrets.token_urlsafe(48))
        return path.read_text().strip()


def check_channel_target(name: str, target) -> str:
    """A channel's target: an http(s) webhook URL, or mailto: with one or more comma-separated addresses."""
    if not isinstance(target, str):
        raise ValueError(
            f"channel {name!r}: must be an https:// webhook URL or mailto:ADDRESS, not {type(target).__name__}"
        )
    target = target.strip()
    if target.lower().startswith("mailto:"):
        addresses = [a.strip() for a in target[len("mailto:") :].split(",") if a.strip()]
        bad = [a for a in addresses if not EMAIL.match(a)]
        if not addresses or bad:
            raise ValueError(f"channel {name!r}: {bad[0] if bad else 'mailto:'!r} is not an email address")
        return target
    if not WEBHOOK.match(target):
        raise ValueError(
            f"channel {name!r}: a webhook URL must be http:// or https:// (got a {target.split(':')[0]!r} URL)"
        )
    return target


def check_focus_location(location: str) -> str:
    """A FOCUS location: s3://bucket[/prefix] with a valid bucket name, or a local path (which may appear later)."""
    if location.lower().startswith("s3://"):
        bucket = location[len("s3://") :].split("/", 1)[0]
        if not S3_BUCKET.match(bucket):
            raise ValueError(f"{location!r}: {bucket!r} is not an S3 bucket name (3-63 lower-case letters, digits, .-)")
    elif "://" in location:
        raise ValueError(f"{location!r}: only s3:// locations and local paths are read")
    return location


def create_private_file(path: Path, text: str) -> None:
    """Write `text` to `path` readable by the owner only, atomically: a reader sees no file or the whole of it,
    and when two processes race, the first one's content stays (the other's is dropped)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.link(tmp, path)  # fails when the file exists: the first writer wins
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)


def env_name(field: str) -> str:
    return f"{ENV_PREFIX}{field.upper()}"


def describe(exc: ValidationError) -> str:
    """One line naming every bad variable and what it allows."""
    problems = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"][:1]) or "?"
        message = error["msg"].removeprefix("Value error, ")
        value = error.get("input")
        echo = field not in SECRET_FIELDS and isinstance(value, str | int | float) and len(str(value)) < 80
        shown = f" (got {value!r})" if echo else ""
        problems.append(f"{env_name(field)}: {message}{shown}")
    return "; ".join(problems)


@cache
def get_settings() -> Settings:
    """The process's settings; InvalidSettings (one line) when a variable is not allowed."""
    try:
        return Settings()
    except ValidationError as exc:
        raise InvalidSettings(describe(exc)) from None
    except SettingsError as exc:  # a value pydantic-settings could not decode at all
        field = re.search(r'field "(\w+)"', str(exc))
        name = env_name(field.group(1)) if field else "a FINOPS_ setting"
        raise InvalidSettings(f"{name}: cannot be read ({exc})") from None
