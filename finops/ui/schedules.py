"""Helpers for the Schedules page: the editor (no st.form, so the preview follows every change), and the calls
that turn a refusal into a message."""

from collections.abc import Callable
from datetime import datetime

import streamlit as st

from finops.data import db, groups, schedule_views, schedules
from finops.data.access import Actor, Forbidden, NotFound
from finops.markup import plain
from finops.scheduling.expressions import ExpressionError
from finops.scheduling.specs import ScheduleSpec, SpecError, check_spec
from finops.scheduling.timetable import desired_state
from finops.ui import charts
from finops.ui.format import money
from finops.ui.tables import table
from finops.ui.widgets import attempt

REFUSALS = (SpecError, ExpressionError, schedules.ScheduleError, Forbidden, NotFound)
FLASH = "sc_flash"
MAX_PERIODS = 5


def call(fn: Callable, **kwargs):
    """`fn(session=..., **kwargs)`; a refusal is shown as a message (text, never Markdown) and gives None."""
    return attempt(fn, REFUSALS, **kwargs)


def guard(fn: Callable, *args):
    """`fn(*args)` (pure, no store); a refusal is shown as a message and gives None."""
    try:
        return fn(*args)
    except REFUSALS as exc:
        st.error(plain(exc))
        return None


def editor(key: str, initial: ScheduleSpec | None, target_options: dict[str, dict]) -> dict:
    """The schedule editor's widgets; returns what they hold as a raw spec (not checked yet)."""
    spec = initial or ScheduleSpec(name="", timezone="UTC")
    c1, c2 = st.columns([2, 1])
    name = c1.text_input("Name", value=spec.name, key=f"{key}_name", max_chars=100)
    zone = c2.text_input("Time zone (IANA, e.g. Europe/Berlin)", value=spec.timezone or "UTC", key=f"{key}_tz")
    description = st.text_input("Description", value=spec.description, key=f"{key}_desc", max_chars=1000)
    count = int(st.number_input("Periods", 1, MAX_PERIODS, max(1, len(spec.periods)), key=f"{key}_count"))
    st.caption(
        "Times HH:MM (begin may be later than end: overnight). Days in AWS Instance Scheduler's language: weekdays "
        "mon-fri, mon#1 (first Monday), friL (last Friday); month days 1-15, L (last); months jan-mar."
    )
    periods = [_period_row(key, i, spec.periods[i] if i < len(spec.periods) else None) for i in range(count)]
    h1, h2 = st.columns(2)
    country = h1.text_input("Holidays: country (ISO code, e.g. DE)", value=spec.holiday_country, key=f"{key}_hc")
    subdivision = h2.text_input("Holidays: subdivision (e.g. BY)", value=spec.holiday_subdivision, key=f"{key}_hs")
    ics = st.file_uploader("Holidays: iCalendar of blackout days (.ics)", type=["ics"], key=f"{key}_ics")
    lines = "\n".join(f"{d} {s}" for d, s, _ in spec.exceptions)
    exceptions_text = st.text_area("Exceptions (one per line: YYYY-MM-DD running|stopped)", value=lines,
                                   key=f"{key}_exc")  # fmt: skip
    o1, o2 = st.columns(2)
    enforced = o1.checkbox("Enforced: re-apply every minute", value=spec.enforced, key=f"{key}_enf")
    retain = o2.checkbox("Retain running: keep what a person started early", value=spec.retain_running,
                         key=f"{key}_ret")  # fmt: skip
    chosen = [label for label, t in target_options.items() if _target_in(t, spec)]
    picked = st.multiselect("Targets (groups you own, resources you may stop)", list(target_options), default=chosen,
                            key=f"{key}_targets")  # fmt: skip
    raw = {"name": name, "timezone": zone or "", "description": description, "periods": periods,
           "enforced": enforced, "retain_running": retain, "targets": [target_options[p] for p in picked]}  # fmt: skip
    holidays = {k: v for k, v in (("country", country), ("subdivision", subdivision)) if v.strip()}
    if ics is not None:
        holidays["ics"] = ics.getvalue().decode("utf-8", errors="replace")
    elif spec.holiday_ics:
        holidays["ics"] = spec.holiday_ics
    if holidays:
        raw["holidays"] = holidays
    raw["exceptions"] = _exceptions(exceptions_text)
    return raw


PERIOD_FIELDS = [("Begin", "begin", "08:00"), ("End", "end", "20:00"), ("Weekdays", "weekdays", "mon-fri"),
                 ("Month days", "monthdays", ""), ("Months", "months", "")]  # fmt: skip


def _period_row(key: str, i: int, period) -> dict:
    cols = st.columns(len(PERIOD_FIELDS))
    row = {}
    for col, (label, field, default) in zip(cols, PERIOD_FIELDS, strict=True):
        value = (getattr(period, field) or "") if period is not None else default
        text = col.text_input(label, value=value, key=f"{key}_p{i}_{field}")
        if text.strip() or field in ("begin", "end"):
            row[field] = text
    return row


def _target_in(target: dict, spec: ScheduleSpec) -> bool:
    for t in spec.targets:
        if (t.group and t.group == target.get("group")) or (
            t.resource_type == target.get("resource_type") and t.resource_id == target.get("resource_id")
        ):
            return True
    return False


def _exceptions(text: str) -> list[dict]:
    out = []
    for line in text.splitlines():
        parts = line.split()
        if parts:
            out.append({"date": parts[0], "state": parts[1] if len(parts) > 1 else ""})
    return out


def actor_of(user) -> Actor:
    return Actor(username=user.username, is_admin=user.is_admin)


