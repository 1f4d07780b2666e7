"""Login, roles and page gating: our own form and rules over the store's users, streamlit-authenticator's cookie.

The password check, the limit on failed logins and the end of logins after a password change are
`finops.data.users` functions; this module only draws the form and keeps the session. The login cookie (signed,
set by streamlit-authenticator) re-authenticates a new browser session, unless its user is gone or changed their
password after the cookie was issued.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import streamlit as st
import streamlit_authenticator as stauth

from finops.data import db, users
from finops.markup import plain
from finops.settings import get_settings

ADMIN, MEMBER = "admin", "member"
LOGIN_AT = "finops_login_at"  # when this browser session logged in (or the cookie it came back with was issued)


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
    # Hashes only; re-read every 30 s. streamlit-authenticator wants them; the checks below read the store.
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


def _start_session(user, logged_in_at: datetime) -> None:
    st.session_state.update(
        {
            "authentication_status": True,
            "username": user.username,
            "name": user.name or user.username,
            "email": user.email,
            "roles": [user.role],
            LOGIN_AT: logged_in_at,
        }
    )


def _end_session(authenticator: stauth.Authenticate | None = None) -> None:
    authenticator = authenticator or st.session_state.get("_authenticator")
    for key in ("authentication_status", "username", "name", "email", "roles", LOGIN_AT):
        st.session_state[key] = None
    if authenticator is not None:
        try:
            authenticator.cookie_controller.delete_cookie()
        except Exception:  # noqa: BLE001, S110 - no cookie to delete in this browser
            pass


def _from_cookie(authenticator: stauth.Authenticate) -> None:
    """Log in from the signed cookie when its user still exists and set no new password since it was issued."""
    token = authenticator.cookie_controller.get_cookie()
    if not token or "username" not in token:
        return
    issued = datetime.fromtimestamp(float(token["exp_date"]), UTC) - timedelta(days=get_settings().cookie_expiry_days)
    with db.session() as s:
        user = users.get_user(session=s, username=token["username"])
        if users.login_valid(user, issued):
            _start_session(user, issued)


def current_user() -> CurrentUser | None:
    """The logged-in user with the role the store holds now, or None (also when the login has ended: the user was
    deleted or changed their password since)."""
    if not st.session_state.get("authentication_status"):
        return None
    username = st.session_state.get("username")
    logged_in_at = st.session_state.setdefault(LOGIN_AT, datetime.now(UTC))
    with db.session() as s:
        user = users.get_user(session=s, username=username)
    if not users.login_valid(user, logged_in_at):
        _end_session()
        return None
    return CurrentUser(username=user.username, name=user.name or user.username, role=user.role)


def _login_form() -> bool:
    """The form; True when it logged someone in just now."""
    with st.form("login"):
        st.subheader("Login")
        username = st.text_input("Username", autocomplete="off")
        password = st.text_input("Password", type="password", autocomplete="off")
        submitted = st.form_submit_button("Login")
    if not submitted:
        return False
    try:
        with db.session() as s:
            _start_session(users.authenticate(session=s, username=username, password=password), datetime.now(UTC))
    except users.LoginRefused as exc:
        st.session_state["authentication_status"] = False
        st.error(plain(exc))
        return False
    st.session_state["logout"] = None
    return True


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
    if not st.session_state.get("authentication_status"):
        _from_cookie(authenticator)
    user = current_user()
    if user is not None:
        return user
    shown = st.empty()  # the title and the form, removed at once when the login succeeds
    with shown.container():
        st.title("FinOps")
        st.caption("Self-hosted cloud cost management")
        logged_in = _login_form()
    if logged_in:
        shown.empty()
        # Outside the emptied container, so the cookie component's call reaches the browser. No st.rerun()
        # either: it would drop that call; the component's answer triggers the next run.
        authenticator.cookie_controller.set_cookie()
    return current_user()


def logout_button() -> None:
    """A sidebar Logout button."""
    if st.sidebar.button("Logout", key="finops_logout"):
        authenticator = st.session_state.get("_authenticator") or _authenticator()
        authenticator.logout(location="unrendered")
        _end_session(authenticator)
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
