"""The one settings object, read from FINOPS_* environment variables and a .env file."""

import secrets
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

SOURCES = ("auto", "aws", "demo")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FINOPS_", env_file=".env", extra="ignore")

    data_dir: Path = Field(Path("data"), description="Where the SQLite store and the generated cookie key live")
    database_url: str = Field("", description="SQLAlchemy URL of the store; empty means sqlite:///<data_dir>/finops.db")
    source: Literal["auto", "aws", "demo"] = Field(
        "auto", description="Cost source: aws, demo, or auto (aws when boto3 finds credentials, else demo)"
    )
    demo_seed: int = Field(42, description="Seed of the demo organisation")
    port: int = Field(8501, description="Port of the web UI that `make run` starts")
    cookie_key: str = Field(
        "", description="Key signing the login cookie; empty means generated once into <data_dir>/cookie_key"
    )
    cookie_name: str = Field("finops_auth", description="Name of the login cookie")
    cookie_expiry_days: float = Field(7, description="How long a login lasts")
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
    aws_retry_mode: Literal["standard", "adaptive"] = Field("standard", description="botocore retry mode")
    aws_max_attempts: int = Field(5, ge=1, description="botocore's total attempts per AWS call (first one included)")
    heartbeat_seconds: int = Field(30, description="How often the sidecar records that it is alive")
    refresh_cron: str = Field(
        "0 5,13,21 * * *", description="When the sidecar refreshes costs (crontab, UTC): three times a day"
    )
    request_poll_seconds: int = Field(
        5, ge=1, description="How often the sidecar looks for refreshes people asked for (UI button, CLI)"
    )
    startup_wait_seconds: float = Field(
        30, description="How long the sidecar retries reaching the store at startup before it gives up"
    )
    aws_regions: list[str] = Field(
        default_factory=lambda: ["us-east-1"],
        description='Regions where AWS resources are discovered (JSON list, e.g. ["us-east-1","eu-west-1"])',
    )
    discovery_minutes: int = Field(
        15, ge=1, description="Minutes between discoveries of AWS resources and their state (AWS source only)"
    )
    forecast_top_n: int = Field(20, ge=0, le=200, description="Services forecast one by one (the top N by spend)")
    forecast_interval: int = Field(80, ge=51, le=99, description="Prediction interval (%) the sidecar stores")
    forecast_horizon_days: int = Field(90, ge=7, le=366, description="Days ahead the sidecar forecasts")
    forecast_workers: int = Field(2, ge=1, le=16, description="Processes that fit forecasts in parallel")
    anomaly_min_impact: float = Field(
        20.0, ge=0, description="Smallest anomaly worth reporting: actual minus expected over its days, in USD"
    )
    anomaly_min_pct: float = Field(
        0.15, ge=0, description="Smallest anomaly worth reporting, as a share of the expected cost (0.15 = 15 %)"
    )
    models_poll_seconds: int = Field(
        60, ge=5, description="How often the sidecar checks for new data to forecast and scan for anomalies"
    )
    platform_url: str = Field(
        "", description="Base URL the platform driver POSTs start/stop to; empty means record the desired state only"
    )

    @property
    def store_url(self) -> str:
        """The database URL in use (the explicit one, else the SQLite file under data_dir)."""
        return self.database_url or f"sqlite:///{self.data_dir / 'finops.db'}"

    def signing_key(self) -> str:
        """The cookie key: the configured one, else one generated on first use and kept in data_dir."""
        if self.cookie_key:
            return self.cookie_key
        path = self.data_dir / "cookie_key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()


@cache
def get_settings() -> Settings:
    return Settings()
