"""API tokens, the one module that writes them: bearer tokens of the REST API, each acting as its user.

A token is 256 random bits, shown once when it is made; the store keeps only its SHA-256. A slow password hash
(bcrypt) protects guessable passwords; a 256-bit random token cannot be guessed, so one SHA-256 keeps a stolen
table useless while checking a token costs microseconds on every request. The token carries no role: each request
acts with the role its user has in the store now (`access.actor_of`, read with the token in one query).
"""

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pandas as pd
from sqlalchemy import or_, select, update
from sqlmodel import Session, SQLModel, col

from finops.data import audit
from finops.data.access import Actor, actor_of
from finops.data.tables import ApiToken, utcnow
from finops.data.users import get_user

PREFIX = "finops_"
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MAX_DAYS = 3650
TOUCH_EVERY = timedelta(minutes=1)  # last use is recorded to the minute: no write on every request
COLUMNS = ["id", "name", "user", "prefix", "created_at", "created_by", "expires_at", "revoked_at", "last_used_at",
           "state"]  # fmt: skip
OBJECT_TYPE = "api_token"


class TokenError(ValueError):
    """A token operation was refused; the message says why."""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _aware(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def add_token(
    *, session: Session, name: str, username: str, expires_days: float | None = None, created_by: str = "cli"
) -> tuple[ApiToken, str]:
    """Make a token for an existing user; returns the row and the token itself (shown once, never stored)."""
    name = (name or "").strip()
    if not NAME.match(name):
        raise TokenError("name must be 1-64 letters, digits, '.', '-' or '_', starting with a letter or digit")
    if get_user(session=session, username=username) is None:
        raise TokenError(f"no user {username!r}")
    if expires_days is not None and not 0 < expires_days <= MAX_DAYS:
        raise TokenError(f"expires must be from 1 to {MAX_DAYS} days")
    if session.execute(select(col(ApiToken.id)).where(col(ApiToken.name) == name)).first() is not None:
        raise TokenError(f"a token named {name!r} already exists (names are never reused, even revoked ones)")
    token = PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    row = ApiToken(
        name=name, username=username, token_hash=_hash(token), prefix=token[: len(PREFIX) + 4], created_at=now,
        created_by=created_by, expires_at=now + timedelta(days=expires_days) if expires_days else None,
    )  # fmt: skip
    session.add(row)
    audit.record(session, created_by, "create", OBJECT_TYPE, name, {"user": username, "expires_days": expires_days})
    session.commit()
    session.refresh(row)
    return row, token


def revoke(*, session: Session, name: str, revoked_by: str = "cli") -> ApiToken:
    """End a token at once (kept, revoked, for the record)."""
    row = session.execute(select(ApiToken).where(col(ApiToken.name) == name)).scalars().first()
    if row is None:
        raise TokenError(f"no token named {name!r}")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.add(row)
        audit.record(session, revoked_by, "revoke", OBJECT_TYPE, name, {"user": row.username})
        session.commit()
    return row


def _state(row: ApiToken, now: datetime) -> str:
    if row.revoked_at is not None:
        return "revoked"
    expires = _aware(row.expires_at)
    return "expired" if expires is not None and expires <= now else "active"


def list_tokens(*, session: Session) -> pd.DataFrame:
    """Every token without its secret (COLUMNS), newest first; `state` is active, expired or revoked."""
    now = utcnow()
    rows = session.execute(select(ApiToken).order_by(col(ApiToken.id).desc())).scalars()
    records = [{**{c: getattr(r, c) for c in COLUMNS if hasattr(r, c)}, "user": r.username, "state": _state(r, now)}
               for r in rows]  # fmt: skip
    return pd.DataFrame(records, columns=COLUMNS)


@dataclass(frozen=True)
class TokenUse:
    """A valid token: who it acts as now, and whether its last use is due to be recorded (`touch`)."""

    actor: Actor
    token_id: int
    touch_due: bool


def authenticate(*, session: Session, token: str, now: datetime | None = None) -> TokenUse | None:
    """Who a bearer token acts as, with its user's role now; None for an unknown, revoked or expired token or a
    user who no longer exists. One query; writes nothing: the caller records the use with `touch` (after
    answering)."""
    if not token or len(token) > 200:
        return None
    tokens, people = SQLModel.metadata.tables["api_token"], SQLModel.metadata.tables["app_user"]
    t, u = tokens.c, people.c
    stmt = (
        select(t.id, t.username, t.expires_at, t.revoked_at, t.last_used_at, u.role)
        .join(people, u.username == t.username)
        .where(t.token_hash == _hash(token))
    )
    row = session.connection().execute(stmt).first()
    now = now or utcnow()
    if row is None or row.revoked_at is not None:
        return None
    expires, last = _aware(row.expires_at), _aware(row.last_used_at)
    if expires is not None and expires <= now:
        return None
    return TokenUse(actor_of(row.username, row.role), row.id, last is None or now - last >= TOUCH_EVERY)


def touch(*, session: Session, token_id: int, now: datetime | None = None) -> None:
    """Record a token's use (at most once a minute: a second request in the same minute writes nothing)."""
    now = now or utcnow()
    stmt = (
        update(ApiToken)
        .where(col(ApiToken.id) == token_id)
        .where(or_(col(ApiToken.last_used_at).is_(None), col(ApiToken.last_used_at) <= now - TOUCH_EVERY))
        .values(last_used_at=now)
    )
    session.execute(stmt)
    session.commit()
