"""People who log in: create, list, change password, log in. Passwords are kept only as bcrypt hashes.

Logging in is `authenticate`: after MAX_FAILURES failed logins in a row for a user, every further attempt waits
(LOCK_SECONDS, doubling with each further failure up to MAX_LOCK_SECONDS) and is refused, unchecked, until then.
Changing a password ends that user's logins: sessions and cookies from before the change are no longer accepted.
"""

import secrets
from datetime import UTC, datetime, timedelta

import bcrypt
from sqlmodel import Session, select

from finops.data.tables import User

ROLES = ("admin", "member")
MIN_PASSWORD = 8
MAX_PASSWORD_BYTES = 72  # bcrypt reads no further: longer passwords are refused, not silently cut
MAX_FAILURES = 5
LOCK_SECONDS = 30
MAX_LOCK_SECONDS = 15 * 60
WRONG = "Username/password is incorrect"


class UserError(ValueError):
    """A user operation was refused; the message says why."""


class LoginRefused(UserError):
    """A login was refused: wrong credentials, or too many failures (the message says how long to wait)."""

    def __init__(self, message: str, wait_seconds: int = 0):
        super().__init__(message)
        self.wait_seconds = wait_seconds


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite hands datetimes back without a zone; they are UTC."""
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def hash_password(password: str) -> str:
    """bcrypt hash (cost 12) of `password`."""
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds=12)).decode("ascii")


def check_password(password: str, hashed: str) -> bool:
    """True when `password` matches `hashed`; False for a password bcrypt cannot take (over 72 bytes)."""
    data = password.encode("utf-8")
    if len(data) > MAX_PASSWORD_BYTES:
        return False
    try:
        return bcrypt.checkpw(data, hashed.encode("ascii"))
    except ValueError:  # not a bcrypt hash
        return False


def generate_password() -> str:
    """A random password a person can type (about 96 bits)."""
    return secrets.token_urlsafe(12)


def _validate(username: str, role: str, password: str) -> None:
    if not username or not username.replace("_", "").replace("-", "").replace(".", "").isalnum():
        raise UserError("username must be letters, digits, '.', '-' or '_'")
    if len(username) > 64:
        raise UserError("username must be at most 64 characters")
    if role not in ROLES:
        raise UserError(f"role must be one of: {', '.join(ROLES)}")
    check_new_password(password)


def check_new_password(password: str) -> None:
    """Refuse a password that is too short, or longer than bcrypt can take, with one line saying which."""
    if len(password) < MIN_PASSWORD:
        raise UserError(f"password must be at least {MIN_PASSWORD} characters")
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        raise UserError(
            f"password must be at most {MAX_PASSWORD_BYTES} bytes in UTF-8 (bcrypt's limit; it has "
            f"{len(password.encode('utf-8'))})"
        )


def add_user(*, session: Session, username: str, role: str, password: str, name: str = "", email: str = "") -> User:
    """Create a user; refuses a taken username, an unknown role or a short password."""
    _validate(username, role, password)
    if get_user(session=session, username=username):
        raise UserError(f"user {username!r} already exists")
    user = User(username=username, role=role, name=name or username, email=email, password_hash=hash_password(password))
    session.add(user)
    session.commit()
    session.refresh(user)
    return user


def get_user(*, session: Session, username: str) -> User | None:
    return session.exec(select(User).where(User.username == username)).first()


def list_users(*, session: Session) -> list[User]:
    return list(session.exec(select(User).order_by(User.username)).all())


def set_password(*, session: Session, username: str, password: str) -> User:
    """Replace a user's password; refuses an unknown user or a short password."""
    user = get_user(session=session, username=username)
    if user is None:
        raise UserError(f"no user {username!r}")
    check_new_password(password)
    user.password_hash = hash_password(password)
    user.sessions_valid_after = datetime.now(UTC)  # every login from before the change ends
    user.failed_logins, user.locked_until = 0, None
    session.add(user)
    session.commit()
    return user


def lock_seconds(failures: int) -> int:
    """How long the next attempt waits after `failures` failed logins in a row (0 below MAX_FAILURES)."""
    if failures < MAX_FAILURES:
        return 0
    return min(MAX_LOCK_SECONDS, LOCK_SECONDS * 2 ** (failures - MAX_FAILURES))


def authenticate(*, session: Session, username: str, password: str, now: datetime | None = None) -> User:
    """The user when `password` is theirs; LoginRefused otherwise (wrong credentials, or locked: the message
    says for how long). Failures are counted in the store, so the limit holds across sessions and restarts."""
    now = now or datetime.now(UTC)
    user = get_user(session=session, username=(username or "").strip())
    if user is None:
        check_password(password or "", _DUMMY_HASH)  # as slow as a real check: no hint that the name is unknown
        raise LoginRefused(WRONG)
    locked_until = _aware(user.locked_until)
    if locked_until is not None and now < locked_until:
        wait = max(1, int((locked_until - now).total_seconds() + 0.999))
        raise LoginRefused(f"Too many failed logins for {user.username}: try again in {wait} s", wait)
    if not check_password(password or "", user.password_hash):
        user.failed_logins += 1
        wait = lock_seconds(user.failed_logins)
        user.locked_until = now + timedelta(seconds=wait) if wait else None
        session.add(user)
        session.commit()
        if wait:
            raise LoginRefused(f"{WRONG}. Too many failed logins for {user.username}: try again in {wait} s", wait)
        raise LoginRefused(WRONG)
    if user.failed_logins or user.locked_until:
        user.failed_logins, user.locked_until = 0, None
        session.add(user)
        session.commit()
    return user


def login_valid(user: User | None, logged_in_at: datetime) -> bool:
    """False when the user is gone or changed their password after `logged_in_at` (that login has ended)."""
    if user is None:
        return False
    valid_after = _aware(user.sessions_valid_after)
    return valid_after is None or _aware(logged_in_at) >= valid_after


# a real bcrypt hash (of a password nobody has) so an unknown name costs a real check
_DUMMY_HASH = "$2b$12$pGNyuQwqYt8cOXuje8nsWOce9Vg3AqULNXjro5/XZ0IswloWTpfY6"


def credentials(*, session: Session) -> dict:
    """Users in the shape streamlit-authenticator expects (hashes only, never passwords)."""
    return {
        "usernames": {
            u.username: {
                "name": u.name or u.username,
                "first_name": u.name or u.username,
                "last_name": "",
                "email": u.email or f"{u.username}@localhost",
                "password": u.password_hash,
                "roles": [u.role],
            }
            for u in list_users(session=session)
        }
    }
