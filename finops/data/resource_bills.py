"""Billed costs of inventory resources, from the billing files' rows per resource (`cost_resource_daily`, FOCUS
imports): which bill ids are which inventory resource, and their sums. Read-only.

A bill's ResourceId matches an inventory resource with the same id, or, for an AWS ARN, the id after the ARN's
last `/` or `:` (`arn:aws:ec2:...:instance/i-0abc` is `i-0abc`, `arn:aws:rds:...:db:orders` is `orders`). Only
USD rows are read: the ledger's hourly costs, which fill in the rest, are USD.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import case, func, select
from sqlmodel import Session, col

from finops.data.tables import CostResourceDaily
from finops.money import micros_to_amount

Key = tuple[str, str]
CURRENCY = "USD"
CHUNK = 500  # ids per IN list: well under SQLite's and PostgreSQL's parameter limits


def bill_id_key(bill_id: str, by_id: dict[str, Key]) -> Key | None:
    """The inventory key (`by_id`: inventory id -> key) a bill's resource id is, or None."""
    if bill_id in by_id:
        return by_id[bill_id]
    if bill_id.startswith("arn:"):
        tail = bill_id.rsplit("/", 1)[-1].rsplit(":", 1)[-1]
        return by_id.get(tail)
    return None


@dataclass
class Bills:
    """Billed sums since each asked start up to `last_day` (the newest billed day), per inventory resource."""

    last_day: date | None = None
    sums: dict[date, dict[Key, tuple[float, float]]] = field(default_factory=dict)  # (unblended, amortized)


def _base(lo: date, hi: date):
    r = CostResourceDaily
    return (
        col(r.day) >= lo,
        col(r.day) <= hi,
        col(r.currency) == CURRENCY,
        col(r.resource_id) != "",
    )


def _matched(session: Session, lo: date, hi: date, inventory: Iterable[Key]) -> dict[str, Key]:
    """Bill resource ids with rows in [lo, hi] -> the inventory key they are."""
    by_id = {ident: (kind, ident) for kind, ident in inventory}
    ids = session.execute(select(col(CostResourceDaily.resource_id)).where(*_base(lo, hi)).distinct()).scalars()
    found = {bill_id: bill_id_key(bill_id, by_id) for bill_id in ids}
    return {bill_id: key for bill_id, key in found.items() if key is not None}


def last_billed_day(session: Session) -> date | None:
    """The newest day any resource has a billed USD row."""
    r = CostResourceDaily
    return session.execute(
        select(func.max(col(r.day))).where(col(r.currency) == CURRENCY, col(r.resource_id) != "")
    ).scalar()


def since(session: Session, starts: set[date], inventory: Iterable[Key]) -> Bills:
    """Per start, what each matched inventory resource was billed from that day to the newest billed day; a
    resource with no billed row in that span is left out (its cost is estimated elsewhere)."""
    last = last_billed_day(session)
    if last is None or not starts or min(starts) > last:
        return Bills(last_day=last, sums={s: {} for s in starts})
    order = sorted(starts)
    matched = _matched(session, order[0], last, inventory)
    r = CostResourceDaily
    columns = []
    for s in order:
        inside = col(r.day) >= s
        columns += [
            func.sum(case((inside, 1), else_=0)),
            func.sum(case((inside, col(r.unblended_micros)), else_=0)),
            func.sum(case((inside, col(r.amortized_micros)), else_=0)),
        ]
    totals: dict[date, dict[Key, list[int]]] = {s: defaultdict(lambda: [0, 0]) for s in order}
    ids = sorted(matched)
    for i in range(0, len(ids), CHUNK):
        stmt = (
            select(col(r.resource_id), *columns)
            .where(*_base(order[0], last), col(r.resource_id).in_(ids[i : i + CHUNK]))
            .group_by(col(r.resource_id))
        )
        for bill_id, *values in session.execute(stmt).all():
            for n, s in enumerate(order):
                rows, unblended, amortized = values[3 * n : 3 * n + 3]
                if rows:
                    kept = totals[s][matched[bill_id]]
                    kept[0] += int(unblended or 0)
                    kept[1] += int(amortized or 0)
    sums = {
        s: {k: (micros_to_amount(u), micros_to_amount(a)) for k, (u, a) in per_key.items()}
        for s, per_key in totals.items()
    }
    return Bills(last_day=last, sums=sums)


def daily(session: Session, start: date, end: date, keys: Iterable[Key], metric: str) -> dict[date, dict[Key, float]]:
    """Day -> inventory key -> billed cost (`metric`: unblended or amortized) over the days [start, end]."""
    matched = _matched(session, start, end, keys)
    r = CostResourceDaily
    column = col(r.amortized_micros) if metric == "amortized" else col(r.unblended_micros)
    out: dict[date, dict[Key, float]] = defaultdict(lambda: defaultdict(float))
    ids = sorted(matched)
    for i in range(0, len(ids), CHUNK):
        stmt = (
            select(col(r.day), col(r.resource_id), func.sum(column))
            .where(*_base(start, end), col(r.resource_id).in_(ids[i : i + CHUNK]))
            .group_by(col(r.day), col(r.resource_id))
        )
        for day, bill_id, micros in session.execute(stmt).all():
            out[day][matched[bill_id]] += micros_to_amount(int(micros or 0))
    return out
