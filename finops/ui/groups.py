"""Helpers for the Resource Groups page: the acting user, guarded calls, and display frames."""

from collections.abc import Callable

import pandas as pd
import streamlit as st

from finops.auth import CurrentUser
from finops.data import db, power
from finops.data.access import Forbidden
from finops.data.groups import Actor, GroupError, NotFound
from finops.markup import plain

# every refusal a data function can give; the page shows each as a message, never as a traceback
REFUSALS = (GroupError, NotFound, Forbidden)

HOURS_PER_MONTH = 730
PER_PAGE = 20
GROUP_VIEW = ["name", "description", "owner", "status", "resources"]
MEMBER_VIEW = ["resource_type", "resource_id", "resource_name", "state", "monthly_cost"]


def actor_of(user: CurrentUser) -> Actor:
    return Actor(username=user.username, is_admin=user.is_admin)


def call(fn: Callable, **kwargs):
    """`fn(session=..., **kwargs)`; a refusal (REFUSALS) is shown with st.error, as text, and gives None."""
    try:
        with db.session() as s:
            return fn(session=s, **kwargs)
    except REFUSALS as exc:
        st.error(plain(exc))
        return None


def succeeded(fn: Callable, **kwargs) -> bool:
    """Like `call`, for functions that return None: True when `fn` ran without a refusal."""
    try:
        with db.session() as s:
            fn(session=s, **kwargs)
    except REFUSALS as exc:
        st.error(plain(exc))
        return False
    return True


def page_span(page: int, shown: int, total: int) -> str:
    """'Showing X–Y of N' for a page of `shown` rows."""
    if total == 0 or shown == 0:
        return f"Showing 0 of {total}"
    first = (page - 1) * PER_PAGE + 1
    return f"Showing {first}–{first + shown - 1} of {total}"


def member_view(frame: pd.DataFrame) -> pd.DataFrame:
    """Members with the estimated monthly cost (hourly cost x 730) where the resource is in the inventory."""
    out = frame.copy()
    out["monthly_cost"] = pd.to_numeric(out["hourly_cost"], errors="coerce") * HOURS_PER_MONTH
    out["state"] = out["state"].fillna("")
    return out[MEMBER_VIEW]


def resource_label(row) -> str:
    return f"{row['name']} ({row['resource_type']}:{row['resource_id']})"


def power_panel(actor: Actor, group_id: int) -> None:
    """Stop all / Start all: a button, then a confirmation listing what will change, then the request."""
    key = f"rg_power_{group_id}"
    b1, b2, _ = st.columns([1, 1, 4])
    if b1.button("Stop all", key="rg_stop_all", icon=":material/stop_circle:"):
        st.session_state[key] = "stop"
    if b2.button("Start all", key="rg_start_all", icon=":material/play_circle:"):
        st.session_state[key] = "start"
    action = st.session_state.get(key)
    if action:
        preview = call(power.plan, actor=actor, group_id=group_id, action=action)
        if preview is not None:
            changing = int((~preview["change"].str.startswith("none")).sum())
            st.warning(f"{action.title()} all: {changing} of {len(preview)} resources will change. Confirm?")
            st.dataframe(preview, hide_index=True, width="stretch")
            c1, c2, _ = st.columns([1, 1, 4])
            if c1.button(f"Confirm {action}", key="rg_power_confirm", type="primary"):
                st.session_state.pop(key, None)
                if call(power.request, actor=actor, group_id=group_id, action=action) is not None:
                    st.success(f"{action.title()} all requested: the sidecar carries it out within seconds.")
            if c2.button("Cancel", key="rg_power_cancel"):
                st.session_state.pop(key, None)
                st.rerun()
    recent = call(power.recent, actor=actor, group_id=group_id)
    if recent is not None and not recent.empty:
        st.caption("Recent stop/start requests")
        st.dataframe(recent, hide_index=True, width="stretch")
