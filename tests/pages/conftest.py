"""AppTest helpers: run Home.py as a given user and open a page."""

import re
import sys

import pytest
import streamlit as st
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT

COST_PAGES = ["pages/home.py", "pages/overview.py", "pages/service_breakdown.py"]


@pytest.fixture(autouse=True)
def _clear_streamlit_caches():
    # st.cache_data outlives an AppTest run (streamlit#9139): start every test cold
    st.cache_data.clear()
    st.cache_resource.clear()
    # Streamlit runs a script as sys.modules["__main__"] and leaves it there; a later test that spawns
    # processes (Prophet workers) would then re-run Home.py in each child, which dies without a store
    main = sys.modules["__main__"]
    yield
    sys.modules["__main__"] = main
    st.cache_data.clear()


def shown(markdown: str) -> str:
    """What a person reads for a Markdown message: escaped characters (`finops.markup.plain`) without their
    backslashes, and without the invisible joiners that keep URLs from becoming links."""
    return re.sub(r"\\(.)", r"\1", markdown).replace("\u2060", "")


def open_page(page: str | None, username: str = "admin", role: str = "admin") -> AppTest:
    """Run the app logged in as `username` (no form; see test_login for the real form) and open `page`."""
    at = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=30)
    if username:
        at.session_state["authentication_status"] = True
        at.session_state["username"] = username
        at.session_state["name"] = username
        at.session_state["roles"] = [role]
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


@pytest.fixture
def downloads(monkeypatch):
    """Captured download_button payloads: {filename: bytes}."""
    files: dict[str, bytes] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def spy(self, data, mimetype, kind, filename=None):
        files[filename] = data if isinstance(data, bytes) else data.encode()
        return original(self, data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", spy)
    return files
