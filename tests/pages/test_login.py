"""The real login form (streamlit-authenticator) against users in the store."""

from sqlmodel import Session

from finops.data import users
from tests.conftest import ADMIN, MEMBER
from tests.pages.conftest import open_page, shown


def submit(username: str, password: str):
    at = open_page(None, username="")
    at.text_input[0].input(username)
    at.text_input[1].input(password)
    at.button[0].click().run()
    assert not at.exception, at.exception
    return at


def test_admin_logs_in_through_the_form_and_lands_on_home(seeded_store):
    at = submit(*ADMIN)
    assert at.session_state["authentication_status"] is True
    assert at.title[0].value == "Home"
    assert {m.label for m in at.metric} >= {"Current Month Spend", "Average Monthly Cost", "Potential Savings"}


def test_member_logs_in_and_sees_no_cost_figure(seeded_store):
    at = submit(*MEMBER)
    assert at.title[0].value.startswith("Welcome")
    assert len(at.metric) == 0


def test_wrong_password_shows_the_form_error(seeded_store):
    at = submit(ADMIN[0], "not-the-password")
    assert at.session_state["authentication_status"] is False
    assert any("incorrect" in e.value for e in at.error)
    assert len(at.metric) == 0


def test_role_change_in_store_applies_to_a_running_session(seeded_store):
    with Session(seeded_store) as s:
        user = users.get_user(session=s, username=MEMBER[0])
        user.role = "admin"
        s.add(user)
        s.commit()
    at = open_page("pages/overview.py", username=MEMBER[0], role="member")  # session still says member
    assert at.title[0].value == "Overview" and len(at.dataframe) >= 1


def test_store_without_users_explains_how_to_create_one(store):
    at = open_page(None, username="")
    assert any("No users yet" in w.value for w in at.warning)
    assert len(at.text_input) == 0


def test_unreachable_store_is_a_clear_message_without_the_password(monkeypatch, tmp_path):
    from tests.conftest import use_store

    use_store(monkeypatch, tmp_path, url="postgresql+psycopg://finops:s3cret@127.0.0.1:1/finops")
    at = open_page(None, username="")
    assert any("cannot open the store" in e.value and "***" in e.value for e in at.error)
    assert not any("s3cret" in e.value for e in at.error)
    assert len(at.text_input) == 0


def test_store_without_schema_says_to_run_init(monkeypatch, tmp_path):
    from tests.conftest import use_store

    use_store(monkeypatch, tmp_path)
    at = open_page(None, username="")
    assert any("python -m finops init" in e.value for e in at.error)


def test_store_on_an_older_schema_says_to_run_init(monkeypatch, tmp_path):
    from alembic import command

    from finops.data import db
    from tests.conftest import use_store

    use_store(monkeypatch, tmp_path)
    command.upgrade(db.alembic_config(db.get_engine()), "0001")
    at = open_page(None, username="")
    assert any("older schema" in e.value and "python -m finops init" in e.value for e in at.error)


def test_an_unknown_source_is_refused_with_the_valid_ones(seeded_store, monkeypatch):
    from finops.settings import get_settings

    monkeypatch.setenv("FINOPS_SOURCE", "azure")
    get_settings.cache_clear()
    at = open_page(None, username="")
    assert any("FINOPS_SOURCE" in shown(e.value) and "'auto', 'aws' or 'demo'" in shown(e.value) for e in at.error)


def test_a_non_json_region_list_is_named_not_a_traceback(seeded_store, monkeypatch):
    from finops.settings import get_settings

    monkeypatch.setenv("FINOPS_AWS_REGIONS", '["us-east-1", eu-west-1]')
    get_settings.cache_clear()
    at = open_page(None, username="")
    assert [shown(e.value) for e in at.error] == [
        'Invalid settings: FINOPS_AWS_REGIONS: must be a JSON list such as ["us-east-1","eu-west-1"] '
        "(got '[\"us-east-1\", eu-west-1]')"
    ]
    assert len(at.text_input) == 0


def test_after_five_failed_logins_the_form_says_how_long_to_wait(seeded_store):
    for attempt in range(1, 6):
        at = submit(MEMBER[0], f"wrong-{attempt}")
        assert at.session_state["authentication_status"] is False
    assert "try again in 30 s" in shown(at.error[0].value)  # the fifth failure starts the wait
    at = submit(*MEMBER)  # even the right password waits
    assert at.session_state["authentication_status"] is False
    assert "Too many failed logins for member: try again in" in shown(at.error[0].value)
    assert len(at.metric) == 0 and not at.title or not at.title[0].value.startswith("Welcome")
    at = submit(*ADMIN)  # the limit is per user
    assert at.session_state["authentication_status"] is True


def test_a_password_change_ends_that_users_running_session(seeded_store):
    at = submit(*MEMBER)
    assert at.title[0].value.startswith("Welcome")
    with Session(seeded_store) as s:
        users.set_password(session=s, username=MEMBER[0], password="a-new-password-2")
    at.run()  # the same browser session, still on the welcome page
    assert not at.session_state["authentication_status"]
    assert not [t for t in at.title if t.value.startswith("Welcome")]
    assert any("Please log in" in w.value for w in at.warning)
    assert submit(*MEMBER).session_state["authentication_status"] is False  # the old password is gone too
    at = submit(MEMBER[0], "a-new-password-2")
    assert at.title[0].value.startswith("Welcome")


def test_a_password_over_72_bytes_is_refused_not_a_crash(seeded_store):
    at = submit(ADMIN[0], "x" * 100)
    assert at.session_state["authentication_status"] is False
    assert any("incorrect" in e.value for e in at.error)
