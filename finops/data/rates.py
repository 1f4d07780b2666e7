"""The rate card, the one module that writes it: what one unit of each compute type costs per hour, and from when.

Admins change it (the Execution Costs page, `finops rates set`); a change is a new row in force from its moment
on, so executions already priced keep their cost and later ones use the rate in force when they started.
"""

import bisect
import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

import pandas as pd
from sqlalchemy import select
from sqlmodel import Session, col

from finops.data import audit
from finops.data.access import Actor, require_admin
from finops.data.tables import ExecutionRate, utcnow
from finops.money import amount_to_micros, micros_to_amount

COMPUTE_TYPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$")
MAX_USD_PER_HOUR = Decimal(10_000)
COLUMNS = ["compute_type", "usd_per_hour", "gpu", "effective_from", "in_force", "note", "created_at", "created_by"]
OBJECT_TYPE = "execution_rate"


class RateError(ValueError):
    """A rate was refused; the message names the field."""


class RateIndex:
    """The rate card in memory: the rate (micro-USD per unit-hour) in force for a compute type at a moment."""

    def __init__(self, rows: list[tuple[str, datetime, int]]):
        self._by_type: dict[str, tuple[list[datetime], list[int]]] = {}
        for compute_type, since, micros in sorted(rows, key=lambda r: (r[0], r[1])):
            moments, values = self._by_type.setdefault(compute_type, ([], []))
            moments.append(since)
            values.append(micros)

    def lookup(self, compute_type: str, at: datetime) -> int | None:
        """The rate of the newest row in force at `at`, or None when the type has none then."""
        moments, values = self._by_type.get(compute_type, ([], []))
        position = bisect.bisect_right(moments, at)
        return values[position - 1] if position else None

    def known(self) -> list[str]:
        return sorted(self._by_type)


def _moment(value: datetime | date | None) -> datetime:
    if value is None:
        return utcnow()
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    return value.replace(tzinfo=UTC) if value.utcoffset() is None else value.astimezone(UTC)


def _clean(compute_type: str, usd_per_hour) -> tuple[str, int]:
    compute_type = (compute_type or "").strip()
    if not COMPUTE_TYPE.match(compute_type):
        raise RateError("compute_type: 1-64 letters, digits, '.', '_', '/' or '-', starting with a letter or digit")
    try:
        amount = Decimal(str(usd_per_hour).strip())
    except InvalidOperation:
        raise RateError(f"usd_per_hour: {usd_per_hour!r} is not a number") from None
    if not amount.is_finite() or amount < 0 or amount > MAX_USD_PER_HOUR:
        raise RateError(f"usd_per_hour: must be from 0 to {MAX_USD_PER_HOUR:,} USD per hour")
    return compute_type, amount_to_micros(amount)


def _upsert(session: Session, compute_type: str, since: datetime, micros: int, gpu: bool, note: str, by: str):
    stmt = select(ExecutionRate).where(
        col(ExecutionRate.compute_type) == compute_type, col(ExecutionRate.effective_from) == since
    )
    row = session.execute(stmt).scalars().first() or ExecutionRate(
        compute_type=compute_type, effective_from=since, usd_per_hour_micros=micros
    )
    row.usd_per_hour_micros, row.gpu, row.note, row.created_by = micros, gpu, note[:256], by
    session.add(row)
    return row


def set_rate(
    *,
    session: Session,
    actor: Actor,
    compute_type: str,
    usd_per_hour,
    effective_from: datetime | date | None = None,
    gpu: bool = False,
    note: str = "",
) -> ExecutionRate:
    """Put a rate in force from `effective_from` (default now; a day means its start, UTC); admins only. A rate
    for the same type and moment is replaced. Executions already stored keep the cost they were given."""
    require_admin(actor, "change the rate card")
    compute_type, micros = _clean(compute_type, usd_per_hour)
    since = _moment(effective_from)
    row = _upsert(session, compute_type, since, micros, bool(gpu), (note or "").strip(), actor.username)
    detail = {"usd_per_hour": str(micros_to_amount(Decimal(micros))), "effective_from": since.isoformat(), "gpu": gpu}
    audit.record(session, actor.username, "set", OBJECT_TYPE, compute_type, detail)
    session.commit()
    session.refresh(row)
    return row


def add_missing(*, session: Session, rates: list[dict]) -> int:
    """Add the rates of `rates` (compute_type, usd_per_hour, effective_from, gpu, note) for compute types the card
    has no rate for at all (types it has keep their history and edits); the caller commits. Returns how many."""
    have = set(session.execute(select(col(ExecutionRate.compute_type)).distinct()).scalars())
    added = 0
    for item in rates:
        compute_type, micros = _clean(item["compute_type"], item["usd_per_hour"])
        if compute_type not in have:
            since = _moment(item["effective_from"])
            _upsert(session, compute_type, since, micros, bool(item.get("gpu")), item.get("note", ""), "demo")
            added += 1
    return added


def rate_index(*, session: Session) -> RateIndex:
    """The whole rate card, to price executions."""
    rows = session.execute(
        select(
            col(ExecutionRate.compute_type), col(ExecutionRate.effective_from), col(ExecutionRate.usd_per_hour_micros)
        )
    ).all()
    return RateIndex([(t, _moment(f), int(m)) for t, f, m in rows])


def rate_card(*, session: Session, now: datetime | None = None) -> pd.DataFrame:
    """Every rate, newest first per type (COLUMNS); `in_force` marks the one in force `now`."""
    now = _moment(now)
    rows = session.execute(
        select(ExecutionRate).order_by(col(ExecutionRate.compute_type), col(ExecutionRate.effective_from).desc())
    ).scalars()
    records, current = [], set()
    for r in rows:
        since = _moment(r.effective_from)
        in_force = r.compute_type not in current and since <= now
        if in_force:
            current.add(r.compute_type)
        records.append(
            {"compute_type": r.compute_type, "usd_per_hour": micros_to_amount(r.usd_per_hour_micros), "gpu": r.gpu,
             "effective_from": since, "in_force": in_force, "note": r.note, "created_at": r.created_at,
             "created_by": r.created_by}
        )  # fmt: skip
    return pd.DataFrame(records, columns=COLUMNS)