def target_options(actor: Actor) -> dict[str, dict]:
    """What the actor may target, by label: the groups they may change and the resources they may stop."""
    with db.session() as s:
        owned = groups.list_groups(session=s, actor=actor, per_page=groups.MAX_PER_PAGE)[0]
        own = schedule_views.resources_of_owner(s, actor)
    options = {f"group: {name}": {"group": name} for name in owned["name"]}
    for r in own:
        options[f"{r.name} ({r.resource_type}:{r.resource_id})"] = {
            "resource_type": r.resource_type, "resource_id": r.resource_id}  # fmt: skip
    return options


def details(actor: Actor, sid: int, now: datetime) -> None:
    """What a schedule wants now, its savings, its week and its targets with their next start or stop."""
    with db.session() as s:
        row = schedules.load(s, actor, sid)
        timetable = schedules.timetable(s, row)
        targets = schedule_views.targets(s, row, now)
        done = schedule_views.realised(s, now.date(), sid)
    decision = desired_state(timetable, now)
    stopped, monthly = schedule_views.predicted(timetable, float(targets["hourly_cost"].sum()), now)
    m1, m2, m3 = st.columns(3)
    m1.metric("Wants now", decision.state, help=decision.reason)
    m2.metric("Predicted savings", money(monthly) + "/month", f"{stopped:.0f} h a week stopped", delta_color="off")
    m3.metric("Realised this month", money(float(done["saved"].sum()) if not done.empty else 0.0, decimals=2))
    st.altair_chart(charts.week_grid(schedule_views.week_grid(timetable, now.date()), row.timezone), width="stretch")
    st.subheader("Targets")
    table(targets, csv=(f"schedule_{sid}_targets.csv", "Download targets", "dl_sc_targets"))
    with db.session() as s:
        months = schedule_views.realised_by_month(s, sid)
    st.caption("Realised savings by month (from the ledger of stopped hours)")
    table(months, csv=(f"schedule_{sid}_savings.csv", "Download savings", "dl_sc_savings"))


def overrides_panel(actor: Actor, sid: int, now: datetime) -> None:
    """The overrides in force, each with an end button, and a form for a new one."""
    st.subheader("Overrides")
    with db.session() as s:
        overrides = schedules.overrides_of(s, sid, now)
    for o in overrides:
        c1, c2 = st.columns([5, 1])
        c1.caption(plain(f"{o.state} until {o.until:%Y-%m-%d %H:%M} UTC, by {o.created_by}: {o.reason or '-'}"))
        if c2.button("End now", key=f"sc_end_{o.id}"):
            call(schedules.cancel_override, actor=actor, override_id=o.id)
            st.rerun()
    o1, o2, o3, o4 = st.columns([1, 2, 3, 1])
    state = o1.selectbox("State", ["running", "stopped"], key="sc_ov_state")
    until = o2.text_input("Until (schedule's zone)", placeholder="2026-12-04T18:00", key="sc_ov_until")
    reason = o3.text_input("Why", key="sc_ov_reason")
    if o4.button("Override", key="sc_ov_add"):
        added = call(schedules.add_override, actor=actor, schedule_id=sid, state=state, until=until, reason=reason)
        if added is not None:
            st.success(plain(f"{added.state} until {added.until:%Y-%m-%d %H:%M} UTC."))


def activity_panel(actor: Actor, sid: int) -> None:
    st.subheader("Activity")
    with db.session() as s:
        log = schedule_views.activity(s, actor, sid)
    table(log, csv=(f"schedule_{sid}_activity.csv", "Download activity", "dl_sc_activity"))


def edit_panel(actor: Actor, sid: int, options: dict[str, dict]) -> None:
    with db.session() as s:
        spec = schedules.spec_of(s, schedules.load(s, actor, sid))
    raw = editor(f"sc_edit_{sid}", spec, options)
    if st.button("Save changes", key="sc_save_edit"):
        saved = call(
            lambda session: schedules.save(session=session, actor=actor, spec=check_spec(raw), schedule_id=sid)
        )
        if saved is not None:
            st.rerun()
    if st.checkbox("Yes, delete this schedule", key=f"sc_confirm_{sid}") and st.button("Delete", key="sc_del"):
        call(schedules.delete_schedule, actor=actor, schedule_id=sid)
        st.rerun()


def new_panel(actor: Actor, options: dict[str, dict], now: datetime) -> None:
    """The editor for a new schedule, with a live check, week grid and predicted savings before saving."""
    raw = editor("sc_new", None, options)
    spec = guard(check_spec, raw)  # says what is wrong as soon as it is wrong
    if spec is not None:
        with db.session() as s:
            cost = schedule_views.target_cost(s, actor, spec.targets)
        draft = guard(schedules.draft_timetable, spec)
        if draft is not None:
            stopped, monthly = schedule_views.predicted(draft, cost, now)
            st.caption(f"Preview: stopped {stopped:.0f} h a week; saves about {money(monthly)} a month on these "
                       "targets.")  # fmt: skip
            st.altair_chart(charts.week_grid(schedule_views.week_grid(draft, now.date()), spec.timezone),
                            width="stretch")  # fmt: skip
    if st.button("Create schedule", key="sc_create", type="primary", disabled=spec is None):
        created = call(lambda session: schedules.save(session=session, actor=actor, spec=check_spec(raw)))
        if created is not None:
            st.session_state[FLASH] = f"Created schedule {created.name!r}."
            st.session_state["sc_selected"] = created.id
            st.rerun()


def flash() -> None:
    """The message a save left before its rerun (shown once)."""
    message = st.session_state.pop(FLASH, None)
    if message:
        st.success(plain(message))
