"""Helpers for the Resource Groups page: the acting user, guarded calls, and display frames."""

from collections.abc import Callable

import pandas as pd
import streamlit as st

from finops.auth import CurrentUser
from finops.data import db
from finops.data.groups import Actor, GroupError, NotFound

HOURS_PER_MONTH = 730
PER_PAGE = 20
GROUP_VIEW = ["name", "description", "owner", "status", "resources"]
MEMBER_VIEW = ["resource_type", "resource_id", "resource_name", "state", "monthly_cost"]


def actor_of(user: CurrentUser) -> Actor:
    return Actor(username=user.username, is_admin=user.is_admin)


def call(fn: Callable, **kwargs):
    """`fn(session=..., **kwargs)`; a GroupError or NotFound is shown with st.error and gives None."""
    try:
        with db.session() as s:
            return fn(session=s, **kwargs)
    except (GroupError, NotFound) as exc:
        st.error(str(exc))
        return None


def succeeded(fn: Callable, **kwargs) -> bool:
    """Like `call`, for functions that return None: True when `fn` ran without a refusal."""
    try:
        with db.session() as s:
            fn(session=s, **kwargs)
    except (GroupError, NotFound) as exc:
        st.error(str(exc))
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
