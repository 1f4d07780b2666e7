"""Click through the real app in Chromium: log in, open every page, download a CSV, check role gating."""

import os
import re
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from finops.costs import month_window
from finops.data.sources import demo
from tests.conftest import ADMIN, MEMBER, ROOT

pytestmark = pytest.mark.e2e
TIMEOUT = 30_000


def log_in(page: Page, url: str, username: str, password: str, *, succeeds: bool = True) -> None:
    page.goto(url)
    button = page.get_by_role("button", name="Login")
    for _ in range(3):
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password", exact=True).fill(password)
        button.click()
        if not succeeds:
            return
        try:
            expect(button).to_have_count(0, timeout=TIMEOUT // 3)
            return
        except AssertionError:
            # on a busy machine the click can land in the rerun the cookie component asks for after the page
            # loads, and Streamlit drops the form's submit with it: the form stays filled, no error. Again.
            continue
    raise AssertionError(f"{username} never got past the login form")


def wait_for_login_cookie(page: Page) -> None:
    """The cookie is set by a component after the login run; a person never outpaces it, a test can."""
    for _ in range(100):
        if any(c["name"] == "finops_auth" for c in page.context.cookies()):
            return
        page.wait_for_timeout(100)
    raise AssertionError("the login cookie was never set")


def nav(page: Page, name: str) -> None:
    # a click while the login run's cookie component is still answering can be lost in its rerun; on a busy
    # machine that happens after the cookie is set too (the page stays where it was): click until the URL is
    # the page's
    wait_for_login_cookie(page)
    link = page.get_by_test_id("stSidebarNav").get_by_role("link", name=name)
    href = link.get_attribute("href") or ""
    for _ in range(3):
        link.click()
        try:
            page.wait_for_url(href, timeout=TIMEOUT // 3)
            return
        except PlaywrightTimeout:
            continue
    page.wait_for_url(href, timeout=TIMEOUT)


def test_admin_logs_in_opens_every_page_and_downloads_a_csv(page: Page, app_url, seeded_sum, tmp_path):
    log_in(page, app_url, *ADMIN)
    expect(page.get_by_text("Current Month Spend").first).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_test_id("stMetricValue").first).to_contain_text("$")
    expect(page.get_by_text("Demo data").first).to_be_visible()

    nav(page, "Overview")
    expect(page.get_by_role("heading", name="Monthly trend").first).to_be_visible(timeout=TIMEOUT)
    expect(page.locator("[data-testid='stVegaLiteChart']").first).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_test_id("stDataFrame").first).to_be_visible()

    nav(page, "Service Breakdown")
    expect(page.get_by_text("Total this period").first).to_be_visible(timeout=TIMEOUT)
    with page.expect_download(timeout=TIMEOUT) as info:
        page.get_by_role("button", name="Download service breakdown").click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    csv = pd.read_csv(path)
    assert list(csv.columns) == ["service", "unblended_cost", "previous_unblended_cost", "change_pct", "share_pct",
                                 "currency"]  # fmt: skip
    assert set(csv["currency"]) == {"USD"}
    today = datetime.now(UTC).date()
    expected = seeded_sum(today - timedelta(days=30), today)
    assert csv["unblended_cost"].sum() == pytest.approx(expected, abs=0.01)
    assert csv["share_pct"].sum() == pytest.approx(100.0)
    page.screenshot(path=str(tmp_path / "breakdown.png"), full_page=True)

    wait_for_login_cookie(page)
    nav(page, "Data Sources")
    expect(page.get_by_role("heading", name="Refresh runs").first).to_be_visible(timeout=TIMEOUT)
    page.get_by_role("button", name="Refresh").first.click()
    expect(page.get_by_text("Refresh requested").first).to_be_visible(timeout=TIMEOUT)

    page.reload()  # the login cookie re-authenticates without the form
    expect(page.get_by_role("heading", name="Data Sources").first).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_label("Password", exact=True)).to_have_count(0)


