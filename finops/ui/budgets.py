"""Helpers for the Budgets and Inbox pages: the budget editor (its widgets give the file format, checked by
`finops.budgeting.specs`), each budget's figures, chart, alerts and actions, and the approvals waiting."""

from collections.abc import Callable
from datetime import datetime

import pandas as pd
import streamlit as st
from sqlalchemy import select
from sqlmodel import col

from finops.budgeting import evaluation, periods
from finops.budgeting.specs import (
    ACTIONS,
    APPROVALS,
    EMAIL_PREFIX,
    INBOX,
    KINDS,
    MAX_THRESHOLDS,
    METRICS,
    ONS,
    BudgetSpec,
    BudgetSpecError,
    ThresholdSpec,
    check_spec,
)
from finops.data import (
    budget_actions,
    budget_costs,
    budgets,
    db,
    groups,
    notifications,
    queries,
    schedules,
)
from finops.data.access import Actor, Forbidden, NotFound
from finops.data.tables import User
from finops.markup import plain
from finops.settings import get_settings
from finops.ui import charts
from finops.ui.format import money
from finops.ui.tables import table
from finops.ui.widgets import attempt

REFUSALS = (BudgetSpecError, budgets.BudgetError, Forbidden, NotFound, notifications.DeliveryError)
FLASH = "bd_flash"
PERIOD_LABELS = {"monthly": "Monthly", "quarterly": "Quarterly", "annual": "Annual"}
AMOUNT_MODES = {"fixed": "A fixed amount", "average": "The average of past periods", "forecast": "The forecast"}
STATUS_WORDS = {
    "over": "over budget",
    "forecast_over": "forecast over budget",
    "alerting": "threshold crossed",
    "ok": "on track",
    "no_data": "no data yet",
}
DEFAULT_THRESHOLDS = (ThresholdSpec(at=80.0), ThresholdSpec(at=100.0, on="forecast"))


BASIS_WORDS = {
    "billed": "the provider's bill (the stored daily costs, or the billing files' rows per resource).",
    "estimated": "the hours the scope's resources ran (the ledger) times their hourly cost.",
    "partly billed": "the billing files' rows for the resources they name, up to their newest day; after it, and "
    "for the other resources, the hours they ran (the ledger) times their hourly cost.",
}


def actor_of(user) -> Actor:
    return Actor(username=user.username, is_admin=user.is_admin)


def call(fn: Callable, **kwargs):
    """`fn(session=..., **kwargs)`; a refusal is shown as a message (text, never Markdown) and gives None."""
    return attempt(fn, REFUSALS, **kwargs)


def flash() -> None:
    """The message a save left before its rerun (shown once)."""
    message = st.session_state.pop(FLASH, None)
    if message:
        st.success(plain(message))


def known_channels() -> set[str]:
    return set(get_settings().channels)


def options(actor: Actor) -> dict:
    """What the editor offers the actor: users, groups (label -> id text), accounts, services, schedules."""
    with db.session() as s:
        users = [actor.username]
        if actor.is_admin:
            users = list(s.execute(select(col(User.username)).order_by(col(User.username))).scalars())
        listed, _total = groups.list_groups(session=s, actor=actor, status="active", per_page=groups.MAX_PER_PAGE)
        group_labels = {f"{r.name} ({r.owner})": str(r.id) for r in listed.itertuples(index=False)}
        accounts = queries.accounts(session=s) if actor.is_admin else pd.DataFrame(columns=["account_id"])
        services = queries.services(session=s) if actor.is_admin else []
        mine = schedules.list_schedules(session=s, actor=actor)
    account_ids = list(accounts["account_id"]) if not accounts.empty else []
    return {
        "users": users,
        "groups": group_labels,
        "accounts": account_ids,
        "services": services,
        "schedules": list(dict.fromkeys(mine["name"])) if not mine.empty else [],
    }


