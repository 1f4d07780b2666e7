"""A member's landing page: who they are and what they can do here."""

import streamlit as st

from finops import auth, ui

user = auth.require_role(auth.MEMBER)
st.title(f"Welcome, {ui.plain(user.name)}")
st.write(
    "You are signed in as a **member**. Cost views (Home, Overview, Service Breakdown) are for admins. "
    "Resource groups, schedules and budgets you own will appear here as they arrive."
)
