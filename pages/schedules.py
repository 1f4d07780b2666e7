"""Schedules: stop and start resources on a timetable; members see and edit their own, admins every schedule."""

from datetime import UTC, datetime

import streamlit as st

from finops import auth, ui
from finops.data import schedules
from finops.ui import schedules as sui

user = auth.require_role(auth.MEMBER)
actor = sui.actor_of(user)
now = datetime.now(UTC)
st.title("Schedules")
st.caption("Times are wall-clock times in each schedule's zone. A resource under several schedules runs if any of "
           "them says run. Without *enforced*, a schedule acts at its transitions only.")  # fmt: skip

sui.flash()
table = sui.call(schedules.list_schedules, actor=actor)
options = sui.target_options(actor)
if table is not None and not table.empty:
    ui.table(table, csv=("schedules.csv", "Download schedules", "dl_schedules"), hide=["id"])
    names = dict(zip(table["id"], table["name"] + " (" + table["owner"] + ")", strict=True))
    sid = st.selectbox("Schedule", list(names), format_func=names.get, key="sc_selected")
    sui.details(actor, int(sid), now)
    sui.overrides_panel(actor, int(sid), now)
    sui.activity_panel(actor, int(sid))
    with st.expander("Edit or delete this schedule"):
        sui.edit_panel(actor, int(sid), options)
else:
    st.info("No schedules yet: create one below, for example weekdays 08:00-20:00 for a development group.")

st.subheader("New schedule")
sui.new_panel(actor, options, now)
