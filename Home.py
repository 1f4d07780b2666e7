"""FinOps entry point: page config, login, and the pages each role may see."""

import streamlit as st

from finops import auth
from finops.data.db import StoreUnavailable, check_reachable, get_engine, schema_revisions
from finops.markup import plain
from finops.settings import InvalidSettings, get_settings
from finops.ui.loaders import inbox_badge

st.set_page_config(page_title="FinOps", page_icon=":material/savings:", layout="wide")

try:
    get_settings()
    check_reachable()
    current, heads = schema_revisions(get_engine())
except InvalidSettings as exc:
    st.error(f"Invalid settings: {plain(exc)}")
    st.stop()
except StoreUnavailable as exc:
    st.error(f"{exc}. Check FINOPS_DATABASE_URL.")
    st.stop()
if current != heads:
    state = "is not initialised yet" if not current else "has an older schema than this version of FinOps"
    st.error(f"The store {state}: run `python -m finops init` (or `make run`).")
    st.stop()

user = auth.login()
if user is None:
    st.stop()

unread = inbox_badge(user)

# Cost pages are registered for everyone so a member who opens one by URL gets the page's own
# "admins only" answer rather than a silent redirect; members just don't see them in the menu.
cost_visibility = "visible" if user.is_admin else "hidden"
cost_pages = [
    st.Page(
        "pages/home.py",
        title="Home",
        icon=":material/home:",
        url_path="home",
        default=user.is_admin,
        visibility=cost_visibility,
    ),
    st.Page(
        "pages/overview.py",
        title="Overview",
        icon=":material/monitoring:",
        url_path="overview",
        visibility=cost_visibility,
    ),
    st.Page(
        "pages/service_breakdown.py",
        title="Service Breakdown",
        icon=":material/pie_chart:",
        url_path="service_breakdown",
        visibility=cost_visibility,
    ),
    st.Page("pages/forecast.py", title="Forecast", icon=":material/trending_up:", url_path="forecast",
            visibility=cost_visibility),
    st.Page("pages/anomalies.py", title="Anomalies", icon=":material/warning:", url_path="anomalies",
            visibility=cost_visibility),
    st.Page("pages/recommendations.py", title="Recommendations", icon=":material/lightbulb:",
            url_path="recommendations", visibility=cost_visibility),
    st.Page("pages/execution_costs.py", title="Execution Costs", icon=":material/account_tree:",
            url_path="execution_costs", visibility=cost_visibility),
]  # fmt: skip
account_pages = [
    st.Page(
        "pages/welcome.py",
        title="Welcome",
        icon=":material/waving_hand:",
        url_path="welcome",
        default=not user.is_admin,
        visibility="hidden" if user.is_admin else "visible",
    ),
]
admin_pages = [
    st.Page("pages/data_sources.py", title="Data Sources", icon=":material/database:", url_path="data_sources",
            visibility=cost_visibility),
    st.Page("pages/audit_log.py", title="Audit Log", icon=":material/history:", url_path="audit_log",
            visibility=cost_visibility),
]  # fmt: skip
team_pages = [
    st.Page("pages/resource_groups.py", title="Resource Groups", icon=":material/workspaces:",
            url_path="resource_groups"),
    st.Page("pages/schedules.py", title="Schedules", icon=":material/schedule:", url_path="schedules"),
    st.Page("pages/budgets.py", title="Budgets", icon=":material/account_balance_wallet:", url_path="budgets"),
    st.Page("pages/inbox.py", title=f"Inbox ({unread} new)" if unread else "Inbox", icon=":material/inbox:",
            url_path="inbox"),
]  # fmt: skip
# expanded: every page listed (Streamlit folds a long menu behind "View more", which hid Data Sources)
sections = {"Costs": cost_pages, "Teams": team_pages, "Admin": admin_pages, "Account": account_pages}
page = st.navigation(sections, expanded=True)

with st.sidebar:
    st.caption(f"Signed in as **{plain(user.name)}** ({user.role})")
auth.logout_button()
page.run()
