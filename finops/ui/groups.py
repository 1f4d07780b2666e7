"""Helpers for the Resource Groups page: the acting user, guarded calls, the create and edit dialogs, display
frames and the Stop all / Start all panel."""

from collections.abc import Callable

import pandas as pd
import streamlit as st

from finops.auth import CurrentUser
from finops.columns import source_name
from finops.data import db, groups, power, resources
from finops.data.access import Forbidden
from finops.data.groups import Actor, GroupError, NotFound
from finops.markup import plain
from finops.ui.tables import table

# every refusal a data function can give; the page shows each as a message, never as a traceback
REFUSALS = (GroupError, NotFound, Forbidden)

HOURS_PER_MONTH = 730
PER_PAGE = 20
GROUP_VIEW = ["name", "description", "owner", "status", "resources"]
MEMBER_VIEW = ["resource_type", "resource_id", "resource_name", "state", "monthly_cost", "price"]
DIALOG = "rg_dialog"  # which dialog is open: "create" or "edit:<group id>"
FLASH = "rg_flash"  # a message for the next run, after a dialog closed
FOCUS = "rg_focus"  # the group to select on the next run (the one just created)


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


def price_note(row) -> str | None:
    """Where a member's price came from, in words ("AWS Price List API, 2026-11-23"); unknown says so."""
    if row["price_known"] is None or pd.isna(row["price_known"]):
        return None  # not in the inventory
    if not row["price_known"]:
        return "unknown"
    if not row["price_source"]:
        return "given with the resource"
    day = row["price_as_of"]
    return f"{source_name(row['price_source'])}, {day:%Y-%m-%d}" if day else source_name(row["price_source"])


def member_view(frame: pd.DataFrame) -> pd.DataFrame:
    """Members with the estimated monthly cost (hourly cost x 730) where the price is known, and where the price
    came from; an unknown price is unknown (empty), never $0."""
    out = frame.copy()
    known = out["price_known"].fillna(False).astype(bool)
    out["monthly_cost"] = (pd.to_numeric(out["hourly_cost"], errors="coerce") * HOURS_PER_MONTH).where(known)
    out["state"] = out["state"].fillna("")
    out["price"] = [price_note(row) for row in out.to_dict("records")] if len(out) else []
    return out[MEMBER_VIEW]


def resource_label(row) -> str:
    return f"{row['name']} ({row['resource_type']}:{row['resource_id']})"


def open_dialog(which: str) -> None:
    st.session_state[DIALOG] = which


def _close(flash: str | None = None, focus: int | None = None) -> None:
    """Close the dialog and rerun, leaving a message (and a group to select) for the next run."""
    st.session_state.pop(DIALOG, None)
    if flash:
        st.session_state[FLASH] = flash
    if focus is not None:
        st.session_state[FOCUS] = focus
    st.rerun()


def _dismissed() -> None:
    st.session_state.pop(DIALOG, None)


@st.dialog("Create group", on_dismiss=_dismissed)
def create_dialog(actor: Actor) -> None:
    """Name and description of a new group; it opens selected, ready for its resources."""
    with st.form("rg_create", clear_on_submit=True):
        name = st.text_input("Name", key="rg_new_name", max_chars=groups.MAX_NAME)
        description = st.text_area("Description", key="rg_new_description", max_chars=groups.MAX_DESCRIPTION)
        if st.form_submit_button("Create group", key="rg_create_submit", type="primary"):
            created = call(groups.create_group, actor=actor, name=name, description=description)
            if created is not None:
                _close(f"Created group {plain(repr(created.name))}.", created.id)


@st.dialog("Edit group", on_dismiss=_dismissed)
def edit_dialog(actor: Actor, gid: int, group: dict) -> None:
    """Name, description and status of a group."""
    with st.form(f"rg_edit_{gid}"):
        name = st.text_input("Name", value=group["name"], key=f"rg_edit_name_{gid}", max_chars=groups.MAX_NAME)
        description = st.text_area("Description", value=group["description"], key=f"rg_edit_desc_{gid}",
                                   max_chars=groups.MAX_DESCRIPTION)  # fmt: skip
        status = st.selectbox("Status", groups.STATUSES, index=groups.STATUSES.index(group["status"]),
                              key=f"rg_edit_status_{gid}")  # fmt: skip
        if st.form_submit_button("Save changes", key="rg_edit_submit", type="primary"):
            saved = call(groups.update_group, actor=actor, group_id=gid, name=name, description=description,
                         status=status)  # fmt: skip
            if saved is not None:
                _close(f"Saved group {plain(repr(saved.name))}.")


def show_dialog(actor: Actor, listed: dict[int, dict]) -> None:
    """The open dialog, if any (one per run); an edit of a group no longer listed is closed."""
    which = st.session_state.get(DIALOG)
    if which == "create":
        create_dialog(actor)
    elif isinstance(which, str) and which.startswith("edit:"):
        gid = int(which.split(":", 1)[1])
        if gid in listed:
            edit_dialog(actor, gid, listed[gid])
        else:
            st.session_state.pop(DIALOG, None)


def flash() -> None:
    """The message a closed dialog left for this run."""
    message = st.session_state.pop(FLASH, None)
    if message:
        st.success(message)


def focused(options: list[int]) -> None:
    """Select the group just created, when this page of the list shows it (before the selectbox is drawn)."""
    gid = st.session_state.pop(FOCUS, None)
    if gid in options:
        st.session_state["rg_selected"] = gid


def add_resource_panel(actor: Actor, group_id: int) -> None:
    """Pick a resource of the inventory the actor may act on (admins: all; members: their own) and add it."""
    a1, a2 = st.columns(2)
    kind = a1.selectbox("Resource type", resources.RESOURCE_TYPES, key="rg_add_type")
    term = a2.text_input("Search inventory", key="rg_add_search")
    inventory = call(resources.list_resources, resource_type=kind, search=term, actor=actor)
    if inventory is None or inventory.empty:
        st.caption("None of your inventory resources of this type match." if not actor.is_admin
                   else "No inventory resources of this type match.")  # fmt: skip
        return
    rows = {f"{r['resource_type']}:{r['resource_id']}": r for r in inventory.to_dict("records")}
    pick = st.selectbox("Resource", list(rows), format_func=lambda k: resource_label(rows[k]), key="rg_pick")
    if st.button("Add to group", key="rg_add", disabled=pick is None):
        chosen = rows[pick]
        added = call(groups.add_resource, actor=actor, group_id=group_id, resource_type=chosen["resource_type"],
                     resource_id=chosen["resource_id"])  # fmt: skip
        if added is not None:
            st.rerun()


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
            table(preview)
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
        table(recent)