def _threshold_editor(key: str, i: int, t: ThresholdSpec, opts: dict) -> dict:
    c1, c2, c3 = st.columns([1, 1, 1])
    at = c1.text_input(f"Threshold {i + 1}: at", value=f"{t.at:g}", key=f"{key}_at_{i}")
    kind = c2.selectbox(
        "Kind",
        KINDS,
        index=KINDS.index(t.kind),
        key=f"{key}_kind_{i}",
        format_func=lambda k: "% of the amount" if k == "percent" else "absolute (USD)",
    )
    on = c3.selectbox(
        "On",
        ONS,
        index=ONS.index(t.on),
        key=f"{key}_on_{i}",
        format_func=lambda o: "actual spend" if o == "actual" else "forecast to period end",
    )
    named = [INBOX, *sorted(known_channels())]
    chosen = [c for c in t.channels if not c.startswith(EMAIL_PREFIX)]
    emails = [c[len(EMAIL_PREFIX) :] for c in t.channels if c.startswith(EMAIL_PREFIX)]
    c4, c5 = st.columns([1, 1])
    channels = c4.multiselect(
        "Channels (the inbox always gets it)", named, default=[c for c in chosen if c in named], key=f"{key}_ch_{i}"
    )
    extra = c5.text_input("Email addresses (comma-separated)", value=", ".join(emails), key=f"{key}_em_{i}")
    c6, c7, c8 = st.columns([1, 1, 1])
    action = c6.selectbox(
        "Action",
        ACTIONS,
        index=ACTIONS.index(t.action),
        key=f"{key}_act_{i}",
        format_func=lambda k: {"notify": "notify only", "schedule": "attach a schedule", "stop": "stop the resources"}[
            k
        ],
    )
    out = {
        "at": at,
        "kind": kind,
        "on": on,
        "action": action,
        "channels": channels + [EMAIL_PREFIX + e.strip() for e in extra.split(",") if e.strip()],
    }
    if action != "notify":
        out["approval"] = c7.selectbox(
            "Approval",
            APPROVALS,
            index=APPROVALS.index(t.approval),
            key=f"{key}_ap_{i}",
            format_func=lambda k: {"manual": "an owner or admin approves", "automatic": "automatic"}[k],
        )
    if action == "schedule":
        names = opts["schedules"] or [""]
        out["schedule"] = c8.selectbox(
            "Schedule to attach",
            names,
            key=f"{key}_sc_{i}",
            index=names.index(t.schedule) if t.schedule in names else 0,
        )
    return out


def editor(key: str, initial: BudgetSpec | None, actor: Actor, opts: dict) -> dict:
    """The budget editor's widgets; what they hold as a raw spec (not checked yet)."""
    spec = initial or BudgetSpec(
        name="", scope="group" if opts["groups"] else "user", amount=None, thresholds=DEFAULT_THRESHOLDS
    )
    c1, c2 = st.columns([2, 1])
    name = c1.text_input("Name", value=spec.name, key=f"{key}_name", max_chars=100)
    scopes = ["group", "user"] + (["platform"] if actor.is_admin else [])
    scope = c2.selectbox(
        "Scope",
        scopes,
        index=scopes.index(spec.scope) if spec.scope in scopes else 0,
        key=f"{key}_scope",
        format_func=lambda k: {
            "group": "a resource group",
            "user": "a person's resources",
            "platform": "the platform (costs)",
        }[k],
    )
    raw: dict = {"name": name, "scope": {"kind": scope}}
    description = st.text_input("Description", value=spec.description, key=f"{key}_desc", max_chars=1000)
    if description:
        raw["description"] = description
    if scope == "group":
        labels = list(opts["groups"])
        current = next((lab for lab, gid in opts["groups"].items() if lab.startswith(f"{spec.scope_group} (")), None)
        label = st.selectbox(
            "Group",
            labels,
            index=labels.index(current) if current in labels else 0,
            key=f"{key}_group",
            placeholder="no group: create one on Resource Groups",
        )
        raw["scope"]["group"] = opts["groups"].get(label, "") if label else ""
    elif scope == "user":
        users = opts["users"]
        raw["scope"]["user"] = st.selectbox(
            "Person", users, key=f"{key}_user", index=users.index(spec.scope_user) if spec.scope_user in users else 0
        )
    else:
        c3, c4 = st.columns(2)
        raw["scope"]["accounts"] = c3.multiselect(
            "Accounts (none: all)",
            opts["accounts"],
            key=f"{key}_acc",
            default=[a for a in spec.accounts if a in opts["accounts"]],
        )
        raw["scope"]["services"] = c4.multiselect(
            "Services (none: all)",
            opts["services"],
            key=f"{key}_svc",
            default=[v for v in spec.services if v in opts["services"]],
        )
    c5, c6, c7 = st.columns(3)
    periods_ = list(PERIOD_LABELS)
    raw["period"] = c5.selectbox(
        "Period",
        periods_,
        index=periods_.index(spec.period),
        key=f"{key}_period",
        format_func=lambda k: PERIOD_LABELS[k],
    )
    raw["metric"] = c6.selectbox("Cost", METRICS, index=METRICS.index(spec.metric), key=f"{key}_metric")
    modes = list(AMOUNT_MODES)
    mode = "fixed" if spec.amount is not None or not spec.auto_basis else spec.auto_basis
    mode = c7.selectbox(
        "Amount", modes, index=modes.index(mode), key=f"{key}_mode", format_func=lambda k: AMOUNT_MODES[k]
    )
    if mode == "fixed":
        raw["amount"] = st.text_input(
            "Amount (USD a period)",
            value="" if spec.amount is None else f"{spec.amount:g}",
            key=f"{key}_amount",
            placeholder="e.g. 1200",
        )
    else:
        raw["auto"] = {"basis": mode}
        if mode == "average":
            raw["auto"]["periods"] = st.number_input(
                "Past periods to average", 1, 12, spec.auto_periods, key=f"{key}_periods"
            )
        st.caption("An automatic amount is set at each period's first evaluation and kept for the period.")
    count = int(st.number_input("Thresholds", 0, MAX_THRESHOLDS, len(spec.thresholds), key=f"{key}_count"))
    shown = list(spec.thresholds) + [ThresholdSpec(at=100.0)] * max(0, count - len(spec.thresholds))
    raw["thresholds"] = [_threshold_editor(key, i, shown[i], opts) for i in range(count)]
    return raw