def test_member_sees_no_cost_page_and_gets_admins_only_by_url(page: Page, app_url):
    log_in(page, app_url, *MEMBER)
    expect(page.get_by_role("heading", name="Welcome, Max Member").first).to_be_visible(timeout=TIMEOUT)
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_role("link", name="Overview")).to_have_count(0)
    wait_for_login_cookie(page)
    page.goto(f"{app_url}/overview")
    expect(page.get_by_text("Admins only").first).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_test_id("stMetricValue")).to_have_count(0)
    expect(page.locator("[data-testid='stVegaLiteChart']")).to_have_count(0)


def test_wrong_password_shows_an_error(page: Page, app_url):
    log_in(page, app_url, ADMIN[0], "wrong-password", succeeds=False)
    expect(page.get_by_text("Username/password is incorrect").first).to_be_visible(timeout=TIMEOUT)


def test_overview_screenshot_is_not_blank(page: Page, app_url, tmp_path):
    """Screenshot of the Overview; with FINOPS_UPDATE_SCREENSHOT=1 it replaces docs/screenshot.png (README)."""
    page.set_viewport_size({"width": 1400, "height": 1000})
    log_in(page, app_url, *ADMIN)
    expect(page.get_by_text("Current Month Spend").first).to_be_visible(timeout=TIMEOUT)
    nav(page, "Overview")
    expect(page.locator("[data-testid='stVegaLiteChart']").first).to_be_visible(timeout=TIMEOUT)
    page.wait_for_timeout(1500)
    shot = page.screenshot()
    assert shot[:8] == b"\x89PNG\r\n\x1a\n" and len(shot) > 30_000  # a blank page compresses to a few KB
    (tmp_path / "overview.png").write_bytes(shot)
    if os.environ.get("FINOPS_UPDATE_SCREENSHOT") == "1":
        (ROOT / "docs" / "screenshot.png").write_bytes(shot)


def open_create_dialog(page: Page):
    """The list comes first; "New group" opens the create form in a dialog."""
    page.get_by_role("button", name="New group").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_text("Create group").first).to_be_visible(timeout=TIMEOUT)
    return dialog


def create_group(page: Page, name: str) -> None:
    dialog = open_create_dialog(page)
    dialog.get_by_label("Name", exact=True).fill(name)
    dialog.get_by_role("button", name="Create group").click()
    expect(page.get_by_text(f"Created group '{name}'").first).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_role("dialog")).to_have_count(0)


