"""Login, roles and page gating (streamlit-authenticator over the store's users)."""

from dataclasses import dataclass

import streamlit as st
import streamlit_authenticator as stauth

from finops.data import db, users
from finops.settings import get_settings

ADMIN, MEMBER = "admin", "member"


@dataclass(frozen=True)
class CurrentUser:
    username: str
    name: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN


@st.cache_data(ttl=30, max_entries=4, show_spinner=False)
def _credentials() -> dict:
    # Hashes only; re-read every 30 s so new users and role changes reach running sessions.
    with db.session() as s:
        return users.credentials(session=s)


def _authenticator() -> stauth.Authenticate:
    settings = get_settings()
    return stauth.Authenticate(
        _credentials(),
        cookie_name=settings.cookie_name,
        cookie_key=settings.signing_key(),
        cookie_expiry_days=settings.cookie_expiry_days,
        auto_hash=False,  # the store holds bcrypt hashes already
        login_sleep_time=0,
    )


def current_user() -> CurrentUser | None:
    """The logged-in user with the role the store holds now, or None."""
    if not st.session_state.get("authentication_status"):
        return None
    username = st.session_state.get("username")
    entry = _credentials()["usernames"].get(username)
    if entry is None:  # deleted since login
        return None
    return CurrentUser(username=username, name=entry["name"], role=entry["roles"][0])


def login() -> CurrentUser | None:
    """Render the login form when nobody is logged in; return the current user (None until login)."""
    if not _credentials()["usernames"]:
        st.title("FinOps")
        st.warning(
            "No users yet. Create the first admin with `python -m finops users add admin --role admin` "
            "(or run `make run`, which creates one and prints its password)."
        )
        return None
    authenticator = _authenticator()
    st.session_state["_authenticator"] = authenticator
    logged_in = bool(st.session_state.get("authentication_status"))
    header = st.empty()
    if not logged_in:
        with header.container():
            st.title("FinOps")
            st.caption("Self-hosted cloud cost management")
    authenticator.login(location="main", key="login")
    if not logged_in and st.session_state.get("authentication_status"):
        # No st.rerun() here: it would drop the component call that sets the login cookie. The cookie
        # component's answer triggers the next run, which draws the app without the form.
        header.empty()
    if st.session_state.get("authentication_status") is False:
        st.error("Username/password is incorrect")
    return current_user()


def logout_button() -> None:
    """A sidebar Logout button."""
    if st.sidebar.button("Logout", key="finops_logout"):
        authenticator = st.session_state.get("_authenticator") or _authenticator()
        authenticator.logout(location="unrendered")
        st.rerun()


def require_role(role: str) -> CurrentUser:
    """Stop the page unless the user holds `role` (admins hold every role)."""
    user = current_user()
    if user is None:
        st.warning("Please log in.")
        st.stop()
    if user.role != role and not user.is_admin:
        st.error("Admins only: this page shows cost data, which only admins may see.")
        st.stop()
    return user
