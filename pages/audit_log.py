"""Audit log (admins): who created, changed, deleted, added, removed, stopped or started what, and when."""

import streamlit as st

from finops import auth, ui
from finops.data import audit, db

auth.require_role(auth.ADMIN)
st.title("Audit log")

c1, c2, c3 = st.columns(3)
object_type = c1.selectbox("Object", ["all", *audit.OBJECT_TYPES], key="audit_object")
actor = c2.text_input("User", key="audit_actor", placeholder="any")
since = c3.date_input("Since", value=None, key="audit_since")
with db.session() as s:
    entries = audit.list_entries(
        session=s,
        object_type=None if object_type == "all" else object_type,
        actor=actor.strip() or None,
        since=since,
    )
st.caption(f"{len(entries):,} entries, newest first (at most {audit.MAX_ENTRIES:,}).")
ui.table(entries, csv=("audit_log.csv", "Download audit log", "dl_audit"))
