"""Cached loaders: thin wrappers around finops.reports. `version` (the data version) is only a cache key."""

from datetime import UTC, date, datetime

import pandas as pd
import streamlit as st

from finops import execution_reports, reports
from finops.data import db, exchange_rates, queries, rates
from finops.settings import get_settings


@st.cache_data(ttl=10, max_entries=1, show_spinner=False)
def store_status() -> reports.Status:
    """What the store holds; re-read every 10 s so a new refresh shows up quickly."""
    with db.session() as s:
        return reports.status(session=s)


@st.cache_data(ttl="1h", max_entries=16, show_spinner=False)
def account_names(version: int) -> dict[str, str]:  # noqa: ARG001
    """account_id -> "name (id)" for pickers."""
    with db.session() as s:
        frame = queries.accounts(session=s)
    return {r.account_id: f"{r.account_name} ({r.account_id})" for r in frame.itertuples()}


@st.cache_data(ttl="1h", max_entries=16, show_spinner=False)
def account_labels(version: int) -> dict[str, str]:  # noqa: ARG001
    """account_id -> account name (Organizations' name, as the store keeps it) for tables."""
    with db.session() as s:
        frame = queries.accounts(session=s)
    return {r.account_id: r.account_name for r in frame.itertuples() if r.account_name != r.account_id}


@st.cache_data(ttl="1h", max_entries=16, show_spinner=False)
def service_names(version: int) -> list[str]:  # noqa: ARG001
    with db.session() as s:
        return queries.services(session=s)


@st.cache_data(ttl="1h", max_entries=16, show_spinner=False)
def currency_totals(version: int) -> pd.DataFrame:  # noqa: ARG001
    """Each currency's whole cost in the store: currency, unblended_cost, amortized_cost."""
    with db.session() as s:
        return queries.currency_totals(session=s)


@st.cache_data(ttl="1h", max_entries=16, show_spinner=False)
def provider_names(version: int) -> list[str]:  # noqa: ARG001
    """Providers the cost data holds, sorted."""
    with db.session() as s:
        return queries.providers(session=s)


@st.cache_data(ttl="15m", max_entries=64, show_spinner=False)
def home_kpis(
    today: date,
    range_start: date,
    metric: str,
    currency: str | None,
    version: int,  # noqa: ARG001
    fx_version: str = "",  # noqa: ARG001  (exchange_rates_version: converted views change with the rates)
) -> reports.Kpis:
    with db.session() as s:
        return reports.home_kpis(session=s, today=today, range_start=range_start, metric=metric, currency=currency)


@st.cache_data(ttl="15m", max_entries=64, show_spinner=False)
def overview(
    start_month: date,
    end_month: date,
    daily_start: date,
    daily_end: date,
    metric: str,
    accounts: tuple[str, ...],
    services: tuple[str, ...],
    version: int,  # noqa: ARG001
    currency: str | None = None,
    providers: tuple[str, ...] = (),
    fx_version: str = "",  # noqa: ARG001
) -> reports.Overview:
    with db.session() as s:
        return reports.overview(
            session=s,
            start_month=start_month,
            end_month=end_month,
            daily_start=daily_start,
            daily_end=daily_end,
            metric=metric,
            accounts=accounts,
            services=services,
            currency=currency,
            providers=providers,
        )


@st.cache_data(ttl="15m", max_entries=64, show_spinner=False)
def service_breakdown(
    start: date,
    end: date,
    metric: str,
    version: int,  # noqa: ARG001
    currency: str | None = None,
    accounts: tuple[str, ...] = (),
    providers: tuple[str, ...] = (),
    fx_version: str = "",  # noqa: ARG001
) -> pd.DataFrame:
    with db.session() as s:
        return reports.service_breakdown(
            session=s, start=start, end=end, metric=metric, currency=currency, accounts=accounts, providers=providers
        )


@st.cache_data(ttl=5, max_entries=1, show_spinner=False)
def data_sources() -> reports.DataSources:
    """The data-sources page's tables; requests change without a new data version, so a short TTL."""
    with db.session() as s:
        return reports.data_sources(session=s, now=datetime.now(UTC), focus_paths=get_settings().focus_paths)


@st.cache_data(ttl="15m", max_entries=16, show_spinner=False)
def forecast_series(version: int, forecast_run: int) -> pd.DataFrame:  # noqa: ARG001
    """The newest forecast run's series; both arguments are only cache keys."""
    with db.session() as s:
        return reports.forecast_series(session=s)


@st.cache_data(ttl="15m", max_entries=64, show_spinner=False)
def forecast_view(series: str, level: int, version: int, forecast_run: int) -> reports.ForecastView:  # noqa: ARG001
    """`forecast_run` (the newest forecast run id) is only a cache key, like `version`."""
    with db.session() as s:
        return reports.forecast_view(session=s, series=series, level=level)


@st.cache_data(ttl=60, max_entries=4, show_spinner=False)
def schedule_savings() -> tuple[float, float] | None:
    """(USD a month the schedules are predicted to save, USD they saved this month) for an admin; None without
    any schedule. Re-read every minute (the reconciler changes it without a new data version)."""
    from finops.data import schedule_views
    from finops.data.access import Actor

    now = datetime.now(UTC)
    with db.session() as s:
        if schedule_views.count_schedules(s) == 0:
            return None
        return schedule_views.savings_summary(s, Actor("admin", is_admin=True), now)


def inbox_badge(user) -> int:
    """How many budget alerts the signed-in user has not seen (the Inbox's badge); 0 when it cannot be told."""
    from finops.data import notifications
    from finops.data.access import Actor

    try:
        with db.session() as s:
            return notifications.unread_count(session=s, actor=Actor(user.username, is_admin=user.is_admin))
    except Exception:  # the badge must never stop the app from loading
        return 0


@st.cache_data(ttl="15m", max_entries=32, show_spinner=False)
def execution_costs(start: date, end: date, executions_version: int) -> execution_reports.ExecutionView:  # noqa: ARG001
    """`executions_version` (the newest stored run) is only a cache key: new runs invalidate it."""
    with db.session() as s:
        return execution_reports.execution_costs(session=s, start=start, end=end)


@st.cache_data(ttl="15m", max_entries=32, show_spinner=False)
def combined_costs(
    start: date,
    end: date,
    metric: str,
    in_bill: bool,
    version: int,  # noqa: ARG001
    executions_version: int,  # noqa: ARG001
) -> pd.DataFrame:
    """The bill and execution costs per month; both versions are only cache keys."""
    with db.session() as s:
        return execution_reports.combined_costs(session=s, start=start, end=end, metric=metric, in_bill=in_bill)


@st.cache_data(ttl=5, max_entries=1, show_spinner=False)
def rate_card() -> pd.DataFrame:
    """The rate card; edits change no version, so a short TTL (the page clears it after an edit)."""
    with db.session() as s:
        return rates.rate_card(session=s)


@st.cache_data(ttl=5, max_entries=1, show_spinner=False)
def exchange_rate_table() -> pd.DataFrame:
    """Every imported exchange rate; an import changes no data version, so a short TTL (the upload clears it)."""
    with db.session() as s:
        return exchange_rates.rates(session=s)


@st.cache_data(ttl=5, max_entries=1, show_spinner=False)
def exchange_rates_version() -> str:
    """When rates last changed ("" without any): the cache key of converted views."""
    with db.session() as s:
        return exchange_rates.version(session=s)