def save(actor: Actor, raw: dict, budget_id: int | None = None):
    """Check and save what the editor holds; a refusal names the field (nothing is saved then)."""
    try:
        spec = check_spec(raw, known_channels=known_channels())
    except BudgetSpecError as exc:
        st.error(plain(exc))
        return None
    return call(
        lambda session: budgets.save(
            session=session, actor=actor, spec=spec, budget_id=budget_id, known_channels=known_channels()
        )
    )


def new_panel(actor: Actor, opts: dict) -> None:
    raw = editor("bd_new", None, actor, opts)
    if st.button("Create budget", key="bd_create", type="primary"):
        created = save(actor, raw)
        if created is not None:
            st.session_state[FLASH] = f"Created budget {created.name!r}."
            st.session_state["bd_selected"] = created.id
            for key in [k for k in st.session_state if str(k).startswith("bd_new_")]:
                del st.session_state[key]  # an empty form for the next one
            st.rerun()


def edit_panel(actor: Actor, budget_id: int, opts: dict) -> None:
    with db.session() as s:
        spec = budgets.spec_of(s, budgets.load(s, actor, budget_id))
    raw = editor(f"bd_edit_{budget_id}", spec, actor, opts)
    if st.button("Save changes", key="bd_save_edit"):
        if save(actor, raw, budget_id) is not None:
            st.session_state[FLASH] = f"Saved budget {raw['name']!r}."
            st.rerun()
    if st.checkbox("Yes, delete this budget", key=f"bd_confirm_{budget_id}") and st.button("Delete", key="bd_del"):
        call(budgets.delete_budget, actor=actor, budget_id=budget_id)
        st.session_state[FLASH] = "Deleted the budget (its alerts stay in the history)."
        st.rerun()


def status_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The list's columns, statuses in words."""
    out = frame[
        [
            "id",
            "name",
            "owner",
            "scope",
            "period_start",
            "period_end",
            "amount",
            "actual",
            "forecast",
            "pct_actual",
            "pct_forecast",
            "status",
            "basis",
        ]
    ].copy()
    out["status"] = out["status"].map(lambda v: STATUS_WORDS.get(v, v))
    return out


def threshold_marks(frame: pd.DataFrame) -> pd.DataFrame:
    """Where each budget's thresholds sit, as % of its amount (the progress chart's ticks)."""
    rows = []
    with db.session() as s:
        by_budget = budgets.thresholds_by_budget(s, [int(i) for i in frame["id"]])
    for r in frame.itertuples(index=False):
        for t in by_budget.get(int(r.id), []):
            spec = budgets.threshold_spec(t)
            pct = evaluation.percent(spec.limit(r.amount), r.amount)
            if pct is not None:
                rows.append([r.name, pct, spec.label()])
    return pd.DataFrame(rows, columns=["name", "pct", "label"])


