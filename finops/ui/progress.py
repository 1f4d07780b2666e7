"""A run of the sidecar's models in progress, shown on the page that will show its results."""

import streamlit as st

from finops import progress
from finops.data import db


@st.fragment(run_every=5)
def run_progress(kind: str) -> None:
    """A progress bar for the forecast or anomaly run in progress (none: nothing), re-read every 5 s."""
    with db.session() as s:
        current = progress.running(session=s, kind=kind)
    if current is not None:
        st.progress(current.share, text=current.text)
