"""Logins: the limit on failed attempts (counted in the store), bcrypt's 72-byte limit, logins ended by a password
change."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, SQLModel

from finops.data import db, users
from finops.data.users import LoginRefused, UserError

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.fixture
def s():
    engine = db.make_engine("sqlite://")
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        users.add_user(session=session, username="ana", role="member", password="right-password")
        yield session
    engine.dispose()


@pytest.mark.parametrize(
    ("failures", "wait"), [(0, 0), (4, 0), (5, 30), (6, 60), (7, 120), (9, 480), (10, 900), (50, 900)]
)
def test_lock_seconds(failures, wait):
    assert users.lock_seconds(failures) == wait


def test_five_failures_lock_the_user_and_the_wait_grows(s):
    for n in range(4):
        with pytest.raises(LoginRefused, match="^Username/password is incorrect$"):
            users.authenticate(session=s, username="ana", password=f"wrong-{n}", now=T0)
    with pytest.raises(LoginRefused, match="try again in 30 s") as err:
        users.authenticate(session=s, username="ana", password="wrong-5", now=T0)
    assert err.value.wait_seconds == 30
    # while locked, even the right password is refused, unchecked, and says how long is left
    with pytest.raises(LoginRefused, match="Too many failed logins for ana: try again in 20 s"):
        users.authenticate(session=s, username="ana", password="right-password", now=T0 + timedelta(seconds=10))
    # after the wait, another failure doubles it
    with pytest.raises(LoginRefused, match="try again in 60 s"):
        users.authenticate(session=s, username="ana", password="wrong-6", now=T0 + timedelta(seconds=31))
    user = users.authenticate(session=s, username="ana", password="right-password", now=T0 + timedelta(seconds=92))
    assert (user.failed_logins, user.locked_until) == (0, None)  # a success resets the count


def test_unknown_user_and_overlong_password_are_plain_refusals(s):
    with pytest.raises(LoginRefused, match="^Username/password is incorrect$"):
        users.authenticate(session=s, username="nobody", password="whatever")
    with pytest.raises(LoginRefused, match="^Username/password is incorrect$"):
        users.authenticate(session=s, username="ana", password="x" * 200)


@pytest.mark.parametrize("password", ["x" * 73, "é" * 37])  # 73 and 74 bytes
def test_passwords_over_72_bytes_are_refused_when_set(s, password):
    with pytest.raises(UserError, match="at most 72 bytes"):
        users.add_user(session=s, username="long", role="member", password=password)
    with pytest.raises(UserError, match="at most 72 bytes"):
        users.set_password(session=s, username="ana", password=password)
    users.set_password(session=s, username="ana", password="y" * 72)  # exactly 72 is fine


def test_a_password_change_ends_earlier_logins(s):
    before = datetime.now(UTC) - timedelta(seconds=1)
    user = users.get_user(session=s, username="ana")
    assert users.login_valid(user, before)
    users.set_password(session=s, username="ana", password="another-password")
    user = users.get_user(session=s, username="ana")
    assert not users.login_valid(user, before)
    assert users.login_valid(user, datetime.now(UTC) + timedelta(seconds=1))
    assert not users.login_valid(None, before)