def details(actor: Actor, row: dict, now: datetime) -> None:
    """One budget: its figures (billed or estimated), burn chart, thresholds, alerts and actions."""
    bid = int(row["id"])
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Amount", money(row["amount"], decimals=2), row["amount_basis"], delta_color="off")
    c2.metric(
        f"Actual ({row['basis']})",
        money(row["actual"], decimals=2),
        f"{row['pct_actual']:g} % of the amount" if row["pct_actual"] is not None else None,
        delta_color="off",
    )
    c3.metric(
        "Forecast to period end",
        money(row["forecast"], decimals=2),
        f"{row['pct_forecast']:g} % of the amount" if row["pct_forecast"] is not None else None,
        delta_color="off",
    )
    c4.metric("Status", STATUS_WORDS.get(row["status"], row["status"]))
    st.caption(
        plain(
            f"Actual spend is {row['basis']}: "
            + BASIS_WORDS.get(row["basis"], "")
            + f" Forecast from {row['forecast_basis']}."
        )
    )
    with db.session() as s:
        budget = budgets.load(s, actor, bid)
        daily = budget_costs.daily_spend(s, budget, now)
    label = periods.label(row["period_start"], row["period"])
    lines = evaluation.cumulative(daily, row["period_start"], row["period_end"], row["amount"], row["forecast"])
    st.altair_chart(charts.budget_burn(lines, f"Cumulative spend in {label} against the budget"), width="stretch")
    table(
        daily,
        csv=(f"budget_{bid}_daily.csv", "Download daily spend", f"dl_bd_daily_{bid}"),
        titles={"spend": f"Spend ({row['basis']})"},
    )
    history = call(notifications.alerts, actor=actor, budget_id=bid)
    st.subheader("Alerts")
    if history is None or history.empty:
        st.caption("No threshold crossed yet. Each threshold alerts once per period.")
    else:
        table(
            history.drop(columns=["message"]),
            csv=(f"budget_{bid}_alerts.csv", "Download alerts", f"dl_bd_al_{bid}"),
            hide=["id", "owner"],
        )
    actions = call(budget_actions.recent, actor=actor, budget_id=bid)
    if actions is not None and not actions.empty:
        st.subheader("Actions")
        table(actions, csv=(f"budget_{bid}_actions.csv", "Download actions", f"dl_bd_act_{bid}"), hide=["budget"])


def approvals(actor: Actor) -> None:
    """Actions waiting for an approval the actor may give: each with its preview and Approve / Reject."""
    waiting = call(budget_actions.recent, actor=actor)
    waiting = waiting[waiting["status"] == budget_actions.AWAITING] if waiting is not None else None
    if waiting is None or waiting.empty:
        return
    st.subheader(f"Waiting for approval ({len(waiting)})")
    for r in waiting.itertuples(index=False):
        with st.container(border=True):
            st.markdown(
                plain(
                    f"**{r.budget}**: {r.threshold} crossed in {r.period}. Proposed: {r.action}, saving "
                    f"{money(r.saved_per_day, decimals=2)} a day."
                )
            )
            preview = call(budget_actions.preview_frame, actor=actor, action_id=int(r.id))
            if preview is not None:
                table(preview, key=f"bd_preview_{r.id}")
            c1, c2 = st.columns([1, 6])
            if c1.button("Approve", key=f"bd_approve_{r.id}", type="primary"):
                if call(budget_actions.approve, actor=actor, action_id=int(r.id)) is not None:
                    st.session_state[FLASH] = f"Approved action {r.id}: the sidecar carries it out within a minute."
                    st.rerun()
            if c2.button("Reject", key=f"bd_reject_{r.id}"):
                if call(budget_actions.reject, actor=actor, action_id=int(r.id)) is not None:
                    st.session_state[FLASH] = f"Rejected action {r.id}."
                    st.rerun()


def deliveries(actor: Actor) -> None:
    """Every delivery of the actor's alerts, with Send again for a failed one."""
    sent = call(notifications.deliveries, actor=actor)
    if sent is None or sent.empty:
        st.caption("Nothing sent by email or webhook yet: alerts without other channels go to this inbox only.")
        return
    table(sent, csv=("alert_deliveries.csv", "Download deliveries", "dl_deliveries"))
    failed = sent[sent["status"].isin([notifications.FAILED, notifications.UNKNOWN])]
    if not failed.empty:
        pick = st.selectbox(
            "Send a failed delivery again",
            list(failed["id"]),
            key="bd_retry_pick",
            format_func=lambda i: f"{i}: {failed.set_index('id').loc[i, 'channel']}",
        )
        if st.button("Send again", key="bd_retry"):
            if call(notifications.retry, actor=actor, notification_id=int(pick)) is not None:
                st.session_state[FLASH] = "Queued again: the sidecar sends it within a minute."
                st.rerun()