def search_inventory(page: Page, name: str) -> None:
    """Search the group's inventory picker for `name` until the picker shows it (a search submitted while the
    page was still re-running can be dropped on a busy machine: the picker keeps its old choice)."""
    picked = page.get_by_role("combobox", name="Resource", exact=True).first
    for _ in range(3):
        page.get_by_label("Search inventory").fill(name)
        page.get_by_label("Search inventory").press("Enter")
        try:
            expect(picked).to_have_value(re.compile(rf"^{re.escape(name)} \(app:"), timeout=TIMEOUT // 3)
            return
        except AssertionError:  # submit an empty search first, so the same text submitted again is a change
            page.get_by_label("Search inventory").fill("")
            page.get_by_label("Search inventory").press("Enter")
    expect(picked).to_have_value(re.compile(rf"^{re.escape(name)} \(app:"), timeout=TIMEOUT)


def test_member_creates_a_group_adds_resources_and_cannot_see_the_admins_group(browser, app_url):
    admin = browser.new_page()
    log_in(admin, app_url, *ADMIN)
    expect(admin.get_by_text("Current Month Spend").first).to_be_visible(timeout=TIMEOUT)
    nav(admin, "Resource Groups")
    create_group(admin, "Admin only group")
    search_inventory(admin, "Support chatbot")
    admin.close()

    page = browser.new_page()
    log_in(page, app_url, *MEMBER)
    expect(page.get_by_role("heading", name="Welcome, Max Member").first).to_be_visible(timeout=TIMEOUT)
    nav(page, "Resource Groups")
    create_group(page, "Night shift")
    groups_table = page.get_by_test_id("stDataFrame").first
    expect(groups_table).to_contain_text("Night shift")
    expect(page.get_by_text("Admin only group")).to_have_count(0)
    # the member's own demo groups (by team and environment) are listed too; the new one opens selected
    mine = 1 + sum(1 for g in demo.groups() if g["owner"] == "member")
    expect(page.get_by_text(f"Showing 1–{mine} of {mine}").first).to_be_visible()
    expect(page.get_by_role("combobox", name="Group", exact=True).first).to_have_value(re.compile(r"^Night shift"))

    for name in ["Checkout web", "Search API"]:
        search_inventory(page, name)
        page.get_by_role("button", name="Add to group").click()
        expect(page.get_by_test_id("stDataFrame").nth(1)).to_contain_text(name, timeout=TIMEOUT)
    page.get_by_role("button", name="Download members").wait_for(timeout=TIMEOUT)
    with page.expect_download(timeout=TIMEOUT) as info:
        page.get_by_role("button", name="Download members").click()
    members = pd.read_csv(info.value.path())
    assert sorted(members["resource_name"]) == ["Checkout web", "Search API"]
    assert members["monthly_cost"].sum() == pytest.approx((0.42 + 0.85) * 730)

    # the picker offers only the member's own resources: the admin's "Support chatbot" app (which the admin's
    # picker found above) is not there
    page.get_by_label("Search inventory").fill("Support chatbot")
    page.get_by_label("Search inventory").press("Enter")
    expect(page.get_by_text("None of your inventory resources of this type match.").first).to_be_visible(
        timeout=TIMEOUT
    )

    # a name that looks like Markdown is shown as the characters typed: no link, no image
    evil = "[win](http://evil.test) ![x](http://evil.test/x.png)"
    dialog = open_create_dialog(page)
    dialog.get_by_label("Name", exact=True).fill(evil)
    dialog.get_by_role("button", name="Create group").click()
    alert = page.get_by_test_id("stAlertContentSuccess").filter(has_text="Created group").first
    expect(alert).to_be_visible(timeout=TIMEOUT)
    assert alert.inner_text().replace("\u2060", "").strip() == f"Created group '{evil}'."  # the characters typed
    expect(page.locator("a[href^='http://evil.test']")).to_have_count(0)
    expect(page.locator("img[src^='http://evil.test']")).to_have_count(0)

    wait_for_login_cookie(page)
    page.goto(f"{app_url}/audit_log")
    expect(page.get_by_text("Admins only").first).to_be_visible(timeout=TIMEOUT)


def test_admin_opens_forecast_anomalies_and_recommendations(page: Page, app_url):
    log_in(page, app_url, *ADMIN)
    expect(page.get_by_text("Current Month Spend").first).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_text("Projected Next Month").first).to_be_visible()
    expect(page.get_by_test_id("stMetricValue").nth(2)).to_contain_text("$")  # a forecast exists: a figure

    nav(page, "Forecast")
    expect(page.get_by_role("heading", name="Monthly totals").first).to_be_visible(timeout=TIMEOUT)
    expect(page.locator("[data-testid='stVegaLiteChart']").first).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_test_id("stDataFrame").first).to_be_visible()
    expect(page.get_by_text("Back-test error (MAPE, 30 days ahead)").first).to_be_visible()

    nav(page, "Anomalies")
    expect(page.get_by_test_id("stDataFrame").first).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_test_id("stDataFrame").first).to_contain_text("AWS Lambda", timeout=TIMEOUT)
    expect(page.locator("[data-testid='stVegaLiteChart']").first).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_role("button", name="Save feedback").first).to_be_visible()

    nav(page, "Recommendations")
    expect(page.get_by_text("Estimated monthly savings").first).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_test_id("stDataFrame").first).to_contain_text("schedule", timeout=TIMEOUT)


def test_admin_opens_execution_costs_and_downloads_runs_per_workflow(page: Page, app_url, app_store, tmp_path):
    import sqlite3

    log_in(page, app_url, *ADMIN)
    expect(page.get_by_text("Current Month Spend").first).to_be_visible(timeout=TIMEOUT)
    nav(page, "Execution Costs")
    expect(page.get_by_text("Cost per run (mean)").first).to_be_visible(timeout=TIMEOUT)
    expect(page.locator("[data-testid='stVegaLiteChart']").first).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_role("heading", name="Rate card").first).to_be_visible()
    page.get_by_role("tab", name="By workflow").click()
    with page.expect_download(timeout=TIMEOUT) as info:
        page.get_by_role("button", name="Download executions by workflow").click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    csv = pd.read_csv(path)
    start, _ = month_window(datetime.now(UTC).date(), 12)  # the page's default: 12 months, the current to date
    with sqlite3.connect(app_store) as conn:
        expected = conn.execute(
            "SELECT SUM(cost_micros) FROM execution WHERE started_at >= ?", (f"{start} 00:00:00",)
        ).fetchone()[0]
    assert {"workflow_name", "runs", "cost", "median_per_run", "p90_per_run"} <= set(csv.columns)
    assert csv["cost"].sum() == pytest.approx(expected / 1e6, abs=0.01)

    nav(page, "Overview")
    expect(page.get_by_role("heading", name="Cloud bill and execution costs").first).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_role("button", name="Download combined costs")).to_be_visible(timeout=TIMEOUT)


