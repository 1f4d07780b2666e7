"""People who log in: create, list, change password. Passwords are kept only as bcrypt hashes."""

import secrets

import bcrypt
from sqlmodel import Session, select

from finops.data.tables import User

ROLES = ("admin", "member")
MIN_PASSWORD = 8


class UserError(ValueError):
    """A user operation was refused; the message says why."""


def hash_password(password: str) -> str:
    """bcrypt hash (cost 12) of `password`."""
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds=12)).decode("ascii")


def check_password(password: str, hashed: str) -> bool:
    return bcrypt.checkpw(password.encode("utf-8"), hashed.encode("ascii"))


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
    if len(password) < MIN_PASSWORD:
        raise UserError(f"password must be at least {MIN_PASSWORD} characters")


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
    if len(password) < MIN_PASSWORD:
        raise UserError(f"password must be at least {MIN_PASSWORD} characters")
    user.password_hash = hash_password(password)
    session.add(user)
    session.commit()
    return user


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
