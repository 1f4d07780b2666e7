"""Shared widgets; each returns plain values."""

from datetime import UTC, date, datetime, timedelta

import streamlit as st

from finops import costs
from finops.auth import current_user
from finops.columns import source_name
from finops.data import db, refresh_requests
from finops.data.queries import METRICS
from finops.markup import plain
from finops.reports import Status
from finops.settings import get_settings
from finops.ui.loaders import store_status

CUSTOM = "Custom"


def today() -> date:
    """Today in UTC, the calendar the store's days use."""
    return datetime.now(UTC).date()


def _ago(moment) -> str:
    if moment is None:
        return "never"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    seconds = (datetime.now(UTC) - moment).total_seconds()
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = int(seconds // size)
            return f"{n} {unit}{'s' if n > 1 else ''} ago"
    return "just now"


def freshness_badge(status: Status) -> None:
    """'Data as of ...' with the source and a Refresh button; the latest refresh's failure when it failed."""
    source = "Demo data" if status.is_demo else ", ".join(source_name(s) for s in status.sources) or "no source"
    left, right = st.columns([5, 1], vertical_alignment="center")
    with right:
        refresh_button()
    if status.empty:
        left.caption(f"No cost data yet · source: {source}")
    else:
        checked = (
            f" · checked {_ago(status.last_run_finished)}: no change" if status.last_run_status == "unchanged" else ""
        )
        left.caption(
            f"Data as of **{status.last_day:%Y-%m-%d}** · source: **{source}** · "
            f"loaded {_ago(status.last_ok_finished)} (data version {status.version}){checked}"
        )
    if status.last_run_status == "failed":
        last_good = f"as of {status.last_day:%Y-%m-%d}" if status.last_day else "none yet"
        st.warning(
            f"The latest refresh failed {_ago(status.last_run_finished)}: {plain(status.last_run_error)}. "
            f"Showing the last good data ({last_good})."
        )
    elif status.history_error:  # the current data loaded; an older month did not (the next refresh retries it)
        st.info(
            f"The latest refresh loaded the current data, but some history could not be loaded "
            f"({plain(status.history_error)}); the next refresh tries again."
        )
    _request_note(status)


def sidecar_alive(status: Status) -> bool:
    """True when the sidecar beat within the last few heartbeats."""
    beat = status.sidecar_beat_at
    if beat is None:
        return False
    beat = beat if beat.tzinfo else beat.replace(tzinfo=UTC)
    return (datetime.now(UTC) - beat).total_seconds() < 3 * get_settings().heartbeat_seconds + 30


def _request_note(status: Status) -> None:
    if status.request_status is None:
        return
    if not sidecar_alive(status):
        st.warning(
            f"A refresh was requested {_ago(status.requested_at)}, but the sidecar is not running "
            "(start it with `python -m finops.jobs`, or `make run`)."
        )
    elif status.request_status == "running":
        st.info("Refreshing now: the new data appears here when it is loaded.")
    else:
        st.info(f"Refresh requested {_ago(status.requested_at)}: the sidecar picks it up within seconds.")


def refresh_button() -> None:
    """A button that files a refresh request for the sidecar and returns at once (fire and forget); admins only."""
    user = current_user()
    if user is None or not user.is_admin:
        return
    if st.button("Refresh", icon=":material/refresh:", key="refresh_data", help="Ask the sidecar for new data"):
        with db.session() as s:
            request, created = refresh_requests.request_refresh(session=s, requested_by=user.username)
        if created:
            st.toast(f"Refresh requested (#{request.id}): the sidecar picks it up within seconds.")
        else:
            st.toast(f"A refresh is already on its way (#{request.id}).")
        store_status.clear()  # the next run shows the request's progress


def require_data(status: Status) -> None:
    """Stop the page with how-to-load instructions when the store holds no cost data."""
    if status.empty:
        st.info(
            "The store holds no cost data yet. Load the demo organisation with `python -m finops demo` "
            "(`make run` does it on an empty store), or configure an AWS source."
        )
        st.stop()


def metric_picker(key: str) -> str:
    """Unblended or amortized; returns the metric column name."""
    label = st.radio(
        "Cost metric",
        list(METRICS),
        format_func=str.capitalize,
        horizontal=True,
        key=key,
        help="Unblended: charges as billed. Amortized: upfront and recurring commitment fees spread over the "
        "days they cover.",
    )
    return METRICS[label]


def date_range_picker(key: str, default: str = "Last 30 days") -> tuple[date, date]:
    """A preset or custom window; returns `[start, end)`."""
    options = costs.presets(today())
    choice = st.selectbox("Period", [*options, CUSTOM], index=list(options).index(default), key=f"{key}_preset")
    if choice != CUSTOM:
        return options[choice]
    start, end = options[default]
    picked = st.date_input(
        "From – to (both included)", value=(start, end - timedelta(days=1)), key=f"{key}_custom", max_value=today()
    )
    if not isinstance(picked, tuple | list) or len(picked) != 2:
        st.info("Pick the last day of the period too.")
        st.stop()
    return picked[0], picked[1] + timedelta(days=1)


def attempt(fn, refusals: tuple[type[Exception], ...], **kwargs):
    """`fn(session=..., **kwargs)` on a fresh session; a refusal (one of `refusals`) is shown as a message (text,
    never Markdown) and gives None."""
    try:
        with db.session() as s:
            return fn(session=s, **kwargs)
    except refusals as exc:
        st.error(plain(exc))
        return None