def test_a_password_change_ends_the_login_and_its_cookie(page: Page, app_url, app_store):
    from sqlmodel import Session

    from finops.data import db, users

    engine = db.make_engine(f"sqlite:///{app_store}")
    with Session(engine) as s:
        users.add_user(session=s, username="carol", role="member", password="carol-pass-1", name="Carol")
    log_in(page, app_url, "carol", "carol-pass-1")
    expect(page.get_by_role("heading", name="Welcome, Carol").first).to_be_visible(timeout=TIMEOUT)
    wait_for_login_cookie(page)
    page.reload()  # the cookie still logs her in
    expect(page.get_by_role("heading", name="Welcome, Carol").first).to_be_visible(timeout=TIMEOUT)
    with Session(engine) as s:
        users.set_password(session=s, username="carol", password="carol-pass-2")
    engine.dispose()
    page.reload()  # the cookie was issued before the change: it no longer logs her in
    expect(page.get_by_label("Password", exact=True)).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_role("heading", name="Welcome, Carol")).to_have_count(0)
    log_in(page, app_url, "carol", "carol-pass-2")
    expect(page.get_by_role("heading", name="Welcome, Carol").first).to_be_visible(timeout=TIMEOUT)


def choose(page: Page, label: str, option: str) -> None:
    """Pick `option` in the multiselect `label` until its chip shows (on a busy machine the typed text can reach
    the box before its list opens, and Enter then picks nothing)."""
    box = page.get_by_label(label)
    chip = page.get_by_test_id("stMultiSelect").filter(has=box).get_by_text(option, exact=True)
    for _ in range(3):
        box.click()
        page.keyboard.type(option)
        page.keyboard.press("Enter")
        page.keyboard.press("Escape")
        try:
            expect(chip).to_be_visible(timeout=TIMEOUT // 3)
            return
        except AssertionError:
            box.fill("")
    expect(chip).to_be_visible(timeout=TIMEOUT)


def test_a_member_schedules_their_group_and_sees_the_week_grid(page: Page, app_url, app_store):
    from sqlmodel import Session

    from finops.data import db, groups, resources
    from finops.data.access import Actor

    engine = db.make_engine(f"sqlite:///{app_store}")
    with Session(engine) as s:
        checkout = resources.list_resources(session=s, search="Checkout web")["resource_id"].iloc[0]
        groups.create_group(session=s, actor=Actor("member"), name="e2e dev", resources=[("app", checkout)])
    engine.dispose()
    log_in(page, app_url, *MEMBER)
    expect(page.get_by_role("heading", name="Welcome, Max Member").first).to_be_visible(timeout=TIMEOUT)
    nav(page, "Schedules")
    expect(page.get_by_role("heading", name="New schedule").first).to_be_visible(timeout=TIMEOUT)
    page.get_by_label("Name", exact=True).fill("e2e office hours")
    page.get_by_label("Time zone (IANA, e.g. Europe/Berlin)").fill("Europe/Berlin")
    page.get_by_label("Time zone (IANA, e.g. Europe/Berlin)").press("Enter")
    choose(page, "Targets (groups you own, resources you may stop)", "group: e2e dev")
    # the preview prices the chosen targets: Checkout web's hours stopped, not $0
    expect(page.get_by_text(re.compile(r"Preview: stopped 108 h a week; saves about \$[1-9]")).first).to_be_visible(
        timeout=TIMEOUT
    )
    page.get_by_role("button", name="Create schedule").click()
    expect(page.get_by_text("Created schedule 'e2e office hours'.").first).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_text("A week of this schedule (Europe/Berlin)").first).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_test_id("stDataFrame").nth(1)).to_contain_text("Checkout web", timeout=TIMEOUT)


# a raw column name (snake_case, or a lowercase code) shown as a header means a table skipped the shared helper
RAW_HEADER = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)*$")
TABLE_PAGES = {  # nav link -> a heading that says the page rendered
    "Overview": "Monthly trend",
    "Service Breakdown": "Service Breakdown",
    "Forecast": "Every series",
    "Anomalies": "Anomalies",
    "Recommendations": "Recommendations",
    "Resource Groups": "Members",
    "Data Sources": "Refresh runs",
    "Audit Log": "Audit log",
}


def headers(page: Page) -> list[list[str]]:
    """The column headers of every table on the page, as the browser shows them (each table scrolled into view:
    the grid draws, and lists its headers, only once it is on screen)."""
    grids = page.get_by_test_id("stDataFrame")
    found = []
    for i in range(grids.count()):
        grids.nth(i).scroll_into_view_if_needed()
        cells = grids.nth(i).locator("[role=columnheader]")
        expect(cells).not_to_have_count(0, timeout=TIMEOUT)
        found.append(cells.all_inner_texts())
    return found


def test_every_pages_tables_have_titled_columns(page: Page, app_url):
    page.set_viewport_size({"width": 1600, "height": 1200})
    log_in(page, app_url, *ADMIN)
    expect(page.get_by_text("Current Month Spend").first).to_be_visible(timeout=TIMEOUT)
    seen = {}
    for link, heading in TABLE_PAGES.items():
        nav(page, link)
        expect(page.get_by_role("heading", name=heading).first).to_be_visible(timeout=TIMEOUT)
        # the grid draws on a canvas; its headers are also in an accessible (visually hidden) table
        expect(page.get_by_test_id("stDataFrame").first.locator("[role=columnheader]")).not_to_have_count(
            0, timeout=TIMEOUT
        )
        seen[link] = headers(page)
        for table in seen[link]:
            assert table and all(h.strip() for h in table), (link, table)
            assert not [h for h in table if RAW_HEADER.match(h.strip())], (link, table)
    assert seen["Overview"][0] == ["Month", "Total (USD)", "Change from the previous month"]
    assert "Account" in seen["Anomalies"][0]  # the account's name beside its id
    nav(page, "Data Sources")
    schedule = "it refreshes costs three times a day, at 05:00, 13:00 and 21:00 UTC"  # the default, in words
    expect(page.get_by_text(schedule).first).to_be_visible(timeout=TIMEOUT)


def test_a_team_lead_creates_a_group_budget_with_two_thresholds_and_sees_its_progress(page: Page, app_url):
    log_in(page, app_url, *MEMBER)
    expect(page.get_by_role("heading", name="Welcome, Max Member").first).to_be_visible(timeout=TIMEOUT)
    nav(page, "Budgets")
    expect(page.get_by_role("heading", name="New budget").first).to_be_visible(timeout=TIMEOUT)
    page.get_by_label("Name", exact=True).fill("e2e product budget")
    page.get_by_label("Name", exact=True).press("Enter")
    page.get_by_label("Group", exact=True).click()
    page.get_by_role("option", name="Product team (member)").click()
    page.get_by_label("Amount (USD a period)").fill("5000")
    page.get_by_label("Amount (USD a period)").press("Enter")
    # the two thresholds a new budget starts with: 80 % of actual spend, 100 % of the forecast
    expect(page.get_by_label("Threshold 1: at")).to_have_value("80", timeout=TIMEOUT)
    expect(page.get_by_label("Threshold 2: at")).to_have_value("100")
    page.get_by_role("button", name="Create budget").click()
    expect(page.get_by_text("Created budget 'e2e product budget'.").first).to_be_visible(timeout=TIMEOUT)
    # its progress: the bars chart, the list row, and the budget's own figures and burn chart
    expect(page.locator("[data-testid='stVegaLiteChart']").first).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_test_id("stDataFrame").first).to_contain_text("e2e product budget", timeout=TIMEOUT)
    expect(page.get_by_text("Actual (estimated)").first).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_text("Cumulative spend in").first).to_be_visible(timeout=TIMEOUT)
